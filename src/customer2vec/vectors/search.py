"""The one top-n selection: every ranked list in the package (nearest neighbors,
recommendations, evaluation, model selection) is cut by these two functions, so ties and
``-inf`` scores are treated the same everywhere.
"""

from __future__ import annotations

import numpy as np

from customer2vec.config import require_int

#: From this many scores on, rows are cut by a compiled heap scan (one pass, ~n log n memory)
#: instead of ``argpartition``, which is ~20x slower for 10 of 50K items (issue 15); smaller
#: inputs skip numba's import and compile.
HEAP_MIN_SCORES = 1 << 18
#: The heap scan keeps at most this many per row; wider cuts use ``argpartition``.
HEAP_MAX_WIDTH = 512


def top_rows(scores: np.ndarray, n: int) -> np.ndarray:
    """Indices of the ``min(n, n_columns)`` best scores of each row, best first.

    Ties are broken by the lower index, also at the cut (the partition alone would pick any
    of the items tied with the n-th best), so results never depend on the partition's order.
    ``-inf`` scores are ranked (last); callers that mask items set them to ``-inf`` and drop
    them with ``scores > -inf``. Scores must not hold NaN.
    """
    require_int(n, "n", minimum=0)
    scores = np.atleast_2d(scores)
    n_rows, n_columns = scores.shape
    width = min(n, n_columns)
    if width == 0:
        return np.empty((n_rows, 0), dtype=np.int64)
    if width < n_columns and _heap_applies(scores, width):
        from customer2vec.vectors._heap import top_rows_heap

        return top_rows_heap(scores, width)
    if width < n_columns:
        part = np.argpartition(-scores, width - 1, axis=1)[:, :width]
        chosen = np.take_along_axis(scores, part, axis=1)
        _ties_at_the_cut_by_index(scores, part, chosen)
    else:
        part = np.broadcast_to(np.arange(n_columns), scores.shape)
        chosen = np.take_along_axis(scores, part, axis=1)
    order = np.lexsort((part, -chosen), axis=-1)
    return np.take_along_axis(part, order, axis=1).astype(np.int64, copy=False)


def _heap_applies(scores: np.ndarray, width: int) -> bool:
    return (
        scores.size >= HEAP_MIN_SCORES
        and width <= HEAP_MAX_WIDTH
        and scores.dtype in (np.float32, np.float64)
    )


def _ties_at_the_cut_by_index(scores: np.ndarray, part: np.ndarray, chosen: np.ndarray) -> None:
    """Where items tied with a row's n-th best were left out, take the lowest indices (in place)."""
    cut = chosen.min(axis=1)
    tied = (scores == cut[:, None]).sum(axis=1)
    for row in np.flatnonzero(tied > (chosen == cut[:, None]).sum(axis=1)):
        better = np.flatnonzero(scores[row] > cut[row])
        at_cut = np.flatnonzero(scores[row] == cut[row])[: part.shape[1] - len(better)]
        part[row] = np.concatenate([better, at_cut])
        chosen[row] = scores[row, part[row]]


def top_n(scores: np.ndarray, n: int, *, exclude: np.ndarray | None = None) -> np.ndarray:
    """Indices of the ``n`` highest of 1-D ``scores``, best first, skipping ``exclude``.

    Ties by index, as in :func:`top_rows`; never returns an excluded index.
    """
    if exclude is not None and len(exclude):
        scores = scores.copy()
        scores[exclude] = -np.inf
        n_valid = len(scores) - len(np.unique(exclude))
    else:
        n_valid = len(scores)
    n = min(n, max(n_valid, 0))
    if n == 0:
        return np.empty(0, dtype=np.int64)
    top = top_rows(scores[None, :], n)[0]
    if exclude is not None and len(exclude):
        # With fewer real scores than n, excluded (-inf) indices could fill the list.
        top = top[~np.isin(top, exclude)]
    return top
