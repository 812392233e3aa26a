"""autoencoder: the label guides the bottleneck, category input, ranking, CLI end to end."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.corpus.baskets import BasketsWithTables
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError
from customer2vec.evaluation.downstream import label_score
from customer2vec.models import load_model
from customer2vec.models.autoencoder import Autoencoder
from planted_labels import hide_half, planted

SMALL = {"n_factors": 4, "batch_size": 16, "n_threads": 1, "random_state": 0}


def test_the_label_guides_the_bottleneck():
    # A favorite aisle per customer and a weak label: reconstruction spends 4 dimensions on
    # tribes and aisles first.
    corpus, items, customers = planted(p_label=0.7, p_favorite=0.7)
    table, truth = hide_half(customers)
    aucs = {}
    for weight in (0.0, 5.0):
        model = Autoencoder(label="vip", label_weight=weight, **SMALL)
        model.fit(BasketsWithTables(corpus, items, table))
        aucs[weight] = label_score(model.customer_vectors_, truth, n_splits=2)["auc"]
    assert aucs[0.0] < 0.75
    assert aucs[5.0] > aucs[0.0] + 0.15


def test_the_decoder_ranks_the_customers_own_tribe_first():
    corpus, _, _ = planted(40)
    model = Autoencoder(n_hidden=0, learning_rate=0.01, **SMALL).fit(corpus)
    scores = model.score(corpus, np.arange(4))
    for row, customer in enumerate(corpus.customer_ids.external[:4]):
        tribe = "ab"[int(customer[1:]) % 2]
        top = corpus.item_ids.external[np.argsort(-scores[row])[:10]]
        assert all(item[0] == tribe for item in top), (customer, top)


def test_rare_items_get_no_vector_and_rank_last():
    corpus, _, _ = planted(40)
    model = Autoencoder(max_items=30, n_epochs=2, **SMALL).fit(corpus)
    assert len(model.item_vectors_) == 30
    assert list(model.item_vectors_.keys) == list(corpus.item_ids.external[:30])
    scores = model.score(corpus, np.array([0, 1]))
    assert scores.shape == (2, corpus.n_items)
    assert np.isneginf(scores[:, 30:]).all() and np.isfinite(scores[:, :30]).all()


def test_new_customers_are_encoded_from_their_history():
    corpus, _, _ = planted(40)
    model = Autoencoder(n_epochs=2, **SMALL).fit(corpus)
    stranger = dataclasses.replace(
        corpus.take(np.arange(8)), customer_ids=IdMap(["stranger"], kind="customer")
    )
    np.testing.assert_allclose(
        model.score(stranger, np.array([0])), model.score(corpus, np.array([0])), rtol=1e-5
    )


def test_category_input_sees_only_category_shares():
    corpus, items, _ = planted(40)
    model = Autoencoder(input="categories", attribute="aisle", n_epochs=2, **SMALL)
    model.fit(BasketsWithTables(corpus, items, None))
    assert model.training_["attribute"] == "aisle" and model.training_["n_inputs"] == 8
    # Two customers with the same aisle shares but other items get the same vector.
    first = dataclasses.replace(
        corpus.take(np.array([0])), customer_ids=IdMap(["x"], kind="customer")
    )
    basket = corpus.basket(0)
    aisle = basket[0][:2]
    swapped = [f"{aisle}{(int(item[2]) + 1) % 6}" for item in basket]
    rows = corpus.item_ids.to_internal(swapped).astype(np.int32)
    second = dataclasses.replace(first, indices=rows, indptr=np.array([0, len(rows)]))
    np.testing.assert_allclose(
        model.score(first, np.array([0])), model.score(second, np.array([0])), rtol=1e-6
    )


def test_category_input_needs_an_items_table_with_the_attribute():
    corpus, items, _ = planted(20)
    with pytest.raises(DataValidationError, match="needs the dataset's items table"):
        Autoencoder(input="categories", **SMALL).fit(corpus)
    with pytest.raises(DataValidationError, match="no attribute 'color'; its columns are aisle"):
        Autoencoder(input="categories", attribute="color", **SMALL).fit(
            BasketsWithTables(corpus, items, None)
        )
    with pytest.raises(DataValidationError, match="none of the attributes product_category"):
        Autoencoder(input="categories", **SMALL).fit(
            BasketsWithTables(corpus, items.rename(columns={"aisle": "shelf"}), None)
        )


# -- end to end --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ds"
    args = ["-q", "synth", "--out", str(out), "--customers", "60", "--items", "80", "--seed", "2"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


def test_train_recommend_and_evaluate_from_the_cli(synth_dataset, tmp_path):
    runner, out = CliRunner(), tmp_path / "ae"
    params = ["input=categories", "label=has_kids", "n_epochs=3", "n_threads=1"]
    result = runner.invoke(
        cli,
        ["-q", "train", str(synth_dataset), "--model", "autoencoder", "--out", str(out)]
        + [flag for p in params for flag in ("--param", p)],
    )
    assert result.exit_code == 0, result.output
    state = json.loads((out / "model.json").read_text())["state"]
    assert state["training"]["attribute"] == "category"  # synth items have no product_category
    assert state["training"]["rule"] == "has_kids is True"
    assert not list(out.rglob("*.pkl")) and (out / "weights").is_dir()
    customer = load_model(out).customer_vectors_.keys[0]
    result = runner.invoke(cli, ["recommend", str(out), str(customer), "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        cli, ["-q", "evaluate", str(synth_dataset), "--models", "autoencoder", "-k", "5", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert "autoencoder" in result.stdout and "recall@5" in result.stdout


def test_pandas_nullable_labels_are_accepted():
    corpus, items, customers = planted(40)
    table, _ = hide_half(customers)
    assert isinstance(table["vip"].dtype, pd.BooleanDtype)
    model = Autoencoder(label="vip", n_epochs=1, **SMALL)
    model.fit(BasketsWithTables(corpus, items, table))
    assert model.training_["n_labeled"] == 20
