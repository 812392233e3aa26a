"""attr2vec: attribute tokens, vectors for unsold products (cold start), ranking, save/load."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import make_raw_transactions
from customer2vec.cli import cli
from customer2vec.corpus import BasketsWithTables, build_baskets
from customer2vec.corpus.attributes import (
    build_item_attributes,
    default_attributes,
    extend_vocabulary,
)
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, DataWarning
from customer2vec.models import create_model, load_model
from customer2vec.models.attr2vec import Attr2Vec
from customer2vec.recommend.recommender import Recommender
from customer2vec.workflow.training import build_corpus

#: ``sample=0``: with 16 items every item is above the subsampling threshold.
SMALL = {"n_factors": 16, "sample": 0.0, "n_threads": 1, "random_state": 0}
#: Sold: a0-a7 (fruit) and b0-b7 (meat). Unsold: a8, a9 (fruit), b8 (meat), z0 (no attribute).
NEW = ["a8", "a9", "b8"]


def catalogue() -> pd.DataFrame:
    rng = np.random.default_rng(1)
    ids = [f"a{i}" for i in range(10)] + [f"b{i}" for i in range(9)] + ["z0"]
    category = ["fruit"] * 10 + ["meat"] * 9 + [None]
    color = [str(c) for c in rng.choice(["red", "blue"], size=19)] + [None]
    return pd.DataFrame(
        {
            "sku": ids,
            "name": [f"product {i}" for i in ids],
            "category": category,
            "color": color,
            "shelf": np.arange(len(ids)),  # numeric: not an attribute by default
        }
    )


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    directory = tmp_path_factory.mktemp("attr")
    raw = make_raw_transactions(customers_per_group=15, baskets_per_customer=6, basket_size=3)
    raw.to_csv(directory / "sales.csv", index=False)
    catalogue().to_csv(directory / "items.csv", index=False)
    return ingest(
        [directory / "sales.csv"],
        directory / "ds",
        mapping=ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at"),
        items=[directory / "items.csv"],
        item_id_col="sku",
    )


@pytest.fixture(scope="module")
def corpus(dataset):
    return build_corpus(dataset, "baskets+tables")


@pytest.fixture(scope="module")
def model(corpus):
    return Attr2Vec(**SMALL).fit(corpus)


def test_default_attributes_are_text_columns_of_sensible_cardinality():
    items = catalogue().rename(columns={"sku": "item_id"})
    items["unique_code"] = [f"u{i}" for i in range(len(items))]
    assert default_attributes(items) == ["category", "color"]


def test_item_attributes_are_tokens_aligned_with_the_vocabulary():
    items = catalogue().rename(columns={"sku": "item_id"})
    attrs = build_item_attributes(items, IdMap(["z0", "b1", "a0", "nowhere"]), ["category"])
    assert attrs.tokens_of("b1") == ["category=meat"]
    assert attrs.tokens_of("a0") == ["category=fruit"]
    assert attrs.tokens_of("z0") == [] and attrs.tokens_of("nowhere") == []
    with pytest.raises(DataValidationError, match="'size' is not in the items table"):
        build_item_attributes(items, IdMap(["a0"]), "category, size")


def test_unsold_products_with_attributes_get_vectors_after_the_sold_ones(model, corpus):
    keys = list(model.item_vectors_.keys)
    sold = list(corpus.baskets.item_ids.external)
    assert keys[: len(sold)] == sold and sorted(keys[len(sold) :]) == NEW
    assert model.n_new_items_ == 3 and "z0" not in model.item_vectors_
    assert list(model.item_ids_.external) == sold
    assert set(model.attribute_vectors_.keys) == {
        "category=fruit",
        "category=meat",
        "color=red",
        "color=blue",
    }


def test_new_products_sit_with_the_products_of_their_category(model):
    for query in NEW:
        hits = model.item_vectors_.similar(query, n=5, exclude=NEW)
        assert all(item[0] == query[0] for item in hits.ids), (query, hits)


def test_the_vector_of_a_new_product_comes_from_its_attributes(corpus):
    # The same product, now listed as meat, moves to the meat products.
    items = corpus.items.copy()
    items.loc[items["item_id"] == "a8", "category"] = "meat"
    model = Attr2Vec(**SMALL).fit(BasketsWithTables(corpus.baskets, items, None))
    hits = model.item_vectors_.similar("a8", n=5, exclude=NEW)
    assert all(item.startswith("b") for item in hits.ids), hits


def test_new_products_are_ranked_for_the_customers_who_would_buy_them(model, corpus):
    history = model.with_new_items(corpus.baskets)
    assert history.n_items == len(model.item_vectors_)
    a_customer = history.customer_ids.to_internal(["c0"])
    b_customer = history.customer_ids.to_internal(["c20"])
    scores = model.score(history, np.concatenate([a_customer, b_customer]))
    assert scores.shape == (2, history.n_items) and scores.dtype == np.float32
    a8, b8 = history.item_ids.to_internal(["a8", "b8"])
    assert scores[0, a8] > scores[0, b8] and scores[1, b8] > scores[1, a8]
    # On the sold vocabulary the scores are the same columns.
    np.testing.assert_allclose(
        model.score(corpus.baskets, a_customer)[0], scores[0, : corpus.baskets.n_items], atol=1e-6
    )


def test_history_on_another_vocabulary_is_refused(model, corpus):
    other = extend_vocabulary(corpus.baskets, ["q1"])
    with pytest.raises(DataValidationError, match="trained on"):
        model.score(other, np.array([0]))


def test_infer_items_places_products_listed_after_training(model):
    rows = pd.DataFrame(
        {"item_id": ["n1", "n2", "n3"], "category": ["meat", "fruit", "toys"], "color": "red"}
    )
    rows.loc[2, "color"] = None
    with pytest.warns(DataWarning, match="1 of 3 items have no attribute value seen"):
        placed = model.infer_items(rows)
    assert list(placed.keys) == ["n1", "n2"]
    for key, tribe in (("n1", "b"), ("n2", "a")):
        hits = model.item_vectors_.similar(placed[key], n=4)
        assert all(item[0] == tribe for item in hits.ids), (key, hits)


def test_save_load_keeps_new_items_and_attribute_vectors(model, corpus, tmp_path):
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.n_new_items_ == 3
    assert list(loaded.item_ids_.external) == list(model.item_ids_.external)
    assert loaded.attribute_columns_ == ["category", "color"]
    np.testing.assert_array_equal(
        loaded.attribute_vectors_.vectors, model.attribute_vectors_.vectors
    )
    row = pd.DataFrame({"item_id": ["n1"], "category": ["meat"], "color": ["red"]})
    np.testing.assert_allclose(loaded.infer_items(row).vectors, model.infer_items(row).vectors)
    history = loaded.with_new_items(corpus.baskets)
    np.testing.assert_array_equal(
        loaded.score(history, np.arange(3)), model.score(history, np.arange(3))
    )


def test_recommender_works_on_the_sold_vocabulary(model, corpus):
    hits = Recommender(model, corpus.baskets).recommend("c0", n=5, exclude_seen=False)
    assert len(hits) == 5 and all(item[0] == "a" for item in hits.ids)


def test_without_an_items_table_it_trains_like_item2vec(dataset):
    baskets = build_baskets(dataset)
    model = Attr2Vec(**SMALL).fit(baskets)
    assert model.n_new_items_ == 0 and len(model.attribute_vectors_) == 0
    assert len(model.item_vectors_) == baskets.n_items
    with pytest.raises(DataValidationError, match="no items table"):
        Attr2Vec(attributes="category", **SMALL).fit(baskets)


def test_attributes_can_be_chosen_and_new_items_turned_off(corpus):
    model = Attr2Vec(attributes=["category"], new_items=False, **SMALL).fit(corpus)
    assert model.attribute_columns_ == ["category"] and model.n_new_items_ == 0
    assert set(model.attribute_vectors_.keys) == {"category=fruit", "category=meat"}


def test_seeded_single_thread_fit_is_deterministic(corpus):
    first = Attr2Vec(**SMALL).fit(corpus).item_vectors_.vectors
    np.testing.assert_array_equal(first, Attr2Vec(**SMALL).fit(corpus).item_vectors_.vectors)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"attribute_weight": 1.5}, "`attribute_weight` must be a number in"),
        ({"new_items": 1}, "`new_items` must be true or false; got 1"),
        ({"attributes": 3}, "`attributes` must be a string or a list of strings"),
        ({"n_pairs_per_item": 0}, "`n_pairs_per_item` must be an int >= 1"),
    ],
)
def test_bad_parameters_are_refused_at_fit(corpus, params, message):
    with pytest.raises(ConfigError, match=message):
        Attr2Vec(**{**SMALL, **params}).fit(corpus)


def test_cli_train_similar_and_export_find_new_products(dataset, tmp_path):
    runner = CliRunner()
    out = tmp_path / "model"
    result = runner.invoke(
        cli,
        [
            "-q",
            "train",
            str(dataset.path),
            "--model",
            "attr2vec",
            "--out",
            str(out),
            "--param",
            "n_factors=16",
            "--param",
            "n_threads=1",
            "--param",
            "sample=0",
        ],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["similar", str(out), "a8", "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    assert all(row["item_id"][0] == "a" for row in json.loads(result.stdout)["neighbors"])
    result = runner.invoke(cli, ["export", str(out), "--out", str(tmp_path / "v.parquet")])
    assert result.exit_code == 0, result.output
    assert set(NEW) <= set(pd.read_parquet(tmp_path / "v.parquet")["item_id"])
    assert isinstance(create_model("attr2vec"), Attr2Vec)


def test_tuning_is_refused_rather_than_run_without_the_attributes(dataset):
    from customer2vec.workflow.training import resolve_config, train

    with pytest.raises(ConfigError, match="has no search space"):
        train(dataset, resolve_config("attr2vec", tune=True))
