"""The one top-n selection: best first, ties by index, exclusions never returned."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

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
