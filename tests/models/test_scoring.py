"""History helpers: counts per customer (a basket counts an item once), seen (row, item) cells."""

from __future__ import annotations

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.models.scoring import customer_counts, customer_items


def _history() -> BasketCorpus:
    # c0: baskets [2, 2, 1] and [1]; c1: [0, 3]; c2: [3], [3, 4], [4]
    indices = np.array([2, 2, 1, 1, 0, 3, 3, 3, 4, 4], dtype=np.int32)
    return BasketCorpus(
        item_ids=IdMap([f"i{k}" for k in range(5)], kind="item"),
        indptr=np.array([0, 3, 4, 6, 7, 9, 10], dtype=np.int64),
        indices=indices,
        customer_ids=IdMap(["c0", "c1", "c2"], kind="customer"),
        basket_customer=np.array([0, 0, 1, 2, 2, 2], dtype=np.int32),
        basket_sequence=np.array([1, 2, 1, 1, 2, 3], dtype=np.int32),
        basket_time=None,
        item_counts=np.bincount(indices, minlength=5).astype(np.int64),
    )


def test_counts_count_baskets_not_lines_and_last_keeps_the_latest():
    history = _history()
    counts = customer_counts(history, np.array([2, 0])).toarray()
    np.testing.assert_array_equal(counts, [[0, 0, 0, 2, 2], [0, 2, 1, 0, 0]])
    latest = customer_counts(history, np.array([2, 0]), last=1).toarray()
    np.testing.assert_array_equal(latest, [[0, 0, 0, 0, 1], [0, 1, 0, 0, 0]])


def test_customer_items_are_the_cells_counts_hold():
    history = _history()
    customers = np.array([1, 2, 0])
    rows, items = customer_items(history, customers)
    seen = np.zeros((3, 5), dtype=bool)
    seen[rows, items] = True
    np.testing.assert_array_equal(seen, customer_counts(history, customers).toarray() > 0)
