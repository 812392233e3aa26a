"""customer2vec on event-log tokens vs on item tokens: The Complete Journey, one run.

    python bench/event_tokens.py

The event log is derived from The Complete Journey's raw transactions in
../shared/data/completejourney (bench/out/cj keeps neither the store nor the discounts;
the lines are the same 1,469,307): per basket one ``visit`` event (attribute: the store),
per line one ``purchase`` event (the product's department), one ``discount`` event when the
line had a loyalty-card discount, and one ``coupon`` event when it had a coupon discount
(both with the department). A third log uses the product category instead of the
department. Tokens are ``visit=367``, ``purchase=PRODUCE``,
``coupon=GROCERY``...; sessions are baskets (the ``basket`` column), documents a household's
baskets in time order (:mod:`customer2vec.corpus.events`).

Labels and scoring as in bench/customer_embeddings.py: "redeemed a coupon" (all 2,469
households) and "kids in household" (the 801 with demographics); 5-fold cross-validated
ROC AUC of a tuned logistic regression, the same folds for every row.

Leakage: coupon-use events are almost the coupon label itself (405 of the 410 redeeming
households have coupon discounts in their lines), so the "with coupon events" log is scored
on kids only; its coupon AUC is printed in brackets as a demonstration of the leak, not as a
result. The other event logs carry no coupon information; loyalty-card discounts are a
different mechanism (shelf prices for card holders), kept as deal-seeking behavior.

Context: how much a household shops already predicts coupon redemption well (the
"activity" row: two features, log baskets and log lines), so coupon AUCs are best read
against that row rather than against 0.5.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from common import completejourney, print_table
from customer2vec.corpus import build_baskets, customer_item_matrix
from customer2vec.corpus.events import build_event_corpus
from customer2vec.evaluation.downstream import label_score, share_features
from customer2vec.models import create_model
from customer_embeddings import labels_of

RAW = Path(__file__).resolve().parents[2] / "shared" / "data" / "completejourney"


def event_log(*, coupons: bool, level: str = "department") -> pd.DataFrame:
    """The Complete Journey's raw lines as events: visit, purchase, discount [, coupon].

    Purchase, discount and coupon events carry the product's ``level`` (``department`` or
    ``product_category``).
    """
    lines = pd.read_parquet(
        RAW / "transactions.parquet",
        columns=[
            "household_id",
            "store_id",
            "basket_id",
            "product_id",
            "retail_disc",
            "coupon_disc",
            "coupon_match_disc",
            "transaction_timestamp",
        ],
    )
    products = pd.read_parquet(RAW / "products.parquet", columns=["product_id", level])
    lines = lines.merge(products, on="product_id", how="left")
    lines["attribute"] = lines[level].fillna("UNKNOWN")
    base = {
        "customer_id": lines["household_id"],
        "timestamp": lines["transaction_timestamp"],
        "basket": lines["basket_id"],
    }
    visits = pd.DataFrame({**base, "event_type": "visit", "value": lines["store_id"]})
    visits = visits.drop_duplicates(["customer_id", "basket"])
    parts = [
        visits,
        pd.DataFrame({**base, "event_type": "purchase", "value": lines["attribute"]}),
    ]
    discounted = lines["retail_disc"].abs() > 0
    parts.append(
        pd.DataFrame({**base, "event_type": "discount", "value": lines["attribute"]})[discounted]
    )
    if coupons:
        used = (lines["coupon_disc"].abs() > 0) | (lines["coupon_match_disc"].abs() > 0)
        parts.append(
            pd.DataFrame({**base, "event_type": "coupon", "value": lines["attribute"]})[used]
        )
    return pd.concat(parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="Training threads.")
    args = parser.parse_args()

    dataset = completejourney()
    labels = labels_of(dataset.read("customers"))
    items = dataset.read("items").drop_duplicates("item_id").set_index("item_id")
    rows = []

    def score(name: str, features, seconds: float, corpus=None, leaky: bool = False) -> None:
        row = {"features": name, "train_s": seconds}
        if corpus is not None:
            row["tokens"] = f"{corpus.n_items:,}"
            row["lines"] = f"{corpus.n_lines:,}"
        for label, series in labels.items():
            auc = label_score(features, series.rename(label))["auc"]
            row[f"{label}_auc"] = f"[{auc:.3f}]" if leaky and label == "coupon" else f"{auc:.3f}"
        rows.append(row)
        print(f"  {name}: {seconds:.1f} s", file=sys.stderr)

    baskets = build_baskets(dataset)
    started = time.perf_counter()
    model = create_model("customer2vec", n_threads=args.threads).fit(baskets)
    score(
        "customer2vec, item tokens", model.customer_vectors_, time.perf_counter() - started, baskets
    )

    logs = {
        "events: visit, purchase, discount (department)": (False, "department"),
        "events: visit, purchase, discount, coupon (department)": (True, "department"),
        "events: visit, purchase, discount (category)": (False, "product_category"),
    }
    for name, (coupons, level) in logs.items():
        started = time.perf_counter()
        corpus = build_event_corpus(
            event_log(coupons=coupons, level=level), session_col="basket", attributes="value"
        )
        build_s = time.perf_counter() - started
        print(f"  {name}: {corpus!r} built in {build_s:.1f} s", file=sys.stderr)
        for mode in ("dbow", "dm"):
            started = time.perf_counter()
            model = create_model("customer2vec", mode=mode, n_threads=args.threads).fit(corpus)
            seconds = time.perf_counter() - started
            score(f"customer2vec {mode}, {name}", model.customer_vectors_, seconds, corpus, coupons)

    counts = customer_item_matrix(baskets)
    groups = items["department"].reindex(pd.Index(baskets.item_ids.external)).to_numpy()
    shares = share_features(counts, baskets.customer_ids.external, groups)
    score("department shares (hand-made)", shares, np.nan)
    activity = dataset.query(
        "SELECT customer_id, COUNT(DISTINCT basket_id) AS baskets, COUNT(*) AS lines "
        "FROM transactions GROUP BY customer_id"
    ).set_index("customer_id")
    score("activity: log baskets, log lines (hand-made)", np.log(activity), np.nan)

    print(
        "\nThe Complete Journey, 2,469 households. coupon_auc in [brackets]: leaks the label "
        "(coupon-use events), not a result.\n"
    )
    print_table(rows, ["features", "train_s", "tokens", "lines", "coupon_auc", "kids_auc"])


if __name__ == "__main__":
    main()
