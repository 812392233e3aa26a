"""Tests for the synthetic dataset generator and its planted answer."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from customer2vec.columns import Columns
from customer2vec.data.dataset import Dataset
from customer2vec.data.synth import SynthTables, generate, write_synth
from customer2vec.errors import ConfigError, DataValidationError

SMALL = {
    "n_customers": 300,
    "n_items": 240,
    "n_departments": 4,
    "n_categories": 12,
    "n_segments": 4,
    "mean_baskets": 8.0,
    "mean_basket_size": 6.0,
    "days": 90,
}
TINY = {"n_customers": 5, "n_items": 20, "n_departments": 2, "n_categories": 4}


@pytest.fixture(scope="module")
def tables() -> SynthTables:
    """A small dataset: 300 customers, 12 categories in 4 departments, 4 segments."""
    return generate(**SMALL, random_state=0)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same parameters written in chunks of 70 customers."""
    out = tmp_path_factory.mktemp("synth") / "ds"
    return write_synth(out, chunk_customers=70, **SMALL, random_state=0)


def _baskets_by_category(tables: SynthTables) -> pd.DataFrame:
    category = tables.items.set_index(Columns.ITEM)["category"]
    lines = tables.transactions[[Columns.BASKET, Columns.ITEM]]
    return lines.assign(category=lines[Columns.ITEM].map(category).to_numpy())


def test_same_seed_gives_identical_tables(tables: SynthTables) -> None:
    again = generate(**SMALL, random_state=0)
    pd.testing.assert_frame_equal(again.transactions, tables.transactions)
    pd.testing.assert_frame_equal(again.items, tables.items)
    pd.testing.assert_frame_equal(again.customers, tables.customers)


def test_different_seed_gives_different_tables(tables: SynthTables) -> None:
    other = generate(**SMALL, random_state=1)
    assert not other.transactions.equals(tables.transactions)
    assert not other.customers[Columns.SEGMENT].equals(tables.customers[Columns.SEGMENT])


def test_write_synth_with_one_chunk_equals_generate(tables: SynthTables, tmp_path: Path) -> None:
    ds = Dataset.open(write_synth(tmp_path / "ds", **SMALL, random_state=0))
    pd.testing.assert_frame_equal(ds.read("transactions"), tables.transactions)
    pd.testing.assert_frame_equal(ds.read("items"), tables.items)
    pd.testing.assert_frame_equal(ds.read("customers"), tables.customers)


def test_written_counts_match_tables(written: Path) -> None:
    ds = Dataset.open(written)
    meta = json.loads((written / "dataset.json").read_text())
    transactions = ds.read("transactions")
    counts = meta["counts"]
    assert counts["line_items"] == len(transactions)
    assert counts["customers"] == transactions[Columns.CUSTOMER].nunique() == SMALL["n_customers"]
    assert counts["baskets"] == transactions[Columns.BASKET].nunique()
    assert counts["items"] == transactions[Columns.ITEM].nunique()
    assert counts["catalogue_items"] == len(ds.read("items")) == SMALL["n_items"]
    assert pd.Timestamp(counts["first_timestamp"]) == transactions[Columns.TIMESTAMP].min()
    assert pd.Timestamp(counts["last_timestamp"]) == transactions[Columns.TIMESTAMP].max()
    assert meta["report"] == {
        "rows_read": len(transactions),
        "rows_kept": len(transactions),
        "rows_dropped": {},
        "warnings": [],
    }
    assert meta["source"]["synth"] == {
        **SMALL,
        "repeat_share": 0.4,
        "zipf_exponent": 1.1,
        "start": "2024-01-01",
        "random_state": 0,
    }
    assert meta["id_types"] == {"customer_id": "int64", "basket_id": "int64", "item_id": "string"}
    assert (meta["basket_scope"], meta["order"]) == ("global", "timestamp")
    assert meta["planted"]["customer_segment"] == "customers.segment"
    assert sorted(meta["tables"]) == ["customers", "items", "transactions"]


def test_written_schema(written: Path) -> None:
    schema = pq.read_schema(written / "transactions.parquet")
    assert schema.names == list(Columns.TRANSACTIONS)
    assert [schema.field(name).type for name in schema.names] == [
        pa.int64(),
        pa.int64(),
        pa.string(),
        pa.int64(),
        pa.timestamp("us"),
        pa.int64(),
        pa.float64(),
    ]
    items = pq.read_schema(written / "items.parquet")
    assert items.names == [
        "item_id",
        "name",
        "department",
        "category",
        "color",
        "brand",
        "popularity_rank",
    ]
    customers = pq.read_schema(written / "customers.parquet")
    assert customers.names == ["customer_id", "segment", "has_kids", "region"]
    assert customers.field("customer_id").type == pa.int64()


def test_transactions_sorted_with_gapless_sequences(written: Path) -> None:
    tx = pd.read_parquet(written / "transactions.parquet")
    order = tx[[Columns.CUSTOMER, Columns.SEQUENCE]].to_numpy()
    assert (np.diff(order[:, 0]) >= 0).all()
    same_customer = np.diff(order[:, 0]) == 0
    assert (np.diff(order[:, 1])[same_customer] >= 0).all()

    baskets = tx.drop_duplicates(Columns.BASKET)
    per_customer = baskets.groupby(Columns.CUSTOMER)[Columns.SEQUENCE]
    assert (per_customer.min() == 1).all()
    assert (per_customer.max() == per_customer.size()).all()
    assert (per_customer.nunique() == per_customer.size()).all()
    assert len(baskets) == tx[Columns.BASKET].nunique()  # basket ids are contiguous runs


def test_baskets_share_one_customer_and_time(written: Path) -> None:
    tx = pd.read_parquet(written / "transactions.parquet")
    per_basket = tx.groupby(Columns.BASKET)
    assert (per_basket[Columns.CUSTOMER].nunique() == 1).all()
    assert (per_basket[Columns.TIMESTAMP].nunique() == 1).all()
    assert (per_basket[Columns.SEQUENCE].nunique() == 1).all()
    assert not tx.duplicated([Columns.BASKET, Columns.ITEM]).any()
    assert (tx[Columns.QUANTITY] >= 1).all()
    assert (tx[Columns.QUANTITY] == 1).mean() > 0.6
    assert (tx.groupby(Columns.ITEM)[Columns.PRICE].nunique() == 1).all()


def test_timestamps_increase_with_sequence(written: Path) -> None:
    tx = pd.read_parquet(written / "transactions.parquet")
    baskets = tx.drop_duplicates(Columns.BASKET)
    step = baskets.groupby(Columns.CUSTOMER)[Columns.TIMESTAMP].diff().dropna()
    assert (step >= pd.Timedelta(0)).all()
    start = pd.Timestamp("2024-01-01")
    assert tx[Columns.TIMESTAMP].min() >= start
    assert tx[Columns.TIMESTAMP].max() < start + pd.Timedelta(days=SMALL["days"])


def test_same_category_items_co_occur(tables: SynthTables) -> None:
    lines = _baskets_by_category(tables)
    per_category = lines.groupby([Columns.BASKET, "category"]).size()
    per_basket = lines.groupby(Columns.BASKET).size()
    same_pairs = (per_category * (per_category - 1) / 2).sum()
    all_pairs = (per_basket * (per_basket - 1) / 2).sum()
    chance = (lines["category"].value_counts(normalize=True) ** 2).sum()
    assert same_pairs / all_pairs > 3 * chance


def test_same_segment_customers_have_similar_tastes(tables: SynthTables) -> None:
    lines = _baskets_by_category(tables).assign(
        customer=tables.transactions[Columns.CUSTOMER].to_numpy()
    )
    shares = pd.crosstab(lines["customer"], lines["category"], normalize="index")
    vectors = shares.to_numpy() / np.linalg.norm(shares.to_numpy(), axis=1, keepdims=True)
    segment = tables.customers.set_index(Columns.CUSTOMER).loc[shares.index, "segment"].to_numpy()
    similarity = vectors @ vectors.T
    same = segment[:, None] == segment[None, :]
    np.fill_diagonal(same, False)
    different = segment[:, None] != segment[None, :]
    assert similarity[same].mean() > 1.5 * similarity[different].mean()

    centroids = np.stack([vectors[segment == s].mean(axis=0) for s in range(SMALL["n_segments"])])
    assert ((vectors @ centroids.T).argmax(axis=1) == segment).mean() > 0.9


def test_has_kids_follows_segment(tables: SynthTables) -> None:
    customers = tables.customers
    by_parity = customers.groupby(customers[Columns.SEGMENT] % 2)["has_kids"].mean()
    assert by_parity[0] > 0.7
    assert by_parity[1] < 0.3
    assert customers.groupby(Columns.SEGMENT)["has_kids"].nunique().eq(2).all()  # not perfect


def test_customers_repeat_their_top_item(tables: SynthTables) -> None:
    tx = tables.transactions
    n_baskets = tx.groupby(Columns.CUSTOMER)[Columns.BASKET].nunique()
    top_item_baskets = tx.groupby([Columns.CUSTOMER, Columns.ITEM]).size().groupby(level=0).max()
    share = (top_item_baskets / n_baskets)[n_baskets >= 5]
    assert share.median() > 0.5


def test_popularity_is_skewed_within_categories(tables: SynthTables) -> None:
    sold = tables.transactions[Columns.ITEM].value_counts()
    ranks = tables.items.set_index(Columns.ITEM)["popularity_rank"]
    sold = sold.reindex(ranks.index, fill_value=0)
    assert sold[ranks == 1].mean() > 3 * sold[ranks >= 10].mean()


def test_write_synth_refuses_to_overwrite(tmp_path: Path) -> None:
    out = write_synth(tmp_path / "ds", **TINY, random_state=0)
    with pytest.raises(DataValidationError, match="already exists"):
        write_synth(out, **TINY, random_state=0)
    write_synth(out, overwrite=True, **{**TINY, "n_customers": 6}, random_state=0)
    assert Dataset.open(out).info["customers"] == 6


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_synth(tmp_path / "ds", progress=True, chunk_customers=2, **TINY)
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "synth" in captured.err


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_customers": 0}, "n_customers"),
        ({"n_departments": 0}, "n_departments"),
        ({"n_departments": 8, "n_categories": 4}, "n_categories"),
        ({"n_categories": 40, "n_items": 10}, "n_items"),
        ({"n_segments": 1.5}, "n_segments"),
        ({"mean_baskets": 0.5}, "mean_baskets"),
        ({"mean_basket_size": "8"}, "mean_basket_size"),
        ({"repeat_share": 1.5}, "repeat_share"),
        ({"zipf_exponent": -1.0}, "zipf_exponent"),
        ({"days": 0}, "days"),
        ({"start": "not a date"}, "start"),
        ({"start": ""}, "start"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_bad_parameter_raises_config_error(params: dict, name: str) -> None:
    with pytest.raises(ConfigError, match=f"`{name}`"):
        generate(**params)


def test_write_synth_checks_its_own_parameters(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="`chunk_customers`"):
        write_synth(tmp_path / "a", chunk_customers=0)
    with pytest.raises(ConfigError, match="n_customer"):
        write_synth(tmp_path / "b", n_customer=10)
    assert not (tmp_path / "a").exists()
