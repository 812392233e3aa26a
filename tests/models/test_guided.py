"""guided: a planted label the embedding losses ignore, label parsing, means, CLI end to end."""

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
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.evaluation.downstream import label_score
from customer2vec.evaluation.intrinsic import neighbor_purity
from customer2vec.models import load_model
from customer2vec.models.guided import Guided
from customer2vec.models.neural import customer_labels
from planted_labels import hide_half, planted

SMALL = {"n_factors": 4, "batch_size": 16, "n_threads": 1, "random_state": 0}


def held_out_auc(model, corpus, items, customers) -> tuple[float, float]:
    """Label AUC on customers whose labels ``fit`` never saw, and aisle purity of items."""
    table, truth = hide_half(customers)
    model.fit(BasketsWithTables(corpus, items, table))
    auc = label_score(model.customer_vectors_, truth, n_splits=2)["auc"]
    purity = neighbor_purity(model.item_vectors_, items.set_index("item_id")["aisle"], k=5)
    return auc, purity


def test_the_label_guides_customer_vectors_while_aisles_stay_together():
    corpus, items, customers = planted()
    plain_auc, plain_purity = held_out_auc(
        Guided(label="vip", label_weight=0.0, **SMALL), corpus, items, customers
    )
    guided_auc, guided_purity = held_out_auc(
        Guided(label="vip", label_weight=2.0, **SMALL), corpus, items, customers
    )
    # Four dimensions go to tribes and aisles without the label; with it, one goes to the label.
    # Measured: AUC 0.59 -> 0.76 at label_weight 1, 0.88 at 2, 0.99 at 5 (purity 0.69 there).
    assert plain_auc < 0.7
    assert guided_auc > plain_auc + 0.2
    # Chance purity is 5/47 (about 0.11): neighbors still share an aisle.
    assert plain_purity > 0.9 and guided_purity > 0.6


def test_customer_vectors_are_means_of_their_items_for_new_customers_too():
    corpus, _, _ = planted(40)
    model = Guided(weighting="binary", n_epochs=2, **SMALL).fit(corpus)
    # c000 owns baskets 0-7; with binary weights its vector is the plain mean of its items.
    bought = {item for b in range(8) for item in corpus.basket(b)}
    np.testing.assert_allclose(
        model.customer_vectors_["c000"],
        np.mean([model.item_vectors_[item] for item in bought], axis=0),
        rtol=1e-5,
        atol=1e-6,
    )
    # A customer the model never saw, with c000's baskets, gets c000's scores.
    stranger = dataclasses.replace(
        corpus.take(np.arange(8)), customer_ids=IdMap(["stranger"], kind="customer")
    )
    np.testing.assert_allclose(
        model.score(stranger, np.array([0])), model.score(corpus, np.array([0])), rtol=1e-5
    )


def test_trains_without_tables_and_without_a_label():
    corpus, _, _ = planted(20)
    model = Guided(n_epochs=1, **SMALL).fit(corpus)
    assert len(model.customer_vectors_) == 20
    assert model.training_ == {}


def test_a_label_needs_a_customers_table():
    corpus, items, _ = planted(20)
    with pytest.raises(DataValidationError, match="needs the dataset's customers table"):
        Guided(label="vip", **SMALL).fit(BasketsWithTables(corpus, items, None))


# -- label parsing (models.neural.inputs) ------------------------------------------------
IDS = IdMap(["c1", "c2", "c3", "c4", "c5"], kind="customer")


def table(**columns) -> pd.DataFrame:
    return pd.DataFrame({"customer_id": ["c1", "c2", "c3", "c4"], **columns})


def test_a_count_becomes_a_label_with_a_threshold():
    target, info = customer_labels(table(coupons=[0, 3, 1, 0]), IDS, "coupons", 0)
    np.testing.assert_array_equal(target[:4], [0, 1, 1, 0])
    assert np.isnan(target[4])  # c5 is not in the table: unlabeled
    assert info == {"rule": "coupons > 0", "n_labeled": 4, "positive_rate": 0.5}


def test_text_counts_read_as_numbers_and_blanks_are_unlabeled():
    kids = table(kids=["0", "3+", None, "1"])
    target, info = customer_labels(kids, IDS, "kids", 0)
    np.testing.assert_array_equal(target[[0, 1, 3]], [0, 1, 1])
    assert np.isnan(target[2]) and info["n_labeled"] == 3


def test_two_valued_columns_need_no_threshold():
    target, info = customer_labels(table(flag=["no", "yes", "yes", "no"]), IDS, "flag", None)
    np.testing.assert_array_equal(target[:4], [0, 1, 1, 0])
    assert info["rule"] == "flag == 'yes'"
    target, _ = customer_labels(table(flag=[True, False, True, True]), IDS, "flag", None)
    np.testing.assert_array_equal(target[:4], [1, 0, 1, 1])


def test_label_errors_name_the_fix():
    with pytest.raises(DataValidationError, match="no label column 'nope'; its columns are age"):
        customer_labels(table(age=[1, 2, 3, 4]), IDS, "nope", None)
    with pytest.raises(DataValidationError, match="4 distinct values .* label_threshold=0"):
        customer_labels(table(age=[1, 2, 3, 4]), IDS, "age", None)
    with pytest.raises(DataValidationError, match="all 4 labeled customers .*all positive"):
        customer_labels(table(age=[1, 2, 3, 4]), IDS, "age", 0)
    with pytest.raises(DataValidationError, match="2 values are not numbers"):
        customer_labels(table(size=["1", "big", "small", "2"]), IDS, "size", 0)
    with pytest.raises(ConfigError, match="label_threshold"):
        customer_labels(table(age=[1, 2, 3, 4]), IDS, "age", "zero")


# -- end to end --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def synth_dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ds"
    args = ["-q", "synth", "--out", str(out), "--customers", "60", "--items", "80", "--seed", "1"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    return out


def test_train_similar_recommend_export_from_the_cli(synth_dataset, tmp_path):
    runner, out = CliRunner(), tmp_path / "guided"
    params = ["label=has_kids", "n_epochs=2", "n_factors=8", "n_threads=1"]
    result = runner.invoke(
        cli,
        ["-q", "train", str(synth_dataset), "--model", "guided", "--out", str(out)]
        + [flag for p in params for flag in ("--param", p)],
    )
    assert result.exit_code == 0, result.output
    document = json.loads((out / "model.json").read_text())
    assert document["state"]["training"]["rule"] == "has_kids is True"
    model = load_model(out)
    item = model.item_vectors_.keys[0]
    customer = model.customer_vectors_.keys[0]
    for command in (
        ["similar", str(out), str(item), "-n", "3", "--json"],
        ["recommend", str(out), str(customer), "-n", "3", "--json"],
        ["export", str(out), "--what", "customers", "--out", str(tmp_path / "c.parquet")],
    ):
        result = runner.invoke(cli, command)
        assert result.exit_code == 0, (command, result.output)
    vectors = pd.read_parquet(tmp_path / "c.parquet")
    assert len(vectors) == 60 and len(vectors["vector"].iloc[0]) == 8


def test_a_missing_label_column_is_one_error_line(synth_dataset, tmp_path):
    out = str(tmp_path / "m")
    args = ["train", str(synth_dataset), "--model", "guided", "--out", out, "--param", "label=x"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1
    assert "error: the customers table has no label column 'x'; its columns are" in (result.output)
    assert "has_kids" in result.output
