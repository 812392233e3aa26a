"""node2vec walks: they follow edges, draw by weight, obey p and q, and are reproducible."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from customer2vec.corpus.graph import Graph
from customer2vec.corpus.walks import node2vec_walks
from customer2vec.errors import ConfigError


def _rows(walks) -> list[list[int]]:
    return [
        walks.indices[walks.indptr[r] : walks.indptr[r + 1]].tolist() for r in range(walks.n_rows)
    ]


def _ring_lattice(n: int = 60, k: int = 2) -> Graph:
    """A cycle where each node links to its ``k`` nearest nodes on either side."""
    sources = [i for i in range(n) for d in range(1, k + 1)]
    targets = [(i + d) % n for i in range(n) for d in range(1, k + 1)]
    return Graph.from_edges(sources, targets)


def _next_after(walks, previous: int, current: int) -> np.ndarray:
    """Nodes that follow ``previous, current`` in walks of equal length (vectorized)."""
    rows = walks.indices.reshape(walks.n_rows, -1)
    hit = (rows[:, :-2] == previous) & (rows[:, 1:-1] == current)
    return rows[:, 2:][hit]


def test_walks_follow_edges_and_cover_every_connected_node():
    graph = Graph.from_edges([0, 1, 2, 3, 9], [1, 2, 0, 4, 9 + 1], directed=False)
    walks = node2vec_walks(graph, walk_length=6, n_walks=3, p=0.5, q=2.0, n_threads=1)
    dense = graph.adjacency.toarray()
    ids = graph.node_ids
    for row in _rows(walks):
        assert len(row) == 6
        assert all(dense[a, b] > 0 for a, b in itertools.pairwise(row))
    starts = Counter(row[0] for row in _rows(walks))
    assert set(starts.values()) == {3} and len(starts) == graph.n_nodes
    assert walks.item_ids is ids


def test_isolated_nodes_get_no_walks_and_directed_walks_stop_at_dead_ends():
    graph = Graph.from_edges(["a", "b"], ["b", "c"], directed=True)
    walks = node2vec_walks(graph, walk_length=5, n_walks=2, n_threads=1)
    external = graph.node_ids.external
    assert sorted("".join(external[row]) for row in _rows(walks)) == ["abc", "abc", "bc", "bc"]


def test_first_order_draws_follow_the_weights():
    # A star: the centre's neighbors weigh 1, 2, 3, 4.
    graph = Graph.from_edges([0, 0, 0, 0], [1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0])
    walks = node2vec_walks(graph, walk_length=41, n_walks=100, n_threads=1, random_state=3)
    rows = _rows(walks)
    after_centre = Counter(b for row in rows for a, b in itertools.pairwise(row) if a == 0)
    total = sum(after_centre.values())
    leaves = graph.node_ids.to_internal([1, 2, 3, 4])
    shares = np.array([after_centre[leaf] / total for leaf in leaves])
    np.testing.assert_allclose(shares, [0.1, 0.2, 0.3, 0.4], atol=0.01)


@pytest.mark.parametrize(("p", "q"), [(4.0, 0.25), (0.25, 4.0), (1.0, 3.0)])
def test_second_order_steps_have_the_node2vec_probabilities(p, q):
    # From v=2 having come from t=0 in a ring lattice (k=2): x=0 returns (1/p); x=1 also
    # neighbors t (1); x=3 and x=4 are away (1/q). Unit weights.
    graph = _ring_lattice(n=12, k=2)
    walks = node2vec_walks(graph, walk_length=60, n_walks=300, p=p, q=q, n_threads=2)
    to_internal = graph.node_ids.to_internal
    t, v = to_internal([0, 2])
    following = _next_after(walks, t, v)
    counts = np.array([(following == x).sum() for x in to_internal([0, 1, 3, 4])], dtype=float)
    assert counts.sum() == len(following)  # no other node follows
    expected = np.array([1 / p, 1.0, 1 / q, 1 / q])
    expected /= expected.sum()
    # Thousands of draws: shares within 0.03 of the exact probabilities.
    assert counts.sum() > 2000
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.03)


def test_large_q_keeps_walks_local_and_small_q_sends_them_away():
    n = 200
    graph = _ring_lattice(n=n, k=3)
    nodes = graph.node_ids.external

    def mean_reach(q: float) -> float:
        walks = node2vec_walks(graph, walk_length=20, n_walks=5, p=1.0, q=q, n_threads=1)
        reach = []
        for row in _rows(walks):
            gap = abs(int(nodes[row[-1]]) - int(nodes[row[0]]))
            reach.append(min(gap, n - gap))
        return float(np.mean(reach))

    local, first_order, away = mean_reach(4.0), mean_reach(1.0), mean_reach(0.25)
    assert local < first_order < away
    assert away > 2 * local


def test_walks_are_seeded_and_do_not_depend_on_threads():
    graph = _ring_lattice(n=40, k=3)
    one = node2vec_walks(graph, walk_length=10, n_walks=4, p=0.5, q=2.0, n_threads=1)
    two = node2vec_walks(graph, walk_length=10, n_walks=4, p=0.5, q=2.0, n_threads=2)
    np.testing.assert_array_equal(one.indices, two.indices)
    np.testing.assert_array_equal(one.indptr, two.indptr)
    other = node2vec_walks(graph, walk_length=10, n_walks=4, p=0.5, q=2.0, random_state=1)
    assert not np.array_equal(one.indices, other.indices)


def test_walk_parameters_are_validated():
    graph = _ring_lattice(n=10, k=1)
    with pytest.raises(ConfigError, match="`p` must be a number in"):
        node2vec_walks(graph, p=0.0)
    with pytest.raises(ConfigError, match="`walk_length` must be an int >= 2"):
        node2vec_walks(graph, walk_length=1)
