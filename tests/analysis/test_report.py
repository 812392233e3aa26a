"""The HTML report: one offline file, every section, maps colored by item attributes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ingest_tribes

pytest.importorskip("plotly")
pytest.importorskip("openTSNE")

from customer2vec.analysis.report import build_report, gather
from customer2vec.analysis.segments import segment_model
from customer2vec.cli import cli
from customer2vec.errors import DataValidationError
from customer2vec.workflow.training import resolve_config, train_to_directory

SECTIONS = (
    "item-map",
    "quality",
    "neighbors",
    "segment-map",
    "silhouette",
    "profiles",
    "evaluation",
)


@pytest.fixture(scope="module")
def tribes_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ALS on two tribes; a* items are 'produce', b* items 'bakery' (the planted answer)."""
    root = tmp_path_factory.mktemp("report")
    ingest_tribes(root)
    items = pd.DataFrame({"item_id": [f"{g}{i}" for g in "ab" for i in range(8)]})
    items["name"] = [("Apple " if i.startswith("a") else "Bread ") + i for i in items["item_id"]]
    items["department"] = items["item_id"].str[0].map({"a": "produce", "b": "bakery"})
    items["category"] = (
        items["department"] + "-" + (items["item_id"].str[1].astype(int) % 2).astype(str)
    )
    items.to_csv(root / "items.csv", index=False)
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at")
    ingest(
        [root / "sales.csv"],
        root / "shop",
        mapping=mapping,
        items=[root / "items.csv"],
        overwrite=True,
    )
    config = resolve_config("als", overrides={"n_factors": 8, "n_iterations": 10, "n_threads": 1})
    train_to_directory(root / "shop", root / "als", config)
    return root / "als"


@pytest.fixture
def evaluation_csv(tmp_path: Path) -> Path:
    path = tmp_path / "eval.csv"
    pd.DataFrame(
        {
            "model": ["popularity", "tifu-knn"],
            "customers": [20, 20],
            "fit_s": [0.01, 0.02],
            "recall@10": [0.25, 0.75],
            "ndcg@10": [0.2, 0.6],
        }
    ).to_csv(path, index=False)
    return path


def _payload(page: str, key: str) -> dict:
    match = re.search(rf'<script type="application/json" id="{key}-data">(.*?)</script>', page)
    assert match, f"no {key} data in the page"
    return json.loads(match.group(1))


def test_report_is_one_offline_file_with_every_section(
    tribes_model: Path, evaluation_csv: Path, tmp_path: Path
) -> None:
    from plotly.offline import get_plotlyjs

    out = tmp_path / "out" / "report.html"
    assert build_report(tribes_model, out, evaluation=evaluation_csv, n_jobs=1) == out
    assert sorted(p.name for p in out.parent.iterdir()) == ["report.html"]  # no temp files left
    page = out.read_text(encoding="utf-8")
    assert page.count(get_plotlyjs()[:2000]) == 1  # plotly.js inlined exactly once
    assert not re.search(r"<script[^>]*\ssrc=", page)
    assert not re.search(r"<link[^>]*href=[\"']?https?:", page)
    for key in SECTIONS:
        assert f'<section id="{key}">' in page, key
        assert f'href="#{key}"' in page, key
    assert "Apple a0" in page  # names on hover and in the neighbor tables
    assert "tifu-knn" in page
    assert "<b>0.750</b>" in page  # the best recall is bold


def test_item_map_colors_by_each_attribute(tribes_model: Path, tmp_path: Path) -> None:
    out = build_report(tribes_model, tmp_path / "r.html", n_jobs=1)
    page = out.read_text(encoding="utf-8")
    payload = _payload(page, "item-map")
    assert list(payload["attributes"]) == ["department", "category"]  # coarse attribute first
    department = payload["attributes"]["department"]
    colored = [department["values"][code] for code in department["codes"]]
    expected = ["produce" if label.startswith("Apple") else "bakery" for label in payload["labels"]]
    assert colored == expected
    assert len(payload["x"]) == len(payload["y"]) == 16
    assert '<option value="category">category</option>' in page
    assert _payload(page, "segment-map")["attributes"]["segment"]["values"]


def test_quality_and_segments_recover_the_tribes(tribes_model: Path) -> None:
    data = gather(tribes_model, n_jobs=1, progress=False)
    quality = data.quality.set_index("attribute")
    # 7 of an item's 10 neighbors can share its department (8 items each): 0.7 is perfect.
    assert quality.loc["department", "purity@10"] == pytest.approx(0.7)
    assert quality.loc["department", "purity@10 (map)"] == pytest.approx(0.7)
    assert quality.loc["department", "silhouette"] > 0.3
    assert {"silhouette (map)", "purity@10 (map)"} <= set(quality.columns)
    segments = data.segments
    tribe = pd.Series(segments.labels.index.str[1:].astype(int) < 10, index=segments.labels.index)
    assert (tribe.groupby(segments.labels).nunique() == 1).all()  # no segment mixes tribes
    for segment, produce_lift in segments.lift["produce"].items():
        buys_produce = tribe[segments.labels == segment].iloc[0]
        assert (produce_lift > 1.5) if buys_produce else (produce_lift < 0.5)
    assert len(data.customer_map.ids) == 20
    query, neighbors = data.neighbors[0]
    same = neighbors["department"] == query["department"].iloc[0]
    assert same.head(3).all()


def test_max_items_keeps_the_best_sellers(tribes_model: Path) -> None:
    from customer2vec.data.dataset import Dataset

    data = gather(tribes_model, max_items=5, max_customers=0, n_jobs=1, progress=False)
    counts = Dataset.open(json.loads((tribes_model / "model.json").read_text())["dataset"]["path"])
    best = counts.item_counts()["n"]
    sold = counts.item_counts().set_index("item_id")["n"]
    assert len(data.item_map.ids) == 5
    assert sold.reindex(data.item_map.ids).min() >= best.iloc[4]
    assert data.customer_map is None


def test_segments_folder_is_reused(tribes_model: Path, tmp_path: Path) -> None:
    segment_model(tribes_model, tmp_path / "seg", k=3)
    data = gather(tribes_model, segments=tmp_path / "seg", n_jobs=1, progress=False)
    assert data.segments.summary["k"] == 3
    assert data.segments.source == str(tmp_path / "seg")


def test_item_clusters_and_missing_folders_are_refused(tribes_model: Path, tmp_path: Path) -> None:
    segment_model(tribes_model, tmp_path / "clusters", what="items", k=2)
    with pytest.raises(DataValidationError, match="item clusters"):
        gather(tribes_model, segments=tmp_path / "clusters", progress=False)
    with pytest.raises(DataValidationError, match=r"missing segments\.parquet"):
        gather(tribes_model, segments=tmp_path, progress=False)


def test_cli_report_and_its_errors(
    tribes_model: Path, evaluation_csv: Path, tmp_path: Path
) -> None:
    runner = CliRunner()
    out = tmp_path / "report.html"
    result = runner.invoke(
        cli,
        ["-q", "report", str(tribes_model), "--out", str(out), "--evaluation", str(evaluation_csv)],
    )
    assert result.exit_code == 0, result.output
    assert str(out) in result.stdout
    assert out.is_file()

    bad = tmp_path / "bad.csv"
    pd.DataFrame({"name": ["x"], "recall@10": [0.1]}).to_csv(bad, index=False)
    result = runner.invoke(
        cli, ["report", str(tribes_model), "--out", str(out), "--evaluation", str(bad)]
    )
    assert result.exit_code == 1
    assert "no 'model' column" in result.stderr

    result = runner.invoke(cli, ["report", str(tmp_path), "--out", str(out)])
    assert result.exit_code == 1
    assert "not a customer2vec model" in result.stderr


def test_model_without_vectors_is_refused(tribes_model: Path, tmp_path: Path) -> None:
    dataset = json.loads((tribes_model / "model.json").read_text())["dataset"]["path"]
    train_to_directory(dataset, tmp_path / "pop", resolve_config("popularity"))
    with pytest.raises(DataValidationError, match="no item or customer vectors"):
        build_report(tmp_path / "pop", tmp_path / "r.html")
    assert not (tmp_path / "r.html").exists()
