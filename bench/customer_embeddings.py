"""Customer embeddings on The Complete Journey: training time, segments, downstream labels.

    python bench/customer_embeddings.py            # everything, gensim Doc2Vec included
    python bench/customer_embeddings.py --quick    # skip the gensim anchor

One run, one table. For each way of getting customer vectors:

- train_s: fit time on the prepared corpus (roll-ups: item2vec's fit plus the roll-up);
- k, silhouette: the segmentation `customer2vec segment` would choose (k-means on unit
  vectors, k by silhouette over 2..12); the hand-made baselines (department and category
  shares, k-means on the shares as the Instacart tutorial does) are rows of their own;
- coupon_auc: predicting "redeemed at least one coupon" (customers.coupon_redemptions > 0,
  all 2,469 households), kids_auc: "kids in household" (kids_count > 0, the 801 households
  with demographics). Standardize + L2 logistic regression, C chosen by inner 3-fold CV,
  5 stratified outer folds, the same folds for every feature set (mean ROC AUC).

Done-when (issue 4): customer2vec vectors beat the better of the share baselines on both
labels, and match or beat implicit ALS user factors on at least one.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd

from common import completejourney, print_table
from customer2vec.analysis.segmentation import kmeans_by_silhouette
from customer2vec.corpus import build_baskets, build_documents, customer_item_matrix
from customer2vec.evaluation.downstream import label_score, share_features
from customer2vec.models import create_model
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.rollup import rollup

#: "Matching" ALS: within this AUC of it (well inside one cross-validation std here).
MATCH_TOLERANCE = 0.005


def labels_of(customers: pd.DataFrame) -> dict[str, pd.Series]:
    table = customers.set_index("customer_id")
    kids = table["kids_count"].dropna()
    return {
        "coupon": (table["coupon_redemptions"] > 0).astype(int),
        "kids": (kids.astype(str).str.strip() != "0").astype(int),
    }


def gensim_doc2vec(baskets, *, workers: int) -> tuple[Embeddings, float]:
    """gensim Doc2Vec PV-DBOW with word training (dbow_words), our defaults' shape.

    Documents over gensim's 10,000-token cap are split into chunks under the same tag (the
    usual workaround), so long histories are not cut.
    """
    from gensim.models.doc2vec import Doc2Vec, TaggedDocument

    documents = build_documents(baskets)
    tagged = []
    for c, tokens in enumerate(documents.iter_tokens()):
        for start in range(0, len(tokens), 10_000):
            tagged.append(TaggedDocument([str(t) for t in tokens[start : start + 10_000]], [c]))
    started = time.perf_counter()
    model = Doc2Vec(
        tagged,
        dm=0,
        dbow_words=1,
        vector_size=64,
        window=5,
        negative=5,
        min_count=1,
        sample=1e-3,
        epochs=10,
        workers=workers,
        seed=0,
    )
    seconds = time.perf_counter() - started
    vectors = np.vstack([model.dv[c] for c in range(documents.n_customers)])
    return Embeddings(documents.customer_ids, vectors, kind="customer"), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip the gensim Doc2Vec anchor.")
    parser.add_argument("--workers", type=int, default=2, help="Threads for gensim/implicit.")
    args = parser.parse_args()

    dataset = completejourney()
    baskets = build_baskets(dataset)
    items = dataset.read("items").drop_duplicates("item_id").set_index("item_id")
    labels = labels_of(dataset.read("customers"))
    counts = customer_item_matrix(baskets)
    customer_ids = baskets.customer_ids.external
    print(f"{baskets!r}", file=sys.stderr)

    features: dict[str, tuple[float, pd.DataFrame | Embeddings, bool]] = {}

    def fit(name: str, **params) -> tuple[object, float]:
        started = time.perf_counter()
        model = create_model(name, **params).fit(baskets)
        return model, time.perf_counter() - started

    for mode in ("dbow", "dm"):
        model, seconds = fit("customer2vec", mode=mode)
        features[f"customer2vec {mode}"] = (seconds, model.customer_vectors_, True)
        print(f"  customer2vec {mode}: {seconds:.1f} s", file=sys.stderr)
    item2vec, item_seconds = fit("item2vec")
    for weighting in ("mean", "tfidf", "recency"):
        started = time.perf_counter()
        vectors = rollup(item2vec.item_vectors_, baskets, weighting=weighting)
        seconds = item_seconds + time.perf_counter() - started
        features[f"item2vec {weighting} roll-up"] = (seconds, vectors, True)
    als, seconds = fit("als")
    features["implicit ALS users"] = (seconds, als.customer_vectors_, True)
    if not args.quick:
        vectors, seconds = gensim_doc2vec(baskets, workers=args.workers)
        features["gensim Doc2Vec dbow"] = (seconds, vectors, True)
        print(f"  gensim Doc2Vec: {seconds:.1f} s", file=sys.stderr)
    for attribute in ("department", "product_category"):
        groups = items[attribute].reindex(pd.Index(baskets.item_ids.external)).to_numpy()
        features[f"{attribute} shares (hand-made)"] = (
            float("nan"),
            share_features(counts, customer_ids, groups),
            False,
        )

    rows = []
    for name, (seconds, vectors, unit) in features.items():
        frame = (
            pd.DataFrame(np.asarray(vectors.vectors), index=pd.Index(vectors.keys))
            if isinstance(vectors, Embeddings)
            else vectors
        )
        segments = kmeans_by_silhouette(frame.to_numpy(), frame.index, normalize=unit)
        row = {"features": name, "train_s": seconds, "k": segments.k}
        row["silhouette"] = segments.silhouette
        for label, series in labels.items():
            row[f"{label}_auc"] = label_score(frame, series.rename(label))["auc"]
        rows.append(row)
        print(f"  scored {name}", file=sys.stderr)
    print_table(rows, ["features", "train_s", "k", "silhouette", "coupon_auc", "kids_auc"])

    table = pd.DataFrame(rows).set_index("features")
    shares = table[table.index.str.contains("hand-made")]
    als_row = table.loc["implicit ALS users"]
    print()
    for name in ("customer2vec dbow", "customer2vec dm"):
        row = table.loc[name]
        beats = all(row[f"{lab}_auc"] > shares[f"{lab}_auc"].max() for lab in labels)
        matches = [
            lab for lab in labels if row[f"{lab}_auc"] >= als_row[f"{lab}_auc"] - MATCH_TOLERANCE
        ]
        print(
            f"{name}: beats the best hand-made shares on both labels: {'yes' if beats else 'NO'}; "
            f"matches or beats ALS (within {MATCH_TOLERANCE}) on: {', '.join(matches) or 'NONE'}"
        )


if __name__ == "__main__":
    main()
