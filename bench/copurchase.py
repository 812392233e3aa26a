"""Embeddings from co-purchase lists alone, on The Complete Journey.

Lists are derived from the baskets (each item's 10 most co-bought partners sharing >= 2
baskets), then the ``copurchase`` model is trained on the lists ALONE and judged by:

- recall@10: share of listed items among the item's 10 nearest neighbors (target >= 0.60);
- hidden@10: 20% of each list hidden from training; share of hidden entries found among the
  10 nearest neighbors (does the embedding generalize, or only memorize?);
- purity@10: share of the 10 nearest neighbors in the item's ``product_category``, among
  items bought >= 20 times (for reference; basket-trained item2vec anchors at ~0.19).

    python bench/copurchase.py                       # cosine and count lists
    python bench/copurchase.py --scores cosine --alternatives

The dataset is ingested once into bench/out/cj.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from customer2vec.columns import Columns as C
from customer2vec.corpus import build_baskets
from customer2vec.corpus.copurchase import CopurchaseLists, derive_copurchase
from customer2vec.data.dataset import Dataset
from customer2vec.evaluation.intrinsic import neighbor_purity, neighbor_recall
from customer2vec.models.copurchase import CoPurchase
from customer2vec.vectors.embeddings import Embeddings

OUT = Path(__file__).resolve().parent / "out"
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "completejourney"
TARGET = 0.60


def completejourney(out: Path = OUT / "cj") -> Dataset:
    """The Complete Journey as a dataset directory (ingested once)."""
    from customer2vec import ingest

    if (out / "dataset.json").exists():
        return Dataset.open(out)
    sources = [SHARED] if (SHARED / "transactions.parquet").exists() else []
    return ingest(sources, out, preset="completejourney", overwrite=True)


def hide(pairs: pd.DataFrame, fraction: float, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split list entries: ``round(fraction * length)`` random entries of each list hidden."""
    rng = np.random.default_rng(seed)
    owners = pairs[C.ITEM].to_numpy()
    length = pairs.groupby(C.ITEM, sort=False)[C.RANK].transform("size").to_numpy()
    draw = pd.Series(rng.random(len(pairs))).groupby(owners).rank(method="first").to_numpy()
    hidden = draw <= np.round(fraction * length)
    return pairs[~hidden].reset_index(drop=True), pairs[hidden].reset_index(drop=True)


def spectral(lists: CopurchaseLists, n_factors: int = 64) -> Embeddings:
    """Baseline: truncated SVD of the symmetric, degree-normalized, rank-weighted adjacency."""
    import scipy.sparse as sp
    from sklearn.utils.extmath import randomized_svd

    from customer2vec.models.copurchase import rank_weights

    n = lists.n_items
    weights = rank_weights(lists.ranks, "linear")
    adjacency = sp.csr_matrix((weights, (lists.owners(), lists.indices)), shape=(n, n))
    adjacency = (adjacency + adjacency.T).tocsr()
    scale = sp.diags(1.0 / np.sqrt(np.maximum(np.asarray(adjacency.sum(axis=1)).ravel(), 1e-12)))
    left, sigma, _ = randomized_svd(scale @ adjacency @ scale, n_factors, random_state=0)
    return Embeddings(lists.item_ids, left * np.sqrt(sigma))


def run(name: str, fit, pairs: pd.DataFrame, labels: pd.Series, frequent: np.ndarray) -> dict:
    """Fit on all lists and on 80% of each list; measure recall, hidden recall, purity."""
    lists = CopurchaseLists.from_pairs(pairs, source="derived")
    started = time.perf_counter()
    vectors = fit(lists)
    seconds = time.perf_counter() - started
    visible, hidden = hide(pairs, 0.2)
    held_out = fit(CopurchaseLists.from_pairs(visible, source="derived"))
    row = {
        "run": name,
        "items": lists.n_lists,
        "pairs": lists.n_pairs,
        "train_s": seconds,
        "recall@10": neighbor_recall(vectors, pairs, k=10),
        "hidden@10": neighbor_recall(held_out, hidden, k=10),
        "purity@10": neighbor_purity(vectors, labels, k=10, ids=frequent),
    }
    print(
        "  ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()),
        flush=True,
    )
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scores", default="cosine,count", help="List scores to derive.")
    parser.add_argument("--n-per-item", type=int, default=10)
    parser.add_argument("--min-count", type=int, default=2)
    parser.add_argument(
        "--alternatives", action="store_true", help="Also run model variants and an SVD baseline."
    )
    args = parser.parse_args()

    dataset = completejourney()
    items = dataset.read("items", columns=[C.ITEM, "product_category"])
    labels = items.set_index(C.ITEM)["product_category"]
    bought = dataset.read("transactions", columns=[C.ITEM])[C.ITEM].value_counts()
    frequent = bought.index[bought >= 20].to_numpy()
    baskets = build_baskets(dataset, min_item_count=args.min_count)
    print(f"{dataset}; {len(frequent):,} items bought >= 20 times", flush=True)

    rows = []
    for score in args.scores.split(","):
        started = time.perf_counter()
        lists = derive_copurchase(
            baskets, n_per_item=args.n_per_item, min_count=args.min_count, score=score
        )
        derive_seconds = time.perf_counter() - started
        print(f"{score} lists: {lists} in {derive_seconds:.1f} s", flush=True)
        pairs = lists.to_pairs()
        variants = {"copurchase": {}}
        if args.alternatives:
            variants |= {
                "  ns_exponent=0.75": {"ns_exponent": 0.75},
                "  rank_weight=harmonic": {"rank_weight": "harmonic"},
                "  rank_weight=uniform": {"rank_weight": "uniform"},
                "  n_epochs=100": {"n_epochs": 100},
            }
        for name, params in variants.items():

            def fit(lists: CopurchaseLists, params: dict = params) -> Embeddings:
                return CoPurchase(**params).fit(lists).item_vectors_

            rows.append({"lists": score, **run(name, fit, pairs, labels, frequent)})
        if args.alternatives:
            rows.append(
                {"lists": score, **run("  svd baseline", spectral, pairs, labels, frequent)}
            )

    print()
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    best = table[table["run"] == "copurchase"].iloc[0]
    verdict = "PASS" if best["recall@10"] >= TARGET else "FAIL"
    print(
        f"\nrecall@10 on {best['lists']} lists: {best['recall@10']:.3f} "
        f"(target >= {TARGET:.2f}: {verdict})"
    )


if __name__ == "__main__":
    main()
