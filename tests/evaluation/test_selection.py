"""Tuning: the split never leaks, trial 0 is the defaults, the winner is refit."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.errors import ConfigError
from customer2vec.evaluation.selection import completion_recall, split_last_baskets, tune
from customer2vec.models import create_model
from customer2vec.workflow.training import resolve_config, train


@pytest.fixture(scope="module")
def tribes(tmp_path_factory):
    from conftest import ingest_tribes

    return ingest_tribes(
        tmp_path_factory.mktemp("tribes"),
        customers_per_group=20,
        baskets_per_customer=5,
        basket_size=3,
    )


def test_take_keeps_vocabulary_and_recounts(tribes):
    baskets = build_baskets(tribes)
    part = baskets.take(np.array([0, 2, 7]))
    assert part.n_baskets == 3
    assert part.item_ids is baskets.item_ids
    for new, old in enumerate([0, 2, 7]):
        np.testing.assert_array_equal(part.basket(new), baskets.basket(old))
    assert part.item_counts.sum() == part.n_lines


def test_split_holds_out_each_sampled_customers_last_basket(tribes):
    baskets = build_baskets(tribes)
    train_part, held_out = split_last_baskets(baskets, sample=0.5, min_customers=10)
    assert held_out.n_customers == train_part.n_customers == 20
    assert (held_out.basket_sequence == 5).all()
    assert (train_part.basket_sequence < 5).all()  # nothing of the target basket leaks
    assert train_part.n_baskets == 4 * 20


def test_completion_recall_is_high_for_tribes_and_bounded(tribes):
    baskets = build_baskets(tribes)
    train_part, held_out = split_last_baskets(baskets, sample=1.0)
    model = create_model("als", n_factors=8, n_iterations=10, n_threads=1).fit(train_part)
    score = completion_recall(model.item_vectors_, held_out, train_part, k=7)
    assert 0.9 <= score <= 1.0  # a tribe has 8 items: 7 neighbors are its other items


def test_tune_tries_defaults_first_and_reports_every_trial(tribes):
    baskets = build_baskets(tribes)
    params, trials = tune("als", baskets, base_params={"n_threads": 1}, n_trials=3, sample=1.0)
    assert len(trials) == 3
    assert trials.iloc[0].drop(["seconds", "completion_recall@10"]).isna().all()
    assert params["n_threads"] == 1
    assert trials["completion_recall@10"].between(0, 1).all()


def test_train_with_tune_records_the_search(tribes):
    config = resolve_config(
        "als", None, {"n_threads": 1, "n_iterations": 5}, tune=True, tune_trials=2, tune_sample=1.0
    )
    model = train(tribes, config)
    assert len(model.meta_["tuning"]["trials"]) == 2
    assert model.get_params()["n_iterations"] == 5  # given parameters stay fixed


def test_model_without_search_space_refuses_to_tune(tribes, monkeypatch):
    from customer2vec.models.als import ALS

    monkeypatch.setattr(ALS, "search_space", {})
    with pytest.raises(ConfigError, match="no search space"):
        tune("als", build_baskets(tribes))
