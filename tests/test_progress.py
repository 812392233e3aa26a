"""Progress: a bar on a terminal, a line every few percent in a log, nothing when off."""

from __future__ import annotations

import io

import pytest

from customer2vec import progress as progress_module
from customer2vec.progress import STEP, LogProgress, progress, set_enabled


@pytest.fixture(autouse=True)
def _automatic(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(progress_module.ENV, raising=False)
    set_enabled(None)
    yield
    set_enabled(None)


def test_log_lines_every_step_and_at_the_end() -> None:
    out = io.StringIO()
    with progress(total=1000, desc="train", unit="row", file=out) as bar:
        assert isinstance(bar, LogProgress)
        for _ in range(100):
            bar.update(10)
    lines = out.getvalue().splitlines()
    assert len(lines) == 100 // STEP  # 5%, 10%, ... 95%, then the final line at 100%
    assert lines[0].startswith(f"train: {STEP}% (50/1,000 row)")
    assert "left" in lines[0]
    assert lines[-1].startswith("train: 100% (1,000/1,000 row)")


def test_big_updates_write_one_line_not_one_per_step() -> None:
    out = io.StringIO()
    with progress(total=100, desc="x", file=out) as bar:
        bar.update(60)
        bar.update(40)
    assert [line.split(" (")[0] for line in out.getvalue().splitlines()] == ["x: 60%", "x: 100%"]


def test_postfix_shows_in_the_line() -> None:
    out = io.StringIO()
    bar = progress(range(2), desc="ae", unit="epoch", file=out)
    for _ in bar:
        bar.set_postfix(loss="0.5")
    assert out.getvalue().splitlines()[-1].endswith("elapsed, loss=0.5")


def test_iterable_and_unknown_total() -> None:
    out = io.StringIO()
    assert list(progress(iter(range(3)), desc="walk", file=out)) == [0, 1, 2]
    assert out.getvalue().startswith("walk: (3 it)")


def test_off_globally_by_quiet_and_by_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    out = io.StringIO()
    set_enabled(False)
    with progress(total=10, desc="q", file=out) as bar:
        bar.update(10)
    set_enabled(None)
    monkeypatch.setenv(progress_module.ENV, "0")
    with progress(total=10, desc="q", file=out, enabled=True) as bar:
        bar.update(10)
    assert out.getvalue() == ""


def test_off_for_one_short_task() -> None:
    out = io.StringIO()
    assert list(progress(range(4), desc="short", file=out, enabled=False)) == [0, 1, 2, 3]
    assert out.getvalue() == ""


def test_cli_quiet_silences_progress_in_logs(tmp_path) -> None:
    from click.testing import CliRunner

    from customer2vec.cli import cli

    runner = CliRunner()
    loud = runner.invoke(
        cli, ["synth", "--customers", "60", "--items", "40", "--out", str(tmp_path / "a")]
    )
    assert loud.exit_code == 0, loud.output
    quiet = runner.invoke(
        cli, ["-q", "synth", "--customers", "60", "--items", "40", "--out", str(tmp_path / "b")]
    )
    assert quiet.exit_code == 0, quiet.output
    assert "synth: 100%" in loud.stderr
    assert "%" not in quiet.stderr
