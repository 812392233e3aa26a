"""Tiny canonical datasets for the corpus tests, written the way ``ingest`` writes them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import strategies as st

from customer2vec.columns import Columns as C
from customer2vec.data.dataset import Dataset, write_meta
from customer2vec.data.engine import DuckDBEngine

MakeDataset = Callable[[pd.DataFrame], Dataset]


def _write(directory: Path, frame: pd.DataFrame) -> Dataset:
    directory.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(directory / "transactions.parquet", index=False)
    id_types = {
        column: "integer" if pd.api.types.is_integer_dtype(frame[column]) else "string"
        for column in (C.CUSTOMER, C.BASKET, C.ITEM)
    }
    counts = {
        "line_items": len(frame),
        "customers": int(frame[C.CUSTOMER].nunique()),
        "baskets": len(frame.drop_duplicates([C.CUSTOMER, C.BASKET])),
        "items": int(frame[C.ITEM].nunique()),
    }
    report = {"rows_read": len(frame), "rows_kept": len(frame), "rows_dropped": {}}
    write_meta(directory, {"id_types": id_types, "counts": counts, "report": report})
    return Dataset.open(directory)


@pytest.fixture(scope="session")
def make_dataset(tmp_path_factory: pytest.TempPathFactory) -> MakeDataset:
    """Write a transactions frame as a dataset directory and open it."""
    return lambda frame: _write(tmp_path_factory.mktemp("dataset"), frame)


def frame_from_baskets(
    customers: dict[object, list[list[object]]],
    *,
    with_time: bool = True,
    basket_ids: list[object] | None = None,
) -> pd.DataFrame:
    """Canonical transactions from ``{customer: [basket items, ...]}`` (baskets in order).

    Basket ids are 0, 1, 2... over the whole frame unless ``basket_ids`` gives one per basket.
    """
    rows = []
    n_basket = 0
    for customer, baskets in customers.items():
        for sequence, items in enumerate(baskets, start=1):
            basket = basket_ids[n_basket] if basket_ids is not None else n_basket
            day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * sequence)
            rows.extend(
                {
                    C.CUSTOMER: customer,
                    C.BASKET: basket,
                    C.ITEM: item,
                    C.SEQUENCE: sequence,
                    C.TIMESTAMP: day,
                    C.QUANTITY: 1.0,
                    C.PRICE: 2.5,
                }
                for item in items
            )
            n_basket += 1
    frame = pd.DataFrame(rows, columns=list(C.TRANSACTIONS))
    frame[C.SEQUENCE] = frame[C.SEQUENCE].astype("int64")
    frame[C.TIMESTAMP] = frame[C.TIMESTAMP].astype("datetime64[us]")
    return frame if with_time else frame.drop(columns=[C.TIMESTAMP])


@st.composite
def _transactions(draw: st.DrawFn) -> pd.DataFrame:
    string_customers, string_items, string_baskets = (draw(st.booleans()) for _ in range(3))
    numbers = draw(st.lists(st.integers(0, 50), min_size=1, max_size=5, unique=True))
    customers = sorted(f"c{n}" if string_customers else n for n in numbers)
    n_pool = draw(st.integers(1, 8))
    item = (lambda k: f"i{k}") if string_items else (lambda k: 10 * k - 20)
    spec = {
        customer: [
            [item(k) for k in draw(st.lists(st.integers(0, n_pool - 1), min_size=1, max_size=6))]
            for _ in range(draw(st.integers(1, 4)))
        ]
        for customer in customers
    }
    n_baskets = sum(len(baskets) for baskets in spec.values())
    per_customer = draw(st.booleans())  # basket ids unique only within a customer (Ta-Feng)
    if per_customer:
        ids: list[object] = [k for baskets in spec.values() for k in range(len(baskets))]
    else:
        ids = list(range(n_baskets))
    if string_baskets:
        ids = [f"b{k}" for k in ids]
    return frame_from_baskets(spec, with_time=draw(st.booleans()), basket_ids=ids)


@pytest.fixture(scope="session")
def transactions_strategy() -> st.SearchStrategy[pd.DataFrame]:
    """Random canonical transactions: 1-5 customers, 1-4 baskets each, repeated items,
    int or str ids, basket ids global or per customer, with or without timestamps."""
    return _transactions()


@pytest.fixture(scope="session")
def frame_builder() -> Callable[..., pd.DataFrame]:
    """:func:`frame_from_baskets`, for test modules (they cannot import conftest)."""
    return frame_from_baskets


@pytest.fixture(scope="session")
def engine_with() -> Iterator[Callable[[pd.DataFrame], DuckDBEngine]]:
    """One in-memory engine whose ``transactions`` each call replaces (fast property tests)."""
    engine = DuckDBEngine(threads=1, memory_limit=None)

    def register(frame: pd.DataFrame) -> DuckDBEngine:
        engine.con.register("transactions", pa.Table.from_pandas(frame, preserve_index=False))
        return engine

    yield register
    engine.close()
