"""Fixtures of the command-line tests: an in-process runner and a tiny ingested dataset."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from customer2vec.cli import cli


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def tribes_dataset(runner, tmp_path, two_tribes_csv, mapping_flags):
    out = tmp_path / "ds"
    result = runner.invoke(
        cli, ["-q", "ingest", str(two_tribes_csv), "--out", str(out), *mapping_flags]
    )
    assert result.exit_code == 0, result.output
    return out
