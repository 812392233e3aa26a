"""Next-basket evaluation: leak-free splits, exact metrics, the model comparison table."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.evaluation.nextbasket import (
    Targets,
    check_no_leak,
    evaluate_models,
    rank_metrics,
    sample_targets,
    split_last_basket,
    split_time,
)
from customer2vec.models.popularity import Popularity
from customer2vec.models.tifu_knn import TIFUKNN
from customer2vec.models.top_frequency import TopFrequency

START = np.datetime64("2024-01-01T00:00", "us")


def make_corpus(
    spec: dict[str, list[list[int]]], n_items: int, days: dict[str, list[int]] | None = None
) -> BasketCorpus:
    """A corpus from ``{customer: [basket items, ...]}``; items are ``0..n_items-1``;
    ``days[customer]`` gives each basket's day (default: one basket a week)."""
    indptr, indices, owner, times = [0], [], [], []
    for c, customer in enumerate(sorted(spec)):
        for s, basket in enumerate(spec[customer]):
            indices += basket
            indptr.append(len(indices))
            owner.append(c)
            day = days[customer][s] if days else 7 * s
            times.append(START + np.timedelta64(day, "D"))
    indices_array = np.asarray(indices, dtype=np.int32)
    return BasketCorpus(
        item_ids=IdMap([f"i{k}" for k in range(n_items)], kind="item"),
        indptr=np.asarray(indptr, dtype=np.int64),
        indices=indices_array,
        customer_ids=IdMap(sorted(spec), kind="customer"),
        basket_customer=np.asarray(owner, dtype=np.int32),
        basket_sequence=np.concatenate(
            [np.arange(1, len(spec[c]) + 1) for c in sorted(spec)]
        ).astype(np.int32),
        basket_time=np.asarray(times, dtype="datetime64[us]"),
        item_counts=np.bincount(indices_array, minlength=n_items).astype(np.int64),
    )


def basket_items(corpus: BasketCorpus, b: int) -> list[int]:
    return sorted(set(corpus.indices[corpus.indptr[b] : corpus.indptr[b + 1]].tolist()))


def check_split(corpus: BasketCorpus, train: BasketCorpus, targets: Targets) -> None:
    """Everything a split promises, checked against the source corpus."""
    check_no_leak(targets)
    assert train.item_ids is corpus.item_ids
    # Target customers are found in train under the same external id.
    np.testing.assert_array_equal(
        train.customer_ids.external[targets.customers], targets.customer_ids
    )
    for t, b in enumerate(targets.baskets):
        assert targets.items(t).tolist() == basket_items(corpus, b)
        assert corpus.customer_ids.external[corpus.basket_customer[b]] == targets.customer_ids[t]
    # Training baskets are the source baskets, in order, with their owners.
    assert train.n_baskets == len(targets.train_baskets)
    for row, b in enumerate(targets.train_baskets):
        assert basket_items(train, row) == basket_items(corpus, b)
        owner = train.customer_ids.external[train.basket_customer[row]]
        assert owner == corpus.customer_ids.external[corpus.basket_customer[b]]


@pytest.fixture
def small() -> BasketCorpus:
    return make_corpus(
        {
            "a": [[0, 1], [1, 2], [0, 3]],
            "b": [[2], [3]],  # too few baskets: stays in training whole
            "c": [[4], [0, 4], [4, 1], [2, 0]],
        },
        n_items=5,
    )


def test_split_last_basket_holds_out_each_long_history_s_last_basket(small):
    train, targets = split_last_basket(small, min_baskets=3)
    check_split(small, train, targets)
    assert targets.customer_ids.tolist() == ["a", "c"]
    assert targets.baskets.tolist() == [2, 8]
    assert [targets.items(t).tolist() for t in range(2)] == [[0, 3], [0, 2]]
    assert targets.train_baskets.tolist() == [0, 1, 3, 4, 5, 6, 7]
    assert train.customer_ids.external.tolist() == ["a", "b", "c"]


def test_sample_targets_keeps_whole_target_baskets(small):
    train, targets = split_last_basket(small, min_baskets=2)
    one = sample_targets(targets, 1, random_state=3)
    assert one.n_customers == 1
    (t,) = np.flatnonzero(targets.customer_ids == one.customer_ids[0])
    assert one.items(0).tolist() == targets.items(t).tolist()
    assert one.customers.tolist() == [targets.customers[t]]
    assert one.baskets.tolist() == [targets.baskets[t]]
    check_split(small, train, one)
    assert sample_targets(targets, 99) is targets
    with pytest.raises(ConfigError):
        sample_targets(targets, 0)


def test_split_last_basket_refuses_bad_settings(small):
    with pytest.raises(ConfigError, match="`min_baskets` must be an int >= 2"):
        split_last_basket(small, min_baskets=1)
    with pytest.raises(DataValidationError, match="no customer has 9 baskets"):
        split_last_basket(small, min_baskets=9)


def test_split_time_reindexes_customers_that_vanish_from_training():
    corpus = make_corpus(
        {
            "a": [[0], [1], [2]],  # days 0, 7, 14
            "b": [[3], [4]],  # days 20, 21: both after the cutoff, so b has no training
            "c": [[0], [1], [4], [3]],  # days 0, 7, 14, 21
        },
        n_items=5,
        days={"a": [0, 7, 14], "b": [20, 21], "c": [0, 7, 14, 21]},
    )
    train, targets = split_time(corpus, cutoff="2024-01-16")
    check_split(corpus, train, targets)
    assert train.customer_ids.external.tolist() == ["a", "c"]
    assert targets.customer_ids.tolist() == ["c"]  # a has 2 baskets before, none after
    assert targets.customers.tolist() == [1]
    assert targets.items(0).tolist() == [3]
    assert targets.train_baskets.tolist() == [0, 1, 2, 5, 6, 7]


def test_split_time_default_cutoff_holds_out_the_last_share():
    spec = {f"c{k}": [[k % 3], [k % 5], [1], [2]] for k in range(10)}
    days = {f"c{k}": [0, 10, 20, 30 + k] for k in range(10)}
    corpus = make_corpus(spec, n_items=5, days=days)
    train, targets = split_time(corpus, test_share=0.1)
    # 40 baskets: the 36th (sorted) is day 36, so baskets from day 36 on are held out.
    assert targets.customer_ids.tolist() == ["c6", "c7", "c8", "c9"]
    assert train.n_baskets == 36
    check_split(corpus, train, targets)


def test_split_time_needs_timestamps(small):
    untimed = BasketCorpus(**{**small.__dict__, "basket_time": None})
    with pytest.raises(DataValidationError, match="needs basket timestamps"):
        split_time(untimed)


@st.composite
def corpora(draw: st.DrawFn) -> BasketCorpus:
    n_items = draw(st.integers(1, 6))
    n_customers = draw(st.integers(1, 6))
    spec, days = {}, {}
    for c in range(n_customers):
        n_baskets = draw(st.integers(1, 5))
        spec[f"c{c}"] = [
            draw(st.lists(st.integers(0, n_items - 1), min_size=1, max_size=4))
            for _ in range(n_baskets)
        ]
        gaps = draw(st.lists(st.integers(0, 9), min_size=n_baskets, max_size=n_baskets))
        days[f"c{c}"] = np.cumsum(gaps).tolist()
    return make_corpus(spec, n_items=n_items, days=days)


@settings(max_examples=60, deadline=None)
@given(corpus=corpora(), min_baskets=st.integers(2, 4))
def test_split_last_basket_never_leaks(corpus, min_baskets):
    try:
        train, targets = split_last_basket(corpus, min_baskets=min_baskets)
    except DataValidationError:
        assert np.diff(corpus.customer_indptr).max() < min_baskets
        return
    check_split(corpus, train, targets)
    assert len(targets.train_baskets) + targets.n_customers == corpus.n_baskets


@settings(max_examples=60, deadline=None)
@given(corpus=corpora(), cutoff_day=st.integers(0, 40))
def test_split_time_never_leaks(corpus, cutoff_day):
    cutoff = START + np.timedelta64(cutoff_day, "D")
    try:
        train, targets = split_time(corpus, cutoff=cutoff)
    except DataValidationError:
        return
    check_split(corpus, train, targets)
    assert (train.basket_time < cutoff).all()
    assert (corpus.basket_time[targets.baskets] >= cutoff).all()
    n_before = np.bincount(train.basket_customer, minlength=train.n_customers)
    assert (n_before[targets.customers] >= 2).all()


# -- metrics --------------------------------------------------------------------------------
def test_rank_metrics_on_a_hand_made_example():
    top = np.array([[1, 2, 3], [4, 0, -1]])
    # customer 0: target {2, 5}, saw 2 before (repeat) and not 5; customer 1: target {4}, new.
    result = rank_metrics(
        top,
        np.array([0, 2, 3]),
        np.array([2, 5, 4]),
        n_items=8,
        ks=(1, 3),
        seen_indptr=np.array([0, 2, 2]),
        seen_indices=np.array([1, 2]),
    )
    discount = 1 / np.log2(np.arange(2, 5))
    expected = {
        "recall@1": (0 + 1) / 2,
        "ndcg@1": (0 + 1) / 2,
        "hit@1": 0.5,
        "precision@1": 0.5,
        "recall_repeat@1": 0.0,  # only customer 0 has a repeat target; missed at k=1
        "recall_new@1": (0 + 1) / 2,  # both have a new target: 5 (missed), 4 (hit)
        "coverage@1": 2 / 8,
        "recall@3": (1 / 2 + 1) / 2,
        "ndcg@3": (discount[1] / (discount[0] + discount[1]) + 1) / 2,
        "hit@3": 1.0,
        "precision@3": (1 / 3 + 1 / 3) / 2,
        "recall_repeat@3": 1.0,
        "recall_new@3": (0 + 1) / 2,
        "coverage@3": 5 / 8,  # 1, 2, 3, 4, 0; the empty slot is not an item
    }
    assert list(result) == list(expected)
    np.testing.assert_allclose(list(result.values()), list(expected.values()))


def test_rank_metrics_without_history_leave_repeat_and_new_undefined():
    result = rank_metrics(np.array([[0]]), np.array([0, 1]), np.array([0]), n_items=1, ks=(1,))
    assert result["recall@1"] == result["ndcg@1"] == 1.0
    assert np.isnan(result["recall_repeat@1"]) and np.isnan(result["recall_new@1"])


@st.composite
def rankings(draw: st.DrawFn):
    n_items = draw(st.integers(1, 12))
    n_customers = draw(st.integers(1, 5))
    depth = draw(st.integers(1, 6))
    rows, target_sets, seen_sets = [], [], []
    for _ in range(n_customers):
        ranked = draw(st.permutations(range(n_items)))[:depth]
        rows.append(list(ranked) + [-1] * (depth - len(ranked)))
        target_sets.append(sorted(draw(st.sets(st.integers(0, n_items - 1), min_size=1))))
        seen_sets.append(sorted(draw(st.sets(st.integers(0, n_items - 1)))))

    def csr(sets):
        return np.cumsum([0] + [len(s) for s in sets]), np.array(
            [i for s in sets for i in s], dtype=np.int64
        )

    return np.array(rows), csr(target_sets), csr(seen_sets), n_items, depth


@settings(max_examples=80, deadline=None)
@given(case=rankings())
def test_metrics_stay_in_unit_interval(case):
    top, (t_ptr, t_idx), (s_ptr, s_idx), n_items, depth = case
    ks = sorted({1, depth})
    result = rank_metrics(
        top, t_ptr, t_idx, n_items=n_items, ks=ks, seen_indptr=s_ptr, seen_indices=s_idx
    )
    values = np.array([v for v in result.values() if not np.isnan(v)])
    assert ((values >= 0) & (values <= 1 + 1e-12)).all()
    for k in ks:
        assert result[f"precision@{k}"] <= result[f"hit@{k}"]
        assert result[f"ndcg@{k}"] <= result[f"hit@{k}"] + 1e-12


# -- harness --------------------------------------------------------------------------------
def test_evaluate_models_table(small):
    train, targets = split_last_basket(small, min_baskets=3)
    table = evaluate_models(
        train,
        targets,
        {"popularity": Popularity(), "top-frequency": TopFrequency(), "tifu": TIFUKNN()},
        ks=(2, 5),
        batch_size=1,
        progress=False,
    )
    assert table["model"].tolist() == ["popularity", "top-frequency", "tifu"]
    assert list(table.columns[:4]) == ["model", "fit_s", "score_s", "customers"]
    assert list(table.columns[4:11]) == [
        "recall@2",
        "ndcg@2",
        "hit@2",
        "precision@2",
        "recall_repeat@2",
        "recall_new@2",
        "coverage@2",
    ]
    assert (table["customers"] == 2).all()
    # With 5 items, the top 5 hold every target.
    np.testing.assert_allclose(table["recall@5"], 1.0)
    np.testing.assert_allclose(table["coverage@5"], 1.0)
    assert (table[["fit_s", "score_s"]] >= 0).all(axis=None)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::customer2vec.errors.DataWarning")
def test_tifu_knn_beats_popularity_on_the_complete_journey(tmp_path, shared_data):
    from customer2vec.corpus import build_baskets
    from customer2vec.data.ingest import ingest

    dataset = ingest([shared_data / "completejourney"], tmp_path / "cj", preset="completejourney")
    train, targets = split_last_basket(build_baskets(dataset), min_baskets=3)
    table = evaluate_models(
        train,
        targets,
        {"popularity": Popularity(), "tifu-knn": TIFUKNN()},
        ks=(10,),
        progress=False,
    ).set_index("model")
    assert targets.n_customers == 2406
    assert 0.13 < table.loc["tifu-knn", "recall@10"] < 0.20
    assert table.loc["tifu-knn", "recall@10"] > table.loc["popularity", "recall@10"] + 0.04


def test_evaluation_ranks_exactly_what_recommend_returns(small):
    """The harness's ranked lists are the Recommender's, seen-items policy included."""
    from customer2vec.models.als import ALS
    from customer2vec.recommend import Recommender

    train, targets = split_last_basket(small, min_baskets=3)
    models = {"top-frequency": TopFrequency(), "als": ALS(n_factors=2, random_state=0)}
    table = evaluate_models(train, targets, models, ks=(3,), batch_size=1, progress=False)
    for name, model in models.items():
        measured = table.attrs["rankings"][name]
        customers = train.customer_ids.to_external(targets.customers)
        given = Recommender(model, train).recommend_many(customers, n=3)
        for row, customer in zip(measured, customers, strict=True):
            expected = given.loc[given["customer_id"] == customer, "item_id"].tolist()
            assert train.item_ids.to_external(row[row >= 0]).tolist() == expected, name
    # ALS is a discovery model: what the customer bought is never in its measured lists.
    seen = {c: set() for c in range(train.n_customers)}
    for b, c in enumerate(train.basket_customer):
        seen[int(c)].update(train.indices[train.indptr[b] : train.indptr[b + 1]].tolist())
    for row, c in zip(table.attrs["rankings"]["als"], targets.customers, strict=True):
        assert not set(row[row >= 0].tolist()) & seen[int(c)]
