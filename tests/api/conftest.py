"""Models trained once on two tribes with a catalogue, for the API and browser tests.

Tribe A (customers c0-c11) buys only "Apple" items 100-111 (department Fruit); tribe B
(c12-c23) buys only "Bread" items 200-211 (Bakery); each customer buys 12 lines in 4 baskets,
so most leave some of their tribe's items unbought. Item ids are integers, customer ids
strings, so the tests see both forms kept end to end.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from conftest import make_raw_transactions

pytest.importorskip("fastapi")

#: Small, fast, single-threaded settings that still separate the tribes.
ITEM2VEC = {"n_factors": 16, "n_epochs": 40, "sample": 0.0, "n_threads": 1, "random_state": 0}


def _ingest(root: Path):
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    raw = make_raw_transactions(
        customers_per_group=12, items_per_group=12, baskets_per_customer=4, basket_size=3
    )
    raw["sku"] = raw["sku"].map(lambda s: 100 * ("ab".index(s[0]) + 1) + int(s[1:]))
    # c1 has one basket fewer than everyone else (a search for "c1" still lists it first).
    last = raw.loc[raw["client"] == "c1", "ticket"].max()
    raw = raw[raw["ticket"] != last].reset_index(drop=True)
    raw.to_csv(root / "sales.csv", index=False)
    skus = sorted(raw["sku"].unique())
    pd.DataFrame(
        {
            "sku": skus,
            "name": [f"{'Apple' if s < 200 else 'Bread'} no. {s % 100}" for s in skus],
            "department": ["Fruit" if s < 200 else "Bakery" for s in skus],
        }
    ).to_csv(root / "items.csv", index=False)
    clients = sorted(raw["client"].unique())
    pd.DataFrame({"client": clients, "has_kids": [int(c[1:]) < 12 for c in clients]}).to_csv(
        root / "customers.csv", index=False
    )
    return ingest(
        [root / "sales.csv"],
        root / "tribes",
        mapping=ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at"),
        items=[root / "items.csv"],
        item_id_col="sku",
        item_name_col="name",
        customers=[root / "customers.csv"],
        customer_id_col="client",
    )


def _train(dataset, out: Path, name: str, **params) -> Path:
    from customer2vec.workflow.training import resolve_config, train_to_directory

    train_to_directory(dataset.path, out, resolve_config(name, overrides=params))
    return out


@pytest.fixture(scope="session")
def api_models(tmp_path_factory) -> dict[str, Path]:
    """Model directories (item2vec, tifu-knn, copurchase) and item2vec customer segments."""
    from customer2vec.analysis.segments import segment_model

    root = tmp_path_factory.mktemp("api")
    dataset = _ingest(root)
    models = {
        "item2vec": _train(dataset, root / "i2v", "item2vec", **ITEM2VEC),
        "tifu-knn": _train(dataset, root / "tifu", "tifu-knn"),
        "copurchase": _train(dataset, root / "cp", "copurchase", n_factors=8),
    }
    segment_model(models["item2vec"], root / "segments", k=2)
    models["segments"] = root / "segments"
    return models


@pytest.fixture(scope="session")
def app(api_models):
    from customer2vec.api import create_app

    app = create_app(api_models["item2vec"], segments_dir=api_models["segments"], map_items=12)
    assert app.state.explorer.map_ready.wait(120), "the map was not projected in 2 minutes"
    return app


@pytest.fixture(scope="session")
def client(app):
    from fastapi.testclient import TestClient

    # A server error must come back as a 500 response here, not as a raised exception.
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client
