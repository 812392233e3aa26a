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


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_silhouette_from_distances_equals_sklearns(seed):
    from sklearn.metrics import silhouette_score

    from customer2vec.analysis.segmentation import silhouette_from_distances

    rng = np.random.default_rng(seed)
    rows = rng.normal(size=(60, 5))
    labels = rng.integers(0, 4, size=60)
    labels[0] = 7  # a cluster of one row scores 0
    distances = np.sqrt(((rows[:, None, :] - rows[None, :, :]) ** 2).sum(axis=2))
    expected = silhouette_score(rows, labels)
    assert silhouette_from_distances(distances, labels) == pytest.approx(expected, abs=1e-12)
    assert np.isnan(silhouette_from_distances(distances, np.zeros(60, dtype=int)))


def test_many_rows_search_k_on_a_sample_then_label_every_row():
    # 4 planted groups of unequal size (one is 5%); k is searched on 400 of 3000 rows.
    rng = np.random.default_rng(3)
    truth = rng.choice(4, size=3000, p=[0.45, 0.3, 0.2, 0.05])
    vectors = np.eye(4, 16)[truth] * 4 + rng.normal(scale=0.6, size=(3000, 16))
    ids = [f"c{i}" for i in range(3000)]
    seg = kmeans_by_silhouette(vectors, ids, k_range=range(2, 8), fit_size=400, sample_size=300)
    assert seg.k == 4
    assert seg.labels.index.tolist() == ids
    assert pd.crosstab(seg.labels.to_numpy(), truth).gt(0).sum(axis=1).eq(1).all()
    assert seg.silhouette == seg.curve.set_index("k").loc[4, "silhouette"] > 0.4
    # inertia is over every row, and falls with k
    assert seg.curve["inertia"].is_monotonic_decreasing
    whole = kmeans_by_silhouette(vectors, ids, k=4)
    assert seg.curve.set_index("k").loc[4, "inertia"] == pytest.approx(
        whole.curve["inertia"].iloc[0], rel=1e-3
    )


def test_segment_sums_add_each_segments_rows():
    from customer2vec.analysis.segmentation import segment_sums

    matrix = csr_matrix(np.array([[1, 0], [0, 2], [3, 4], [5, 0]], dtype=np.float32))
    segments, sizes, sums = segment_sums(np.array([7, 2, 7, 2]), matrix)
    assert segments.tolist() == [2, 7] and sizes.tolist() == [2, 2]
    np.testing.assert_allclose(sums, [[5, 2], [4, 4]])
