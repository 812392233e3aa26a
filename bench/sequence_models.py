"""GRU and YouTube-style candidate generation on The Complete Journey, beside the anchors.

    python bench/sequence_models.py            # everything, in one run
    python bench/sequence_models.py --quick    # skip the customer2vec and item2vec anchors

Every model is fitted once, with its defaults, on the training part of the last-basket split
(each household's last basket held out when it has at least 3), and judged three ways:

- next basket: recall/NDCG@10 on the held-out baskets (`evaluate_models`, as `customer2vec
  evaluate` does), with personal top-frequency and TIFU-KNN (and ALS) in the same run. The
  GRU and candidate-gen rank bought items too (`repeats = True`); the rows "... new only"
  score the same fitted models with every item the household bought removed, which is what
  `repeats = False` would recommend. "no repeat term" rows train with `repeat_aware=False`
  (customer vector . item vector + bias alone);
- item vectors: share of an item's 10 nearest neighbors in its product_category / department
  (items bought >= 20 times, as bench/item_embeddings.py), with item2vec in the same run;
- customer vectors: 5-fold ROC AUC of "redeemed a coupon" and "kids in household" (labels as
  bench/customer_embeddings.py builds them), with customer2vec and ALS in the same run.

"candidate-gen + demographics" adds the customers table's age, income, home_ownership,
marital_status and household_size (801 households have them; the others are "missing").
kids_count and household_comp define the kids label and coupon_redemptions the coupon label,
so they stay out. household_size still tells a lot about kids: compare its kids AUC with care.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np
import pandas as pd

from common import completejourney, frequent_items, print_table
from customer2vec.corpus import build_baskets
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.evaluation.downstream import label_score
from customer2vec.evaluation.intrinsic import neighbor_purity
from customer2vec.evaluation.nextbasket import evaluate_models, split_last_basket
from customer2vec.models import create_model
from customer2vec.models.scoring import customer_counts
from customer_embeddings import labels_of

DEMOGRAPHICS = ["age", "income", "home_ownership", "marital_status", "household_size"]


class WithTables:
    """Fit a baskets+tables model on the training baskets plus the dataset's side tables."""

    can_rank = True

    def __init__(self, model: Any, items: Any, customers: Any) -> None:
        self.model, self.items, self.customers = model, items, customers
        self.name, self.repeats = model.name, model.repeats

    def fit(self, train: BasketCorpus) -> WithTables:
        self.model.fit(BasketsWithTables(train, self.items, self.customers))
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        return self.model.score(history, customers)


class NewOnly:
    """An already fitted model whose scores drop every item the customer bought."""

    can_rank = True
    repeats = True  # what it drops, it drops itself

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = f"{model.name} new only"

    def fit(self, train: BasketCorpus) -> NewOnly:
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        scores = self.model.score(history, customers)
        seen = customer_counts(history, customers)
        scores[np.repeat(np.arange(len(customers)), np.diff(seen.indptr)), seen.indices] = -np.inf
        return scores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip customer2vec and item2vec.")
    args = parser.parse_args()

    dataset = completejourney()
    corpus = build_baskets(dataset)
    train, targets = split_last_basket(corpus, min_baskets=3)
    items = dataset.read("items").drop_duplicates("item_id").set_index("item_id")
    customers = dataset.read("customers")
    print(f"{train!r}; {targets.n_customers} held-out baskets", file=sys.stderr)

    models: dict[str, Any] = {
        "top-frequency": create_model("top-frequency"),
        "tifu-knn": create_model("tifu-knn"),
        "als": create_model("als"),
    }
    if not args.quick:
        models["item2vec"] = create_model("item2vec")
        models["customer2vec"] = create_model("customer2vec")
    models["gru"] = create_model("gru")
    models["gru, no repeat term"] = create_model("gru", repeat_aware=False)
    models["candidate-gen"] = create_model("candidate-gen")
    models["candidate-gen, no repeat term"] = create_model("candidate-gen", repeat_aware=False)
    models["candidate-gen + demographics"] = WithTables(
        create_model("candidate-gen", features=DEMOGRAPHICS), items.reset_index(), customers
    )
    # Bought items ranked for every model (`evaluate --include-seen`), as in the README.
    table = evaluate_models(train, targets, models, ks=(10,), exclude_seen=False)
    new_only = {
        f"{name} new only": NewOnly(models[name])
        for name in ("gru", "candidate-gen", "candidate-gen + demographics")
    }
    table = [*table.to_dict("records"), *evaluate_models(train, targets, new_only, ks=(10,))
             .to_dict("records")]  # fmt: skip
    fit_s = {row["model"]: row["fit_s"] for row in table}
    print("\nNext basket (last basket per household, recall@10 over its items):")
    print_table(
        table,
        ["model", "fit_s", "recall@10", "ndcg@10", "hit@10", "recall_repeat@10", "recall_new@10"],
    )

    frequent = frequent_items(dataset)
    labels = labels_of(customers)
    rows = []
    for name, model in models.items():
        fitted = getattr(model, "model", model)
        row: dict[str, Any] = {"model": name, "fit_s": fit_s[name]}
        vectors = getattr(fitted, "item_vectors_", None)
        if vectors is not None:
            for attribute in ("product_category", "department"):
                column = f"{attribute.removeprefix('product_')}@10"
                row[column] = neighbor_purity(vectors, items[attribute], ids=frequent)
        vectors = getattr(fitted, "customer_vectors_", None)
        if vectors is not None:
            features = pd.DataFrame(np.asarray(vectors.vectors), index=pd.Index(vectors.keys))
            for label, series in labels.items():
                row[f"{label}_auc"] = label_score(features, series.rename(label))["auc"]
        if len(row) > 2:
            rows.append(row)
        print(f"  judged {name}", file=sys.stderr)
    print("\nItem and customer vectors (same fitted models):")
    print_table(rows, ["model", "fit_s", "category@10", "department@10", "coupon_auc", "kids_auc"])


if __name__ == "__main__":
    main()
