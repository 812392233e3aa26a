"""Roll-ups: customer and session vectors from item vectors, exact on hand-made baskets."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, DataWarning, UnknownIdError
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.rollup import recency_weights, rollup, session_vector

# Unit directions of the item vectors below (rolled up after normalization).
UX, UY, UZ = np.array([1.0, 0.0]), np.array([0.0, 1.0]), np.array([0.6, 0.8])


@pytest.fixture
def items() -> Embeddings:
    """x, y, z with different norms; "w" (bought by r) has no vector."""
    return Embeddings(["x", "y", "z"], np.array([[2.0, 0.0], [0.0, 0.5], [3.0, 4.0]]))


def corpus(*, with_time: bool = True) -> BasketCorpus:
    """p: [x, y] on day 0, [x] on day 90; q: [z] on day 10, [y, z] on day 40; r: [w] on day 5.

    The corpus vocabulary is in another order than the embeddings (y, x, z, w).
    """
    vocabulary = IdMap(["y", "x", "z", "w"], kind="item")
    y, x, z, w = 0, 1, 2, 3
    baskets = [[x, y], [x], [z], [y, z], [w]]
    indptr = np.cumsum([0] + [len(b) for b in baskets]).astype(np.int64)
    days = np.array([0, 90, 10, 40, 5])
    return BasketCorpus(
        item_ids=vocabulary,
        indptr=indptr,
        indices=np.concatenate(baskets).astype(np.int32),
        customer_ids=IdMap(["p", "q", "r"], kind="customer"),
        basket_customer=np.array([0, 0, 1, 1, 2], dtype=np.int32),
        basket_sequence=np.array([1, 3, 1, 2, 1], dtype=np.int32),
        basket_time=(np.datetime64("2024-01-01", "us") + days * np.timedelta64(1, "D"))
        if with_time
        else None,
        item_counts=np.array([2, 2, 2, 1], dtype=np.int64),
    )


def roll(items: Embeddings, baskets: BasketCorpus, **kwargs) -> Embeddings:
    with pytest.warns(DataWarning, match="1 of 3 customers bought no item that has a vector"):
        return rollup(items, baskets, **kwargs)


def test_mean_counts_every_line_item(items):
    customers = roll(items, corpus(), weighting="mean")
    assert customers.kind == "customer"
    np.testing.assert_array_equal(customers.keys, ["p", "q"])  # r has no known item
    np.testing.assert_allclose(customers["p"], (2 * UX + UY) / 3, rtol=1e-6)
    np.testing.assert_allclose(customers["q"], (2 * UZ + UY) / 3, rtol=1e-6)


def test_tfidf_weights_counts_by_smoothed_idf(items):
    customers = roll(items, corpus(), weighting="tfidf")
    # 3 customers; x and z are bought by one customer each, y by two (w by r).
    idf_one, idf_two = np.log(4 / 2) + 1, np.log(4 / 3) + 1
    expected_p = (2 * idf_one * UX + idf_two * UY) / (2 * idf_one + idf_two)
    expected_q = (2 * idf_one * UZ + idf_two * UY) / (2 * idf_one + idf_two)
    np.testing.assert_allclose(customers["p"], expected_p, rtol=1e-6)
    np.testing.assert_allclose(customers["q"], expected_q, rtol=1e-6)


def test_recency_halves_weight_every_half_life_in_days(items):
    customers = roll(items, corpus(), weighting="recency", half_life_days=90.0)
    # p: first basket 90 days before its last -> 0.5; q: 30 days -> 0.5 ** (1 / 3).
    np.testing.assert_allclose(customers["p"], (1.5 * UX + 0.5 * UY) / 2, rtol=1e-6)
    old = 0.5 ** (1 / 3)
    np.testing.assert_allclose(customers["q"], ((old + 1) * UZ + UY) / (old + 2), rtol=1e-6)


def test_recency_without_timestamps_counts_baskets(items):
    baskets = corpus(with_time=False)
    # p's baskets have sequence 1 and 3: two steps back, one half-life of 2 baskets.
    np.testing.assert_allclose(
        recency_weights(baskets, half_life_baskets=2.0), [0.5, 1, 0.5**0.5, 1, 1]
    )
    customers = roll(items, baskets, weighting="recency", half_life_baskets=2.0)
    np.testing.assert_allclose(customers["p"], (1.5 * UX + 0.5 * UY) / 2, rtol=1e-6)


def test_recency_weights_are_relative_to_each_customers_last_basket():
    np.testing.assert_allclose(
        recency_weights(corpus(), half_life_days=30.0), [0.125, 1, 0.5, 1, 1]
    )


def test_rollup_refuses_bad_parameters(items):
    with pytest.raises(ConfigError, match="`weighting` must be one of"):
        rollup(items, corpus(), weighting="median")
    with pytest.raises(ConfigError, match="`half_life_days` must be a number"):
        rollup(items, corpus(), weighting="recency", half_life_days=0)


def test_tribes_roll_up_to_their_direction(tmp_path):
    from conftest import ingest_tribes
    from customer2vec.corpus import build_baskets

    baskets = build_baskets(ingest_tribes(tmp_path, customers_per_group=3))
    names = [f"{g}{i}" for g in "ab" for i in range(8)]
    planted = Embeddings(names, np.repeat([[1.0, 0.0], [0.0, 1.0]], 8, axis=0))
    for weighting in ("mean", "tfidf", "recency"):
        customers = rollup(planted, baskets, weighting=weighting)
        assert len(customers) == 6
        expected = [[1.0, 0.0] if int(c[1:]) < 3 else [0.0, 1.0] for c in customers.keys]
        np.testing.assert_allclose(customers.vectors, expected, atol=1e-6)


def test_session_vector_is_a_weighted_mean_of_known_items(items):
    np.testing.assert_allclose(session_vector(items, ["x", "z"]), (UX + UZ) / 2, rtol=1e-6)
    np.testing.assert_allclose(
        session_vector(items, ["x", "nope", "y"], weights=[3.0, 100.0, 1.0]),
        (3 * UX + UY) / 4,
        rtol=1e-6,
    )
    assert session_vector(items, ["y"]).dtype == np.float32


def test_session_vector_needs_a_known_item_and_valid_weights(items):
    with pytest.raises(UnknownIdError, match="none of the 2 items has a vector"):
        session_vector(items, ["nope", "zz"])
    with pytest.raises(UnknownIdError):
        session_vector(items, [])
    with pytest.raises(DataValidationError, match="one number per item"):
        session_vector(items, ["x", "y"], weights=[1.0])
    with pytest.raises(DataValidationError, match="finite and >= 0"):
        session_vector(items, ["x"], weights=[-1.0])
    with pytest.raises(DataValidationError, match="sum to 0"):
        session_vector(items, ["x", "nope"], weights=[0.0, 1.0])
