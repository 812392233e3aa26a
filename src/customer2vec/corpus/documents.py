"""Customers as chronological documents: every basket of a customer, in sequence order.

A :class:`BasketCorpus` already lists baskets by customer, then sequence, so a customer's
document is a contiguous run of its ``indices``: the documents share the corpus's arrays and
only add offsets (no query, no copy of the tokens).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus, TokenRows
from customer2vec.data.ids import IdMap


@dataclass(frozen=True, eq=False, repr=False)
class CustomerDocuments(TokenRows):
    """One row per customer: all its items, basket after basket, oldest first.

    Attributes
    ----------
    item_ids
        The corpus vocabulary.
    indptr
        ``int64`` (``n_customers + 1``): customer ``c``'s tokens are
        ``indices[indptr[c]:indptr[c + 1]]``.
    indices
        ``int32`` internal item ids (the corpus's array, shared).
    customer_ids
        Row ``c`` is customer ``customer_ids.external[c]``.
    basket_bounds
        ``int64`` (``n_baskets + 1``): token positions where baskets start, plus the end
        (the corpus's ``indptr``, shared).
    basket_indptr
        ``int64`` (``n_customers + 1``): customer ``c``'s baskets are
        ``basket_indptr[c]`` to ``basket_indptr[c + 1]`` (exclusive).
    basket_sequence, basket_time
        Per basket, as in the corpus (shared).
    """

    customer_ids: IdMap
    basket_bounds: np.ndarray
    basket_indptr: np.ndarray
    basket_sequence: np.ndarray
    basket_time: np.ndarray | None

    @property
    def n_customers(self) -> int:
        """Number of documents (customers)."""
        return self.n_rows

    @property
    def n_baskets(self) -> int:
        """Number of baskets over all documents."""
        return len(self.basket_bounds) - 1

    def document(self, c: int) -> np.ndarray:
        """External item ids of customer ``c`` (internal id), oldest basket first."""
        return self._row(c)

    def baskets_of(self, c: int) -> list[np.ndarray]:
        """Customer ``c``'s baskets as arrays of external item ids, oldest first."""
        tokens = self.document(c)
        bounds = self.basket_bounds[self.basket_indptr[c] : self.basket_indptr[c + 1] + 1]
        return np.split(tokens, bounds[1:-1] - bounds[0])

    def __repr__(self) -> str:
        return (
            f"CustomerDocuments(n_customers={self.n_customers}, n_baskets={self.n_baskets}, "
            f"n_items={self.n_items}, n_lines={self.n_lines})"
        )


def build_documents(baskets: BasketCorpus) -> CustomerDocuments:
    """Turn a basket corpus into one chronological document per customer (no copy of tokens)."""
    basket_indptr = baskets.customer_indptr
    return CustomerDocuments(
        item_ids=baskets.item_ids,
        indptr=baskets.indptr[basket_indptr],
        indices=baskets.indices,
        customer_ids=baskets.customer_ids,
        basket_bounds=baskets.indptr,
        basket_indptr=basket_indptr,
        basket_sequence=baskets.basket_sequence,
        basket_time=baskets.basket_time,
    )
