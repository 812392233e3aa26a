"""One contract suite over every registered model (STYLE.md section 7)."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.errors import ConfigError, NotFittedError, UnknownIdError
from customer2vec.models import create_model, load_model, model_names
from customer2vec.models.training import build_corpus

#: Small, fast settings per model for tiny data; everything else stays at defaults.
FAST = {
    "item2vec": {"n_factors": 16, "n_threads": 1},
    "als": {"n_factors": 8, "n_iterations": 10, "n_threads": 1},
    "copurchase": {"n_factors": 8},
    "customer2vec": {"n_factors": 16, "sample": 0.0, "n_threads": 1},
}


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
    model = create_model(name, random_state=0, **{**FAST.get(name, {}), **params})
    return model.fit(build_corpus(dataset, model.corpus_kind))


@pytest.fixture(params=model_names())
def name(request):
    return request.param


def test_fit_returns_self(name, tribes_dataset):
    model = create_model(name, **FAST.get(name, {}))
    assert model.fit(build_corpus(tribes_dataset, model.corpus_kind)) is model


def test_queries_before_fit_raise_not_fitted(name, tmp_path):
    model = create_model(name)
    with pytest.raises(NotFittedError):
        _ = model.item_vectors_
    with pytest.raises(NotFittedError):
        model.save(tmp_path / "m")


def test_params_round_trip_and_unknown_params_are_refused(name):
    model = create_model(name)
    assert create_model(name, **model.get_params()).get_params() == model.get_params()
    with pytest.raises(ConfigError, match="no parameter 'n_bananas'"):
        create_model(name, n_bananas=3)


def test_seeded_refit_is_deterministic(name, tribes_dataset):
    first = fit(name, tribes_dataset).item_vectors_.vectors
    second = fit(name, tribes_dataset).item_vectors_.vectors
    np.testing.assert_array_equal(first, second)


def test_item_neighbors_stay_in_their_tribe(name, tribes_dataset):
    vectors = fit(name, tribes_dataset).item_vectors_
    for query in ("a0", "b3"):
        hits = vectors.similar(query, n=3)
        assert all(item[0] == query[0] for item in hits.ids), (query, hits)


def test_save_load_keeps_vectors_and_neighbors(name, tribes_dataset, tmp_path):
    model = fit(name, tribes_dataset)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is type(model)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.item_vectors_.vectors, model.item_vectors_.vectors)
    before, after = model.item_vectors_.similar("a1", n=5), loaded.item_vectors_.similar("a1", n=5)
    np.testing.assert_array_equal(before.ids, after.ids)
    assert not list(tmp_path.glob("*.pkl")) and not list((tmp_path / "m").glob("*.pkl"))


def test_unknown_ids_raise_and_n_beyond_catalog_is_capped(name, tribes_dataset):
    vectors = fit(name, tribes_dataset).item_vectors_
    with pytest.raises(UnknownIdError, match="unknown item id 'zz'"):
        vectors.similar("zz")
    hits = vectors.similar("a0", n=1000)
    assert len(hits) == len(vectors) - 1
    assert "a0" not in set(hits.ids)
    assert np.all(np.diff(hits.scores) <= 1e-6)


def test_build_baskets_feeds_every_basket_model(tribes_dataset):
    corpus = build_baskets(tribes_dataset)
    assert corpus.n_items == 16
