"""Downstream label checks: planted signal is found, noise is not, bad labels are refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.sparse import csr_matrix

from customer2vec.errors import DataValidationError
from customer2vec.evaluation.downstream import compare_features, label_score, share_features
from customer2vec.vectors.embeddings import Embeddings


@pytest.fixture
def tribes() -> tuple[Embeddings, pd.Series]:
    """120 customers; the label is the tribe, and dimension 0 of the vectors carries it."""
    rng = np.random.default_rng(0)
    tribe = np.repeat([0, 1], 60)
    vectors = rng.normal(size=(120, 8))
    vectors[:, 0] += 3.0 * tribe
    ids = [f"c{i}" for i in range(120)]
    return Embeddings(ids, vectors, kind="customer"), pd.Series(tribe, index=ids)


def test_planted_label_is_predicted_and_noise_is_not(tribes):
    vectors, label = tribes
    found = label_score(vectors, label)
    assert found["auc"] > 0.95 and found["n"] == 120 and found["positive_rate"] == 0.5
    noise = pd.Series(np.random.default_rng(1).integers(0, 2, 120), index=label.index)
    assert 0.25 < label_score(vectors, noise)["auc"] < 0.75


def test_only_customers_with_both_features_and_label_count(tribes):
    vectors, label = tribes
    partial = label.iloc[::2].astype(float)
    partial.iloc[0] = np.nan  # unknown labels are left out, not guessed
    assert label_score(vectors, partial)["n"] == 59


def test_compare_features_gives_one_row_per_pair(tribes):
    vectors, label = tribes
    frame = pd.DataFrame(np.asarray(vectors.vectors)[:, 1:], index=pd.Index(vectors.keys))
    table = compare_features({"all": vectors, "no signal": frame}, {"tribe": label})
    assert list(table["features"]) == ["all", "no signal"]
    assert table.set_index("features").loc["all", "auc"] > 0.9
    assert table.set_index("features").loc["no signal", "auc"] < 0.8


def test_a_label_needs_two_classes_with_enough_members(tribes):
    vectors, label = tribes
    with pytest.raises(DataValidationError, match="two classes"):
        label_score(vectors, label * 0)
    few = label.copy()
    few[:] = 0
    few.iloc[:3] = 1
    with pytest.raises(DataValidationError, match="only 3 customers in its smaller class"):
        label_score(vectors, few)


def test_share_features_are_purchase_shares_per_group():
    counts = csr_matrix(np.array([[2, 0, 2], [0, 1, 0]], dtype=float))
    frame = share_features(counts, np.array(["x", "y"]), np.array(["fruit", "dairy", "fruit"]))
    expected = pd.DataFrame({"fruit": [1.0, 0.0], "dairy": [0.0, 1.0]}, index=pd.Index(["x", "y"]))
    pd.testing.assert_frame_equal(frame, expected)
