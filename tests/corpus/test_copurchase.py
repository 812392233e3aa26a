"""Co-purchase lists: reading them, deriving them from baskets, and their CSR layout."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from customer2vec.columns import Columns as C
from customer2vec.corpus import build_baskets
from customer2vec.corpus import copurchase as copurchase_module
from customer2vec.corpus.copurchase import CopurchaseLists, build_copurchase, derive_copurchase
from customer2vec.data.dataset import Dataset, write_meta
from customer2vec.errors import ConfigError, DataValidationError, DataWarning

#: Baskets with a planted answer. Counts of shared baskets:
#: a-b 3, a-c 2, a-d 1, b-c 1, b-d 1, c-d 2, e-a 1 (below min_count=2).
BASKETS = [["a", "b", "c"], ["a", "b"], ["a", "b", "d"], ["a", "c"], ["c", "d"], ["c", "d", "e"]]


@pytest.fixture
def planted(make_dataset, frame_builder) -> Dataset:
    """Two customers sharing the baskets of ``BASKETS``."""
    return make_dataset(frame_builder({"c0": BASKETS[:3], "c1": BASKETS[3:]}))


def _lists_table(owner: list[object], other: list[object], rank: list[int]) -> pd.DataFrame:
    return pd.DataFrame({C.ITEM: owner, C.OTHER_ITEM: other, C.RANK: rank})


def _dataset_with_lists(directory: Path, lists: pd.DataFrame) -> Dataset:
    """A dataset holding only a ``copurchase`` table (as ``ingest --copurchase`` writes)."""
    directory.mkdir(parents=True)
    lists.to_parquet(directory / "copurchase.parquet", index=False)
    write_meta(directory, {"id_types": {C.ITEM: "string"}, "counts": {}})
    return Dataset.open(directory)


def test_derive_counts_gives_exact_top_partners(planted: Dataset) -> None:
    lists = derive_copurchase(build_baskets(planted), n_per_item=2, min_count=2, score="count")
    assert lists.source == "derived"
    assert lists.to_dict() == {"a": ["b", "c"], "b": ["a"], "c": ["a", "d"], "d": ["c"]}
    pairs = lists.to_pairs()
    expected = _lists_table(
        ["a", "a", "b", "c", "c", "d"], ["b", "c", "a", "a", "d", "c"], [1, 2, 1, 1, 2, 1]
    )
    pd.testing.assert_frame_equal(
        pairs.sort_values([C.ITEM, C.RANK], ignore_index=True), expected, check_dtype=False
    )
    assert "e" not in lists.item_ids  # its only partner is below min_count


def test_derive_breaks_count_ties_by_popularity_then_id(make_dataset, frame_builder) -> None:
    # x shares 2 baskets with each of p, q, r; p is in 3 baskets, q and r in 2 each.
    baskets = [["x", "p", "q", "r"], ["x", "p", "q", "r"], ["p"]]
    lists = derive_copurchase(
        build_baskets(make_dataset(frame_builder({"c": baskets}))), score="count"
    )
    assert lists.to_dict()["x"] == ["p", "q", "r"]


def test_cosine_score_discounts_best_sellers(make_dataset, frame_builder) -> None:
    # x shares 3 baskets with best seller m (in every basket) and 2 with rare y.
    baskets = [["x", "m", "y"], ["x", "m", "y"], ["x", "m"]] + [["m", f"z{i}"] for i in range(9)]
    corpus = build_baskets(make_dataset(frame_builder({"c": baskets})))
    assert derive_copurchase(corpus, n_per_item=1, score="count").to_dict()["x"] == ["m"]
    assert derive_copurchase(corpus, n_per_item=1, score="cosine").to_dict()["x"] == ["y"]
    assert derive_copurchase(corpus, n_per_item=1, score="lift").to_dict()["x"] == ["y"]


def test_derive_in_blocks_equals_one_block(
    planted: Dataset, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = build_baskets(planted)
    whole = derive_copurchase(corpus, min_count=1).to_pairs()
    monkeypatch.setattr(copurchase_module, "_BLOCK_ENTRIES", 1)
    pd.testing.assert_frame_equal(derive_copurchase(corpus, min_count=1).to_pairs(), whole)


@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_derive_matches_brute_force(
    data: st.DataObject,
    transactions_strategy: st.SearchStrategy[pd.DataFrame],
    engine_with: Callable[[pd.DataFrame], object],
) -> None:
    corpus = build_baskets(engine_with(data.draw(transactions_strategy)))
    n_per_item = data.draw(st.integers(1, 4))
    baskets = [set(corpus.basket(b).tolist()) for b in range(corpus.n_baskets)]
    counts: dict[tuple[object, object], int] = {}
    for basket in baskets:
        for pair in itertools.permutations(sorted(basket, key=str), 2):
            counts[pair] = counts.get(pair, 0) + 1
    vocabulary = corpus.item_ids.external.tolist()
    expected: dict[object, list[object]] = {}
    for item in vocabulary:  # partners by count, ties in vocabulary order
        partners = [(c, vocabulary.index(o), o) for (i, o), c in counts.items() if i == item]
        partners.sort(key=lambda p: (-p[0], p[1]))
        if partners:
            expected[item] = [p[2] for p in partners[:n_per_item]]
    if not expected:
        with pytest.raises(DataValidationError, match="no two items share"):
            derive_copurchase(corpus, n_per_item=n_per_item, min_count=1, score="count")
        return
    lists = derive_copurchase(corpus, n_per_item=n_per_item, min_count=1, score="count")
    assert lists.to_dict() == expected
    assert set(lists.item_ids.external.tolist()) == set(expected)


def test_build_uses_the_dataset_lists(tmp_path: Path) -> None:
    table = _lists_table(["a", "a", "b", "c"], ["b", "c", "a", "z"], [1, 2, 1, 1])
    lists = build_copurchase(_dataset_with_lists(tmp_path / "ds", table))
    assert lists.source == "lists"
    assert lists.n_items == 4 and lists.n_lists == 3 and lists.n_pairs == 4
    pd.testing.assert_frame_equal(lists.to_pairs(), table, check_dtype=False)
    assert lists.list_lengths().tolist() == [2, 1, 1, 0]  # z is only listed


def test_build_derives_lists_without_a_table(planted: Dataset) -> None:
    lists = build_copurchase(planted, n_per_item=2, score="count")
    assert lists.source == "derived"
    assert lists.to_dict()["a"] == ["b", "c"]


def test_from_pairs_orders_by_rank_and_drops_bad_pairs() -> None:
    table = _lists_table(
        [1, 1, 1, 2, 1, 2], [30, 20, 1, 1, 20, 10], [3, 1, 2, 2, 5, 1]
    )  # 1-1 is a self-pair; 1-20 repeats (rank 1 kept)
    with pytest.warns(DataWarning, match=r"dropped 2 of 6 pairs \(self_pair 1, duplicate 1\)"):
        lists = CopurchaseLists.from_pairs(table)
    assert lists.to_dict() == {1: [20, 30], 2: [10, 1]}
    assert lists.ranks.tolist() == [1, 2, 1, 2]
    assert lists.indices.dtype == np.int32 and lists.indptr.dtype == np.int64


def test_from_dict_keeps_list_order() -> None:
    lists = CopurchaseLists.from_dict({"x": ["y", "z"], "y": ["x"]})
    assert lists.to_dict() == {"x": ["y", "z"], "y": ["x"]}
    assert lists.item_ids.external.tolist() == ["x", "y", "z"]


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (pd.DataFrame({C.ITEM: [1], C.RANK: [1]}), "lack column"),
        (_lists_table([1, 2], [2, 3], [1, 0]), "integers >= 1"),
        (_lists_table([1, 2], [2, 3], [1, 1.5]), "integers >= 1"),
        (_lists_table([1, None], [2, 3], [1, 1]), "must not be missing"),
    ],
)
def test_from_pairs_rejects_malformed_tables(table: pd.DataFrame, message: str) -> None:
    with pytest.raises(DataValidationError, match=message):
        CopurchaseLists.from_pairs(table)


@pytest.mark.parametrize(
    ("params", "name"),
    [({"n_per_item": 0}, "n_per_item"), ({"min_count": 0}, "min_count"), ({"score": "x"}, "score")],
)
def test_derive_rejects_bad_parameters(planted: Dataset, params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=f"`{name}`"):
        derive_copurchase(build_baskets(planted), **params)


def test_derive_raises_when_nothing_is_bought_together(make_dataset, frame_builder) -> None:
    corpus = build_baskets(make_dataset(frame_builder({"c": [["a"], ["b"], ["a", "b"]]})))
    with pytest.raises(DataValidationError, match="Lower min_count"):
        derive_copurchase(corpus, min_count=2)
