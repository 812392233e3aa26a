"""The distributed apply equals one machine: same customers, items, ranks and scores.

Three tribes of customers (each buys only its own items); models are trained on one machine
(customer2vec on half of the customers, so the others' vectors are inferred), then
recommend-batch and the customer export run on a local[2] Spark session and are compared
row by row with the single-node output.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ingest_tribes
from customer2vec.cli import cli
from customer2vec.errors import DataValidationError, UnknownIdError
from customer2vec.models import get_model_class
from customer2vec.recommend.customers import saved_customer_embeddings
from customer2vec.recommend.recommender import Recommender
from customer2vec.recommend.saved import SavedModel
from customer2vec.workflow.distributed import export_customers_on_spark, recommend_on_spark
from customer2vec.workflow.training import resolve_config, train_to_directory

pytestmark = pytest.mark.spark
KEY = ["customer_id", "rank"]


@pytest.fixture(scope="module")
def tribes(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tribes")
    ingest_tribes(root, n_groups=3, customers_per_group=12, baskets_per_customer=5)
    return root / "tribes"


@pytest.fixture(scope="module")
def models(tribes, tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("models")
    trained = {}
    for name, sample in (
        ("item2vec", None),
        ("tifu-knn", None),
        ("next-basket", None),
        ("customer2vec", 0.5),
    ):
        params = get_model_class(name).quick_params()
        config = resolve_config(name, overrides=params, sample=sample)
        train_to_directory(tribes, root / name, config)
        trained[name] = root / name
    return trained


def assert_same_recommendations(single: pd.DataFrame, spread: pd.DataFrame) -> None:
    single = single.sort_values(KEY, ignore_index=True)
    spread = spread.sort_values(KEY, ignore_index=True)
    assert list(spread.columns) == list(single.columns)
    assert spread.dtypes.to_dict() == single.dtypes.to_dict()
    assert spread["customer_id"].tolist() == single["customer_id"].tolist()
    assert spread["item_id"].tolist() == single["item_id"].tolist()
    assert spread["rank"].tolist() == single["rank"].tolist()
    np.testing.assert_allclose(spread["score"], single["score"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", ["item2vec", "tifu-knn", "next-basket", "customer2vec"])
def test_recommend_batch_on_spark_equals_one_machine(spark, models, tmp_path, name) -> None:
    single = Recommender.load(models[name]).recommend_many(None, n=4)
    written = recommend_on_spark(
        models[name], tmp_path / "recs", n=4, master="local[2]", batch_size=5
    )
    spread = pd.read_parquet(written.path)
    assert_same_recommendations(single, spread)
    assert written.rows == len(single)
    assert written.customers == 36  # every customer, sampled in training or not


def test_given_customers_and_seen_items(spark, models, tmp_path) -> None:
    given = ["c3", "c30", "c17"]
    model = models["tifu-knn"]
    single = Recommender.load(model).recommend_many(given, n=6, exclude_seen=True)
    written = recommend_on_spark(
        model, tmp_path / "recs", n=6, customers=given, exclude_seen=True, master="local[2]"
    )
    assert_same_recommendations(single, pd.read_parquet(written.path))
    assert set(single["customer_id"]) == set(given)
    with pytest.raises(UnknownIdError, match="unknown customer id 'nobody'"):
        recommend_on_spark(model, tmp_path / "again", customers=["c3", "nobody"])


def test_export_customers_on_spark_equals_one_machine(spark, models, tmp_path) -> None:
    for name in ("item2vec", "customer2vec"):  # roll-up; stored + inferred
        saved = SavedModel.open(models[name])
        single = saved_customer_embeddings(saved)
        written = export_customers_on_spark(
            models[name], tmp_path / name, master="local[2]", batch_size=4
        )
        table = pd.read_parquet(written.path).sort_values("customer_id", ignore_index=True)
        assert table["customer_id"].tolist() == sorted(single.keys.tolist())
        assert len(table) == 36
        rows = single.id_map.to_internal(table["customer_id"].to_numpy())
        vectors = np.stack(table["vector"].to_numpy())
        np.testing.assert_allclose(vectors, single.vectors[rows], rtol=1e-5, atol=1e-6)
        # The planted answer: a customer is nearest to customers of its own tribe.
        unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        similarity = unit @ unit.T
        np.fill_diagonal(similarity, -np.inf)
        tribe = table["customer_id"].str[1:].astype(int).to_numpy() // 12
        assert (tribe[similarity.argmax(axis=1)] == tribe).mean() > 0.9


def test_spark_output_is_refused_over_other_folders(spark, models, tmp_path) -> None:
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "notes.txt").write_text("mine")
    with pytest.raises(DataValidationError, match="not a folder of Parquet parts"):
        recommend_on_spark(models["item2vec"], taken)
    with pytest.raises(DataValidationError, match="overlaps the input"):
        recommend_on_spark(models["item2vec"], models["item2vec"] / "recs")


def test_cli_engine_spark(spark, models, tmp_path) -> None:
    runner = CliRunner()
    out = tmp_path / "recs"
    args = ["recommend-batch", str(models["item2vec"]), "--out", str(out), "-n", "3"]
    result = runner.invoke(cli, [*args, "--engine", "spark", "--spark-master", "local[2]"])
    assert result.exit_code == 0, result.output
    assert "for 36 customers" in result.output
    again = runner.invoke(cli, [*args, "--engine", "spark", "--spark-master", "local[2]"])
    assert again.exit_code == 0, again.output  # a Spark folder is replaced
    assert len(pd.read_parquet(out)) == 36 * 3
    vectors = tmp_path / "vectors"
    export = ["export", str(models["customer2vec"]), "--what", "customers", "--out", str(vectors)]
    result = runner.invoke(cli, [*export, "--engine", "spark"])
    assert result.exit_code == 0, result.output
    assert "wrote 36 customers" in result.output
    wrong = runner.invoke(cli, [*args, "--spark-master", "local[2]"])
    assert wrong.exit_code == 2 and "--spark-master needs --engine spark" in wrong.output
