"""YouTube-style candidate generation: tribes, features that carry the answer, persistence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from customer2vec.corpus.baskets import BasketsWithTables
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models import load_model
from customer2vec.models.candidate_gen import CandidateGen, _encode_features, _feature_spec
from evaluation.test_nextbasket import make_corpus

FAST = {"n_factors": 16, "n_hidden": 32, "n_epochs": 30, "learning_rate": 0.02, "n_threads": 1}


@pytest.fixture(scope="module")
def tribes():
    """Customers a0..a11 buy items 0-7, b0..b11 items 8-15."""
    rng = np.random.default_rng(0)
    spec = {
        f"{tribe}{c:02d}": [(rng.choice(8, 3, replace=False) + offset).tolist() for _ in range(5)]
        for tribe, offset in (("a", 0), ("b", 8))
        for c in range(12)
    }
    return make_corpus(spec, n_items=16)


@pytest.fixture(scope="module")
def hidden_taste():
    """Everyone first buys staples (items 0-3); then group x buys 4-5, group y buys 6-7.

    The history before the group basket is the same for everyone, so only the ``group``
    column of the customers table says which items come next. ``new-x`` and ``new-y`` are in
    the table but have no baskets in training.
    """
    spec = {
        f"{g}{c:02d}": [[0, 1, 2, 3], [4, 5] if g == "x" else [6, 7]]
        for g in "xy"
        for c in range(20)
    }
    customers = pd.DataFrame(
        {
            "customer_id": [*spec, "new-x", "new-y"],
            "group": ["x"] * 20 + ["y"] * 20 + ["x", "y"],
            "visits": np.arange(42, dtype=float),
        }
    )
    return make_corpus(spec, n_items=8), customers


def test_each_tribe_gets_its_own_items(tribes):
    model = CandidateGen(**FAST, random_state=0).fit(tribes)
    top = np.argsort(-model.score(tribes, np.arange(tribes.n_customers)), axis=1)[:, :5]
    assert np.all(top // 8 == np.array([0] * 12 + [1] * 12)[:, None])
    assert model.features_ is None and model.feature_spec_ == []


def test_features_from_the_customers_table_carry_the_answer(hidden_taste):
    corpus, customers = hidden_taste
    model = CandidateGen(**FAST, features=["group"], random_state=0)
    model.fit(BasketsWithTables(corpus, items=None, customers=customers))
    # New customers whose only basket is the staples: their group decides what comes next.
    history = make_corpus({"new-x": [[0, 1, 2, 3]], "new-y": [[0, 1, 2, 3]]}, n_items=8)
    scores = model.score(history, np.array([0, 1]))
    assert set(np.argsort(-scores[0])[:2]) == {4, 5}
    assert set(np.argsort(-scores[1])[:2]) == {6, 7}
    # Without the table the two are the same customer.
    blind = CandidateGen(**FAST, random_state=0).fit(corpus)
    same = blind.score(history, np.array([0, 1]))
    np.testing.assert_allclose(same[0], same[1])


def test_feature_encoding_one_hot_standardized_and_missing(hidden_taste):
    table = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4],
            "age": ["25-34", "35-44", None, "25-34"],
            "income": [10.0, 30.0, np.nan, 20.0],
        }
    )
    spec = _feature_spec(table, None, max_categories=1)
    assert spec[0] == {"column": "age", "kind": "categorical", "levels": ["25-34"]}
    encoded = _encode_features(table, spec)
    # age: 25-34 | other | missing; income: standardized | missing
    np.testing.assert_allclose(
        encoded,
        [
            [1, 0, 0, -np.sqrt(1.5), 0],
            [0, 1, 0, np.sqrt(1.5), 0],
            [0, 0, 1, 0, 1],
            [1, 0, 0, 0, 0],
        ],
        rtol=1e-6,
        atol=1e-6,
    )
    corpus, customers = hidden_taste
    with pytest.raises(DataValidationError, match="first: 'kids'"):
        CandidateGen(features=["kids"]).fit(BasketsWithTables(corpus, None, customers))
    with pytest.raises(ConfigError, match="no customers table"):
        CandidateGen(features=["group"]).fit(corpus)
    with pytest.raises(ConfigError, match="`features` must be a list"):
        CandidateGen(features="group").fit(corpus)


def test_save_load_keeps_features_and_scores(hidden_taste, tmp_path):
    corpus, customers = hidden_taste
    model = CandidateGen(**{**FAST, "n_epochs": 3}, recency_half_life=2.0, random_state=0)
    model.fit(BasketsWithTables(corpus, None, customers))
    model.save(tmp_path / "cg")
    loaded = load_model(tmp_path / "cg")
    assert loaded.feature_spec_ == model.feature_spec_
    history = make_corpus({"new-x": [[0, 1]], "unknown": [[2, 3], [4]]}, n_items=8)
    for corpus_ in (corpus, history):
        customers_ = np.arange(corpus_.n_customers)
        np.testing.assert_array_equal(
            loaded.score(corpus_, customers_), model.score(corpus_, customers_)
        )
    assert not list((tmp_path / "cg").rglob("*.pkl"))
