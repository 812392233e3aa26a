"""Ingestion on tiny generated files: mapping, baskets, drop reasons, side tables, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from customer2vec.columns import Columns as C
from customer2vec.data.dataset import Dataset
from customer2vec.data.ingest import ingest
from customer2vec.data.mapping import ColumnMapping
from customer2vec.errors import DataValidationError, DataWarning

MAPPING = ColumnMapping(
    customer="client", basket="ticket", item="sku", time="sold_at", quantity="units"
)


def write_csv(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_mapped_columns_become_canonical(tmp_path, two_tribes_csv, two_tribes):
    ds = ingest([two_tribes_csv], tmp_path / "ds", mapping=MAPPING)
    lines = ds.read("transactions")
    assert list(lines.columns) == [
        C.CUSTOMER,
        C.BASKET,
        C.ITEM,
        C.SEQUENCE,
        C.TIMESTAMP,
        C.QUANTITY,
    ]
    assert ds.info["rows_read"] == ds.info["rows_kept"] == len(two_tribes) == 240
    assert ds.info["customers"] == 20 and ds.info["baskets"] == 80 and ds.info["items"] == 16
    assert ds.meta["id_types"] == {C.CUSTOMER: "string", C.ITEM: "string", C.BASKET: "int64"}
    # Ids keep their external form; each tribe still buys only its own items.
    tribe_a = lines[lines[C.CUSTOMER].isin([f"c{i}" for i in range(10)])]
    assert tribe_a[C.ITEM].str.startswith("a").all()
    assert lines[C.SEQUENCE].groupby(lines[C.CUSTOMER]).max().eq(4).all()


def test_columns_found_by_common_names(tmp_path):
    src = write_csv(
        tmp_path / "t.csv",
        "user_id,order_id,product_id,order_number\n7,1,10,1\n7,2,11,2\n8,3,10,1\n",
    )
    ds = ingest([src], tmp_path / "ds")
    assert ds.meta["source"]["mapping"] == {
        "customer": "user_id",
        "basket": "order_id",
        "item": "product_id",
        "time": None,
        "sequence": "order_number",
        "quantity": None,
        "price": None,
    }
    assert ds.meta["order"] == "sequence"


def test_sequence_orders_baskets_and_transactions_are_sorted(tmp_path):
    src = write_csv(
        tmp_path / "t.csv", "cust,order_no,sku,n\n2,9,x,2\n1,5,a,3\n1,4,b,1\n1,4,c,1\n2,8,y,1\n"
    )
    ds = ingest(
        [src],
        tmp_path / "ds",
        mapping=ColumnMapping(customer="cust", basket="order_no", item="sku", sequence="n"),
    )
    lines = ds.read("transactions")
    assert lines[C.CUSTOMER].tolist() == [1, 1, 1, 2, 2]
    assert lines[C.ITEM].tolist() == ["b", "c", "a", "y", "x"]
    assert lines[C.SEQUENCE].tolist() == [1, 1, 2, 1, 2]


def test_basket_ids_unique_only_within_customer_are_qualified(tmp_path):
    src = write_csv(tmp_path / "t.csv", "cust,order_no,sku\n1,1,a\n1,2,b\n2,1,c\n2,1,a\n")
    ds = ingest(
        [src],
        tmp_path / "ds",
        mapping=ColumnMapping(customer="cust", basket="order_no", item="sku"),
    )
    lines = ds.read("transactions")
    assert ds.meta["basket_scope"] == "customer"
    assert lines[C.BASKET].tolist() == ["1:1", "1:2", "2:1", "2:1"]
    assert ds.info["baskets"] == 3


def test_without_basket_column_a_basket_is_one_customers_purchase_time(tmp_path):
    src = write_csv(
        tmp_path / "t.csv",
        "user,product,when\nu1,p1,2024-01-01\nu1,p2,2024-01-01\nu1,p1,2024-01-05\n"
        "u2,p1,2024-01-01\n",
    )
    ds = ingest(
        [src], tmp_path / "ds", mapping=ColumnMapping(customer="user", item="product", time="when")
    )
    lines = ds.read("transactions")
    assert ds.meta["basket_scope"] == "derived"
    assert lines[C.BASKET].tolist() == ["u1:1", "u1:1", "u1:2", "u2:1"]


def test_every_dropped_row_is_counted_by_reason(tmp_path):
    src = write_csv(
        tmp_path / "t.csv",
        "client,ticket,sku,sold_at,units\n"
        "c1,1,a,2024-01-01,1\n"
        "c1,1,a,2024-01-01,1\n"  # duplicate
        ",2,b,2024-01-02,1\n"  # missing customer
        "c2,3,,2024-01-02,1\n"  # missing item
        "c2,4,b,not a date,1\n"  # bad timestamp
        "c2,5,b,2024-01-03,-2\n"  # return
        "c2,6,b,2024-01-04,1\n",
    )
    with pytest.warns(DataWarning, match="dropped 5 of 7 rows"):
        ds = ingest([src], tmp_path / "ds", mapping=MAPPING)
    assert ds.info["rows_dropped"] == {
        "duplicate": 1,
        "missing_customer": 1,
        "missing_item": 1,
        "bad_timestamp": 1,
        "return": 1,
    }
    assert ds.info["rows_read"] == 7 and ds.info["rows_kept"] == 2
    assert ds.info["rows_kept"] + sum(ds.info["rows_dropped"].values()) == ds.info["rows_read"]


def test_keep_duplicates_keeps_them(tmp_path):
    src = write_csv(tmp_path / "t.csv", "customer_id,basket_id,item_id\n1,1,a\n1,1,a\n1,2,b\n")
    ds = ingest([src], tmp_path / "ds", keep_duplicates=True)
    assert ds.info["rows_kept"] == 3 and ds.info["rows_dropped"] == {}


def test_oversized_basket_is_dropped_whole_and_counted(tmp_path):
    rows = ["customer_id,basket_id,item_id"] + [f"1,big,i{i}" for i in range(10_000)]
    rows += [f"{c},{c}-{b},i{(c + b) % 9}" for c in range(5) for b in range(3)]
    src = write_csv(tmp_path / "t.csv", "\n".join(rows) + "\n")
    with pytest.warns(DataWarning, match="oversized_basket 10,000"):
        ds = ingest([src], tmp_path / "ds")
    assert ds.info["baskets"] == 15 and ds.info["rows_kept"] == 15
    assert ds.info["rows_dropped"] == {"oversized_basket": 10_000}


def test_item_catalogue_and_customer_table_are_cast_to_transaction_id_types(tmp_path):
    src = write_csv(tmp_path / "t.csv", "customer_id,basket_id,item_id\n1,1,10\n1,1,11\n2,2,12\n")
    items = write_csv(
        tmp_path / "items.csv",
        "sku,title,department\n10,Milk,dairy\n11.0,Bread,bakery\n11,Bread 2,bakery\n"
        "13,Eggs,dairy\n,Nothing,none\n",
    )
    customers = write_csv(tmp_path / "c.csv", "cid,tribe\n1,a\n3,b\n")
    with pytest.warns(DataWarning):
        ds = ingest(
            [src],
            tmp_path / "ds",
            items=[items],
            item_id_col="sku",
            customers=[customers],
            customer_id_col="cid",
        )
    catalogue = ds.read("items")
    assert catalogue[C.ITEM].tolist() == [10, 11, 13]
    # "11.0" is not the text of an integer id: it matches no transaction id (ids are exact).
    assert catalogue[C.NAME].tolist() == ["Milk", "Bread 2", "Eggs"]
    assert ds.meta["report"]["items"]["rows_dropped"] == {"missing_id": 1, "bad_id": 1}
    assert ds.meta["report"]["items_not_in_table"] == 1  # item 12 is sold but not listed
    assert ds.meta["report"]["customers_not_in_table"] == 1  # customer 2
    assert ds.read("customers")[C.CUSTOMER].tolist() == [1, 3]


@pytest.mark.parametrize("suffix", ["json", "csv"])
def test_copurchase_lists_alone_make_a_dataset(tmp_path, suffix):
    if suffix == "json":
        path = tmp_path / "cp.json"
        path.write_text(json.dumps({"1": ["2", "3"], "2": ["1"], "3": ["3", "1"]}))
    else:
        path = write_csv(tmp_path / "cp.csv", "product,other\n1,2\n1,3\n2,1\n3,3\n3,1\n")
    with pytest.warns(DataWarning, match="self_pair 1"):
        ds = ingest([], tmp_path / "ds", copurchase=path)
    pairs = ds.read("copurchase")
    assert pairs[C.ITEM].tolist() == [1, 1, 2, 3]
    assert pairs[C.OTHER_ITEM].tolist() == [2, 3, 1, 1]
    assert pairs[C.RANK].tolist() == [1, 2, 1, 1]  # ranks close up after the dropped self-pair
    assert ds.info["items"] == 3 and ds.info["tables"] == ["copurchase"]


def test_string_ids_keep_leading_zeros(tmp_path):
    src = write_csv(tmp_path / "t.csv", "customer_id,basket_id,item_id\nA-01,1,007\nA-01,1,08\n")
    ds = ingest([src], tmp_path / "ds")
    assert ds.read("transactions")[C.ITEM].tolist() == ["007", "08"]


def test_float_ids_that_are_whole_numbers_become_integers(tmp_path):
    pd.DataFrame(
        {
            "CustomerID": [17850.0, None, 12583.0],
            "InvoiceNo": ["1", "1", "2"],
            "StockCode": ["x", "y", "z"],
        }
    ).to_parquet(tmp_path / "t.parquet")
    with pytest.warns(DataWarning, match="missing_customer 1"):
        ds = ingest([tmp_path / "t.parquet"], tmp_path / "ds")
    assert ds.read("transactions")[C.CUSTOMER].tolist() == [12583, 17850]


def test_many_files_are_read_as_one(tmp_path, two_tribes):
    two_tribes.iloc[:100].to_csv(tmp_path / "part1.csv", index=False)
    two_tribes.iloc[100:].to_csv(tmp_path / "part2.csv", index=False)
    ds = ingest([tmp_path / "part1.csv", tmp_path / "part2.csv"], tmp_path / "ds", mapping=MAPPING)
    assert ds.info["rows_kept"] == len(two_tribes)


@pytest.mark.parametrize(
    ("content", "kwargs", "message"),
    [
        (b"", {}, "is empty"),
        (b"customer_id,item_id,basket_id\n", {}, "no data rows"),
        (b"customer_id,item_id,basket_id\n,a,1\n,b,2\n", {}, "'customer_id'.*empty in every row"),
        (b"customer_id,item_id,basket_id,quantity\n1,a,1,x\n", {}, "'quantity'.*could not be read"),
        (b"customer_id,item_id,basket_id\n1,caf\xe9,1\n", {}, "not valid UTF-8.*--encoding"),
        (b"a,b,c\n1,2,3\n", {}, "no customer column found.*--customer-col"),
        (b"customer_id,item_id\n1,2\n", {}, "cannot tell baskets apart"),
        (
            b"customer_id,item_id,basket_id\n1,2,3\n",
            {"mapping": ColumnMapping(customer="cid")},
            "'cid' \\(--customer-col\\) is not in the data",
        ),
        (
            b"customer_id,item_id,basket_id,t\n1,2,3,03.01.2024 10h00\n",
            {"mapping": ColumnMapping(time="t")},
            "'t' \\(--time-col\\).*--time-format",
        ),
    ],
    ids=[
        "empty",
        "header-only",
        "all-null-ids",
        "wrong-type",
        "non-utf8",
        "no-columns",
        "no-basket",
        "missing-column",
        "time-format",
    ],
)
def test_bad_input_gets_one_clear_error(tmp_path, content, kwargs, message):
    src = tmp_path / "t.csv"
    src.write_bytes(content)
    with pytest.raises(DataValidationError, match=message):
        ingest([src], tmp_path / "ds", **kwargs)
    assert not (tmp_path / "ds").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".ds")]  # no leftovers


def test_latin1_file_reads_with_encoding(tmp_path):
    src = tmp_path / "t.csv"
    src.write_bytes(b"customer_id,item_id,basket_id\n1,caf\xe9,1\n")
    ds = ingest([src], tmp_path / "ds", encoding="latin-1")
    assert ds.read("transactions")[C.ITEM].tolist() == ["café"]


def test_time_format_parses_local_dates(tmp_path):
    src = write_csv(tmp_path / "t.csv", "customer_id,item_id,t\n1,a,03.01.2024\n1,b,04.01.2024\n")
    ds = ingest([src], tmp_path / "ds", mapping=ColumnMapping(time="t"), time_format="%d.%m.%Y")
    assert ds.info["first_timestamp"] == "2024-01-03 00:00:00"
    assert ds.info["baskets"] == 2


def test_output_is_written_atomically_and_not_overwritten_by_default(tmp_path, two_tribes_csv):
    out = tmp_path / "ds"
    first = ingest([two_tribes_csv], out, mapping=MAPPING)
    with pytest.raises(DataValidationError, match="already exists.*--overwrite"):
        ingest([two_tribes_csv], out, mapping=MAPPING)
    again = ingest([two_tribes_csv], out, mapping=MAPPING, overwrite=True)
    assert again.meta["fingerprint"] == first.meta["fingerprint"]
    assert sorted(p.name for p in out.iterdir()) == ["dataset.json", "transactions.parquet"]


def test_open_rejects_a_raw_file(tmp_path, two_tribes_csv):
    with pytest.raises(DataValidationError, match="run `customer2vec ingest`"):
        Dataset.open(two_tribes_csv)
