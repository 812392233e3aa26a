"""Shared plumbing of the counting baselines (popularity, top-frequency, TIFU-KNN, item KNN).

All four are deterministic counting models on sparse matrices (no training loop, no
random state). They rank *every* item, repeats included: in grocery data most of a next
basket is made of things the customer bought before, and these baselines are what a learned
model has to beat (SPEC section 5: TIFU-KNN 0.151, personal top frequency 0.137 recall@10 on
the Complete Journey, last basket per household; ``bench/next_basket_baselines.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

from customer2vec.corpus.baskets import BasketCorpus, concat_ranges
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError
from customer2vec.models.ranking import RankingModel

#: Largest dense block (floats) built at once by the neighbor search: 64 MB of float32.
BLOCK_FLOATS = 1 << 24


class CountingBaseline(RankingModel):
    """Shared plumbing: the item vocabulary, argument checks, the arrays' persistence.

    Subclasses add their fitted arrays to ``persisted`` (saved under the attribute's name,
    ``NAME_.npy`` or, for a sparse matrix, ``NAME_data.npy``, ``NAME_indices.npy`` and
    ``NAME_indptr.npy``); ``_restore`` rebuilds what derives from them.
    """

    persisted: ClassVar[dict[str, str]] = {"item_ids_": "ids:items"}

    item_ids_: IdMap

    def _fitted_attributes(self) -> tuple[str, ...]:
        return tuple(entry.attr for entry in self._persisted)

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {}  # counting is fast at any setting

    def _start(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_ids_))
        customers = np.asarray(customers, dtype=np.int64).reshape(-1)
        if len(customers) and (customers.min() < 0 or customers.max() >= history.n_customers):
            raise DataValidationError(
                f"customer indices must be in [0, {history.n_customers}); got "
                f"{customers.min()}..{customers.max()}."
            )
        return customers


def basket_counts(corpus: BasketCorpus) -> np.ndarray:
    """Number of baskets holding each item (a basket counts an item once)."""
    return np.bincount(corpus.to_csr().indices, minlength=corpus.n_items).astype(np.int64)


def tie_breaker(counts: np.ndarray, *, scale: float) -> np.ndarray:
    """``scale * count / (max + 1)``: in ``[0, scale)``, ordered like popularity."""
    counts = np.asarray(counts, dtype=np.float64)
    return (scale * counts / (counts.max(initial=0.0) + 1.0)).astype(np.float32)


def profiles_of(
    corpus: BasketCorpus,
    customers: np.ndarray,
    weight: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> csr_matrix:
    """Customers x items: ``sum_b weight(n, p)_b * basket_b`` over each customer's baskets.

    ``weight(n, p)`` gets, per basket, the customer's number of baskets ``n`` and the
    basket's 0-based chronological position ``p`` (arrays) and returns the basket weights.
    A basket counts each item once.
    """
    bounds = corpus.customer_indptr
    starts, stops = bounds[customers], bounds[customers + 1]
    n_per_customer = stops - starts
    baskets = concat_ranges(starts, stops)
    n = np.repeat(n_per_customer, n_per_customer)
    position = baskets - np.repeat(starts, n_per_customer)
    lengths = corpus.indptr[baskets + 1] - corpus.indptr[baskets]
    lines = concat_ranges(corpus.indptr[baskets], corpus.indptr[baskets + 1])
    basket_indptr = np.zeros(len(baskets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=basket_indptr[1:])
    items = csr_matrix(
        (np.ones(len(lines), dtype=np.float64), corpus.indices[lines], basket_indptr),
        shape=(len(baskets), corpus.n_items),
    )
    items.sum_duplicates()
    items.data[:] = 1.0
    customer_indptr = np.zeros(len(customers) + 1, dtype=np.int64)
    np.cumsum(n_per_customer, out=customer_indptr[1:])
    weights = csr_matrix(
        (
            np.asarray(weight(n, position), dtype=np.float64),
            np.arange(len(baskets)),
            customer_indptr,
        ),
        shape=(len(customers), len(baskets)),
    )
    profiles = (weights @ items).tocsr()
    profiles.sum_duplicates()
    return canonical(profiles)


def canonical(matrix: csr_matrix) -> csr_matrix:
    """The dtypes the numba kernels are compiled for: float32 data, int32/int64 indices."""
    return csr_matrix(
        (
            matrix.data.astype(np.float32, copy=False),
            matrix.indices.astype(np.int32, copy=False),
            matrix.indptr.astype(np.int64, copy=False),
        ),
        shape=matrix.shape,
    )


def add_into(matrix: csr_matrix, out: np.ndarray) -> None:
    """``out += matrix`` for a canonical CSR matrix (no repeated entries)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    out[rows, matrix.indices] += matrix.data


def product_into(left: csr_matrix, right: csr_matrix, out: np.ndarray) -> None:
    """``out += left @ right`` straight into a dense array.

    SciPy would build the (nearly dense) sparse product first, with a counting pass and
    hashing; accumulating each row into ``out`` does the same multiply-adds several times
    faster and needs no memory beyond ``out``.
    """
    left, right = canonical(left), canonical(right)
    _product_kernel(
        left.indptr, left.indices, left.data, right.indptr, right.indices, right.data, out
    )


@njit(cache=True, nogil=True)
def _product_kernel(
    a_indptr, a_indices, a_data, b_indptr, b_indices, b_data, out
):  # pragma: no cover
    for row in range(len(a_indptr) - 1):
        target = out[row]
        for jj in range(a_indptr[row], a_indptr[row + 1]):
            j = a_indices[jj]
            weight = a_data[jj]
            for kk in range(b_indptr[j], b_indptr[j + 1]):
                target[b_indices[kk]] += weight * b_data[kk]
