"""The one top-n selection: best first, ties by index, exclusions never returned."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from customer2vec.vectors import search
from customer2vec.vectors._heap import top_rows_heap
from customer2vec.vectors.search import top_n, top_rows


def test_top_rows_orders_best_first_with_ties_by_index():
    scores = np.array([[0.1, 0.9, -np.inf, 0.5], [1.0, 2.0, 2.0, 2.0]], dtype=np.float32)
    np.testing.assert_array_equal(top_rows(scores, 3), [[1, 3, 0], [1, 2, 3]])
    np.testing.assert_array_equal(top_rows(scores, 9)[0], [1, 3, 0, 2])
    assert top_rows(scores, 0).shape == (2, 0)


def test_top_n_skips_exclusions_even_when_few_remain():
    scores = np.array([3.0, 1.0, 2.0])
    assert top_n(scores, 2).tolist() == [0, 2]
    assert top_n(scores, 5, exclude=np.array([0, 0])).tolist() == [2, 1]
    assert top_n(scores, 5, exclude=np.array([0, 1, 2])).tolist() == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(-3, 3), min_size=1, max_size=30),
    st.integers(0, 35),
)
def test_top_rows_matches_a_full_stable_sort(values, n):
    scores = np.array(values, dtype=np.float64)[None, :]
    expected = np.lexsort((np.arange(scores.shape[1]), -scores[0]))[:n]
    np.testing.assert_array_equal(top_rows(scores, n)[0], expected)


@settings(max_examples=40, deadline=None)
@given(
    st.integers(1, 40),
    st.integers(1, 60),
    st.integers(1, 70),
    st.booleans(),
    st.integers(0, 2**31),
)
def test_the_heap_scan_cuts_rows_like_argpartition(n_rows, n_columns, n, ties, seed):
    rng = np.random.default_rng(seed)
    if ties:  # few distinct values: ties everywhere, also at the cut, and -inf
        scores = rng.integers(-3, 3, size=(n_rows, n_columns)).astype(np.float32)
        scores[scores == -3] = -np.inf
    else:
        scores = rng.standard_normal((n_rows, n_columns))
    width = min(n, n_columns)
    expected = np.lexsort((np.broadcast_to(np.arange(n_columns), scores.shape), -scores))
    np.testing.assert_array_equal(top_rows_heap(scores, width), expected[:, :width])
    np.testing.assert_array_equal(top_rows(scores, n), expected[:, :width])


def test_large_blocks_take_the_heap_scan_with_the_same_answer(monkeypatch):
    rng = np.random.default_rng(1)
    scores = rng.integers(0, 50, size=(300, 1000)).astype(np.float32)
    scores[:, ::7] = np.nan  # NaN counts as -inf on the heap path
    slow = top_rows(np.nan_to_num(scores, nan=-np.inf), 12)
    monkeypatch.setattr(search, "HEAP_MIN_SCORES", 1)
    np.testing.assert_array_equal(top_rows(scores, 12), slow)
