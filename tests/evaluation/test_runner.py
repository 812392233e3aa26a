"""evaluate_dataset: model names -> split -> evaluate_models."""

from __future__ import annotations

import pytest

from customer2vec.errors import ConfigError
from customer2vec.evaluation.runner import DEFAULT_MODELS, evaluate_dataset, ranking_model_names


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    from conftest import ingest_tribes

    return ingest_tribes(tmp_path_factory.mktemp("tribes"), baskets_per_customer=6)


def test_every_default_model_can_rank():
    assert set(DEFAULT_MODELS) <= set(ranking_model_names())
    assert {"als", "item2vec", "customer2vec"} <= set(ranking_model_names())
    assert "copurchase" not in ranking_model_names()


@pytest.mark.parametrize("protocol", ["last-basket", "time-split"])
def test_both_protocols_score_an_embedding_ranker(dataset, protocol):
    table = evaluate_dataset(
        dataset.path,
        protocol,
        ["item2vec"],
        [3],
        min_baskets=3,
        progress=False,
    )
    assert table["model"].tolist() == ["item2vec"]
    assert 0.0 <= table.loc[0, "recall@3"] <= 1.0 and table.loc[0, "customers"] > 0


def test_bad_names_and_protocols_are_refused(dataset):
    with pytest.raises(ConfigError, match="'copurchase' cannot rank items; choose among als"):
        evaluate_dataset(dataset.path, models=["copurchase"])
    with pytest.raises(ConfigError, match="`protocol` must be one of"):
        evaluate_dataset(dataset.path, "random", ["als"])
    with pytest.raises(ConfigError, match="must name at least one model"):
        evaluate_dataset(dataset.path, models=[])
