"""Next-basket baselines on tiny corpora with planted answers."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, NotFittedError
from customer2vec.models.item_knn import ItemKNN
from customer2vec.models.popularity import Popularity
from customer2vec.models.tifu_knn import TIFUKNN
from customer2vec.models.top_frequency import TopFrequency

MODELS = {
    "popularity": Popularity,
    "top-frequency": TopFrequency,
    "tifu-knn": TIFUKNN,
    "item-knn": ItemKNN,
}


def make_corpus(spec: dict[str, list[list[str]]], items: list[str] | None = None) -> BasketCorpus:
    """A corpus from ``{customer: [basket items, ...]}`` (baskets in order)."""
    vocabulary = items or sorted({i for baskets in spec.values() for b in baskets for i in b})
    item_ids = IdMap(vocabulary, kind="item")
    indptr, indices, owner, sequence = [0], [], [], []
    for c, customer in enumerate(sorted(spec)):
        for s, basket in enumerate(spec[customer]):
            indices += item_ids.to_internal(basket).tolist()
            indptr.append(len(indices))
            owner.append(c)
            sequence.append(s + 1)
    indices_array = np.asarray(indices, dtype=np.int32)
    return BasketCorpus(
        item_ids=item_ids,
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=indices_array,
        customer_ids=IdMap(sorted(spec), kind="customer"),
        basket_customer=np.asarray(owner, dtype=np.int32),
        basket_sequence=np.asarray(sequence, dtype=np.int32),
        basket_time=None,
        item_counts=np.bincount(indices_array, minlength=len(vocabulary)).astype(np.int64),
    )


def tribes() -> BasketCorpus:
    """``two_tribes`` as a corpus: c0-c9 buy only a* items, c10-c19 only b* items."""
    from conftest import make_raw_transactions

    frame = make_raw_transactions()
    spec: dict[str, list[list[str]]] = {}
    for (client, _), basket in frame.groupby(["client", "ticket"], sort=False)["sku"]:
        spec.setdefault(client, []).append(basket.tolist())
    return make_corpus(spec)


def top(model, corpus: BasketCorpus, customer: str, n: int) -> list[str]:
    scores = model.score(corpus, np.array([corpus.customer_ids.index(customer)]))[0]
    return corpus.item_ids.external[np.argsort(-scores, kind="stable")[:n]].tolist()


@pytest.fixture
def loyal() -> BasketCorpus:
    """``x`` buys milk in every basket; bread is the best seller overall."""
    return make_corpus(
        {
            "x": [["milk", "eggs"], ["milk", "jam"], ["milk", "bread"], ["milk"]],
            "y": [["bread", "jam"], ["bread", "eggs"], ["bread"]],
            "z": [["bread", "tea"], ["bread", "eggs"], ["bread", "tea"]],
        }
    )


@pytest.mark.parametrize(
    "model",
    # TIFU-KNN's default alpha (0.3) lets two neighbors who always buy bread outvote x's
    # own history; weighted towards it, x's staple comes first.
    [TopFrequency(), TIFUKNN(alpha=0.7), ItemKNN()],
    ids=["top-frequency", "tifu-knn", "item-knn"],
)
def test_an_item_bought_in_every_basket_ranks_first(model, loyal):
    assert top(model.fit(loyal), loyal, "x", 1) == ["milk"]


def test_popularity_is_the_same_list_for_everyone(loyal):
    model = Popularity().fit(loyal)
    scores = model.score(loyal, np.arange(3))
    assert scores.dtype == np.float32 and scores.shape == (3, loyal.n_items)
    np.testing.assert_array_equal(scores[0], scores[2])
    counts = dict(zip(loyal.item_ids.external, scores[0], strict=True))
    assert counts == {"bread": 7, "eggs": 3, "jam": 2, "milk": 4, "tea": 2}


def test_top_frequency_counts_baskets_and_breaks_ties_by_popularity(loyal):
    model = TopFrequency().fit(loyal)
    # y: bread in 3 baskets, eggs and jam in 1 (eggs more popular), then by popularity.
    assert top(model, loyal, "y", 5) == ["bread", "eggs", "jam", "milk", "tea"]
    scores = model.score(loyal, np.array([1]))[0]
    assert 3.0 <= scores[loyal.item_ids.index("bread")] < 4.0


def test_tifu_knn_vector_follows_the_reference_code():
    """Group-averaged, time-decayed history, as in HaojiHu/TIFUKNN, checked by a plain loop."""
    rng = np.random.default_rng(0)
    items = [f"i{k}" for k in range(6)]
    for n_baskets, n_groups in [(1, 3), (2, 3), (3, 3), (7, 3), (8, 3), (10, 4), (5, 1)]:
        history = [list(rng.choice(items, size=3, replace=False)) for _ in range(n_baskets)]
        corpus = make_corpus({"c": history}, items=items)
        model = TIFUKNN(n_groups=n_groups, within_decay=0.8, group_decay=0.6)
        got = model._vectors(corpus, np.array([0])).toarray()[0]
        np.testing.assert_allclose(
            got, reference_vector(history, items, n_groups, 0.8, 0.6), rtol=1e-6
        )


def reference_vector(history, items, n_groups, r_b, r_g):
    """A direct transcription of the reference code's ``temporal_decay_sum_history``."""
    n = len(history)
    vectors = []
    for j, basket in enumerate(history):
        vector = np.zeros(len(items))
        vector[[items.index(i) for i in basket]] = r_b ** (n - 1 - j)
        vectors.append(vector)
    if n < n_groups:
        groups = vectors
    else:
        base, extra = divmod(n, n_groups)
        sizes = [base] * (n_groups - extra) + [base + 1] * extra
        bounds = np.cumsum([0, *sizes])
        groups = [np.mean(vectors[a:b], axis=0) for a, b in itertools.pairwise(bounds)]
    total = sum(g * r_g ** (n_groups - 1 - i) for i, g in enumerate(groups))
    return total / len(groups)


def test_tifu_knn_with_alpha_zero_recommends_what_the_nearest_neighbor_buys():
    corpus = make_corpus(
        {
            "q": [["a0", "a1"], ["a0", "a1"], ["a0", "a1"]],
            "near": [["a0", "a1", "a2"], ["a0", "a1", "a2"], ["a0", "a1", "a2"]],
            "far": [["b0", "b1", "b2"], ["b0", "b1"], ["b2"]],
            "farther": [["b0", "b1", "b2", "b3"], ["b3"], ["b1", "b3"]],
        }
    )
    for metric in ("euclidean", "cosine"):
        model = TIFUKNN(n_neighbors=1, alpha=0.0, metric=metric).fit(corpus)
        scores = model.score(corpus, np.array([corpus.customer_ids.index("q")]))[0]
        bought = corpus.item_ids.external[scores > 0].tolist()
        assert sorted(bought) == ["a0", "a1", "a2"]  # q never bought a2; near did


def test_tifu_knn_neighbors_stay_in_their_tribe():
    corpus = tribes()
    model = TIFUKNN(n_neighbors=3, alpha=0.0).fit(corpus)
    scores = model.score(corpus, np.arange(corpus.n_customers))
    for customer, row in zip(corpus.customer_ids.external, scores, strict=True):
        tribe = "a" if int(customer[1:]) < 10 else "b"
        liked = corpus.item_ids.external[row > 0]
        assert len(liked) and all(item[0] == tribe for item in liked), customer


def test_tifu_knn_never_counts_the_customer_as_their_own_neighbor():
    corpus = make_corpus({"solo": [["a"], ["a"]], "other": [["b"], ["b"]]}, items=["a", "b"])
    model = TIFUKNN(n_neighbors=5, alpha=0.0).fit(corpus)
    scores = model.score(corpus, corpus.customer_ids.to_internal(["solo", "other"]))
    # Each one's only neighbor is the other customer, whose item is the one they never bought.
    np.testing.assert_array_equal(scores > 0, [[False, True], [True, False]])


def test_tifu_knn_scores_customers_it_never_saw(loyal):
    model = TIFUKNN(n_neighbors=1, alpha=0.5).fit(loyal)
    newcomer = make_corpus({"new": [["bread", "tea"]]}, items=list(loyal.item_ids.external))
    scores = model.score(newcomer, np.array([0]))
    assert scores.shape == (1, loyal.n_items)
    assert newcomer.item_ids.external[np.argmax(scores[0])] in {"bread", "tea"}


def test_item_knn_ranks_co_purchased_items_after_repeats():
    corpus = make_corpus(
        {
            "x": [["chips"], ["chips"]],
            "y": [["chips", "salsa"], ["chips", "salsa"], ["soap"], ["soap"]],
            "z": [["soap"], ["soap", "sponge"], ["soap"]],
        }
    )
    model = ItemKNN(n_neighbors=2, shrink=0.0).fit(corpus)
    assert top(model, corpus, "x", 2) == ["chips", "salsa"]
    sim = model.similarity_
    chips, salsa = corpus.item_ids.to_internal(["chips", "salsa"])
    np.testing.assert_allclose(sim[chips, chips], 1.0)  # cosine self-similarity
    np.testing.assert_allclose(sim[chips, salsa], 2 / np.sqrt(4 * 2))


def test_item_knn_keeps_n_neighbors_plus_itself():
    corpus = tribes()
    model = ItemKNN(n_neighbors=2).fit(corpus)
    per_row = np.diff(model.similarity_.indptr)
    assert per_row.max() == 3
    assert np.all(model.similarity_.diagonal() > 0)


@pytest.mark.parametrize("name", MODELS)
def test_save_load_gives_identical_scores(name, tmp_path, loyal):
    model = MODELS[name]().fit(loyal)
    model.save(tmp_path / "m")
    loaded = MODELS[name]().set_params(**model.get_params())
    state = json.loads((tmp_path / "m" / "model.json").read_text())["state"]
    loaded._load_state(tmp_path / "m", state, mmap=True)
    customers = np.arange(loyal.n_customers)
    np.testing.assert_array_equal(loaded.score(loyal, customers), model.score(loyal, customers))


@pytest.mark.parametrize("name", MODELS)
def test_score_before_fit_raises_not_fitted(name, loyal):
    with pytest.raises(NotFittedError):
        MODELS[name]().score(loyal, np.array([0]))


@pytest.mark.parametrize("name", MODELS)
def test_refit_is_deterministic_and_checks_the_vocabulary(name, loyal):
    first = MODELS[name]().fit(loyal).score(loyal, np.arange(3))
    model = MODELS[name]().fit(loyal)
    np.testing.assert_array_equal(model.score(loyal, np.arange(3)), first)
    other = make_corpus({"c": [["zzz"]]})
    with pytest.raises(DataValidationError, match="items"):
        model.score(other, np.array([0]))
    with pytest.raises(DataValidationError, match="customer indices"):
        model.score(loyal, np.array([3]))


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (TIFUKNN(n_neighbors=0), "`n_neighbors` must be an int >= 1; got 0."),
        (TIFUKNN(alpha=1.5), "`alpha` must be a number in"),
        (TIFUKNN(metric="manhattan"), "`metric` must be one of"),
        (ItemKNN(decay=-1.0), "`decay` must be a number in"),
        (ItemKNN(n_neighbors=2.5), "`n_neighbors` must be an int"),
    ],
)
def test_bad_parameters_are_refused_in_fit(model, message, loyal):
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        model.fit(loyal)
