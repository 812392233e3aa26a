"""`open_model`: one way into a model directory; its parts agree with the model's settings.

The planted answer: customers c0-c9 buy a* items (Fruit), c10-c19 b* items (Bakery), and each
of c0-c9 also buys one snack z<c> of its own, once. A model trained with min_item_count=2
never sees the snacks, so nothing opened from it (history, segments, report) may show them.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from conftest import make_raw_transactions
from customer2vec.analysis.segments import read_segments, segment_model
from customer2vec.errors import DataValidationError
from customer2vec.workflow.opened import open_model
from customer2vec.workflow.training import resolve_config, train_to_directory

ALS = {"n_factors": 8, "n_iterations": 10, "n_threads": 1, "random_state": 0}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    root = tmp_path_factory.mktemp("opened")
    raw = make_raw_transactions()
    firsts = raw[raw["client"].str[1:].astype(int) < 10].drop_duplicates("client")
    snacks = firsts.assign(sku="z" + firsts["client"].str[1:])
    pd.concat([raw, snacks], ignore_index=True).to_csv(root / "sales.csv", index=False)
    skus = sorted({*raw["sku"], *snacks["sku"]})
    department = {"a": "Fruit", "b": "Bakery", "z": "Snacks"}
    pd.DataFrame(
        {
            "sku": skus,
            "name": [f"item {s}" for s in skus],
            "department": [department[s[0]] for s in skus],
        }
    ).to_csv(root / "items.csv", index=False)
    ingest(
        [root / "sales.csv"],
        root / "shop",
        mapping=ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at"),
        items=[root / "items.csv"],
        item_id_col="sku",
    )
    return root


def _train(shop: Path, name: str, min_item_count: int) -> Path:
    out = shop / name
    if not out.exists():
        config = resolve_config("als", overrides=ALS)
        config["min_item_count"] = min_item_count
        train_to_directory(shop / "shop", out, config)
    return out


@pytest.fixture(scope="module")
def als(shop: Path) -> Path:
    """ALS trained without the snacks (min_item_count=2)."""
    return _train(shop, "als", 2)


def test_open_model_reads_every_part_with_the_models_settings(als: Path, shop: Path) -> None:
    opened = open_model(als)
    assert opened.meta["model"] == "als" and opened.model.name == "als"
    assert opened.min_item_count == 2
    assert opened.dataset.path.resolve() == (shop / "shop").resolve()
    items = set(opened.history.item_ids.external)
    assert items == set(opened.model.item_vectors_.keys)  # the model's vocabulary
    assert not any(str(item).startswith("z") for item in items)
    assert opened.history.n_customers == 20
    assert opened.catalog.table.loc["a0", "name"] == "item a0"
    assert opened.segments is None
    assert opened.can_rank
    assert opened.recommender.history is opened.history  # built once
    hits = opened.recommender.recommend("c1", n=3, exclude_seen=False)
    assert all(item.startswith("a") for item in hits.ids)


def test_the_dataset_is_read_only_when_needed(als: Path, tmp_path: Path) -> None:
    moved = tmp_path / "alone"
    shutil.copytree(als, moved)
    document = json.loads((moved / "model.json").read_text())
    document["dataset"] = {"path": str(tmp_path / "gone")}
    (moved / "model.json").write_text(json.dumps(document))
    opened = open_model(moved)
    assert opened.model.item_vectors_.dim == 8  # the model opens without its dataset
    assert opened.find_dataset() is None
    assert opened.catalog.table.loc["a0", "name"] == "item a0"  # saved with the model
    with pytest.raises(DataValidationError, match="is gone"):
        opened.history  # noqa: B018


def test_the_catalogue_falls_back_to_the_datasets_items(als: Path, tmp_path: Path) -> None:
    copy = tmp_path / "no-items"
    shutil.copytree(als, copy)
    (copy / "items.parquet").unlink()
    catalog = open_model(copy).catalog
    assert catalog.table.loc["z3", "department"] == "Snacks"  # the dataset's whole table


def test_segments_see_only_the_models_items(als: Path, shop: Path, tmp_path: Path) -> None:
    """The bug fixed: segment rebuilt baskets without the model's min_item_count."""
    control = _train(shop, "als-all-items", 1)
    segment_model(control, tmp_path / "control", k=2)
    assert "Snacks" in set(read_segments(tmp_path / "control").profiles["group"])  # planted

    segment_model(als, tmp_path / "segments", k=2)
    folder = read_segments(tmp_path / "segments")
    assert "Snacks" not in set(folder.profiles["group"])
    assert folder.what == "customers" and folder.k == 2
    assert not folder.distinctive["item_id"].astype(str).str.startswith("z").any()
    assert not folder.samples["top_items"].str.contains("item z").any()
    opened = open_model(als, segments=tmp_path / "segments")
    assert opened.segments.k == 2
    assert set(opened.segments.labels.index) == set(opened.history.customer_ids.external)


def test_the_report_profiles_only_the_models_items(als: Path, tmp_path: Path) -> None:
    pytest.importorskip("openTSNE")
    from customer2vec.analysis.report import gather

    copy = tmp_path / "no-items"  # the catalogue is then the dataset's, snacks included
    shutil.copytree(als, copy)
    (copy / "items.parquet").unlink()
    data = gather(copy, max_items=0, max_customers=0, n_top_items=0, n_jobs=1, progress=False)
    assert data.segments is not None and data.segments.attribute == "department"
    assert "Snacks" not in data.segments.lift.columns
    assert {"Fruit", "Bakery"} <= set(data.segments.lift.columns)


def test_read_segments_names_what_is_wrong(als: Path, tmp_path: Path) -> None:
    with pytest.raises(DataValidationError, match=r"not a segment folder \(missing segments"):
        read_segments(tmp_path)
    segment_model(als, tmp_path / "clusters", what="items", k=2)
    clusters = read_segments(tmp_path / "clusters")
    assert clusters.what == "items"
    assert set(clusters.labels.index) == set(open_model(als).model.item_vectors_.keys)
    (tmp_path / "clusters" / "summary.json").write_text("{not json")
    with pytest.raises(DataValidationError, match="corrupt segment file"):
        read_segments(tmp_path / "clusters")
    with pytest.raises(DataValidationError, match="not a segment folder"):
        open_model(als, segments=tmp_path)
