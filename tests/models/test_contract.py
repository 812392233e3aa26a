"""One contract suite over every registered model (STYLE.md section 7)."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.errors import ConfigError, NotFittedError, UnknownIdError
from customer2vec.models import (
    EmbeddingModel,
    Model,
    create_model,
    get_model_class,
    load_model,
    model_names,
)
from customer2vec.models.ranking import RankingModel
from customer2vec.recommend.recommender import Recommender
from customer2vec.workflow.training import build_corpus

#: Every registered model, imported: a registered model whose module or class is missing
#: fails the collection of this file (never a skip).
CLASSES = {name: get_model_class(name) for name in model_names()}
EMBEDDING = [n for n, c in CLASSES.items() if c.has_item_vectors]
RANKING = [n for n, c in CLASSES.items() if c.can_rank]


def quick(name: str) -> dict:
    """The model's small, fast settings for tiny data (declared on its class)."""
    return CLASSES[name].quick_params()


def test_every_registered_model_declares_quick_params_and_builds():
    for name, cls in CLASSES.items():
        declared = [c for c in cls.__mro__ if "quick_params" in vars(c) and c is not Model]
        assert declared, f"give {cls.__name__} its quick_params() (small settings for tests)"
        model = create_model(name, **quick(name))
        assert model.name == name and isinstance(model, cls)


def test_capabilities_follow_the_base_classes():
    for cls in CLASSES.values():
        assert cls.has_item_vectors == issubclass(cls, EmbeddingModel), cls
        assert cls.can_rank == issubclass(cls, RankingModel), cls
        assert not cls.has_customer_vectors or cls.has_item_vectors, cls


@pytest.fixture(scope="module")
def tribes_dataset(tmp_path_factory):
    from conftest import ingest_tribes

    return ingest_tribes(
        tmp_path_factory.mktemp("tribes"),
        customers_per_group=15,
        baskets_per_customer=6,
        basket_size=3,
    )


def fit(name, dataset, **params):
    model = create_model(name, **{**quick(name), **params})
    if "random_state" in model.get_params():
        model.set_params(random_state=0)
    return model.fit(build_corpus(dataset, model.corpus_kind))


@pytest.fixture(params=model_names())
def name(request):
    return request.param


@pytest.fixture(params=EMBEDDING)
def embedding_name(request):
    return request.param


@pytest.fixture(params=RANKING)
def ranking_name(request):
    return request.param


def test_fit_returns_self(name, tribes_dataset):
    model = create_model(name, **quick(name))
    assert model.fit(build_corpus(tribes_dataset, model.corpus_kind)) is model


def test_queries_before_fit_raise_not_fitted(name, tribes_dataset, tmp_path):
    model = create_model(name)
    if model.has_item_vectors:
        with pytest.raises(NotFittedError):
            _ = model.item_vectors_
    if model.can_rank:
        with pytest.raises(NotFittedError):
            model.score(build_baskets(tribes_dataset), np.array([0]))
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")


@pytest.fixture(scope="module")
def other_dataset(tmp_path_factory):
    """The same 16 items, other customers and baskets (another seed)."""
    from conftest import ingest_tribes

    return ingest_tribes(
        tmp_path_factory.mktemp("other"), customers_per_group=6, baskets_per_customer=4, seed=7
    )


def test_a_second_fit_starts_from_scratch(name, tribes_dataset, other_dataset, history):
    """Fitting again forgets the first fit: the state equals a fresh model's."""
    refitted = fit(name, other_dataset)
    corpus = build_corpus(tribes_dataset, refitted.corpus_kind)
    refitted.fit(corpus)
    fresh = fit(name, tribes_dataset)
    if fresh.has_item_vectors:
        np.testing.assert_array_equal(refitted.item_vectors_.keys, fresh.item_vectors_.keys)
        np.testing.assert_allclose(
            refitted.item_vectors_.vectors, fresh.item_vectors_.vectors, rtol=1e-5, atol=1e-6
        )
    if fresh.can_rank:
        customers = np.arange(history.n_customers)
        np.testing.assert_allclose(
            refitted.score(history, customers),
            fresh.score(history, customers),
            rtol=1e-5,
            atol=1e-6,
        )


def test_declared_vectors_match_the_fitted_and_the_loaded_model(name, tribes_dataset, tmp_path):
    model = fit(name, tribes_dataset)
    model.save(tmp_path / "m")
    for which in (model, load_model(tmp_path / "m")):
        assert (getattr(which, "item_vectors_", None) is not None) == which.has_item_vectors
        assert (getattr(which, "customer_vectors_", None) is not None) == (
            which.has_customer_vectors
        )


def test_fit_checks_the_parameters_before_any_work(name):
    model = create_model(name)
    params = list(model.get_params())
    if not params:
        assert getattr(type(model).fit, "__wrapped__", None) is not None  # checked all the same
        return
    model.set_params(**{params[0]: object()})
    with pytest.raises(ConfigError, match=f"`{params[0]}` must be"):
        model.fit(None)  # no corpus: the check comes first


def test_params_round_trip_and_unknown_params_are_refused(name):
    model = create_model(name)
    assert create_model(name, **model.get_params()).get_params() == model.get_params()
    with pytest.raises(ConfigError, match="no parameter 'n_bananas'"):
        create_model(name, n_bananas=3)


def test_seeded_refit_is_deterministic(embedding_name, tribes_dataset):
    first = fit(embedding_name, tribes_dataset).item_vectors_.vectors
    second = fit(embedding_name, tribes_dataset).item_vectors_.vectors
    np.testing.assert_array_equal(first, second)


def test_item_neighbors_stay_in_their_tribe(embedding_name, tribes_dataset):
    vectors = fit(embedding_name, tribes_dataset).item_vectors_
    for query in ("a0", "b3"):
        hits = vectors.similar(query, n=3)
        assert all(item[0] == query[0] for item in hits.ids), (query, hits)


def test_save_load_keeps_vectors_and_neighbors(embedding_name, tribes_dataset, tmp_path):
    model = fit(embedding_name, tribes_dataset)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.item_vectors_.vectors, model.item_vectors_.vectors)
    before, after = model.item_vectors_.similar("a1", n=5), loaded.item_vectors_.similar("a1", n=5)
    np.testing.assert_array_equal(before.ids, after.ids)
    assert not list(tmp_path.glob("*.pkl")) and not list((tmp_path / "m").glob("*.pkl"))


def test_unknown_ids_raise_and_n_beyond_catalog_is_capped(embedding_name, tribes_dataset):
    vectors = fit(embedding_name, tribes_dataset).item_vectors_
    with pytest.raises(UnknownIdError, match="unknown item id 'zz'"):
        vectors.similar("zz")
    hits = vectors.similar("a0", n=1000)
    assert len(hits) == len(vectors) - 1
    assert "a0" not in set(hits.ids)
    assert np.all(np.diff(hits.scores) <= 1e-6)


def test_build_baskets_feeds_every_basket_model(tribes_dataset):
    corpus = build_baskets(tribes_dataset)
    assert corpus.n_items == 16


# -- ranking models ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def history(tribes_dataset):
    return build_baskets(tribes_dataset)


def test_scores_have_one_float32_row_per_customer(ranking_name, tribes_dataset, history):
    model = fit(ranking_name, tribes_dataset)
    customers = np.array([3, 0, history.n_customers - 1, 3])
    scores = model.score(history, customers)
    assert scores.shape == (4, history.n_items) and scores.dtype == np.float32
    # A customer's scores do not depend on the batch (up to BLAS rounding).
    np.testing.assert_allclose(scores[0], scores[3], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        scores[1], model.score(history, np.array([0]))[0], rtol=1e-5, atol=1e-6
    )
    assert model.score(history, np.zeros(0, dtype=np.int64)).shape == (0, history.n_items)


def test_seeded_refit_scores_are_deterministic(ranking_name, tribes_dataset, history):
    customers = np.arange(history.n_customers)
    first = fit(ranking_name, tribes_dataset).score(history, customers)
    second = fit(ranking_name, tribes_dataset).score(history, customers)
    np.testing.assert_array_equal(first, second)


def test_save_load_keeps_scores(ranking_name, tribes_dataset, history, tmp_path):
    model = fit(ranking_name, tribes_dataset)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(model) and loaded.repeats == model.repeats
    customers = np.arange(history.n_customers)
    np.testing.assert_array_equal(loaded.score(history, customers), model.score(history, customers))


def test_recommend_caps_n_and_excludes_seen_items(ranking_name, tribes_dataset, history):
    recommender = Recommender(fit(ranking_name, tribes_dataset), history)
    customer = history.customer_ids.external[0]
    first, last = history.customer_indptr[0], history.customer_indptr[1]
    bought = {item for b in range(first, last) for item in history.basket(b)}
    everything = recommender.recommend(customer, n=1000, exclude_seen=False)
    assert len(everything) <= history.n_items and len(set(everything.ids)) == len(everything)
    assert np.all(np.diff(everything.scores) <= 0)
    unseen = recommender.recommend(customer, n=1000, exclude_seen=True)
    assert not bought & set(unseen.ids)
    assert len(unseen) <= history.n_items - len(bought)
    with pytest.raises(UnknownIdError, match="unknown customer id 'zz'"):
        recommender.recommend("zz")


def test_sessions_of_new_customers_are_ranked(ranking_name, tribes_dataset, history):
    recommender = Recommender(fit(ranking_name, tribes_dataset), history)
    hits = recommender.recommend_session(["a0", "a1"], n=5)
    assert 0 < len(hits) <= 5 and not {"a0", "a1"} & set(hits.ids)
    assert set(hits.ids) <= set(history.item_ids.external)
