"""Column mapping: explicit names win, auto-detection never steals a named column, one
column may be both basket id and sequence, and what was auto-detected is logged and stored."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.columns import Columns as C
from customer2vec.data.ingest import ingest
from customer2vec.data.mapping import ColumnMapping
from customer2vec.errors import DataValidationError

# Order numbers count each customer's orders (Instacart style); the file is not in order.
ORDER_NUMBERS = "CUST,ORDER_NUMBER,PRODUCT\n1,2,milk\n1,1,bread\n1,1,eggs\n2,1,milk\n2,2,tea\n"


def test_explicit_names_win_over_common_names():
    columns = ["customer_id", "user_id", "order_id", "item_id", "price", "amount"]
    given = ColumnMapping(customer="user_id", quantity="price")
    mapping = given.resolve(columns)
    assert mapping.customer == "user_id"
    assert mapping.quantity == "price"
    # price's common name is taken by --quantity-col, so price falls to the next alias
    assert mapping.price == "amount"
    assert given.detected(mapping) == {
        "basket": "order_id",
        "item": "item_id",
        "price": "amount",
    }


def test_auto_detection_never_takes_a_column_named_for_another_role():
    columns = ["CUST", "ORDER_NUMBER", "PRODUCT"]
    mapping = ColumnMapping(customer="CUST", basket="ORDER_NUMBER", item="PRODUCT")
    resolved = mapping.resolve(columns)
    # order_number is a common name of the sequence role; the user named it for the basket,
    # so it serves both (the one pair of roles a column may share), never only the sequence.
    assert (resolved.basket, resolved.sequence) == ("ORDER_NUMBER", "ORDER_NUMBER")
    assert mapping.detected(resolved) == {"sequence": "ORDER_NUMBER"}


def test_a_named_basket_column_is_not_reused_as_sequence_when_its_name_is_not_one():
    resolved = ColumnMapping(customer="c", basket="ticket", item="i").resolve(["c", "ticket", "i"])
    assert resolved.sequence is None


def test_one_column_may_be_basket_and_sequence_explicitly():
    mapping = ColumnMapping(customer="c", basket="n", item="i", sequence="n")
    assert mapping.resolve(["c", "n", "i"]).sequence == "n"


@pytest.mark.parametrize(
    ("given", "flags"),
    [
        (ColumnMapping(customer="c", basket="n", item="n"), "--basket-col and --item-col"),
        (ColumnMapping(customer="n", item="i", time="n"), "--customer-col and --time-col"),
        (ColumnMapping(customer="c", item="i", sequence="q", quantity="q"), "--sequence-col"),
    ],
)
def test_two_roles_on_one_column_are_an_error_except_basket_and_sequence(given, flags):
    with pytest.raises(DataValidationError, match=f"named for two roles \\({flags}"):
        given.resolve(["c", "n", "i", "q"])


@pytest.mark.parametrize("with_sequence_flag", [True, False])
def test_order_numbers_per_customer_as_basket_and_sequence(tmp_path, with_sequence_flag):
    src = tmp_path / "orders.csv"
    src.write_text(ORDER_NUMBERS)
    flags = ["--customer-col", "CUST", "--basket-col", "ORDER_NUMBER", "--item-col", "PRODUCT"]
    if with_sequence_flag:
        flags += ["--sequence-col", "ORDER_NUMBER"]
    out = tmp_path / "ds"
    result = CliRunner().invoke(cli, ["ingest", str(src), "--out", str(out), *flags])
    assert result.exit_code == 0, result.output
    assert ("auto-detected columns: sequence=ORDER_NUMBER" in result.stderr) != with_sequence_flag
    meta = json.loads((out / "dataset.json").read_text())
    assert meta["source"]["mapping"]["basket"] == meta["source"]["mapping"]["sequence"]
    assert meta["basket_scope"] == "customer"  # order 1 of customer 1 is not order 1 of 2
    assert meta["order"] == "sequence"
    info = json.loads(CliRunner().invoke(cli, ["info", str(out), "--json"]).stdout)
    assert info["rows_kept"] == 5 and info["baskets"] == 4
    lines = pd.read_parquet(out / "transactions.parquet")
    # baskets follow the order numbers, not the order of the file
    assert lines[C.BASKET].tolist() == ["1:1", "1:1", "1:2", "2:1", "2:2"]
    assert lines[C.ITEM].tolist() == ["bread", "eggs", "milk", "milk", "tea"]
    assert lines[C.SEQUENCE].tolist() == [1, 1, 2, 1, 2]


def test_auto_detected_roles_are_logged_and_stored(tmp_path, caplog):
    src = tmp_path / "t.csv"
    src.write_text("client,ticket,sku,order_date,qty\nc1,1,a,2024-01-01,2\nc1,2,b,2024-01-03,1\n")
    with caplog.at_level(logging.INFO, logger="customer2vec"):
        ds = ingest(
            [src], tmp_path / "ds", mapping=ColumnMapping(customer="client", basket="ticket")
        )
    assert (
        "auto-detected columns: item=sku, time=order_date, quantity=qty "
        "(override with --item-col, --time-col, --quantity-col)"
    ) in caplog.text
    assert ds.meta["source"]["auto_detected"] == {
        "item": "sku",
        "time": "order_date",
        "quantity": "qty",
    }
    assert ds.info["source"]["auto_detected"]["time"] == "order_date"
