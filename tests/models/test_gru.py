"""The next-basket GRU: planted order ("after A comes B"), tribes, truncation, persistence."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus.baskets import concat_ranges
from customer2vec.errors import ConfigError
from customer2vec.models import load_model
from customer2vec.models.gru import GRU
from customer2vec.recommend.recommender import Recommender
from evaluation.test_nextbasket import make_corpus

#: Three item sets bought in a cycle A -> B -> C -> A; item 6 is noise in every basket.
CYCLE = [[0, 1], [2, 3], [4, 5]]
FAST = {"n_factors": 16, "n_epochs": 40, "learning_rate": 0.05, "n_threads": 1}


@pytest.fixture(scope="module")
def cycles():
    """40 customers, each starting the cycle at a random set, 4 to 8 baskets long."""
    rng = np.random.default_rng(0)
    spec = {}
    for c in range(40):
        phase, length = int(rng.integers(3)), int(rng.integers(4, 9))
        spec[f"c{c:02d}"] = [CYCLE[(phase + s) % 3] + [6] for s in range(length)]
    return make_corpus(spec, n_items=7)


@pytest.fixture(scope="module")
def cycle_model(cycles):
    return GRU(**FAST, random_state=0).fit(cycles)


def test_after_a_comes_b(cycles, cycle_model):
    # Every set is bought equally often, so only the order tells which set comes next.
    scores = cycle_model.score(cycles, np.arange(cycles.n_customers))
    for c in range(cycles.n_customers):
        last = cycles.indices[cycles.indptr[cycles.customer_indptr[c + 1] - 1]]
        expected = set(CYCLE[(last // 2 + 1) % 3])
        top = set(np.argsort(-scores[c])[:3].tolist())
        assert expected | {6} == top, (c, last, top)


def test_a_new_session_is_encoded_from_its_history(cycles, cycle_model):
    recommender = Recommender(cycle_model, cycles)
    hits = recommender.recommend_session(["i2", "i3", "i6"], n=2)  # a B basket: C comes next
    assert set(hits.ids) == {"i4", "i5"}


def test_each_tribe_gets_its_own_items():
    rng = np.random.default_rng(1)
    spec = {
        f"{tribe}{c}": [sorted(rng.choice(8, 3, replace=False) + offset) for _ in range(5)]
        for tribe, offset in (("a", 0), ("b", 8))
        for c in range(12)
    }
    corpus = make_corpus({k: [list(map(int, b)) for b in v] for k, v in spec.items()}, 16)
    model = GRU(**FAST, random_state=0).fit(corpus)
    top = np.argsort(-model.score(corpus, np.arange(corpus.n_customers)), axis=1)[:, :5]
    tribe = np.array([0] * 12 + [1] * 12)[:, None]  # customers sort a0..a11, b0..b11
    assert np.all(top // 8 == tribe)
    vectors = model.customer_vectors_.vectors
    same = np.corrcoef(vectors)[:12, :12].mean()
    across = np.corrcoef(vectors)[:12, 12:].mean()
    assert same > across


def test_only_the_last_max_baskets_are_read(cycles):
    model = GRU(**{**FAST, "n_epochs": 2}, max_baskets=3, random_state=0).fit(cycles)
    customers = np.arange(cycles.n_customers)
    stops = cycles.customer_indptr[1:]
    starts = np.maximum(cycles.customer_indptr[:-1], stops - 3)
    recent = cycles.take(concat_ranges(starts, stops))
    np.testing.assert_allclose(
        model.score(cycles, customers), model.score(recent, customers), rtol=1e-5, atol=1e-6
    )
    longer = GRU(**{**FAST, "n_epochs": 2}, max_baskets=8, random_state=0).fit(cycles)
    assert not np.allclose(longer.encode(cycles, customers), longer.encode(recent, customers))


def test_save_load_keeps_states_and_scores(cycles, cycle_model, tmp_path):
    cycle_model.save(tmp_path / "gru")
    loaded = load_model(tmp_path / "gru")
    customers = np.arange(cycles.n_customers)
    np.testing.assert_array_equal(
        loaded.customer_vectors_.vectors, cycle_model.customer_vectors_.vectors
    )
    np.testing.assert_array_equal(
        loaded.score(cycles, customers), cycle_model.score(cycles, customers)
    )
    assert (tmp_path / "gru" / "weights" / "gru.weight_hh_l0.npy").is_file()


def test_bad_parameters_and_one_basket_customers_are_refused(cycles):
    with pytest.raises(ConfigError, match="`max_baskets` must be an int >= 1; got 0"):
        GRU(max_baskets=0).fit(cycles)
    single = make_corpus({"x": [[0, 1]], "y": [[2]]}, n_items=3)
    with pytest.raises(ConfigError, match="none of the 2 customers has 2 or more baskets"):
        GRU(n_threads=1).fit(single)
