"""The compiled top-n of :func:`customer2vec.vectors.search.top_rows` for large score blocks.

One pass over each row keeps its ``width`` best (score, index) pairs in a min-heap whose root
is the worst kept: lower score, or the same score and the higher index. Columns are visited
in index order, so a later column replaces the root only on a strictly higher score, which
breaks ties by the lower index, also at the cut, exactly as the ``argpartition`` path does.
NaN scores count as ``-inf``. Rows are split over threads (the kernel releases the GIL), not
over numba's parallel layer, so concurrent callers (the HTTP app's threads) are safe.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numba import njit

#: Rows per thread task: small enough to spread a 1024-row block over the cores.
_ROWS_PER_TASK = 128


@njit(inline="always")
def _worse(score_a, index_a, score_b, index_b):  # type: ignore[no-untyped-def]
    return score_a < score_b or (score_a == score_b and index_a > index_b)


@njit(inline="always")
def _sift_down(heap_s, heap_i, start, size):  # type: ignore[no-untyped-def]
    pos = start
    while True:
        child = 2 * pos + 1
        if child >= size:
            return
        if child + 1 < size and _worse(
            heap_s[child + 1], heap_i[child + 1], heap_s[child], heap_i[child]
        ):
            child += 1
        if not _worse(heap_s[child], heap_i[child], heap_s[pos], heap_i[pos]):
            return
        heap_s[pos], heap_s[child] = heap_s[child], heap_s[pos]
        heap_i[pos], heap_i[child] = heap_i[child], heap_i[pos]
        pos = child


@njit(nogil=True, cache=True)
def _top_rows_kernel(scores, first, stop, width, out):  # type: ignore[no-untyped-def]
    n_columns = scores.shape[1]
    heap_s = np.empty(width, dtype=np.float64)
    heap_i = np.empty(width, dtype=np.int64)
    for row in range(first, stop):
        values = scores[row]
        for j in range(width):
            value = values[j]
            heap_s[j] = -np.inf if value != value else value
            heap_i[j] = j
        for start in range(width // 2 - 1, -1, -1):
            _sift_down(heap_s, heap_i, start, width)
        worst = heap_s[0]
        for j in range(width, n_columns):
            value = values[j]
            if value > worst:  # False for NaN
                heap_s[0] = value
                heap_i[0] = j
                _sift_down(heap_s, heap_i, 0, width)
                worst = heap_s[0]
        # Pop the worst to the back: the heap comes out best first.
        for size in range(width - 1, 0, -1):
            heap_s[0], heap_s[size] = heap_s[size], heap_s[0]
            heap_i[0], heap_i[size] = heap_i[size], heap_i[0]
            _sift_down(heap_s, heap_i, 0, size)
        for j in range(width):
            out[row, j] = heap_i[j]


def _cores() -> int:
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity else os.cpu_count() or 1


def top_rows_heap(scores: np.ndarray, width: int) -> np.ndarray:
    """Indices of the ``width`` best scores of each row, best first, ties by lower index."""
    scores = np.ascontiguousarray(scores)
    n_rows = scores.shape[0]
    out = np.empty((n_rows, width), dtype=np.int64)
    tasks = [(a, min(a + _ROWS_PER_TASK, n_rows)) for a in range(0, n_rows, _ROWS_PER_TASK)]
    workers = min(len(tasks), _cores())
    if workers <= 1:
        _top_rows_kernel(scores, 0, n_rows, width, out)
        return out
    with ThreadPoolExecutor(workers) as pool:
        for done in [pool.submit(_top_rows_kernel, scores, a, b, width, out) for a, b in tasks]:
            done.result()
    return out
