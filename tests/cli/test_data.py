"""Data commands in-process (cli/data.py): ingest, info, synth, demo."""

from __future__ import annotations

import json

import pytest

from customer2vec.cli import cli

INFO_KEYS = {
    "rows_read",
    "rows_kept",
    "rows_dropped",
    "customers",
    "baskets",
    "items",
    "line_items",
}


def test_ingest_then_info_json(runner, tmp_path, two_tribes_csv, mapping_flags):
    out = tmp_path / "ds"
    result = runner.invoke(
        cli, ["-q", "ingest", str(two_tribes_csv), "--out", str(out), *mapping_flags]
    )
    assert result.exit_code == 0, result.output
    assert "rows_kept" in result.stdout and "240" in result.stdout
    result = runner.invoke(cli, ["info", str(out), "--json"])
    assert result.exit_code == 0
    info = json.loads(result.stdout)
    assert set(info) >= INFO_KEYS
    assert (info["customers"], info["baskets"], info["items"]) == (20, 80, 16)
    assert info["rows_dropped"] == {}


def test_dropped_rows_are_warned_on_stderr(runner, tmp_path):
    src = tmp_path / "t.csv"
    src.write_text("customer_id,basket_id,item_id,quantity\n1,1,a,1\n1,1,a,1\n2,2,b,-1\n")
    result = runner.invoke(cli, ["-q", "ingest", str(src), "--out", str(tmp_path / "ds"), "--json"])
    assert result.exit_code == 0, result.output
    assert "warning: dropped 2 of 3 rows: duplicate 1, return 1" in result.stderr
    assert json.loads(result.stdout)["rows_dropped"] == {"duplicate": 1, "return": 1}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ingest", "missing.csv", "--out", "x"], "error: transactions file not found"),
        (
            ["ingest", "{csv}", "--out", "x", "--customer-col", "nope"],
            "error: column 'nope' (--customer-col) is not in the data",
        ),
        (["info", "{csv}"], "error: {csv} is not a customer2vec dataset"),
        (["ingest", "--out", "x"], "error: no transactions given"),
    ],
)
def test_bad_input_exits_1_with_one_line(runner, tmp_path, two_tribes_csv, args, message):
    args = [a.format(csv=two_tribes_csv) for a in args]
    result = runner.invoke(cli, ["-q", *args])
    assert result.exit_code == 1
    assert result.stderr.startswith(message.format(csv=two_tribes_csv))
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


@pytest.mark.slow
def test_demo_ingests_the_complete_journey_from_the_package(runner, tmp_path):
    import pandas as pd

    result = runner.invoke(cli, ["-q", "demo", "--out", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    assert "1,469,307" in result.stdout
    assert (tmp_path / "demo" / "completejourney" / "dataset.json").is_file()
    assert (tmp_path / "demo" / "segments" / "customer2vec" / "silhouette.html").is_file()
    assert "customer segments (customer2vec vectors)" in result.stdout
    evaluation = pd.read_csv(tmp_path / "demo" / "evaluation.csv")
    assert {"tifu-knn", "next-basket"} <= set(evaluation["model"])
    assert evaluation.set_index("model").loc["tifu-knn", "recall@10"] > 0.1
    assert "next-basket evaluation" in result.stdout
    report = tmp_path / "demo" / "report.html"
    page = report.read_text(encoding="utf-8")
    for section in ("item-map", "quality", "segment-map", "profiles", "evaluation"):
        assert f'<section id="{section}">' in page, section
    assert f"report: {report}" in result.stdout
    models = tmp_path / "demo" / "models"
    assert f"customer2vec serve {models / 'customer2vec'} --segments" in result.stdout
