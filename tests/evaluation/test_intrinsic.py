"""Intrinsic metrics on vectors with a planted answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer2vec.evaluation.intrinsic import neighbor_purity, neighbor_recall, silhouette_by
from customer2vec.vectors.embeddings import Embeddings


@pytest.fixture
def clustered() -> tuple[Embeddings, pd.Series]:
    rng = np.random.default_rng(0)
    centers = np.eye(4, 16) * 10
    labels = np.repeat(["w", "x", "y", "z"], 25)
    vectors = centers[np.repeat(np.arange(4), 25)] + rng.normal(size=(100, 16))
    ids = [f"i{i}" for i in range(100)]
    return Embeddings(ids, vectors), pd.Series(labels, index=ids)


def test_purity_is_one_for_separated_clusters_and_chance_for_shuffled(clustered):
    emb, labels = clustered
    assert neighbor_purity(emb, labels, k=10) == 1.0
    shuffled = pd.Series(
        np.random.default_rng(1).permutation(labels.to_numpy()), index=labels.index
    )
    assert neighbor_purity(emb, shuffled, k=10) < 0.4


def test_purity_restricted_to_ids_searches_among_them(clustered):
    emb, labels = clustered
    subset = [f"i{i}" for i in range(0, 100, 2)]
    assert neighbor_purity(emb, labels, k=5, ids=subset) == 1.0


def test_silhouette_high_for_clusters(clustered):
    emb, labels = clustered
    assert silhouette_by(emb, labels) > 0.5


def test_recall_counts_listed_items_among_neighbors(clustered):
    emb, _ = clustered
    pairs = pd.DataFrame({"item_id": ["i0", "i0", "i30"], "other_item_id": ["i1", "i60", "i31"]})
    assert neighbor_recall(emb, pairs, k=20) == pytest.approx(2 / 3)


def test_purity_searching_all_vectors_counts_unlabeled_neighbors_as_misses(clustered):
    emb, labels = clustered
    judged = [f"i{i}" for i in range(0, 100, 2)]
    # Neighbors may be any of the 100 vectors; all share the query's cluster label.
    assert neighbor_purity(emb, labels, k=5, ids=judged, search="all") == 1.0
    # Hide the labels of the odd ids: they are still neighbors, now counted as misses.
    partial = labels.copy()
    partial.iloc[1::2] = None
    purity = neighbor_purity(emb, partial, k=10, ids=judged, search="all")
    assert 0.2 < purity < 0.8
    assert neighbor_purity(emb, partial, k=10, ids=judged) == 1.0
