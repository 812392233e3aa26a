"""node2vec model: planted communities separate, every graph source trains, errors are clear."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.corpus import build_baskets
from customer2vec.corpus.copurchase import build_copurchase
from customer2vec.corpus.graph import Graph
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models import create_model, load_model
from customer2vec.recommend.recommender import Recommender

FAST = {"n_factors": 16, "n_threads": 1, "walk_length": 20, "n_walks": 10, "sample": 0.0}


def _communities(n_per: int = 12, seed: int = 0) -> pd.DataFrame:
    """Two dense communities (customers u*, v*: 60% of pairs linked) joined by one edge."""
    rng = np.random.default_rng(seed)
    rows = []
    for prefix in ("u", "v"):
        for i in range(n_per):
            for j in range(i + 1, n_per):
                if rng.random() < 0.6:
                    rows.append((f"{prefix}{i}", f"{prefix}{j}", float(rng.integers(1, 100))))
    rows.append(("u0", "v0", 50.0))
    return pd.DataFrame(rows, columns=["payer", "payee", "amount"])


@pytest.fixture(scope="module")
def tribes(tmp_path_factory):
    from conftest import ingest_tribes

    return ingest_tribes(
        tmp_path_factory.mktemp("n2v"), customers_per_group=15, baskets_per_customer=6
    )


@pytest.fixture
def payments(tmp_path):
    path = tmp_path / "payments.csv"
    _communities().to_csv(path, index=False)
    return path


def _edges_model(path, **params):
    return create_model(
        "node2vec",
        graph="edges",
        edges=str(path),
        source_col="payer",
        target_col="payee",
        weight_col="amount",
        **{**FAST, **params},
    )


@pytest.mark.parametrize(("p", "q"), [(1.0, 1.0), (1.0, 0.5), (2.0, 2.0)])
def test_two_communities_joined_by_one_edge_separate(payments, p, q):
    vectors = _edges_model(payments, p=p, q=q).fit(None).item_vectors_
    assert len(vectors) == 24
    for query in ("u3", "v5", "u7", "v9"):
        hits = vectors.similar(query, n=5)
        assert all(node[0] == query[0] for node in hits.ids), (query, hits.ids)
    for bridge in ("u0", "v0"):  # linked to each other, otherwise to their own side
        hits = vectors.similar(bridge, n=5)
        assert sum(node[0] == bridge[0] for node in hits.ids) >= 4, (bridge, hits.ids)


def test_graph_object_is_used_as_given(tribes):
    frame = _communities()
    graph = Graph.from_edges(frame["payer"], frame["payee"], frame["amount"])
    model = create_model("node2vec", **FAST).fit(graph)
    assert model.graph_stats_["source"] == "edges" and model.graph_stats_["edges"] == len(frame)
    assert all(node.startswith("v") for node in model.item_vectors_.similar("v1", n=5).ids)
    with pytest.raises(DataValidationError, match="cannot rank items"):
        model.score(build_baskets(tribes), np.array([0]))


def test_basket_and_copurchase_graphs_embed_items_and_rank(tribes):
    baskets = build_baskets(tribes)
    recommender_models = {
        "baskets": create_model("node2vec", **FAST).fit(baskets),
        "copurchase": create_model("node2vec", graph="copurchase", **FAST).fit(
            build_copurchase(tribes)
        ),
        "copurchase from baskets": create_model("node2vec", graph="copurchase", **FAST).fit(
            baskets
        ),
    }
    for label, model in recommender_models.items():
        hits = model.item_vectors_.similar("a2", n=4)
        assert all(item.startswith("a") for item in hits.ids), (label, hits.ids)
        customer = baskets.customer_ids.external[0]  # a tribe-a customer
        recs = Recommender(model, baskets).recommend(customer, n=3, exclude_seen=False)
        assert len(recs) == 3 and all(item.startswith("a") for item in recs.ids), label


def test_items_without_edges_get_no_vector_and_score_minus_infinity(tmp_path):
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    # z is only ever bought alone: no edge, no vector, never recommended.
    spec = {"c0": [["a", "b"], ["a", "b", "c"], ["z"]], "c1": [["b", "c"], ["a", "c"], ["z"]]}
    rows = [
        (customer, f"{customer}-{n}", item, f"2024-01-0{n + 1}")
        for customer, baskets in spec.items()
        for n, basket in enumerate(baskets)
        for item in basket
    ]
    pd.DataFrame(rows, columns=["client", "ticket", "sku", "day"]).to_csv(tmp_path / "s.csv")
    mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="day")
    baskets = build_baskets(ingest([tmp_path / "s.csv"], tmp_path / "d", mapping=mapping))
    model = create_model("node2vec", min_count=1, weight="count", **FAST).fit(baskets)
    assert "z" not in model.item_vectors_ and model.graph_stats_["walked_nodes"] == 3
    scores = model.score(baskets, np.array([0, 1]))
    z = baskets.item_ids.index("z")
    assert np.isneginf(scores[:, z]).all() and np.isfinite(np.delete(scores, z, axis=1)).all()
    # The recommender takes the whole history (z included) and never offers z.
    recs = Recommender(model, baskets).recommend("c0", n=5, exclude_seen=False)
    assert sorted(recs.ids) == ["a", "b", "c"]


def test_save_load_keeps_graph_stats(tribes, tmp_path):
    model = create_model("node2vec", **FAST).fit(build_baskets(tribes))
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.graph_stats_ == model.graph_stats_
    np.testing.assert_array_equal(loaded.item_vectors_.vectors, model.item_vectors_.vectors)


def test_errors_name_the_parameter_and_the_fix(tribes, payments, tmp_path):
    baskets = build_baskets(tribes)
    with pytest.raises(ConfigError, match="graph='edges' needs the edge list"):
        create_model("node2vec", graph="edges").fit(baskets)
    with pytest.raises(ConfigError, match="`graph` must be one of"):
        create_model("node2vec", graph="social").fit(baskets)
    with pytest.raises(ConfigError, match="`q` must be a number in"):
        create_model("node2vec", q=0).fit(baskets)
    with pytest.raises(DataValidationError, match="no column 'source'.*source_col"):
        create_model("node2vec", graph="edges", edges=str(payments)).fit(baskets)
    with pytest.raises(DataValidationError, match="no two items share 50 baskets"):
        create_model("node2vec", min_count=50).fit(baskets)
    model = _edges_model(payments).fit(baskets)
    with pytest.raises(DataValidationError, match="cannot rank items"):
        model.score(baskets, np.array([0]))


def test_cli_trains_on_an_edge_list_and_finds_similar_nodes(tribes, payments, tmp_path):
    runner = CliRunner()
    out = tmp_path / "m"
    params = ["graph=edges", f"edges={payments}", "source_col=payer"]
    params += ["target_col=payee", "weight_col=amount", "n_threads=1", "n_factors=16"]
    args = ["train", str(tribes.path), "--model", "node2vec", "--out", str(out)]
    result = runner.invoke(cli, args + [a for p in params for a in ("--param", p)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["similar", str(out), "u4", "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    neighbors = json.loads(result.stdout)["neighbors"]
    assert [row["item_id"][0] for row in neighbors] == ["u", "u", "u"]
