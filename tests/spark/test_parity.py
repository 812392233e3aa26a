"""The Spark engine writes the same dataset and builds the same corpora as DuckDB."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from conftest import make_raw_transactions
from customer2vec.columns import Columns as C
from customer2vec.corpus.baskets import build_baskets
from customer2vec.corpus.copurchase import build_copurchase, derive_copurchase
from customer2vec.corpus.documents import build_documents
from customer2vec.data.dataset import Dataset, use_engine
from customer2vec.data.ingest import ingest
from customer2vec.data.mapping import ColumnMapping
from customer2vec.errors import DataWarning
from spark.conftest import MASTER, assert_same_corpus, assert_same_dataset

pytestmark = pytest.mark.spark

MAPPING = ColumnMapping(
    customer="client", basket="ticket", item="sku", time="sold_at", quantity="units"
)


def _both(tmp_path, sources, **options):
    """Ingest with each engine; the data warnings (drop reports) must match too."""
    out = {}
    for engine in ("duckdb", "spark"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out[engine] = ingest(
                sources, tmp_path / engine, engine=engine, spark_master=MASTER, **options
            )
        out[f"{engine}_warnings"] = sorted(
            str(w.message) for w in caught if issubclass(w.category, DataWarning)
        )
    assert out["duckdb_warnings"] == out["spark_warnings"]
    return out["duckdb"], out["spark"]


def _assert_same_corpora(duck: Dataset, sparked: Dataset) -> None:
    """Baskets built on each engine from its own dataset, and what derives from them
    (customer documents, co-purchase counts), are identical."""
    baskets_a = build_baskets(duck)
    with use_engine("spark", MASTER):
        baskets_b = build_baskets(sparked)
    assert_same_corpus(baskets_a, baskets_b)
    docs_a, docs_b = build_documents(baskets_a), build_documents(baskets_b)
    assert docs_a.indptr.tolist() == docs_b.indptr.tolist()
    assert docs_a.basket_indptr.tolist() == docs_b.basket_indptr.tolist()
    assert docs_a.as_token_lists() == docs_b.as_token_lists()
    pd.testing.assert_frame_equal(
        derive_copurchase(baskets_a, min_count=1).to_pairs(),
        derive_copurchase(baskets_b, min_count=1).to_pairs(),
    )


def _dirty_sales(tmp_path):
    raw = make_raw_transactions(customers_per_group=5, baskets_per_customer=3)
    raw["units"] = raw["units"].astype(str)
    extra = pd.DataFrame(
        [
            tuple(raw.iloc[0]),  # duplicate of the first row
            ("", 2001, "a1", "2024-01-02", "1"),  # missing customer
            ("c1", 2002, "  ", "2024-01-02", "1"),  # blank item
            ("c1", 2003, "a2", "not a date", "1"),  # bad timestamp
            ("c1", 2004, "a2", "2024-02-01", "-2"),  # return
            ("c1", 2005, "a2", "2024-02-02", "x"),  # bad quantity
            ("007", 2006, "00a", "2024-03-01 10:00:00", "2.5"),  # ids kept as written
            ("007", 2006, "a1", "2024-03-01 10:00:00", ""),  # empty quantity is kept
        ],
        columns=raw.columns,
    )
    path = tmp_path / "sales.csv"
    pd.concat([raw, extra]).to_csv(path, index=False)
    items = tmp_path / "items.csv"
    items.write_text(
        'sku,title,aisle\na1,"Milk, whole",dairy\na1,Milk again,dairy\n,None,x\nb2,Bread,bakery\n'
        "zz,Never sold,none\n"
    )
    customers = tmp_path / "customers.csv"
    customers.write_text("client,tribe\nc0,a\nc5,b\nc99,none\n")
    return path, items, customers


def test_generated_data_ingests_and_builds_identically(spark, tmp_path):
    sales, items, customers = _dirty_sales(tmp_path)
    duck, sparked = _both(
        tmp_path,
        [sales],
        mapping=MAPPING,
        items=[items],
        item_id_col="sku",
        customers=[customers],
        customer_id_col="client",
    )
    assert duck.info["rows_dropped"] == {
        "duplicate": 1,
        "missing_customer": 1,
        "missing_item": 1,
        "bad_timestamp": 1,
        "return": 1,
        "bad_quantity": 1,
    }
    assert sparked.read("transactions")[C.CUSTOMER].iloc[0] == "007"  # exact text, sorted first
    assert (sparked.path / "transactions.parquet").is_dir()  # Spark's part files
    assert_same_dataset(duck, sparked)
    _assert_same_corpora(duck, sparked)


def test_derived_baskets_float_ids_and_copurchase_lists(spark, tmp_path):
    frame = pd.DataFrame(
        {
            "user": [17850.0, 17850.0, None, 12583.0, 12583.0, 12583.0],
            "product": ["p1", "p2", "p1", "p3", "p1", "p3"],
            "when": pd.to_datetime(
                [
                    "2024-01-01 10:00",
                    "2024-01-01 10:00",
                    "2024-01-02 00:00",
                    "2024-01-03 00:00",
                    "2024-01-03 00:00",
                    "2024-01-05 09:30",
                ]
            ),
        }
    )
    frame.to_parquet(tmp_path / "lines.parquet", index=False)
    lists = tmp_path / "cp.json"
    lists.write_text(json.dumps({"p1": ["p2", "p3", "p1"], "p3": ["p1"], "p2": []}))
    duck, sparked = _both(
        tmp_path,
        [tmp_path / "lines.parquet"],
        mapping=ColumnMapping(customer="user", item="product", time="when"),
        copurchase=lists,
    )
    assert duck.meta["basket_scope"] == "derived" and duck.meta["id_types"][C.CUSTOMER] == "int64"
    assert_same_dataset(duck, sparked)
    pd.testing.assert_frame_equal(
        build_copurchase(duck).to_pairs(), build_copurchase(sparked).to_pairs()
    )
    _assert_same_corpora(duck, sparked)


def test_completejourney_ingests_and_builds_identically(spark, tmp_path, shared_data):
    source = shared_data / "completejourney"
    if not source.is_dir():
        pytest.skip(f"{source} is not present")
    duck, sparked = _both(tmp_path, [source], preset="completejourney")
    assert duck.info["line_items"] > 1_000_000
    assert_same_dataset(duck, sparked)
    _assert_same_corpora(duck, sparked)
    # A Spark-written dataset reads the same through DuckDB (the default engine).
    assert_same_corpus(build_baskets(sparked), build_baskets(duck))
