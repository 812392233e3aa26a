"""Autoencoder and guided customer embeddings on The Complete Journey, next to the anchors.

    python bench/neural_customers.py            # everything
    python bench/neural_customers.py --quick    # skip the next-basket evaluation

One run, three tables:

1. Next-basket (last basket of each household with >= 3 baskets, `evaluate_dataset`, every
   model at its defaults): autoencoder and guided next to top-frequency and TIFU-KNN.
2. Item neighbors: share of an item's 10 nearest neighbors in its product_category (items
   bought >= 20 times, neighbors searched among them: `category@10` of
   bench/item_embeddings.py), next to item2vec.
3. Downstream labels: "redeemed a coupon" (coupon_redemptions > 0, all households) and "kids
   in household" (kids_count > 0, the 801 households with demographics). Half of each
   label's customers (stratified, seed 0) are *held out*: a guided model never sees their
   labels, and every row is scored on them only, with `label_score` (5-fold CV of a
   logistic regression, C tuned inside). Scoring a guided model on customers whose labels
   trained it would be a leak. Unguided rows (customer2vec PV-DM, ALS, the autoencoder and
   guided at label_weight 0) see no labels at all; a guided row is trained once per label.

Done-when (issue 7): with label_weight > 0 the held-out AUC beats label_weight = 0, and
category purity does not collapse.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from common import completejourney, frequent_items, print_table
from customer2vec.corpus import build_baskets_with_tables
from customer2vec.corpus.baskets import BasketsWithTables
from customer2vec.evaluation.downstream import label_score
from customer2vec.evaluation.intrinsic import neighbor_purity
from customer2vec.evaluation.runner import evaluate_dataset
from customer2vec.models import create_model

#: Label name -> (customers-table column, threshold): positive when the value is > threshold.
LABELS = {"coupon": ("coupon_redemptions", 0), "kids": ("kids_count", 0)}
RANKERS = ("top-frequency", "tifu-knn", "autoencoder", "guided")


def held_out(customers: pd.DataFrame, column: str, *, seed: int = 0) -> np.ndarray:
    """Ids of half of the customers that have ``column``, stratified by the label."""
    from sklearn.model_selection import train_test_split

    known = customers.dropna(subset=[column])
    _, test = train_test_split(
        known["customer_id"].to_numpy(),
        test_size=0.5,
        random_state=seed,
        stratify=_binary(known[column]),
    )
    return test


def _binary(values: pd.Series) -> np.ndarray:
    text = values.astype(str).str.strip().str.removesuffix("+")
    return (pd.to_numeric(text) > 0).astype(int).to_numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip the next-basket table.")
    parser.add_argument("--threads", type=int, default=2, help="Threads for every model.")
    parser.add_argument(
        "--label-weight", type=float, default=1.0, help="label_weight of the guided rows."
    )
    args = parser.parse_args()
    threads = {"n_threads": args.threads}

    dataset = completejourney()
    corpus = build_baskets_with_tables(dataset)
    customers = corpus.customers
    items = corpus.items.drop_duplicates("item_id").set_index("item_id")
    frequent = frequent_items(dataset)
    print(f"{corpus!r}", file=sys.stderr)

    if not args.quick:
        table = evaluate_dataset(
            dataset.path, models=RANKERS, ks=(10,), exclude_seen=False, progress=False
        )
        print("Next basket (last basket, defaults):")
        columns = ["model", "fit_s", "recall@10", "ndcg@10", "hit@10", "recall_repeat@10"]
        print_table(table.to_dict("records"), [*columns, "recall_new@10"])
        print()

    tests = {name: held_out(customers, column) for name, (column, _) in LABELS.items()}
    truth = {
        name: pd.Series(
            _binary(customers.set_index("customer_id").loc[tests[name], column]),
            index=pd.Index(tests[name]),
            name=name,
        )
        for name, (column, _) in LABELS.items()
    }

    def fit(name: str, corpus_: object, **params) -> tuple[object, float]:
        started = time.perf_counter()
        model = create_model(name, **threads, **params).fit(corpus_)
        seconds = time.perf_counter() - started
        print(f"  {name} {params}: {seconds:.1f} s", file=sys.stderr)
        return model, seconds

    rows = []

    def judge(row_name: str, seconds: float, model, labels: list[str]) -> None:
        row = {"model": row_name, "train_s": seconds}
        if hasattr(model, "item_vectors_"):
            row["category@10"] = neighbor_purity(
                model.item_vectors_, items["product_category"], ids=frequent
            )
        for label in LABELS:
            if label in labels and model.customer_vectors_ is not None:
                row[f"{label}_auc"] = label_score(model.customer_vectors_, truth[label])["auc"]
        rows.append(row)

    baskets = corpus.baskets
    model, seconds = fit("item2vec", baskets)
    judge("item2vec (defaults)", seconds, model, [])
    model, seconds = fit("customer2vec", baskets, mode="dm")
    judge("customer2vec PV-DM", seconds, model, list(LABELS))
    model, seconds = fit("als", baskets)
    judge("implicit ALS", seconds, model, list(LABELS))
    for name in ("autoencoder", "guided"):
        model, seconds = fit(name, corpus)
        judge(f"{name}, no label", seconds, model, list(LABELS))
        for label, (column, threshold) in LABELS.items():
            hidden = customers.copy()
            hidden[column] = hidden[column].astype(object)
            hidden.loc[hidden["customer_id"].isin(tests[label]), column] = None
            guided_corpus = BasketsWithTables(corpus.baskets, corpus.items, hidden)
            model, seconds = fit(
                name,
                guided_corpus,
                label=column,
                label_threshold=threshold,
                label_weight=args.label_weight,
            )
            judge(f"{name}, {label}-guided", seconds, model, [label])
    print(
        f"Items and held-out labels (coupon: {len(tests['coupon'])} customers, "
        f"kids: {len(tests['kids'])}):"
    )
    print_table(rows, ["model", "train_s", "category@10", "coupon_auc", "kids_auc"])


if __name__ == "__main__":
    main()
