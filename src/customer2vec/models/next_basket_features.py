"""Features of the next-basket model: per (customer, item) history statistics, neighbors.

Each function works on a batch of customers at once; :class:`Lines` holds their line items,
computed once per batch. The model (``next_basket``) assembles these into its feature matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit
from scipy.sparse import csr_matrix

from customer2vec.corpus.baskets import BasketCorpus, concat_ranges

#: Baskets of at most this many items count as small (a quick trip for one or two things).
SMALL_BASKET = 2
# Decay per basket of age for the two frequency features: recent habits and long habits.
_FAST, _SLOW = 0.6, 0.9


@dataclass(frozen=True)
class Lines:
    """The line items of some customers' histories, computed once per batch."""

    row: np.ndarray  # batch row of each line
    item: np.ndarray
    age: np.ndarray  # baskets before the customer's last one (0 = last basket)
    days: np.ndarray | None  # days before the customer's last basket; None untimed
    n_baskets: np.ndarray  # per batch row
    size: np.ndarray  # items in the line's basket


def lines_of(history: BasketCorpus, customers: np.ndarray) -> Lines:
    starts = history.customer_indptr[customers]
    stops = history.customer_indptr[customers + 1]
    n_baskets = stops - starts
    baskets = concat_ranges(starts, stops)
    sizes = np.diff(history.indptr)[baskets]
    age = (np.repeat(stops, n_baskets) - 1 - baskets).astype(np.float32)
    days = None
    if history.basket_time is not None:
        time = history.basket_time.astype("datetime64[s]").astype(np.float64) / 86400.0
        days = np.repeat(time[stops - 1], n_baskets) - time[baskets]
        days = np.repeat(days.astype(np.float32), sizes)
    return Lines(
        row=np.repeat(np.repeat(np.arange(len(customers)), n_baskets), sizes),
        item=history.indices[concat_ranges(history.indptr[baskets], history.indptr[baskets + 1])],
        age=np.repeat(age, sizes),
        days=days,
        n_baskets=n_baskets,
        size=np.repeat(sizes, sizes).astype(np.float32),
    )


def history_stats(lines: Lines, n_items: int) -> dict[str, np.ndarray]:
    age, n_baskets = lines.age, lines.n_baskets
    keys = lines.row.astype(np.int64) * n_items + lines.item
    unique, inverse = np.unique(keys, return_inverse=True)
    count = np.bincount(inverse).astype(np.float32)
    gap = np.full(len(unique), np.inf, dtype=np.float32)
    np.minimum.at(gap, inverse, age)
    row = (unique // n_items).astype(np.int64)
    days = lines.days
    days_gap = np.zeros(len(unique), dtype=np.float32)
    days_cycle = np.zeros(len(unique), dtype=np.float32)
    if days is not None:
        days_gap[:] = np.inf
        np.minimum.at(days_gap, inverse, days)
        first = np.zeros(len(unique), dtype=np.float32)
        np.maximum.at(first, inverse, days)
        interval = (first - days_gap) / np.maximum(count - 1, 1)
        days_cycle = np.where(count > 1, days_gap / np.maximum(interval, 1.0), 1000.0)
    fast, slow = _FAST**age, _SLOW**age
    return {
        "days_gap": days_gap,
        "days_cycle": days_cycle.astype(np.float32),
        "row": row,
        "item": (unique % n_items).astype(np.int64),
        "count": count,
        "share": count / n_baskets[row],
        "decayed_fast": np.bincount(inverse, weights=fast).astype(np.float32),
        "decayed_slow": np.bincount(inverse, weights=slow).astype(np.float32),
        "gap": gap,
        # Each basket shared out over its items: what recall@k, which divides hits by the
        # basket's size, gains from the item if the next basket looks like past ones.
        "per_size_fast": np.bincount(inverse, weights=fast / lines.size).astype(np.float32),
        "per_size_slow": np.bincount(inverse, weights=slow / lines.size).astype(np.float32),
        "small_baskets": np.bincount(inverse, weights=lines.size <= SMALL_BASKET).astype(
            np.float32
        ),
    }


def recent_popularity(corpus: BasketCorpus, days: float = 28.0) -> np.ndarray:
    """log1p of each item's baskets in the last ``days`` (the last 5% of baskets untimed)."""
    if corpus.basket_time is not None:
        times = corpus.basket_time.astype("datetime64[s]").astype(np.float64) / 86400.0
        recent = np.flatnonzero(times >= times.max() - days)
    else:
        recent = np.argsort(corpus.basket_sequence, kind="stable")[
            -max(1, corpus.n_baskets // 20) :
        ]
    lines = concat_ranges(corpus.indptr[recent], corpus.indptr[recent + 1])
    counts = np.bincount(corpus.indices[lines], minlength=corpus.n_items)
    return np.log1p(counts).astype(np.float32)


def decayed_vectors(lines: Lines, n_items: int) -> csr_matrix:
    """Unit-length customer x item vectors of purchases decayed by basket age."""
    matrix = csr_matrix(
        (_SLOW**lines.age, (lines.row, lines.item)),
        shape=(len(lines.n_baskets), n_items),
        dtype=np.float32,
    )
    matrix.sum_duplicates()
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    return csr_matrix(matrix.multiply(1.0 / np.maximum(norms, 1e-12)[:, None]), dtype=np.float32)


def neighbor_scores(
    vectors: csr_matrix, population: csr_matrix, self_rows: np.ndarray, n_neighbors: int
) -> csr_matrix:
    """Mean decayed purchase vector of each customer's nearest customers (cosine)."""
    blocks = []
    step = max(1, int(5e7 // max(population.shape[0], 1)))  # bound the dense similarity block
    for start in range(0, vectors.shape[0], step):
        sims = (vectors[start : start + step] @ population.T).toarray()
        own = self_rows[start : start + step]
        mine = np.flatnonzero(own >= 0)
        sims[mine, own[mine].astype(np.int64)] = -np.inf
        k = min(n_neighbors, sims.shape[1] - 1) if sims.shape[1] > 1 else 1
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        weights = np.take_along_axis(sims, top, axis=1)
        weights = np.where(np.isfinite(weights) & (weights > 0), weights, 0.0)
        weights /= np.maximum(weights.sum(axis=1, keepdims=True), 1e-12)
        indptr = np.arange(0, top.size + 1, k)
        mix = csr_matrix((weights.ravel(), top.ravel(), indptr), shape=sims.shape)
        blocks.append(mix @ population)
    from scipy.sparse import vstack

    return sorted_csr(csr_matrix(vstack(blocks), dtype=np.float32))


def sorted_csr(matrix: csr_matrix) -> csr_matrix:
    matrix = csr_matrix(matrix)
    matrix.sum_duplicates()  # also sorts the indices, which lookup's binary search needs
    return matrix


def lookup(matrix: csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """``matrix[rows[i], cols[i]]`` for each i (0 where absent); indices must be sorted."""
    return _lookup_kernel(
        matrix.indptr.astype(np.int64),
        matrix.indices,
        matrix.data.astype(np.float32),
        np.asarray(rows, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
    )


@njit(cache=True)
def _lookup_kernel(indptr, indices, data, rows, cols):  # pragma: no cover
    out = np.zeros(len(rows), dtype=np.float32)
    for i in range(len(rows)):
        lo, hi = indptr[rows[i]], indptr[rows[i] + 1]
        at = lo + np.searchsorted(indices[lo:hi], cols[i])
        if at < hi and indices[at] == cols[i]:
            out[i] = data[at]
    return out


def top_new(
    scores: csr_matrix, repeat: dict[str, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Per row, the ``n`` highest-scoring items the customer never bought."""
    if n == 0:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    seen = csr_matrix(
        (np.ones(len(repeat["row"])), (repeat["row"], repeat["item"])), shape=scores.shape
    )
    fresh = (scores - scores.multiply(seen > 0)).tocsr()
    fresh.eliminate_zeros()
    rows, items = [], []
    for r in range(fresh.shape[0]):
        lo, hi = fresh.indptr[r], fresh.indptr[r + 1]
        if hi == lo:
            continue
        data = fresh.data[lo:hi]
        pick = np.argpartition(-data, min(n, len(data)) - 1)[:n] if len(data) > n else slice(None)
        chosen = fresh.indices[lo:hi][pick]
        rows.append(np.full(len(chosen), r))
        items.append(chosen)
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate(rows).astype(np.int64), np.concatenate(items).astype(np.int64)


def recent_context(lines: Lines, unit: np.ndarray) -> np.ndarray:
    """Unit mean of the item vectors of each customer's last 3 baskets."""
    recent = lines.age < 3
    context = np.zeros((len(lines.n_baskets), unit.shape[1]), dtype=np.float32)
    np.add.at(context, lines.row[recent], unit[lines.item[recent]])
    norms = np.linalg.norm(context, axis=1, keepdims=True)
    return context / np.maximum(norms, 1e-12)
