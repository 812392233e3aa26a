"""build_baskets: planted small corpora and properties over random transactions."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customer2vec.columns import Columns as C
from customer2vec.corpus import BasketCorpus, build_baskets
from customer2vec.data.engine import DuckDBEngine
from customer2vec.errors import ConfigError, DataValidationError

PROPERTY = settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.fixture
def shop(frame_builder: Callable[..., pd.DataFrame]) -> pd.DataFrame:
    """Customer "c1": [30, 10, 30] then [10]; "c0": [20, 10] then [40].

    Item 10 is in 3 baskets, the others in 1; "c0" sorts first.
    """
    return frame_builder({"c1": [[30, 10, 30], [10]], "c0": [[20, 10], [40]]}).sort_values(
        [C.CUSTOMER, C.SEQUENCE], kind="stable", ignore_index=True
    )


def expected(
    frame: pd.DataFrame, *, min_item_count: int = 1, dedupe: bool = True
) -> tuple[list[object], list[int], list[list[object]]]:
    """Reference in pandas: (vocabulary, its basket counts, baskets as external item lists)."""
    pairs = frame.drop_duplicates([C.CUSTOMER, C.BASKET, C.ITEM])
    counts = pairs[C.ITEM].value_counts()
    kept = sorted(
        (item for item in counts.index if counts[item] >= min_item_count),
        key=lambda item: (-counts[item], item),
    )
    lines = pairs if dedupe else frame
    lines = lines[lines[C.ITEM].isin(kept)]
    baskets = [
        group[C.ITEM].tolist() for _, group in lines.groupby([C.CUSTOMER, C.BASKET], sort=False)
    ]
    return kept, [int(counts[item]) for item in kept], baskets


def test_planted_corpus(shop: pd.DataFrame, make_dataset) -> None:
    corpus = build_baskets(make_dataset(shop))
    assert isinstance(corpus, BasketCorpus)
    np.testing.assert_array_equal(corpus.item_ids.external, [10, 20, 30, 40])
    np.testing.assert_array_equal(corpus.item_counts, [3, 1, 1, 1])
    np.testing.assert_array_equal(corpus.customer_ids.external, ["c0", "c1"])
    np.testing.assert_array_equal(corpus.indptr, [0, 2, 3, 5, 6])
    np.testing.assert_array_equal(corpus.indices, [1, 0, 3, 2, 0, 0])
    np.testing.assert_array_equal(corpus.basket_customer, [0, 0, 1, 1])
    np.testing.assert_array_equal(corpus.basket_sequence, [1, 2, 1, 2])
    np.testing.assert_array_equal(
        corpus.basket_time, np.array(["2024-01-08", "2024-01-15"] * 2, dtype="datetime64[us]")
    )
    np.testing.assert_array_equal(corpus.customer_indptr, [0, 2, 4])
    assert (corpus.indptr.dtype, corpus.indices.dtype) == (np.int64, np.int32)
    assert (corpus.basket_customer.dtype, corpus.basket_sequence.dtype) == (np.int32, np.int32)
    assert corpus.item_counts.dtype == np.int64
    assert (corpus.n_baskets, corpus.n_items, corpus.n_customers, corpus.n_lines) == (4, 4, 2, 6)
    assert corpus.dropped == {"items": 0, "lines": 0, "baskets": 0, "customers": 0, "duplicates": 1}
    np.testing.assert_array_equal(corpus.basket(2), [30, 10])
    assert corpus.as_token_lists() == [["20", "10"], ["40"], ["30", "10"], ["10"]]
    assert list(corpus.iter_tokens()) == corpus.as_token_lists()
    with pytest.raises(IndexError):
        corpus.basket(4)
    np.testing.assert_array_equal(
        corpus.to_csr().toarray(),
        [[1, 1, 0, 0], [0, 0, 0, 1], [1, 0, 1, 0], [1, 0, 0, 0]],
    )


def test_without_dedupe_lines_repeat_in_source_order(shop: pd.DataFrame, make_dataset) -> None:
    corpus = build_baskets(make_dataset(shop), dedupe=False)
    np.testing.assert_array_equal(corpus.indptr, [0, 2, 3, 6, 7])
    np.testing.assert_array_equal(corpus.indices, [1, 0, 3, 2, 0, 2, 0])
    np.testing.assert_array_equal(corpus.item_counts, [3, 1, 1, 1])  # baskets, not lines
    assert corpus.dropped["duplicates"] == 0


def test_min_item_count_accounting(shop: pd.DataFrame, make_dataset) -> None:
    corpus = build_baskets(make_dataset(shop), min_item_count=2)
    np.testing.assert_array_equal(corpus.item_ids.external, [10])
    np.testing.assert_array_equal(corpus.indptr, [0, 1, 2, 3])
    np.testing.assert_array_equal(corpus.basket_sequence, [1, 1, 2])  # c0's [40] is gone
    assert corpus.dropped == {"items": 3, "lines": 4, "baskets": 1, "customers": 0, "duplicates": 0}
    assert corpus.n_lines + corpus.dropped["lines"] + corpus.dropped["duplicates"] == len(shop)


def test_customers_left_without_baskets_are_counted(frame_builder, make_dataset) -> None:
    frame = frame_builder({1: [[5, 6]], 2: [[7]], 3: [[5]]}, with_time=False)
    corpus = build_baskets(make_dataset(frame), min_item_count=2)
    np.testing.assert_array_equal(corpus.customer_ids.external, [1, 3])
    np.testing.assert_array_equal(corpus.basket_customer, [0, 1])
    assert corpus.dropped == {"items": 2, "lines": 2, "baskets": 1, "customers": 1, "duplicates": 0}


def test_integer_ids_without_timestamps(frame_builder, make_dataset) -> None:
    frame = frame_builder({7: [[3, 1], [1]], 2: [[2, 3, 1]]}, with_time=False)
    frame = frame.sort_values([C.CUSTOMER, C.SEQUENCE], kind="stable", ignore_index=True)
    corpus = build_baskets(make_dataset(frame))
    assert corpus.basket_time is None
    assert corpus.item_ids.external.dtype == np.int64
    assert corpus.customer_ids.external.dtype == np.int64
    np.testing.assert_array_equal(corpus.item_ids.external, [1, 3, 2])
    np.testing.assert_array_equal(corpus.item_counts, [3, 2, 1])
    np.testing.assert_array_equal(corpus.customer_ids.external, [2, 7])
    assert [corpus.basket(i).tolist() for i in range(3)] == [[2, 3, 1], [3, 1], [1]]


def test_vocabulary_ties_are_ordered_by_id(frame_builder, make_dataset) -> None:
    frame = frame_builder({"a": [["z", "b"], ["m"], ["b", "z", "m"], ["q"]]})
    corpus = build_baskets(make_dataset(frame))
    np.testing.assert_array_equal(corpus.item_ids.external, ["b", "m", "z", "q"])
    np.testing.assert_array_equal(corpus.item_counts, [2, 2, 2, 1])


def test_basket_ids_unique_only_within_a_customer(frame_builder, make_dataset) -> None:
    frame = frame_builder({"x": [["a"], ["b"]], "y": [["c"], ["a", "d"]]}, basket_ids=[1, 2, 1, 2])
    corpus = build_baskets(make_dataset(frame))
    assert corpus.n_baskets == 4
    assert [corpus.basket(i).tolist() for i in range(4)] == [["a"], ["b"], ["c"], ["a", "d"]]


def test_engine_source_matches_dataset_source(shop: pd.DataFrame, make_dataset) -> None:
    dataset = make_dataset(shop)
    engine = DuckDBEngine(threads=1)
    engine.register_parquet("transactions", dataset.table_path("transactions"))
    from_engine = build_baskets(engine, dedupe=False)
    from_dataset = build_baskets(dataset, dedupe=False)
    engine.close()
    np.testing.assert_array_equal(from_engine.indices, from_dataset.indices)
    np.testing.assert_array_equal(from_engine.indptr, from_dataset.indptr)


def test_empty_transactions(shop: pd.DataFrame, make_dataset) -> None:
    corpus = build_baskets(make_dataset(shop.iloc[:0]))
    assert (corpus.n_baskets, corpus.n_items, corpus.n_customers, corpus.n_lines) == (0, 0, 0, 0)
    np.testing.assert_array_equal(corpus.indptr, [0])
    assert corpus.as_token_lists() == []


def test_missing_column_is_reported(shop: pd.DataFrame, make_dataset) -> None:
    dataset = make_dataset(shop.drop(columns=[C.SEQUENCE]))
    with pytest.raises(DataValidationError, match="sequence"):
        build_baskets(dataset)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"min_item_count": 0}, "min_item_count"), ({"dedupe": 1}, "dedupe")],
)
def test_invalid_parameters(shop: pd.DataFrame, make_dataset, kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        build_baskets(make_dataset(shop), **kwargs)


@PROPERTY
@given(data=st.data(), min_item_count=st.integers(1, 3), dedupe=st.booleans())
def test_builder_matches_reference(
    transactions_strategy, engine_with, data: st.DataObject, min_item_count: int, dedupe: bool
) -> None:
    frame = data.draw(transactions_strategy)
    corpus = build_baskets(engine_with(frame), min_item_count=min_item_count, dedupe=dedupe)
    vocabulary, counts, baskets = expected(frame, min_item_count=min_item_count, dedupe=dedupe)

    assert corpus.item_ids.external.tolist() == vocabulary
    np.testing.assert_array_equal(corpus.item_counts, counts)
    assert [corpus.basket(i).tolist() for i in range(corpus.n_baskets)] == baskets
    # Counts are preserved: every input row is a corpus line, a dropped line or a duplicate.
    assert corpus.n_lines + corpus.dropped["lines"] + corpus.dropped["duplicates"] == len(frame)
    if dedupe and min_item_count == 1:
        assert corpus.n_lines == len(frame.drop_duplicates([C.CUSTOMER, C.BASKET, C.ITEM]))
    n_baskets = len(frame.drop_duplicates([C.CUSTOMER, C.BASKET]))
    assert corpus.n_baskets + corpus.dropped["baskets"] == n_baskets
    assert corpus.n_customers + corpus.dropped["customers"] == frame[C.CUSTOMER].nunique()
    assert (corpus.item_counts >= min_item_count).all()
    assert (np.diff(corpus.indptr) > 0).all()  # no empty baskets
    # Baskets run by customer (sorted ids), then by sequence.
    assert (np.diff(corpus.basket_customer) >= 0).all()
    same_customer = np.diff(corpus.basket_customer) == 0
    assert (np.diff(corpus.basket_sequence)[same_customer] > 0).all()
    assert corpus.customer_ids.external.tolist() == sorted(corpus.customer_ids.external.tolist())
    assert (corpus.basket_time is None) == (C.TIMESTAMP not in frame.columns)
