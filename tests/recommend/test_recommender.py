"""Recommender: planted answers on two tribes, exclusions, sessions, batches, candidates."""

from __future__ import annotations

import dataclasses
import json
import warnings

import numpy as np
import pandas as pd
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.data.ids import IdMap
from customer2vec.errors import (
    ConfigError,
    DataValidationError,
    DataWarning,
    NotFittedError,
    UnknownIdError,
)
from customer2vec.models import create_model
from customer2vec.models.ranking import RankingModel
from customer2vec.recommend.recommender import Recommender, save_recommendations
from customer2vec.vectors.catalog import ItemCatalog
from customer2vec.workflow.training import train_to_directory

EMBEDDING_RANKERS = {
    # Few factors, strong regularization: ALS generalizes to the tribe instead of memorizing.
    "als": {"n_factors": 4, "regularization": 5.0, "n_iterations": 15, "n_threads": 1},
    "item2vec": {"n_factors": 16, "n_epochs": 50, "sample": 0.0, "n_threads": 1},
    "customer2vec": {"n_factors": 16, "sample": 0.0, "n_epochs": 40, "n_threads": 1},
}
COLUMNS = ["customer_id", "item_id", "score", "rank"]


class Fixed(RankingModel):
    """Scores item i as i for everyone: known answers for exclusions and candidates."""

    name = "fixed"
    repeats = True

    def __init__(self) -> None:
        pass

    def fit(self, corpus):
        self.n_items_ = corpus.n_items
        return self

    def score(self, history, customers):
        self.check_fitted()
        return np.tile(np.arange(self.n_items_, dtype=np.float32), (len(customers), 1))

    def _fitted_attributes(self):
        return ("n_items_",)

    def _save_state(self, directory):
        return {}

    def _load_state(self, directory, state, *, mmap):
        return None


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Tribes with 12 items each: a customer leaves several of its tribe's items unbought."""
    from conftest import ingest_tribes

    return ingest_tribes(
        tmp_path_factory.mktemp("tribes"),
        customers_per_group=20,
        items_per_group=12,
        baskets_per_customer=4,
        basket_size=3,
    )


@pytest.fixture(scope="module")
def history(dataset):
    return build_baskets(dataset)


@pytest.fixture(scope="module")
def fitted(history):
    return {
        name: create_model(name, random_state=0, **params).fit(history)
        for name, params in EMBEDDING_RANKERS.items()
    }


@pytest.fixture(params=sorted(EMBEDDING_RANKERS))
def recommender(request, fitted, history):
    return Recommender(fitted[request.param], history)


def bought(history, customer):
    c = history.customer_ids.index(customer)
    first, last = history.customer_indptr[c], history.customer_indptr[c + 1]
    return {item for b in range(first, last) for item in history.basket(b)}


def tribe(customer: str) -> str:
    return "a" if int(customer[1:]) < 20 else "b"


def test_tribe_customers_get_their_tribes_unbought_items(recommender, history):
    for customer in ("c0", "c3", "c21", "c38"):
        seen = bought(history, customer)
        unseen_in_tribe = 12 - sum(item[0] == tribe(customer) for item in seen)
        n = min(3, unseen_in_tribe)
        hits = recommender.recommend(customer, n=n)
        assert len(hits) == n
        assert all(item[0] == tribe(customer) for item in hits.ids), (customer, hits)
        assert not seen & set(hits.ids)  # discovery models leave bought items out by default


def test_include_seen_ranks_bought_items_too(recommender, history):
    hits = recommender.recommend("c0", n=24, exclude_seen=False)
    assert len(hits) == 24
    assert bought(history, "c0") <= set(hits.ids)
    assert all(item[0] == "a" for item in hits.ids[:12])


def test_session_of_a_items_gets_a_items(recommender):
    hits = recommender.recommend_session(["a0", "a1", "a2"], n=3)
    assert len(hits) == 3
    assert all(item[0] == "a" for item in hits.ids), hits
    assert not {"a0", "a1", "a2"} & set(hits.ids)
    with_seen = recommender.recommend_session(["b4", "b5"], n=24, exclude_seen=False)
    assert {"b4", "b5"} <= set(with_seen.ids) and len(with_seen) == 24


def test_session_skips_unknown_items_and_refuses_all_unknown(recommender):
    with pytest.warns(DataWarning, match="1 of 3 session items are unknown .*'zz'"):
        hits = recommender.recommend_session(["b1", "zz", "b2"], n=2)
    assert all(item[0] == "b" for item in hits.ids)
    with pytest.raises(UnknownIdError, match="none of the 2 session items is known"):
        recommender.recommend_session(["zz", "yy"])
    with pytest.raises(DataValidationError, match="must be a list of item ids"):
        recommender.recommend_session("a0")


def test_unknown_customers_raise_with_counts(recommender):
    with pytest.raises(UnknownIdError, match="unknown customer id 'zz': no baskets"):
        recommender.recommend("zz")
    with pytest.raises(UnknownIdError, match=r"2 unknown customer ids \(first: 'zz', 'yy'\)"):
        recommender.recommend_many(["c1", "zz", "yy"])


def test_new_customers_are_scored_from_their_history(fitted, history):
    """Customers the model never saw (renamed) get scores from their baskets alone."""
    renamed = dataclasses.replace(
        history,
        customer_ids=IdMap([f"new-{c}" for c in history.customer_ids.external], kind="customer"),
    )
    customers = np.arange(history.n_customers)
    for name, model in fitted.items():
        known, new = model.score(history, customers), model.score(renamed, customers)
        best = history.item_ids.external[np.argsort(-new, axis=1)[:, :5]]
        tribes = np.array([tribe(c) for c in history.customer_ids.external])
        assert (np.vectorize(lambda s: s[0])(best) == tribes[:, None]).all(), name
        if name == "als":  # exact least squares against the item factors = ALS's user step
            np.testing.assert_allclose(new, known, atol=0.02)
        if name == "item2vec":  # no customer vectors: new and known are the same
            np.testing.assert_array_equal(new, known)


def test_recommend_many_columns_ranks_and_batches(recommender, history):
    table = recommender.recommend_many(n=3)
    assert list(table.columns) == COLUMNS
    assert len(table) == 3 * history.n_customers
    assert table.groupby("customer_id")["rank"].apply(list).map([1, 2, 3].__eq__).all()
    assert table["customer_id"].drop_duplicates().tolist() == list(history.customer_ids.external)
    single = recommender.recommend("c5", n=3)
    row = table[table["customer_id"] == "c5"]
    assert row["item_id"].tolist() == list(single.ids)
    np.testing.assert_allclose(row["score"], single.scores, rtol=1e-5, atol=1e-6)
    small = recommender.recommend_many(n=3, batch_size=7, progress=False)
    pd.testing.assert_frame_equal(small.drop(columns="score"), table.drop(columns="score"))
    chosen = recommender.recommend_many(["c7", "c2"], n=2)
    assert chosen["customer_id"].tolist() == ["c7", "c7", "c2", "c2"]


def test_candidates_restrict_the_output(recommender):
    hits = recommender.recommend("c0", n=5, candidates=["b1", "a11", "b2"], exclude_seen=False)
    assert set(hits.ids) == {"b1", "a11", "b2"}
    assert hits.ids[0] == "a11"
    with pytest.warns(DataWarning, match="1 of 2 candidate items are unknown"):
        hits = recommender.recommend("c0", n=5, candidates=["b1", "zz"])
    assert list(hits.ids) == ["b1"]
    with pytest.raises(UnknownIdError, match="none of the 1 candidate items is known"):
        recommender.recommend("c0", candidates=["zz"])


def test_exclusions_and_ranks_with_known_scores(history):
    recommender = Recommender(Fixed().fit(history), history)
    top = history.item_ids.external[::-1]
    hits = recommender.recommend("c0", n=100)  # repeats=True: bought items stay
    assert list(hits.ids) == list(top) and len(hits) == history.n_items
    hits = recommender.recommend("c0", n=100, exclude_seen=True)
    assert list(hits.ids) == [item for item in top if item not in bought(history, "c0")]
    table = recommender.recommend_many(["c0", "c1"], n=100, exclude_seen=True)
    counts = table.groupby("customer_id", sort=False).size()
    assert counts.tolist() == [history.n_items - len(bought(history, c)) for c in ("c0", "c1")]
    assert table.groupby("customer_id")["rank"].max().tolist() == counts.tolist()
    with pytest.raises(ConfigError, match="`n` must be an int >= 1; got 0"):
        recommender.recommend("c0", n=0)
    with pytest.raises(NotFittedError):
        Recommender(Fixed(), history)


def test_similar_items_and_describe(fitted, history):
    recommender = Recommender(
        fitted["item2vec"],
        history,
        catalog=ItemCatalog(pd.DataFrame({"item_id": ["a1", "b1"], "name": ["Apple", "Bread"]})),
    )
    assert all(item[0] == "a" for item in recommender.similar_items("a0", n=3).ids)
    table = recommender.describe(recommender.recommend_session(["a0"], n=2))
    assert list(table.columns) == ["rank", "item_id", "score", "name"]
    with pytest.raises(ConfigError, match="has no item vectors"):
        Recommender(Fixed().fit(history), history).similar_items("a0")


def test_load_rebuilds_the_history_and_checks_the_vocabulary(dataset, tmp_path):
    config = {"model": "als", "min_item_count": 1, "params": EMBEDDING_RANKERS["als"]}
    train_to_directory(dataset.path, tmp_path / "als", config)
    recommender = Recommender.load(tmp_path / "als")
    assert recommender.history.n_customers == 40
    assert all(item[0] == "a" for item in recommender.recommend("c0", n=2).ids)
    table = recommender.recommend_many(n=2)
    out = save_recommendations(table, tmp_path / "recs" / "r.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(out), table)
    assert not list(out.parent.glob(".*"))

    document = json.loads((tmp_path / "als" / "model.json").read_text())
    document["config"]["min_item_count"] = 17  # keeps fewer items than the model has
    (tmp_path / "als" / "model.json").write_text(json.dumps(document))
    with pytest.raises(DataValidationError, match="train the model again"):
        Recommender.load(tmp_path / "als")


def test_recommending_needs_a_ranking_model(history):
    with warnings.catch_warnings():
        model = create_model("copurchase")
    with pytest.raises(ConfigError, match="cannot rank items"):
        Recommender(model, history)
