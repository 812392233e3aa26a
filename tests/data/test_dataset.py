"""Dataset directories: ``--overwrite`` replaces only our own output, corrupt files are named."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.data.dataset import Dataset
from customer2vec.data.outputs import (
    DATASET_OUTPUT,
    MODEL_OUTPUT,
    SEGMENTS_OUTPUT,
    atomic_directory,
    check_file_output,
    check_output,
    remove_stale_siblings,
)
from customer2vec.data.synth import write_synth
from customer2vec.errors import DataValidationError

TINY = {"n_customers": 5, "n_items": 20, "n_departments": 2, "n_categories": 4, "random_state": 0}
NOT_OURS = "was not written by customer2vec"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    return write_synth(tmp_path / "ds", **TINY)


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- --overwrite ---------------------------------------------------------------------------
def test_overwrite_refuses_a_folder_that_is_not_a_dataset(runner, tmp_path, two_tribes_csv):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "todo.txt").write_text("buy milk")
    result = runner.invoke(
        cli, ["-q", "ingest", str(two_tribes_csv), "--out", str(notes), "--overwrite"]
    )
    line = _one_error_line(result)
    assert f"{notes} exists and {NOT_OURS} (no dataset.json)" in line
    assert "Choose another --out or remove it yourself." in line
    assert (notes / "todo.txt").read_text() == "buy milk"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes", "sales.csv"]  # no temp dirs


def test_overwrite_replaces_our_dataset_and_empty_folders(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    write_synth(empty, overwrite=True, **TINY)
    assert Dataset.open(empty).info["customers"] == 5
    write_synth(empty, overwrite=True, **{**TINY, "n_customers": 7})
    assert Dataset.open(empty).info["customers"] == 7
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty"]


def test_overwrite_refuses_a_dataset_holding_files_we_did_not_write(dataset):
    (dataset / "my-analysis.ipynb").write_text("{}")
    (dataset / "plots").mkdir()
    with pytest.raises(DataValidationError, match=r"holds 2 file\(s\) customer2vec did not write"):
        write_synth(dataset, overwrite=True, **TINY)
    assert (dataset / "my-analysis.ipynb").read_text() == "{}"
    assert (dataset / "plots").is_dir() and (dataset / "dataset.json").is_file()


def test_overwrite_refuses_another_kind_of_output(tmp_path, dataset):
    with pytest.raises(DataValidationError, match="it holds a customer2vec dataset, not a model"):
        check_output(dataset, overwrite=True, kind=MODEL_OUTPUT)
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.json").write_text(json.dumps({"format": "customer2vec-model"}))
    with pytest.raises(DataValidationError, match="holds a customer2vec model, not a dataset"):
        write_synth(model, overwrite=True, **TINY)
    assert (model / "model.json").is_file()
    check_output(model, overwrite=True, kind=MODEL_OUTPUT)  # a model may replace a model


def test_a_dataset_with_a_truncated_description_can_be_written_again(dataset):
    info = dataset / "dataset.json"
    info.write_text(info.read_text()[:60])
    with pytest.raises(DataValidationError, match="dataset.json is corrupt"):
        Dataset.open(dataset)
    write_synth(dataset, overwrite=True, **TINY)  # the message says "Ingest again"
    assert Dataset.open(dataset).info["customers"] == 5


def test_segment_folders_are_recognized_by_their_summary(tmp_path):
    out = tmp_path / "segments"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"what": "customers", "k": 3}))
    (out / "profiles.csv").write_text("segment\n")
    assert check_output(out, overwrite=True, kind=SEGMENTS_OUTPUT) == out
    with pytest.raises(DataValidationError, match=NOT_OURS):
        check_output(out, overwrite=True, kind=DATASET_OUTPUT)


def test_existing_output_needs_overwrite_and_a_directory(tmp_path, dataset):
    with pytest.raises(DataValidationError, match="already exists. Pass --overwrite"):
        write_synth(dataset, **TINY)
    file = tmp_path / "file"
    file.write_text("x")
    with pytest.raises(DataValidationError, match="is not a directory"):
        check_output(file, overwrite=True)
    link = tmp_path / "link"
    link.symlink_to(dataset)
    with pytest.raises(DataValidationError, match="symbolic link"):
        check_output(link, overwrite=True)
    assert Dataset.open(dataset).info["customers"] == 5


@pytest.mark.parametrize(("out", "where"), [(".", "the current directory"), ("..", "a parent")])
def test_the_working_directory_is_never_an_output(
    runner, tmp_path, monkeypatch, two_tribes_csv, out, where
):
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep.txt").write_text("mine")
    monkeypatch.chdir(work)
    result = runner.invoke(cli, ["-q", "ingest", str(two_tribes_csv), "--out", out, "--overwrite"])
    line = _one_error_line(result)
    assert f"--out {out} is {where}" in line
    assert (work / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sales.csv", "work"]


def test_an_output_may_not_overlap_an_input(tmp_path, dataset):
    for out, source in [
        (dataset, dataset),  # the same folder
        (dataset / "sub", dataset),  # out inside the input
        (tmp_path, dataset),  # the input inside out
        (dataset, dataset / "transactions.parquet"),
    ]:
        writer = atomic_directory(out, overwrite=True, inputs=[source])
        with pytest.raises(DataValidationError, match="overlaps the input"):
            writer.__enter__()
    assert Dataset.open(dataset).info["customers"] == 5
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds"]


def test_train_refuses_to_write_over_its_dataset_before_training(
    runner, tmp_path, dataset, monkeypatch
):
    def no_training(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr("customer2vec.workflow.training.build_corpus", no_training)
    before = sorted(p.name for p in dataset.iterdir())
    for out in (dataset, dataset / "model", tmp_path):
        args = ["train", str(dataset), "--model", "popularity", "--out", str(out), "--overwrite"]
        result = runner.invoke(cli, ["-q", *args])
        line = _one_error_line(result)
        assert f"--out {out} overlaps the input {dataset}" in line
    assert sorted(p.name for p in dataset.iterdir()) == before
    assert Dataset.open(dataset).info["customers"] == 5

    other = write_synth(tmp_path / "other", **TINY)
    result = runner.invoke(
        cli,
        ["-q", "train", str(dataset), "--model", "popularity", "--out", str(other), "--overwrite"],
    )
    assert "holds a customer2vec dataset, not a model" in _one_error_line(result)
    assert Dataset.open(other).info["customers"] == 5


# -- temporary folders and permissions -----------------------------------------------------
def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_killed_writer_leaves_a_temp_folder_that_the_next_write_removes(tmp_path):
    out = tmp_path / "ds"
    script = (
        "import sys, time\n"
        "from customer2vec.data.outputs import atomic_directory\n"
        "with atomic_directory(sys.argv[1]) as tmp:\n"
        "    (tmp / 'transactions.parquet').write_text('half')\n"
        "    print(tmp, flush=True)\n"
        "    time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(out)], stdout=subprocess.PIPE)
    try:
        left = Path(child.stdout.readline().decode().strip())
        assert left.parent == tmp_path and left.name.startswith(f".ds.tmp-{child.pid}-")
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    assert left.is_dir() and not out.exists()  # SIGKILL: nothing could clean up

    alive = tmp_path / f".ds.tmp-{os.getpid()}-0123abcd"  # a writer that still runs
    alive.mkdir()
    old = tmp_path / f".ds.old-{_dead_pid()}-89abcdef"
    old.mkdir()
    other = tmp_path / ".ds.tmp-notapid"  # not our naming: never touched
    other.mkdir()
    also_other = tmp_path / f".data.tmp-{_dead_pid()}-0123abcd"  # another output's
    also_other.mkdir()

    write_synth(out, **TINY)
    assert not left.exists() and not old.exists()
    assert alive.is_dir() and other.is_dir() and also_other.is_dir()
    assert Dataset.open(out).info["customers"] == 5
    assert remove_stale_siblings(out) == []


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o755), (0o077, 0o700), (0o002, 0o775)])
def test_output_folders_follow_the_umask(tmp_path, umask, mode):
    previous = os.umask(umask)
    try:
        out = write_synth(tmp_path / "ds", **TINY)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(out.stat().st_mode) == mode


def _fail_while_writing(out: Path) -> None:
    with atomic_directory(out, overwrite=True) as tmp:
        (tmp / "dataset.json").write_text("{}")
        raise RuntimeError("boom")


def test_a_failed_block_leaves_the_old_output_and_no_temp_folder(dataset):
    with pytest.raises(RuntimeError, match="boom"):
        _fail_while_writing(dataset)
    assert Dataset.open(dataset).info["customers"] == 5
    assert [p.name for p in dataset.parent.iterdir()] == ["ds"]


# -- corrupt datasets ----------------------------------------------------------------------
def _rewrite_info(dataset: Path, change) -> None:
    info = dataset / "dataset.json"
    meta = json.loads(info.read_text())
    info.write_text(json.dumps(change(meta)))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda m: [m], r"dataset.json is corrupt \(it holds a list, not a JSON object\)"),
        (lambda m: {**m, "format_version": "1"}, "format_version must be an integer"),
        (lambda m: {**m, "counts": [1, 2]}, "'counts' must be an object; got a list"),
        (lambda m: {**m, "tables": "transactions.parquet"}, "'tables' must be an object"),
        (
            lambda m: {**m, "tables": {"transactions": "../../etc/passwd"}},
            "unknown table entry 'transactions'",
        ),
        (
            lambda m: {**m, "counts": {**m["counts"], "line_items": "many"}},
            "counts.line_items must be an integer",
        ),
        (lambda m: {**m, "report": {"warnings": "none"}}, r"report.warnings has the wrong type"),
        (lambda m: {**m, "basket_scope": 3}, "'basket_scope' must be a string or null"),
    ],
)
def test_a_malformed_description_is_one_clear_error(dataset, change, message):
    _rewrite_info(dataset, change)
    with pytest.raises(DataValidationError, match=message) as caught:
        Dataset.open(dataset)
    assert str(caught.value).endswith("Ingest again.")
    assert str(dataset / "dataset.json") in str(caught.value)


def test_non_utf8_description(dataset):
    (dataset / "dataset.json").write_bytes(b'{"format": "\xff\xfe"}')
    with pytest.raises(DataValidationError, match="dataset.json is corrupt or unreadable"):
        Dataset.open(dataset)


def test_a_truncated_table_is_reported_by_open_and_info(runner, dataset):
    table = dataset / "transactions.parquet"
    table.write_bytes(table.read_bytes()[: table.stat().st_size // 2])
    with pytest.raises(DataValidationError, match="transactions.parquet is corrupt") as caught:
        Dataset.open(dataset)
    assert str(caught.value).endswith("Ingest again.")
    line = _one_error_line(runner.invoke(cli, ["info", str(dataset)]))
    assert f"{table} is corrupt" in line


def test_missing_tables_and_wrong_row_counts_are_reported(runner, dataset):
    rows = pq.read_metadata(dataset / "transactions.parquet").num_rows
    _rewrite_info(dataset, lambda m: {**m, "counts": {**m["counts"], "line_items": 3}})
    line = _one_error_line(runner.invoke(cli, ["info", str(dataset), "--json"]))
    assert f"it holds {rows} rows; dataset.json says 3 line items" in line
    _rewrite_info(dataset, lambda m: {**m, "counts": {**m["counts"], "line_items": rows}})
    assert Dataset.open(dataset).info["line_items"] == rows
    (dataset / "items.parquet").unlink()
    with pytest.raises(DataValidationError, match=r"items.parquet is missing \(dataset.json lists"):
        Dataset.open(dataset)


def test_info_still_reports_a_healthy_dataset(runner, dataset):
    result = runner.invoke(cli, ["info", str(dataset), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["customers"] == 5


def test_file_outputs_never_land_in_an_input_or_one_of_our_folders(tmp_path, dataset):
    assert check_file_output(tmp_path / "recs.parquet") == tmp_path / "recs.parquet"
    (tmp_path / "old.parquet").write_bytes(b"an earlier output may be replaced")
    assert check_file_output(tmp_path / "old.parquet").name == "old.parquet"
    cases = [
        (dataset / "transactions.parquet", "inside a customer2vec dataset folder"),
        (dataset / "recs.parquet", "inside a customer2vec dataset folder"),
        (tmp_path, "is a directory"),
    ]
    for out, message in cases:
        with pytest.raises(DataValidationError, match=message):
            check_file_output(out)
    source = tmp_path / "ids.txt"
    source.write_text("1\n")
    with pytest.raises(DataValidationError, match="is \\(inside\\) the input"):
        check_file_output(source, inputs=[source])
    assert source.read_text() == "1\n"
