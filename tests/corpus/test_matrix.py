"""Sparse matrices: exact small answers and count-preserving properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer2vec.corpus import BasketCorpus, basket_item_matrix, customer_item_matrix
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError


def corpus_from(baskets: list[list[int]], owners: list[int], n_items: int) -> BasketCorpus:
    """A corpus straight from internal ids (no SQL): ``owners`` is each basket's customer."""
    lengths = [len(b) for b in baskets]
    distinct = [set(b) for b in baskets]
    return BasketCorpus(
        item_ids=IdMap([f"i{k}" for k in range(n_items)]),
        indptr=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        indices=np.array([i for b in baskets for i in b], dtype=np.int32),
        customer_ids=IdMap(np.arange(max(owners, default=-1) + 1) * 10),
        basket_customer=np.array(owners, dtype=np.int32),
        basket_sequence=np.ones(len(baskets), dtype=np.int32),
        basket_time=None,
        item_counts=np.array([sum(k in d for d in distinct) for k in range(n_items)]),
    )


@pytest.fixture
def corpus() -> BasketCorpus:
    """Customer 0: [0, 1, 0] and [1]; customer 1: [2] and [0, 2]; item 3 is never bought."""
    return corpus_from([[0, 1, 0], [1], [2], [0, 2]], owners=[0, 0, 1, 1], n_items=4)


def test_basket_item_matrix_is_binary(corpus: BasketCorpus) -> None:
    matrix = basket_item_matrix(corpus)
    assert matrix.dtype == np.float32
    assert matrix.shape == (4, 4)
    assert matrix.has_canonical_format
    np.testing.assert_array_equal(
        matrix.toarray(), [[1, 1, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [1, 0, 1, 0]]
    )
    np.testing.assert_array_equal(corpus.indices, [0, 1, 0, 1, 2, 0, 2])  # left untouched


def test_count_and_binary(corpus: BasketCorpus) -> None:
    counts = customer_item_matrix(corpus)
    assert counts.dtype == np.float32
    assert counts.has_canonical_format
    np.testing.assert_array_equal(counts.toarray(), [[1, 2, 0, 0], [1, 0, 2, 0]])
    binary = customer_item_matrix(corpus, weighting="binary")
    np.testing.assert_array_equal(binary.toarray(), [[1, 1, 0, 0], [1, 0, 1, 0]])


def test_tfidf(corpus: BasketCorpus) -> None:
    matrix = customer_item_matrix(corpus, weighting="tfidf").toarray()
    idf_shared, idf_own = np.log(3 / 3) + 1, np.log(3 / 2) + 1  # df 2 and 1 of 2 customers
    row = np.array([1 * idf_shared, 2 * idf_own])
    np.testing.assert_allclose(matrix[0, :2], row / np.linalg.norm(row), rtol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(matrix, axis=1), [1, 1], rtol=1e-6)


def test_bm25(corpus: BasketCorpus) -> None:
    k1, b = 1.2, 0.75
    matrix = customer_item_matrix(corpus, weighting="bm25", k1=k1, b=b).toarray()
    idf = np.log1p((2 - 1 + 0.5) / (1 + 0.5))  # item 1: in 1 of 2 customers
    length_norm = (1 - b) + b * 3 / 3  # both customers have 3 (basket, item) pairs
    np.testing.assert_allclose(matrix[0, 1], 2 * (k1 + 1) / (k1 * length_norm + 2) * idf, rtol=1e-6)
    assert (matrix[customer_item_matrix(corpus).toarray() == 0] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"weighting": "tf"}, "weighting"), ({"weighting": "bm25", "b": 2.0}, "`b`")],
)
def test_invalid_parameters(corpus: BasketCorpus, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        customer_item_matrix(corpus, **kwargs)


@st.composite
def random_corpus(draw: st.DrawFn) -> BasketCorpus:
    n_items = draw(st.integers(1, 6))
    n_customers = draw(st.integers(1, 4))
    per_customer = [draw(st.integers(1, 3)) for _ in range(n_customers)]
    owners = [c for c, n in enumerate(per_customer) for _ in range(n)]
    item = st.integers(0, n_items - 1)
    baskets = [draw(st.lists(item, min_size=1, max_size=5)) for _ in owners]
    return corpus_from(baskets, owners, n_items)


@settings(max_examples=60, deadline=None)
@given(corpus=random_corpus())
def test_matrices_preserve_counts(corpus: BasketCorpus) -> None:
    indices_before = corpus.indices.copy()
    per_basket = basket_item_matrix(corpus)
    distinct_pairs = sum(
        len(set(corpus.indices[a:b].tolist()))
        for a, b in zip(corpus.indptr[:-1], corpus.indptr[1:], strict=True)
    )
    assert per_basket.sum() == distinct_pairs
    counts = customer_item_matrix(corpus)
    assert counts.shape == (corpus.n_customers, corpus.n_items)
    np.testing.assert_array_equal(np.asarray(counts.sum(axis=0)).ravel(), corpus.item_counts)
    np.testing.assert_array_equal(
        np.asarray(counts.sum(axis=1)).ravel(),
        np.bincount(corpus.basket_customer, weights=np.asarray(per_basket.sum(axis=1)).ravel()),
    )
    binary = customer_item_matrix(corpus, weighting="binary")
    np.testing.assert_array_equal(binary.toarray(), counts.toarray() > 0)
    for weighting in ("tfidf", "bm25"):
        weighted = customer_item_matrix(corpus, weighting=weighting)
        np.testing.assert_array_equal(weighted.indptr, counts.indptr)
        np.testing.assert_array_equal(weighted.indices, counts.indices)
        assert (weighted.data > 0).all()
    np.testing.assert_array_equal(corpus.indices, indices_before)
