"""node2vec random walks on a CSR graph (Grover & Leskovec 2016), in numba, in parallel.

A walk of length ``walk_length`` starts at every node with at least one neighbor,
``n_walks`` times (rounds over the nodes in a fresh random order, as PecanPy and the
reference implementation do). From ``v``, having come from ``t``, the next node ``x`` is
drawn with probability proportional to ``w(v, x) * alpha(t, x)`` where ``alpha`` is
``1 / p`` if ``x == t`` (return), ``1`` if ``x`` is a neighbor of ``t`` (stay close, BFS-like)
and ``1 / q`` otherwise (move away, DFS-like). The first step of a walk is first order.

How it stays fast on dense graphs: the reference implementation precomputes an alias table
for every *edge* (memory and time in ``sum(degree ** 2)``: hours on 20K dense nodes);
PecanPy's SparseOTF recomputes the normalized second-order probabilities over all of
``v``'s neighbors at every step (``O(degree)`` per step). We keep only first-order alias
tables (one per node, ``O(edges)`` in all, built in parallel) and draw the second-order step
by rejection, as KnightKing does (Yang et al., SOSP 2019): draw ``x`` from ``w(v, .)`` in
``O(1)``, accept it with probability ``alpha(t, x) / max(1 / p, 1, 1 / q)``. Whether ``x``
neighbors ``t`` is a binary search in ``t``'s sorted row. The expected number of draws per
step is at most ``max(1/p, 1, 1/q) / min(1/p, 1, 1/q)`` and close to 1 for ``p, q`` near 1.
With ``p == q == 1`` the walk is first order and no test is made at all (fast path).

Reproducibility: every walk has its own random stream, seeded from ``random_state`` and the
walk's number, so the walks are identical whatever the number of threads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numba
import numpy as np
from numba import njit, prange

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import TokenRows
from customer2vec.progress import progress as progress_bar

if TYPE_CHECKING:
    from customer2vec.corpus.graph import Graph

__all__ = ["node2vec_walks", "walk_kernels_warmup"]

#: Walk steps per call of the parallel kernel (between progress-bar updates).
_STEPS_PER_BLOCK = 4_000_000
_MULT = np.uint64(2685821657736338717)  # xorshift64* output multiplier
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_INV_2_53 = 1.0 / 9007199254740992.0


# The corpus layer cannot import models.sgns, so the few lines of xorshift64* live here too.
@njit(inline="always")
def _next(state):
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


@njit(inline="always")
def _seed(base, walk):
    """splitmix64 of ``base + walk``: an independent non-zero stream per walk."""
    z = base + np.uint64(walk) * _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    z = z ^ (z >> np.uint64(31))
    if z == np.uint64(0):
        z = np.uint64(1)
    return z


@njit(inline="always")
def _neighbor_slot(state, start, degree, table, weighted):
    """Draw a position in ``[start, start + degree)`` by weight (alias) or uniformly.

    ``table`` packs each slot's alias threshold (high 32 bits) with its alias (low 32 bits),
    so a weighted draw touches one cache line besides the neighbor itself.
    """
    state = _next(state)
    r = state * _MULT
    slot = np.int64(((r >> np.uint64(32)) * np.uint64(degree)) >> np.uint64(32))
    if weighted:
        entry = table[start + slot]
        if (r & np.uint64(0xFFFFFFFF)) >= (entry >> np.uint64(32)):
            slot = np.int64(entry & np.uint64(0xFFFFFFFF))
    return state, start + slot


@njit(inline="always")
def _has_edge(indptr, indices, source, target):
    """Whether ``target`` is in ``source``'s row (sorted indices): binary search."""
    lo = indptr[source]
    hi = indptr[source + 1]
    while lo < hi:
        mid = (lo + hi) >> 1
        value = indices[mid]
        if value < target:
            lo = mid + 1
        elif value > target:
            hi = mid
        else:
            return True
    return False


@njit(nogil=True, parallel=True, cache=True)
def _walk_block(
    indptr,
    indices,
    table,
    weighted,
    starts,
    first_walk,
    walk_length,
    inv_p,
    inv_q,
    second_order,
    base_seed,
    out,
    lengths,
):
    """Walk from each of ``starts`` into ``out`` (rows); ``lengths`` gets each walk's length."""
    top = max(inv_p, 1.0, inv_q)
    base = np.uint64(base_seed)
    for w in prange(starts.shape[0]):
        state = _seed(base, first_walk + w)
        current = starts[w]
        previous = -1
        out[w, 0] = current
        length = 1
        while length < walk_length:
            start = indptr[current]
            degree = indptr[current + 1] - start
            if degree == 0:
                break
            state, position = _neighbor_slot(state, start, degree, table, weighted)
            if second_order and previous >= 0:
                while True:
                    candidate = indices[position]
                    if candidate == previous:
                        bias = inv_p
                    elif _has_edge(indptr, indices, previous, candidate):
                        bias = 1.0
                    else:
                        bias = inv_q
                    if bias >= top:
                        break
                    state = _next(state)
                    if np.float64((state * _MULT) >> np.uint64(11)) * _INV_2_53 * top < bias:
                        break
                    state, position = _neighbor_slot(state, start, degree, table, weighted)
            previous = current
            current = indices[position]
            out[w, length] = current
            length += 1
        lengths[w] = length


@njit(nogil=True, parallel=True, cache=True)
def _row_alias(indptr, weights, table):
    """Vose alias table of every row, packed as ``threshold << 32 | alias`` (local offset)."""
    full = np.uint64(0xFFFFFFFF) << np.uint64(32)
    for row in prange(indptr.shape[0] - 1):
        start = indptr[row]
        degree = indptr[row + 1] - start
        if degree == 0:
            continue
        total = 0.0
        for k in range(degree):
            total += weights[start + k]
        scaled = np.empty(degree, dtype=np.float64)
        small = np.empty(degree, dtype=np.int32)
        large = np.empty(degree, dtype=np.int32)
        n_small = 0
        n_large = 0
        for k in range(degree):
            scaled[k] = weights[start + k] * degree / total
            if scaled[k] < 1.0:
                small[n_small] = k
                n_small += 1
            else:
                large[n_large] = k
                n_large += 1
        while n_small > 0 and n_large > 0:
            n_small -= 1
            s = small[n_small]
            g = large[n_large - 1]
            threshold = np.uint64(min(np.floor(scaled[s] * 4294967296.0), 4294967295.0))
            table[start + s] = (threshold << np.uint64(32)) | np.uint64(g)
            scaled[g] -= 1.0 - scaled[s]
            if scaled[g] < 1.0:
                n_large -= 1
                small[n_small] = g
                n_small += 1
        # What is left (and rounding leftovers) keeps its own slot.
        for k in range(n_large):
            table[start + large[k]] = full | np.uint64(large[k])
        for k in range(n_small):
            table[start + small[k]] = full | np.uint64(small[k])


def first_order_tables(
    indptr: np.ndarray, weights: np.ndarray, *, n_threads: int = 0
) -> tuple[np.ndarray, bool]:
    """Per-node alias tables for weighted neighbor draws: ``(table, weighted)``.

    ``table`` (``uint64``, one entry per edge) holds the alias threshold in its high and the
    alias (offset within the row) in its low 32 bits. When every weight is equal the draws
    are uniform and no table is built (``weighted=False``, an empty table).
    """
    if len(weights) == 0 or np.all(weights == weights[0]):
        return np.zeros(0, dtype=np.uint64), False
    table = np.empty(len(weights), dtype=np.uint64)
    with _Threads(n_threads):
        _row_alias(indptr, np.ascontiguousarray(weights), table)
    return table, True


def node2vec_walks(
    graph: Graph,
    *,
    walk_length: int = 40,
    n_walks: int = 10,
    p: float = 1.0,
    q: float = 1.0,
    n_threads: int = 0,
    random_state: int | None = 0,
    progress: bool | None = None,
) -> TokenRows:
    """Biased second-order random walks over ``graph``, as rows of node ids.

    Parameters
    ----------
    graph
        A :class:`~customer2vec.corpus.graph.Graph` (CSR adjacency with positive weights).
    walk_length
        Nodes per walk, the start included. A walk stops early only at a node without
        out-neighbors (directed graphs).
    n_walks
        Walks started from every node that has a neighbor; nodes without one get none.
    p
        Return parameter: the weight of stepping back to the previous node is ``1 / p``.
        Large ``p`` rarely returns.
    q
        In-out parameter: nodes that are not neighbors of the previous node get ``1 / q``.
        ``q > 1`` keeps walks local (BFS-like, structural roles); ``q < 1`` sends them away
        (DFS-like, communities).
    n_threads
        Threads (0: every core). The walks do not depend on it.
    random_state
        Seed; the same seed and graph give the same walks.
    progress
        Progress bar on stderr; default: when stderr is a terminal.

    Returns
    -------
    TokenRows
        One row per walk (``item_ids`` are the graph's node ids), rounds in order, nodes in a
        fresh random order within each round.
    """
    require_int(walk_length, "walk_length", minimum=2)
    require_int(n_walks, "n_walks", minimum=1)
    p = require_float(p, "p", minimum=0.01, maximum=100.0)
    q = require_float(q, "q", minimum=0.01, maximum=100.0)
    require_int(n_threads, "n_threads", minimum=0)
    adjacency = graph.adjacency
    indptr = np.ascontiguousarray(adjacency.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(adjacency.indices, dtype=np.int32)
    table, weighted = first_order_tables(indptr, adjacency.data, n_threads=n_threads)
    rng = np.random.default_rng(random_state)
    base_seed = np.uint64(int(rng.integers(0, 2**63 - 1)))
    starts_pool = np.flatnonzero(np.diff(indptr) > 0).astype(np.int32)
    second_order = not (p == 1.0 and q == 1.0)
    per_block = max(1, _STEPS_PER_BLOCK // walk_length)
    n_total = len(starts_pool) * n_walks
    pieces_indptr, pieces_indices = [], []
    done = 0
    bar = progress_bar(total=n_total, desc="walks", unit="walk", enabled=progress)
    with bar, _Threads(n_threads):
        for _ in range(n_walks):
            order = rng.permutation(starts_pool)
            for begin in range(0, len(order), per_block):
                starts = order[begin : begin + per_block]
                out = np.empty((len(starts), walk_length), dtype=np.int32)
                lengths = np.empty(len(starts), dtype=np.int64)
                _walk_block(
                    indptr,
                    indices,
                    table,
                    weighted,
                    starts,
                    done,
                    walk_length,
                    1.0 / p,
                    1.0 / q,
                    second_order,
                    base_seed,
                    out,
                    lengths,
                )
                if lengths.min() == walk_length:
                    pieces_indices.append(out.reshape(-1))
                else:
                    pieces_indices.append(out[np.arange(walk_length) < lengths[:, None]])
                pieces_indptr.append(lengths)
                done += len(starts)
                bar.update(len(starts))
    lengths = np.concatenate(pieces_indptr) if pieces_indptr else np.zeros(0, dtype=np.int64)
    walk_indptr = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=walk_indptr[1:])
    walk_indices = np.concatenate(pieces_indices) if pieces_indices else np.zeros(0, dtype=np.int32)
    return TokenRows(item_ids=graph.node_ids, indptr=walk_indptr, indices=walk_indices)


class _Threads:
    """Run numba parallel kernels on ``n`` threads (0: all), restoring the setting after."""

    def __init__(self, n: int) -> None:
        self.n = min(n, numba.config.NUMBA_NUM_THREADS) if n else numba.config.NUMBA_NUM_THREADS

    def __enter__(self) -> None:
        self.before = numba.get_num_threads()
        numba.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        numba.set_num_threads(self.before)


def walk_kernels_warmup() -> None:
    """Compile (or load from the numba cache) the walk kernels on a tiny graph."""
    from customer2vec.corpus.graph import Graph

    graph = Graph.from_edges([0, 1, 2], [1, 2, 0], [1.0, 2.0, 3.0])
    node2vec_walks(graph, walk_length=3, n_walks=1, p=2.0, q=0.5, progress=False)
