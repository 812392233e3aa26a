"""Segmentation finds planted segments and profiles them by lift."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from customer2vec.analysis.segmentation import kmeans_by_silhouette, profile
from customer2vec.corpus.matrix import share_matrix
from customer2vec.errors import ConfigError


@pytest.fixture
def three_groups():
    rng = np.random.default_rng(0)
    centers = np.eye(3, 8) * 5
    truth = np.repeat([0, 1, 2], 30)
    vectors = centers[truth] + rng.normal(scale=0.5, size=(90, 8))
    return vectors, truth, [f"c{i}" for i in range(90)]


def test_k_is_chosen_by_silhouette_and_recovers_the_groups(three_groups):
    vectors, truth, ids = three_groups
    seg = kmeans_by_silhouette(vectors, ids, k_range=range(2, 7))
    assert seg.k == 3
    assert list(seg.curve["k"]) == [2, 3, 4, 5, 6]
    assert seg.silhouette == seg.curve["silhouette"].max()
    # same partition as the truth, up to label names
    assert pd.crosstab(seg.labels.to_numpy(), truth).gt(0).sum(axis=1).eq(1).all()
    assert seg.labels.index.tolist() == ids


def test_fixed_k_and_bad_k(three_groups):
    vectors, _, ids = three_groups
    assert kmeans_by_silhouette(vectors, ids, k=5).k == 5
    with pytest.raises(ConfigError, match="`k` must be"):
        kmeans_by_silhouette(vectors, ids, k="many")


def test_k_never_exceeds_the_distinct_vectors():
    import warnings

    vectors = np.repeat(np.eye(3, 8), 20, axis=0)  # 60 customers, 3 distinct vectors
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # k-means warns when k > distinct points
        seg = kmeans_by_silhouette(vectors, [f"c{i}" for i in range(60)])
    assert seg.k == 3
    assert list(seg.curve["k"]) == [2, 3]
    with pytest.raises(ConfigError, match="hold 1 distinct value"):
        kmeans_by_silhouette(np.ones((10, 4)), list(range(10)))


def test_profile_names_what_a_segment_buys_more_than_everyone():
    # items 0,1 are dairy; 2,3 are bakery; customers 0-1 buy dairy, 2-3 bakery.
    counts = csr_matrix(np.array([[3, 1, 0, 0], [2, 2, 0, 1], [0, 0, 4, 1], [1, 0, 2, 2]]))
    shares, groups = share_matrix(counts, np.array(["dairy", "dairy", "bakery", "bakery"]))
    np.testing.assert_allclose(np.asarray(shares.sum(axis=1)).ravel(), 1.0)
    table = profile(np.array([0, 0, 1, 1]), shares, groups)
    top = table[table["rank"] == 1].set_index("segment")["group"]
    assert top.to_dict() == {0: "dairy", 1: "bakery"}
    assert (table["lift"] > 1).all()
