"""Graphs for node2vec: item graph of baskets, co-purchase lists, edge-list files."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.corpus.copurchase import CopurchaseLists
from customer2vec.corpus.graph import Graph, copurchase_graph, item_graph, read_edges
from customer2vec.errors import ConfigError, DataValidationError, DataWarning

#: Shared baskets: a-b 3, a-c 2, a-d 1, b-c 1, b-d 1, c-d 2, c-e 1, d-e 1; 6 baskets.
BASKETS = [["a", "b", "c"], ["a", "b"], ["a", "b", "d"], ["a", "c"], ["c", "d"], ["c", "d", "e"]]
IN_BASKETS = {"a": 4, "b": 3, "c": 4, "d": 3, "e": 1}


@pytest.fixture
def baskets(make_dataset, frame_builder):
    return build_baskets(make_dataset(frame_builder({"c0": BASKETS[:3], "c1": BASKETS[3:]})))


def _weights(graph: Graph) -> dict[tuple[object, object], float]:
    coo = graph.adjacency.tocoo()
    ids = graph.node_ids.external
    return {(ids[r], ids[c]): float(v) for r, c, v in zip(coo.row, coo.col, coo.data, strict=True)}


def test_item_graph_counts_pairs_and_keeps_the_corpus_vocabulary(baskets):
    graph = item_graph(baskets, weight="count", min_count=1)
    assert graph.node_ids is baskets.item_ids and not graph.directed
    weights = _weights(graph)
    expected = {("a", "b"): 3, ("a", "c"): 2, ("a", "d"): 1, ("b", "c"): 1, ("b", "d"): 1}
    expected |= {("c", "d"): 2, ("c", "e"): 1, ("d", "e"): 1}
    assert weights == {**expected, **{(j, i): w for (i, j), w in expected.items()}}
    assert graph.n_edges == 8
    assert (graph.adjacency != graph.adjacency.T).nnz == 0
    assert graph.adjacency.has_sorted_indices and graph.adjacency.dtype == np.float32


def test_item_graph_ppmi_is_exact_and_drops_non_positive_and_rare_pairs(baskets):
    graph = item_graph(baskets, weight="ppmi", min_count=2)
    weights = _weights(graph)

    def pmi(i: str, j: str, together: int) -> float:
        return math.log(together * len(BASKETS) / (IN_BASKETS[i] * IN_BASKETS[j]))

    # a-b: log(3*6/12) > 0; c-d: log(2*6/12) = 0 is left out; a-c: log(2*6/16) < 0 too.
    assert set(weights) == {("a", "b"), ("b", "a")}
    assert weights["a", "b"] == pytest.approx(pmi("a", "b", 3), rel=1e-6)
    assert graph.n_nodes == 5 and list(graph.node_ids.external[graph.connected()]) == ["a", "b"]


def test_item_graph_max_degree_keeps_the_union_of_heaviest_edges(baskets):
    graph = item_graph(baskets, weight="count", min_count=1, max_degree=1)
    # a keeps b (3); b keeps a; c keeps a (2, tie with d broken by lower id); d keeps c;
    # e keeps c (tie with d). The union, both ways:
    assert set(_weights(graph)) == {
        pair
        for i, j in [("a", "b"), ("c", "a"), ("d", "c"), ("e", "c")]
        for pair in [(i, j), (j, i)]
    }


def test_item_graph_refuses_bad_parameters(baskets):
    with pytest.raises(ConfigError, match="`weight` must be one of"):
        item_graph(baskets, weight="lift")
    with pytest.raises(ConfigError, match="`min_count` must be an int >= 1"):
        item_graph(baskets, min_count=0)


def test_copurchase_graph_links_listed_pairs_both_ways():
    lists = CopurchaseLists.from_dict({"x": ["y", "z"], "y": ["x"]})
    uniform = _weights(copurchase_graph(lists))
    assert uniform == {("x", "y"): 2.0, ("y", "x"): 2.0, ("x", "z"): 1.0, ("z", "x"): 1.0}
    harmonic = _weights(copurchase_graph(lists, weight="harmonic"))
    assert harmonic[("x", "z")] == pytest.approx(0.5) and harmonic[("y", "x")] == 2.0


def test_from_edges_sums_repeats_drops_self_loops_and_keeps_direction():
    with pytest.warns(DataWarning, match="dropped 1 of 4 edges"):
        graph = Graph.from_edges(["u", "u", "v", "w"], ["v", "v", "w", "w"], [1.0, 2.5, 1.0, 9.0])
    assert _weights(graph) == {("u", "v"): 3.5, ("v", "u"): 3.5, ("v", "w"): 1.0, ("w", "v"): 1.0}
    directed = Graph.from_edges([1, 2], [2, 3], directed=True)
    assert _weights(directed) == {(1, 2): 1.0, (2, 3): 1.0} and directed.n_edges == 2
    assert list(directed.degrees()) == [1, 1, 0]
    with pytest.raises(DataValidationError, match="1 edges are not"):
        Graph.from_edges([1, 2], [2, 3], [1.0, -2.0])


def _write(frame: pd.DataFrame, path):
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_read_edges_from_csv_and_parquet(tmp_path, suffix):
    frame = pd.DataFrame({"source": [1, 2, 2], "target": [2, 3, 3], "weight": [1.0, 2.0, 0.5]})
    graph = read_edges(_write(frame, tmp_path / f"e{suffix}"))
    assert graph.node_ids.is_integer and graph.source == "edges"
    assert _weights(graph) == {(1, 2): 1.0, (2, 1): 1.0, (2, 3): 2.5, (3, 2): 2.5}


def test_read_edges_keeps_text_ids_and_other_column_names(tmp_path):
    path = tmp_path / "payments.csv"
    path.write_text("payer,payee,amount\n007,010,5\n010,x9,7\n", encoding="utf-8")
    graph = read_edges(path, source_col="payer", target_col="payee", weight_col="amount")
    assert list(graph.node_ids.external) == ["007", "010", "x9"]
    assert _weights(graph)[("010", "x9")] == 7.0
    unweighted = read_edges(path, source_col="payer", target_col="payee", weight_col=None)
    assert set(_weights(unweighted).values()) == {1.0}


def test_read_edges_keeps_csv_ids_exactly_like_ingest(tmp_path):
    path = tmp_path / "edges.csv"
    path.write_text("source,target\n007,7\n7  ,x\nnan,7\n", encoding="utf-8")
    graph = read_edges(path)
    assert sorted(graph.node_ids.external) == ["007", "7", "7  ", "nan", "x"]


def test_read_edges_without_weight_column_weighs_every_edge_one(tmp_path):
    path = _write(pd.DataFrame({"source": ["a", "b"], "target": ["b", "c"]}), tmp_path / "e.csv")
    assert set(_weights(read_edges(path)).values()) == {1.0}


def test_read_edges_errors_name_the_column_count_and_fix(tmp_path):
    path = _write(pd.DataFrame({"from": [1, 2], "to": [2, 3]}), tmp_path / "e.csv")
    with pytest.raises(
        DataValidationError, match=r"no column 'source'; it has from, to.*source_col"
    ):
        read_edges(path)
    with pytest.raises(DataValidationError, match=r"no column 'w'.*weight_col"):
        read_edges(path, source_col="from", target_col="to", weight_col="w")
    holes = tmp_path / "holes.csv"
    holes.write_text("source,target\n1,2\n,3\n4,\n5,6\n", encoding="utf-8")
    with pytest.raises(
        DataValidationError, match=r"2 of 4 rows have a missing .*first: data row 2"
    ):
        read_edges(holes)
    weights = tmp_path / "weights.csv"
    weights.write_text("source,target,weight\n1,2,1\n2,3,abc\n3,4,-1\n4,5,0\n", encoding="utf-8")
    with pytest.raises(DataValidationError, match=r"3 of 4 rows have a 'weight' that is not"):
        read_edges(weights)
    with pytest.raises(DataValidationError, match="edge list file not found"):
        read_edges(tmp_path / "nope.csv")
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    with pytest.raises(DataValidationError, match="empty"):
        read_edges(tmp_path / "empty.csv")
