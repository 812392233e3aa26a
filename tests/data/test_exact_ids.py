"""Ids round-trip exactly: what comes out of a dataset joins back to the user's table.

int64 only when nothing is lost (canonical integer text, whole-number floats); everything
else is kept as text byte for byte. Blank ids, NaN and infinity are missing, counted.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from customer2vec.columns import Columns as C
from customer2vec.data.ingest import ingest
from customer2vec.errors import DataWarning

NAN, INF = float("nan"), float("inf")


def check_counts(ds) -> None:
    info = ds.info
    assert info["rows_read"] == info["rows_kept"] + sum(info["rows_dropped"].values())
    assert len(ds.read("transactions")) == info["rows_kept"]


def test_csv_ids_keep_blanks_and_leading_zeros(tmp_path):
    src = tmp_path / "fixed_width_export.csv"
    src.write_text(
        "customer_id,basket_id,item_id\n"
        "00042137  ,1,0042\n"
        "00042137,1,42\n"
        "  ,2,7\n"  # blank customer: missing
        "00042137  ,3,\t\n"  # blank item: missing
        "42137,3,7\n"
    )
    with pytest.warns(DataWarning, match="dropped 2 of 5 rows"):
        ds = ingest([src], tmp_path / "ds")
    assert ds.info["rows_dropped"] == {"missing_customer": 1, "missing_item": 1}
    lines = ds.read("transactions")
    assert ds.meta["id_types"][C.CUSTOMER] == "string"
    assert ds.meta["id_types"][C.ITEM] == "string"  # "0042" is not the text of 42
    assert sorted(set(lines[C.CUSTOMER])) == ["00042137", "00042137  ", "42137"]
    assert sorted(lines[C.ITEM]) == ["0042", "42", "7"]
    check_counts(ds)


def test_canonical_integer_text_becomes_int64(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("customer_id,basket_id,item_id\n-5,1,0\n9223372036854775807,2,10\n,3,11\n")
    with pytest.warns(DataWarning, match="missing_customer 1"):
        ds = ingest([src], tmp_path / "ds")
    assert ds.meta["id_types"] == {C.CUSTOMER: "int64", C.ITEM: "int64", C.BASKET: "int64"}
    lines = ds.read("transactions")
    assert lines[C.CUSTOMER].tolist() == [-5, 9223372036854775807]
    assert lines[C.ITEM].tolist() == [0, 10]


@pytest.mark.parametrize(
    "odd", ["+5", "05", " 5", "5 ", "-0", "5.0", "1e3", "9223372036854775808"], ids=repr
)
def test_one_non_canonical_integer_keeps_the_column_as_text(tmp_path, odd):
    src = tmp_path / "t.csv"
    src.write_text(f"customer_id,basket_id,item_id\n5,1,a\n{odd},2,b\n")
    ds = ingest([src], tmp_path / "ds")
    assert ds.meta["id_types"][C.CUSTOMER] == "string"
    assert sorted(ds.read("transactions")[C.CUSTOMER]) == sorted(["5", odd])


def test_twenty_digit_ids_are_kept_as_text_not_dropped(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text(
        "customer_id,basket_id,item_id\n12345678901234567890,1,a\n99999999999999999999,2,b\n"
    )
    ds = ingest([src], tmp_path / "ds")
    assert ds.info["rows_dropped"] == {}
    assert ds.read("transactions")[C.CUSTOMER].tolist() == [
        "12345678901234567890",
        "99999999999999999999",
    ]
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([2**64 - 1, 7], pa.uint64()),
                "basket_id": [1, 2],
                "item_id": pa.array([12345678901234567890, 5], pa.decimal128(38, 0)),
            }
        ),
        tmp_path / "t.parquet",
    )
    ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds2")
    lines = ds.read("transactions")
    assert ds.info["rows_dropped"] == {}
    assert sorted(lines[C.CUSTOMER]) == ["18446744073709551615", "7"]
    assert sorted(lines[C.ITEM]) == ["12345678901234567890", "5"]


def test_unsigned_and_decimal_ids_within_int64_stay_integers(tmp_path):
    pq.write_table(
        pa.table(
            {
                "customer_id": pa.array([3, 7], pa.uint64()),
                "basket_id": pa.array([1, 2], pa.decimal128(38, 0)),
                "item_id": pa.array([10, 11], pa.int16()),
            }
        ),
        tmp_path / "t.parquet",
    )
    ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds")
    assert ds.meta["id_types"] == {C.CUSTOMER: "int64", C.ITEM: "int64", C.BASKET: "int64"}
    assert ds.read("transactions")[C.CUSTOMER].tolist() == [3, 7]


def test_nan_and_inf_float_ids_are_missing_and_the_rest_stay_integers(tmp_path):
    pq.write_table(
        pa.table(
            {
                "customer_id": [17850.0, NAN, INF, 12583.0, 17850.0, 12583.0],
                "basket_id": [1.0, 1.0, 2.0, 3.0, -INF, 4.0],
                "item_id": [5.0, 6.0, 7.0, NAN, 8.0, 9.0],
            }
        ),
        tmp_path / "t.parquet",
    )
    with pytest.warns(DataWarning):
        ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds")
    assert ds.info["rows_dropped"] == {
        "missing_customer": 2,
        "missing_item": 1,
        "missing_basket": 1,
    }
    assert ds.meta["id_types"] == {C.CUSTOMER: "int64", C.ITEM: "int64", C.BASKET: "int64"}
    lines = ds.read("transactions")
    assert lines[C.CUSTOMER].tolist() == [12583, 17850]
    assert lines[C.ITEM].tolist() == [9, 5]
    check_counts(ds)


def test_fractional_float_ids_are_text_and_nan_is_still_missing(tmp_path):
    pq.write_table(
        pa.table({"customer_id": [1.5, 2.0, NAN], "basket_id": [1, 2, 3], "item_id": ["a"] * 3}),
        tmp_path / "t.parquet",
    )
    with pytest.warns(DataWarning, match="missing_customer 1"):
        ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds")
    assert ds.read("transactions")[C.CUSTOMER].tolist() == ["1.5", "2"]
    assert "nan" not in set(ds.read("transactions")[C.CUSTOMER])


def test_nan_and_inf_quantities_and_prices_are_counted(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text(
        "customer_id,basket_id,item_id,quantity,price\n"
        "1,1,a,1,2.5\n"
        "1,1,b,nan,2.5\n"
        "1,2,c,inf,1\n"
        "2,3,a,1,NaN\n"
        "2,3,b,-inf,-inf\n"
        "2,4,c,,\n"  # empty: kept, without a value
        "2,5,d,2,1e999\n"
    )
    with pytest.warns(DataWarning, match="bad_quantity 3, bad_price 2"):
        ds = ingest([src], tmp_path / "ds")
    assert ds.info["rows_dropped"] == {"bad_quantity": 3, "bad_price": 2}
    lines = ds.read("transactions")
    assert lines[C.ITEM].tolist() == ["a", "c"]
    assert lines[C.QUANTITY].isna().tolist() == [False, True]
    check_counts(ds)
    pq.write_table(
        pa.table(
            {
                "customer_id": [1, 1, 2],
                "basket_id": [1, 1, 2],
                "item_id": [1, 2, 3],
                "quantity": [1.0, NAN, 2.0],
                "price": [INF, 1.0, None],
            }
        ),
        tmp_path / "t.parquet",
    )
    with pytest.warns(DataWarning):
        ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds2")
    assert ds.info["rows_dropped"] == {"bad_quantity": 1, "bad_price": 1}
    check_counts(ds)


def test_side_tables_join_by_id_text_whatever_their_types(tmp_path):
    # Transactions ids are text (one is not a number); the catalogue's are floats (pandas
    # wrote ints with a gap) and the customer table's are integers.
    src = tmp_path / "t.csv"
    src.write_text("customer_id,basket_id,item_id\nA1,1,10\n42,2,0011\n42,2,12\n")
    pq.write_table(
        pa.table({"item_id": [10.0, NAN, 12.0], "name": ["ten", "none", "twelve"]}),
        tmp_path / "items.parquet",
    )
    customers = tmp_path / "customers.csv"
    customers.write_text("customer_id,segment\n42,s\n007,t\n")
    with pytest.warns(DataWarning):
        ds = ingest(
            [src],
            tmp_path / "ds",
            items=[tmp_path / "items.parquet"],
            customers=[customers],
        )
    assert ds.meta["id_types"][C.ITEM] == "string"
    items = ds.read("items")
    assert items[C.ITEM].tolist() == ["10", "12"]
    assert ds.meta["report"]["items"]["rows_dropped"] == {"missing_id": 1}
    assert ds.meta["report"]["items_not_in_table"] == 1  # "0011" is not 11 or "11"
    assert ds.read("customers")[C.CUSTOMER].tolist() == ["42", "007"]
    assert ds.meta["report"]["customers_not_in_table"] == 1  # A1


def test_side_table_ids_keep_blanks_like_the_transactions(tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("customer_id,basket_id,item_id\n1,1,00042137  \n1,1,x\n")
    items = tmp_path / "items.csv"
    items.write_text("item_id,name\n00042137  ,padded\n00042137,bare\n   ,blank\n")
    with pytest.warns(DataWarning):
        ds = ingest([src], tmp_path / "ds", items=[items])
    assert ds.info["rows_dropped"] == {}
    catalogue = ds.read("items")
    assert catalogue[C.ITEM].tolist() == ["00042137  ", "00042137"]
    assert ds.meta["report"]["items"]["rows_dropped"] == {"missing_id": 1}
    assert ds.meta["report"]["items_not_in_table"] == 1  # only "x"


def test_copurchase_csv_ids_are_exact(tmp_path):
    cp = tmp_path / "cp.csv"
    cp.write_text("item,other\n007,008\n007,9\n")
    ds = ingest([], tmp_path / "ds", copurchase=cp)
    pairs = ds.read("copurchase")
    assert pairs[C.ITEM].tolist() == ["007", "007"]
    assert pairs[C.OTHER_ITEM].tolist() == ["008", "9"]
    assert json.loads((tmp_path / "ds" / "dataset.json").read_text())["id_types"] == {
        C.ITEM: "string"
    }
