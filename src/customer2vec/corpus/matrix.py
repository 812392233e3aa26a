"""Sparse matrices from a basket corpus: baskets x items and customers x items.

Every matrix is a ``scipy.sparse.csr_matrix`` of ``float32`` (what ALS and the roll-ups
consume) with canonical format (sorted indices, no duplicates), rows and columns in the
corpus's internal order. The return type never depends on ``weighting``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from customer2vec.config import require_choice, require_float

if TYPE_CHECKING:
    from customer2vec.corpus.baskets import BasketCorpus

Weighting = Literal["count", "binary", "tfidf", "bm25"]
WEIGHTINGS = ("count", "binary", "tfidf", "bm25")


def basket_item_matrix(baskets: BasketCorpus) -> csr_matrix:
    """Return the binary baskets x items matrix (1 where a basket holds an item)."""
    matrix = csr_matrix(
        (np.ones(baskets.n_lines, dtype=np.float32), baskets.indices, baskets.indptr),
        shape=(baskets.n_baskets, baskets.n_items),
        copy=True,  # sum_duplicates sorts in place; the corpus arrays must stay as they are
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def customer_item_matrix(
    baskets: BasketCorpus, *, weighting: Weighting = "count", k1: float = 100.0, b: float = 0.8
) -> csr_matrix:
    """Return the customers x items matrix.

    Parameters
    ----------
    baskets
        The corpus; rows follow ``baskets.customer_ids``, columns ``baskets.item_ids``.
    weighting
        ``"count"``: number of the customer's baskets that hold the item.
        ``"binary"``: 1 where the customer bought the item.
        ``"tfidf"``: count x smoothed idf, ``log((1 + n_customers) / (1 + df)) + 1``, rows
        scaled to unit L2 norm (scikit-learn's ``TfidfTransformer`` defaults).
        ``"bm25"``: Okapi BM25 of the counts with Lucene's idf,
        ``log(1 + (n_customers - df + 0.5) / (df + 0.5))``, and parameters ``k1``, ``b``.
    k1, b
        Only for ``"bm25"``: saturation and length normalization. The defaults (100, 0.8)
        are those of ``implicit.nearest_neighbours.bm25_weight``, tuned for implicit ALS.

    Raises
    ------
    ConfigError
        If ``weighting``, ``k1`` or ``b`` is invalid.
    """
    require_choice(weighting, "weighting", WEIGHTINGS)
    require_float(k1, "k1", minimum=0.0)
    require_float(b, "b", minimum=0.0, maximum=1.0)
    per_basket = basket_item_matrix(baskets)
    # A customer's baskets are consecutive rows, so concatenating them is a change of indptr;
    # sum_duplicates then adds up the items they share.
    counts = csr_matrix(
        (per_basket.data, per_basket.indices, per_basket.indptr[baskets.customer_indptr]),
        shape=(baskets.n_customers, baskets.n_items),
    )
    counts.sum_duplicates()
    if weighting == "count":
        return counts
    if weighting == "binary":
        counts.data[:] = 1.0
        return counts
    if weighting == "tfidf":
        return _tfidf(counts)
    return _bm25(counts, k1=float(k1), b=float(b))


def _document_frequency(matrix: csr_matrix) -> np.ndarray:
    return np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float64)


def _row_of_entry(matrix: csr_matrix) -> np.ndarray:
    return np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))


def _tfidf(counts: csr_matrix) -> csr_matrix:
    n_rows = counts.shape[0]
    idf = np.log((1.0 + n_rows) / (1.0 + _document_frequency(counts))) + 1.0
    values = counts.data.astype(np.float64) * idf[counts.indices]
    rows = _row_of_entry(counts)
    values /= np.sqrt(np.bincount(rows, weights=values**2, minlength=n_rows))[rows]
    return _with_data(counts, values)


def _bm25(counts: csr_matrix, *, k1: float, b: float) -> csr_matrix:
    n_rows = counts.shape[0]
    df = _document_frequency(counts)
    idf = np.log1p((n_rows - df + 0.5) / (df + 0.5))
    rows = _row_of_entry(counts)
    lengths = np.bincount(rows, weights=counts.data, minlength=n_rows)
    mean_length = lengths.mean() if n_rows else 1.0
    length_norm = (1.0 - b) + b * lengths / mean_length
    tf = counts.data.astype(np.float64)
    values = tf * (k1 + 1.0) / (k1 * length_norm[rows] + tf) * idf[counts.indices]
    return _with_data(counts, values)


def _with_data(matrix: csr_matrix, values: np.ndarray) -> csr_matrix:
    result = csr_matrix(
        (values.astype(np.float32), matrix.indices, matrix.indptr), shape=matrix.shape
    )
    result.has_canonical_format = True
    return result


def share_matrix(customer_items: csr_matrix, item_groups: np.ndarray) -> tuple[csr_matrix, list]:
    """Customers x groups share matrix (rows sum to 1) from customers x items counts."""
    codes, uniques = pd.factorize(item_groups, use_na_sentinel=True)
    codes = np.where(codes < 0, len(uniques), codes)
    groups = csr_matrix(
        (np.ones(len(codes)), (np.arange(len(codes)), codes)), shape=(len(codes), len(uniques) + 1)
    )
    counts = (customer_items @ groups).tocsr()
    totals = np.asarray(counts.sum(axis=1)).ravel()
    shares = csr_matrix(counts.multiply(1.0 / np.maximum(totals, 1e-12)[:, None]))
    return shares, [*uniques.tolist(), "(unknown)"]
