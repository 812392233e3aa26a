"""Choosing the engine: flags, and one clear error where Spark cannot run (no Spark needed)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.data import spark as spark_module
from customer2vec.data.dataset import use_engine
from customer2vec.errors import ConfigError


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_spark_master_without_spark_engine_is_a_usage_error(runner, tmp_path, two_tribes_csv):
    for command in (
        ["ingest", str(two_tribes_csv), "--out", str(tmp_path / "ds")],
        ["train", str(tmp_path), "--model", "item2vec", "--out", str(tmp_path / "m")],
    ):
        result = runner.invoke(cli, [*command, "--spark-master", "local[2]"])
        assert result.exit_code == 2, result.output
        assert "--spark-master needs --engine spark" in result.output


def test_presets_with_duckdb_only_sql_refuse_spark(runner, tmp_path):
    out = str(tmp_path / "d")
    args = ["ingest", str(tmp_path), "--preset", "instacart", "--out", out, "--engine", "spark"]
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert "runs on the duckdb engine only" in result.output


def test_no_java_is_one_clear_error_line(runner, tmp_path, two_tribes_csv, monkeypatch):
    monkeypatch.delenv("SPARK_REMOTE", raising=False)
    monkeypatch.setattr(spark_module, "_java_found", lambda: False)
    result = runner.invoke(
        cli,
        ["ingest", str(two_tribes_csv), "--out", str(tmp_path / "ds"), "--engine", "spark"],
    )
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: Spark needs a Java runtime")
    assert not (tmp_path / "ds").exists()


def test_use_engine_refuses_an_unknown_engine():
    with pytest.raises(ConfigError, match="`engine` must be one of duckdb, spark"), use_engine("x"):
        pass
