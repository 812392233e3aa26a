"""Catalogues and customer tables of any column type serve every endpoint (no 500).

The model's catalogue has a numeric name column and a date attribute, plus a timestamp,
decimal, bool, integer with NA, float with NaN, bytes, list and dictionary-encoded column;
its customer table a date and a decimal. Values come back JSON-safe: dates and decimals as
strings, missing values left out of ``attributes``.
"""

from __future__ import annotations

import datetime
import decimal
import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import make_raw_transactions

pytest.importorskip("fastapi")

ITEM2VEC = {"n_factors": 8, "n_epochs": 5, "sample": 0.0, "n_threads": 1, "random_state": 0}
N_ITEMS = 10  # a0-a4, b0-b4


def _items_table(skus: list[str]):
    """Item i: name 1000 + i, launched on 2024-01-(1 + i), and a column of every other kind."""
    import pyarrow as pa

    n = len(skus)
    return pa.table(
        {
            "sku": skus,
            "name": pa.array([1000 + i for i in range(n)], pa.int64()),
            "department": pa.array([datetime.date(2024, 1, 1 + i) for i in range(n)]),
            "launched": pa.array(
                [datetime.datetime(2024, 1, 1 + i, 12) for i in range(n)],
                pa.timestamp("us", tz="UTC"),
            ),
            "price": pa.array([decimal.Decimal("1.25") + i for i in range(n)], pa.decimal128(9, 2)),
            "organic": pa.array([i % 2 == 0 for i in range(n)]),
            "stock": pa.array([None if i % 3 == 0 else i for i in range(n)], pa.int64()),
            "weight": pa.array([float("nan") if i % 2 else 1.5 for i in range(n)]),
            "code": pa.array([bytes([65 + i, 255]) for i in range(n)], pa.binary()),
            "tags": pa.array([["x", f"t{i}"] for i in range(n)], pa.list_(pa.string())),
            "color": pa.array(["red", "blue"] * (n // 2)).dictionary_encode(),
        }
    )


@pytest.fixture(scope="module")
def typed_model(tmp_path_factory) -> Path:
    import pyarrow.parquet as pq

    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping
    from customer2vec.workflow.training import resolve_config, train_to_directory

    root = tmp_path_factory.mktemp("typed")
    raw = make_raw_transactions(
        customers_per_group=4, items_per_group=5, baskets_per_customer=3, basket_size=2
    )
    raw.to_csv(root / "sales.csv", index=False)
    skus = sorted(raw["sku"].unique())
    assert len(skus) == N_ITEMS
    pq.write_table(_items_table(skus), root / "items.parquet")
    clients = sorted(raw["client"].unique())
    pd.DataFrame(
        {
            "client": clients,
            "born": [datetime.date(1980 + i, 5, 1) for i in range(len(clients))],
            "spend": [decimal.Decimal("10.50")] * len(clients),
        }
    ).to_parquet(root / "customers.parquet")
    dataset = ingest(
        [root / "sales.csv"],
        root / "dataset",
        mapping=ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at"),
        items=[root / "items.parquet"],
        item_id_col="sku",
        item_name_col="name",
        customers=[root / "customers.parquet"],
        customer_id_col="client",
    )
    out = root / "model"
    train_to_directory(dataset.path, out, resolve_config("item2vec", overrides=ITEM2VEC))
    return out


def _client(model_dir: Path, map_items: int = 0):
    from fastapi.testclient import TestClient

    from customer2vec.api import create_app

    app = create_app(model_dir, map_items=map_items)
    assert app.state.explorer.map_ready.wait(120)
    return TestClient(app, raise_server_exceptions=False)


def _ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def _all_items(client) -> list[dict]:
    """Every item record of every endpoint that lists items, each checked for JSON types."""
    records = _ok(client.get("/items", params={"n": 100}))["items"]
    for item in [r["item_id"] for r in records]:
        records.append(_ok(client.get(f"/items/{item}")))
        similar = _ok(client.get(f"/items/{item}/similar", params={"n": 3}))
        records += [similar["item"], *similar["neighbors"]]
    history = _ok(client.get("/customers/c1", params={"baskets": 100}))
    records += history["top_items"] + [i for b in history["baskets"] for i in b["items"]]
    records += _ok(client.get("/customers/c1/recommendations", params={"n": 5}))["items"]
    records += _ok(client.post("/recommendations", json={"items": ["a1", "b2"], "n": 5}))["items"]
    records += _ok(client.get("/map"))["points"]
    for record in records:
        assert record["name"] is None or isinstance(record["name"], str)
        for value in record["attributes"].values():
            assert value is None or isinstance(value, str | int | float | bool)
    return records


def test_numeric_names_and_date_attributes_serve_every_item_endpoint(typed_model):
    client = _client(typed_model, map_items=N_ITEMS)
    records = _all_items(client)
    assert {r["item_id"] for r in records} == {f"{g}{i}" for g in "ab" for i in range(5)}
    expected_names = {f"{g}{i}": str(1000 + 5 * "ab".index(g) + i) for g in "ab" for i in range(5)}
    assert all(r["name"] == expected_names[r["item_id"]] for r in records)
    # Display attributes: the date as an ISO string, the dictionary-encoded column as text.
    assert _ok(client.get("/items", params={"q": "a1"}))["items"][0]["attributes"] == {
        "department": "2024-01-02",
        "color": "blue",
    }
    detail = _ok(client.get("/items/a1"))
    assert detail["name"] == "1001"
    assert detail["attributes"] == {
        "department": "2024-01-02",
        "launched": "2024-01-02T12:00:00+00:00",
        "price": "2.25",
        "organic": False,
        "stock": 1,
        "code": "B\\xff",
        "tags": "x, t1",
        "color": "blue",
    }  # weight is NaN for a1: left out
    assert _ok(client.get("/items/a0"))["attributes"]["weight"] == 1.5
    assert "stock" not in _ok(client.get("/items/a0"))["attributes"]  # NA
    # Search finds numeric names and date attributes.
    assert [i["item_id"] for i in _ok(client.get("/items", params={"q": "1003"}))["items"]] == [
        "a3"
    ]
    assert _ok(client.get("/items", params={"q": "2024-01-0"}))["total"] == 9
    # The map colors by the date attribute.
    body = _ok(client.get("/map"))
    if importlib.util.find_spec("openTSNE") is not None:
        assert body["available"], body["hint"]
    if body["available"]:
        assert body["color_by"] == "department"
        assert {p["group"] for p in body["points"]} == {
            f"2024-01-{d:02d}" for d in range(1, N_ITEMS + 1)
        }
    customer = _ok(client.get("/customers/c1"))
    assert customer["attributes"] == {"born": "1981-05-01", "spend": "10.50"}


def test_pandas_column_types_in_the_models_catalogue_serve(typed_model, tmp_path_factory):
    """A catalogue saved from pandas with extension dtypes (categorical, Int64, boolean,
    tz-aware times, durations, objects) and a float name column with NaN."""
    copy = typed_model.parent / "model_pandas_types"
    shutil.copytree(typed_model, copy)
    items = pd.read_parquet(typed_model / "items.parquet")[["item_id"]]
    n = len(items)
    items["name"] = [np.nan if i == 0 else 1000.0 + i for i in range(n)]
    items["category"] = pd.Categorical(["x", None] * (n // 2))
    items["brand"] = pd.array([pd.NA if i % 2 else i for i in range(n)], dtype="Int64")
    items["department"] = pd.array([True, pd.NA] * (n // 2), dtype="boolean")
    items["since"] = pd.date_range("2024-03-01", periods=n, freq="D", tz="Europe/Paris")
    items["shelf_life"] = pd.to_timedelta(range(n), unit="D")
    items["text"] = pd.array(["é"] * (n - 1) + [pd.NA], dtype="string")
    items["price"] = [decimal.Decimal("NaN")] + [decimal.Decimal("0.10")] * (n - 1)
    items["stamp"] = pd.Series([pd.NaT] + [pd.Timestamp("2024-01-01")] * (n - 1))
    items.to_parquet(copy / "items.parquet")
    client = _client(copy)
    records = _all_items(client)
    names = {r["item_id"]: r["name"] for r in records}
    assert names["a0"] is None and names["a1"] == "1001"
    assert _ok(client.get("/items/a0"))["attributes"] == {
        "category": "x",
        "brand": 0,
        "department": True,
        "since": "2024-03-01T00:00:00+01:00",
        "shelf_life": "P0DT0H0M0S",
        "text": "é",
    }
    assert _ok(client.get("/items/a1"))["attributes"] == {
        "since": "2024-03-02T00:00:00+01:00",
        "shelf_life": "P1DT0H0M0S",
        "text": "é",
        "price": "0.10",
        "stamp": "2024-01-01T00:00:00",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (float("nan"), None),
        (float("inf"), None),
        (np.float32("nan"), None),
        (pd.NA, None),
        (pd.NaT, None),
        (np.datetime64("NaT"), None),
        (np.timedelta64("NaT"), None),
        (decimal.Decimal("NaN"), None),
        (np.int64(7), 7),
        (np.uint64(2**64 - 1), 2**64 - 1),
        (np.float32(0.5), 0.5),
        (np.bool_(True), True),
        (True, True),
        ("text", "text"),
        (decimal.Decimal("1.10"), "1.10"),
        (datetime.date(2024, 2, 29), "2024-02-29"),
        (datetime.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05"),
        (datetime.time(12, 30), "12:30:00"),
        (pd.Timestamp("2024-01-02", tz="UTC"), "2024-01-02T00:00:00+00:00"),
        (np.datetime64("2024-01-02T03:04"), "2024-01-02T03:04:00"),
        (datetime.timedelta(hours=1), "P0DT1H0M0S"),
        (np.timedelta64(90, "s"), "P0DT0H1M30S"),
        (b"ab\xff", "ab\\xff"),
        (["a", None, 2], "a, 2"),
        (np.array([1.5, np.nan]), "1.5"),
        ({"k": np.int64(1), "d": datetime.date(2024, 1, 1)}, '{"k": 1, "d": "2024-01-01"}'),
        (1 + 2j, "(1+2j)"),
    ],
)
def test_every_value_becomes_a_json_scalar(value, expected):
    from customer2vec.api.explorer import _clean

    assert _clean(value) == expected
    assert type(_clean(value)) is type(expected)
