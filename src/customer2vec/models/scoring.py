"""Scoring helpers shared by the embedding models that also rank (ALS, item2vec, customer2vec).

Everything works on internal indices of a *history* corpus (see ``models.ranking``): a
customer's items as a sparse row, the customer's vector looked up by external id when the
model was fitted on that customer, and computed from the history when it was not.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.sparse import csr_matrix

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError

#: item2vec scores a customer by the items of its latest baskets: this many.
RECENT_BASKETS = 3


def check_customers(history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
    """``customers`` as ``int64``; ``DataValidationError`` if one is not a history index."""
    customers = np.asarray(customers, dtype=np.int64).reshape(-1)
    if len(customers) and (customers.min() < 0 or customers.max() >= history.n_customers):
        raise DataValidationError(
            f"customer indices must be in [0, {history.n_customers}); got "
            f"{customers.min()}..{customers.max()}."
        )
    return customers


def customer_baskets(
    history: BasketCorpus, customers: np.ndarray, *, last: int | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Baskets of each customer in order, baskets per customer, history line of each item).

    With ``last``, only each customer's ``last`` latest baskets.
    """
    first = history.customer_indptr[customers]
    stop = history.customer_indptr[customers + 1]
    if last is not None:
        first = np.maximum(first, stop - last)
    n_baskets = stop - first
    baskets = np.repeat(first - np.cumsum(n_baskets) + n_baskets, n_baskets) + np.arange(
        int(n_baskets.sum())
    )
    lengths = history.indptr[baskets + 1] - history.indptr[baskets]
    starts = np.cumsum(lengths) - lengths
    lines = np.repeat(history.indptr[baskets] - starts, lengths) + np.arange(int(lengths.sum()))
    return baskets, n_baskets, lines


def customer_documents(
    history: BasketCorpus, customers: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Customers' baskets as (basket bounds, baskets per customer as indptr, item indices)."""
    baskets, n_baskets, lines = customer_baskets(history, customers)
    bounds = np.zeros(len(baskets) + 1, dtype=np.int64)
    np.cumsum(history.indptr[baskets + 1] - history.indptr[baskets], out=bounds[1:])
    basket_indptr = np.zeros(len(customers) + 1, dtype=np.int64)
    np.cumsum(n_baskets, out=basket_indptr[1:])
    return bounds, basket_indptr, history.indices[lines].astype(np.int32)


def customer_counts(
    history: BasketCorpus, customers: np.ndarray, *, last: int | None = None
) -> csr_matrix:
    """Customers x items ``float32``: how many of each customer's baskets hold each item.

    Rows follow ``customers``; with ``last``, only each customer's ``last`` latest baskets
    count. Equals the rows of ``customer_item_matrix(history)`` when ``last`` is None.
    """
    baskets, n_baskets, lines = customer_baskets(history, customers, last=last)
    lengths = history.indptr[baskets + 1] - history.indptr[baskets]
    # One entry per (basket, item): a basket counts an item once even if its lines repeat it.
    slot = np.repeat(np.arange(len(baskets), dtype=np.int64), lengths)
    pairs = _sorted_unique(slot * history.n_items + history.indices[lines])
    owner = np.repeat(np.arange(len(customers)), n_baskets)
    matrix = csr_matrix(
        (
            np.ones(len(pairs), dtype=np.float32),
            (owner[pairs // history.n_items], pairs % history.n_items),
        ),
        shape=(len(customers), history.n_items),
    )
    matrix.sum_duplicates()
    return matrix


def customer_items(history: BasketCorpus, customers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Row in ``customers``, item) of every history line of the customers, repeats kept.

    The cells of ``customer_counts(history, customers)`` that are not zero, without building
    the matrix: what masking seen items needs.
    """
    baskets, n_baskets, lines = customer_baskets(history, customers)
    lengths = history.indptr[baskets + 1] - history.indptr[baskets]
    rows = np.repeat(np.repeat(np.arange(len(customers), dtype=np.int64), n_baskets), lengths)
    return rows, history.indices[lines]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique`` by sorting (numpy 2's hash-based unique is ~10x slower on int64 keys)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def weigh(
    counts: csr_matrix,
    weighting: str,
    *,
    item_customers: np.ndarray,
    n_customers: int,
    mean_items: float,
    k1: float = 100.0,
    b: float = 0.8,
) -> csr_matrix:
    """Weight count rows as ``customer_item_matrix`` does, with the *training* statistics.

    ``item_customers`` (training customers per item), ``n_customers`` and ``mean_items``
    (mean row sum of the training counts) stand in for the statistics that
    ``customer_item_matrix`` computes over the whole matrix, so a customer gets the weights
    it would have had in training whatever else the history holds.
    """
    values = counts.data.astype(np.float64)
    df = np.asarray(item_customers, dtype=np.float64)[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    if weighting == "binary":
        values[:] = 1.0
    elif weighting == "tfidf":
        values *= np.log((1.0 + n_customers) / (1.0 + df)) + 1.0
        norms = np.sqrt(np.bincount(rows, weights=values**2, minlength=counts.shape[0]))
        values /= np.maximum(norms[rows], 1e-12)
    elif weighting == "bm25":
        lengths = np.bincount(rows, weights=counts.data, minlength=counts.shape[0])
        norm = (1.0 - b) + b * lengths / max(mean_items, 1e-12)
        idf = np.log1p((n_customers - df + 0.5) / (df + 0.5))
        values = values * (k1 + 1.0) / (k1 * norm[rows] + values) * idf
    elif weighting != "count":
        raise DataValidationError(f"unknown weighting {weighting!r}.")
    return csr_matrix((values.astype(np.float32), counts.indices, counts.indptr), counts.shape)


def solve_factors(
    item_factors: np.ndarray, confidence: csr_matrix, regularization: float
) -> np.ndarray:
    """Implicit-ALS customer factors for confidence rows, by the exact least squares.

    Minimizes ``sum_i c_ui (p_ui - x_u . y_i)^2 + regularization |x_u|^2`` with ``c = 1``
    and ``p = 0`` off the row's items (Hu, Koren & Volinsky 2008; ``implicit``'s
    ``user_factor``, whose conjugate-gradient steps approximate the same solution).
    """
    y = np.asarray(item_factors, dtype=np.float64)
    k = y.shape[1]
    gram = y.T @ y + regularization * np.eye(k)
    out = np.zeros((confidence.shape[0], k), dtype=np.float32)
    for row in range(confidence.shape[0]):
        start, stop = confidence.indptr[row], confidence.indptr[row + 1]
        if start == stop:
            continue
        items = confidence.indices[start:stop]
        c = confidence.data[start:stop].astype(np.float64)
        mine = y[items]
        a = gram + (mine * (c - 1.0)[:, None]).T @ mine
        out[row] = np.linalg.solve(a, mine.T @ c)
    return out


def customer_vectors(
    known: IdMap,
    vectors: np.ndarray,
    history: BasketCorpus,
    customers: np.ndarray,
    compute: Callable[[np.ndarray], np.ndarray],
) -> np.ndarray:
    """Vectors of ``customers`` (history indices): stored ones, else ``compute(unknown)``.

    A history customer is the model's own when its external id is in ``known`` (rows of
    ``vectors``); ``compute`` gets the history indices of the others.
    """
    rows = known.to_internal(history.customer_ids.to_external(customers), on_unknown="missing")
    out = np.empty((len(customers), vectors.shape[1]), dtype=np.float32)
    found = rows >= 0
    out[found] = vectors[rows[found]]
    if not found.all():
        out[~found] = compute(customers[~found])
    return out


def cosine_to_items(unit_items: np.ndarray, weights: csr_matrix) -> np.ndarray:
    """Cosine of each row's weighted mean of unit item vectors with every item vector."""
    profile = np.asarray(weights @ unit_items, dtype=np.float32)
    profile /= np.maximum(np.linalg.norm(profile, axis=1, keepdims=True), 1e-12)
    return profile @ unit_items.T
