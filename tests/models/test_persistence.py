"""Saved models: found from any directory, moved with their dataset, corrupt files named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from conftest import ingest_tribes
from customer2vec.cli import cli
from customer2vec.data.ids import IdMap, load_array
from customer2vec.errors import DataValidationError
from customer2vec.models import load_model, model_dataset_path, resolve_model_dataset
from customer2vec.models.als import ALS
from customer2vec.recommend.recommender import Recommender
from customer2vec.vectors.catalog import ItemCatalog
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.workflow.training import resolve_config, train_to_directory

ALS_PARAMS = {"n_factors": 4, "regularization": 5.0, "n_iterations": 15, "n_threads": 1}
RETRAIN = "Train the model again."


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """A project folder: ``ds`` (two tribes) and ``models/als`` trained on it."""
    root = tmp_path_factory.mktemp("project")
    ingest_tribes(root)
    (root / "tribes").rename(root / "ds")
    config = resolve_config("als", None, ALS_PARAMS)
    train_to_directory(root / "ds", root / "models" / "als", config)
    return root


@pytest.fixture
def project(trained, tmp_path) -> Path:
    """A fresh copy of the project (tests move and break its files)."""
    root = tmp_path / "project"
    shutil.copytree(trained, root)
    document = json.loads((root / "models/als/model.json").read_text())
    document["dataset"]["path"] = str(root / "ds")  # the copy's own dataset
    (root / "models/als/model.json").write_text(json.dumps(document))
    return root


@pytest.fixture
def model_dir(project) -> Path:
    return project / "models" / "als"


def _one_error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and "Aborted" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


# -- where the dataset is -----------------------------------------------------------------
def test_a_model_trained_with_a_relative_path_works_from_another_directory(
    runner, tmp_path, monkeypatch, two_tribes_csv, mapping_flags
):
    project = tmp_path / "work"
    project.mkdir()
    monkeypatch.chdir(project)
    result = runner.invoke(
        cli, ["-q", "ingest", str(two_tribes_csv), "--out", "data/cj", *mapping_flags]
    )
    assert result.exit_code == 0, result.output
    params = ["--param", "n_factors=2", "--param", "n_threads=1"]
    args = ["-q", "train", "data/cj", "--model", "als", "--out", "models/als", *params]
    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    reference = json.loads((project / "models/als/model.json").read_text())["dataset"]
    assert reference["path"] == str(project / "data" / "cj")
    assert reference["relative_path"] == "../../data/cj"

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    model = str(project / "models" / "als")
    result = runner.invoke(cli, ["recommend", model, "c0", "-n", "2", "--json"])
    assert result.exit_code == 0, result.output
    assert all(r["item_id"].startswith("a") for r in json.loads(result.stdout)["recommendations"])
    out = elsewhere / "recs.parquet"
    result = runner.invoke(cli, ["recommend-batch", model, "--out", str(out), "-n", "1"])
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["customer_id"].nunique() == 20


def test_every_user_of_a_model_finds_its_dataset_from_another_directory(
    model_dir, tmp_path, monkeypatch
):
    from customer2vec.analysis.segments import segment_model
    from customer2vec.evaluation.intrinsic import evaluate_model_items

    monkeypatch.chdir(tmp_path)
    assert resolve_model_dataset(model_dir, load_model(model_dir).meta_).info["customers"] == 20
    assert Recommender.load(model_dir).history.n_customers == 20
    report = segment_model(model_dir, tmp_path / "segments", k=2)
    assert report.segmentation.k == 2
    with pytest.raises(DataValidationError, match="ingest the dataset with --items"):
        evaluate_model_items(model_dir)  # found the dataset; it has no item attributes
    pytest.importorskip("fastapi")
    from customer2vec.api.explorer import Explorer

    assert Explorer(model_dir, map_items=0).history.n_customers == 20


def test_a_model_moved_with_its_dataset_keeps_working(project, tmp_path, monkeypatch):
    moved = tmp_path / "moved"
    project.rename(moved)
    monkeypatch.chdir(tmp_path)
    model_dir = moved / "models" / "als"
    assert model_dataset_path(model_dir, load_model(model_dir).meta_) == model_dir / "../../ds"
    hits = Recommender.load(model_dir).recommend("c12", n=1, exclude_seen=False)
    assert hits.ids[0].startswith("b")


def test_a_model_moved_alone_finds_its_dataset_by_the_absolute_path(model_dir, tmp_path):
    moved = tmp_path / "elsewhere" / "deeper" / "als"
    moved.parent.mkdir(parents=True)
    model_dir.rename(moved)
    meta = load_model(moved).meta_
    assert model_dataset_path(moved, meta) == Path(meta["dataset"]["path"])
    assert Recommender.load(moved).history.n_customers == 20


def test_models_saved_before_keep_working_from_their_directory(
    model_dir, project, tmp_path, monkeypatch
):
    document = json.loads((model_dir / "model.json").read_text())
    document["dataset"] = {"path": "ds", "fingerprint": document["dataset"]["fingerprint"]}
    (model_dir / "model.json").write_text(json.dumps(document))
    monkeypatch.chdir(project)
    assert Recommender.load("models/als").history.n_customers == 20
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DataValidationError, match=r"is gone \(tried ds\)"):
        Recommender.load(model_dir)


def test_a_vanished_dataset_is_one_error_naming_the_paths_tried(runner, model_dir, project):
    shutil.rmtree(project / "ds")
    result = runner.invoke(cli, ["recommend", str(model_dir), "c0"])
    line = _one_error_line(result)
    assert f"tried {model_dir / '../../ds'}, {project / 'ds'}" in line
    assert "Move the dataset back" in line and "train the model again" in line


def test_a_model_that_names_no_dataset(model_dir):
    document = json.loads((model_dir / "model.json").read_text())
    del document["dataset"]
    (model_dir / "model.json").write_text(json.dumps(document))
    with pytest.raises(DataValidationError, match="does not name its dataset"):
        Recommender.load(model_dir)


# -- saving over things -------------------------------------------------------------------
def test_saving_replaces_only_our_own_model_folders(model_dir, project):
    model = load_model(model_dir, mmap=False)
    model.save(model_dir, overwrite=True, meta={"dataset": model.meta_["dataset"]})
    assert len(load_model(model_dir).item_vectors_) == 16
    (model_dir / "notes.md").write_text("why I trained this")
    with pytest.raises(DataValidationError, match=r"holds 1 file\(s\) .*\(notes.md\)"):
        model.save(model_dir, overwrite=True)
    assert (model_dir / "notes.md").read_text() == "why I trained this"
    with pytest.raises(DataValidationError, match="holds a customer2vec dataset, not a model"):
        model.save(project / "ds", overwrite=True, meta={})
    # Without meta, a model keeps the dataset it knows: its own dataset folder is an input.
    with pytest.raises(DataValidationError, match="overlaps the input"):
        model.save(project / "ds", overwrite=True)
    with pytest.raises(DataValidationError, match="overlaps the input"):  # its own dataset
        model.save(project / "ds" / "als", meta={"dataset": model.meta_["dataset"]})
    assert sorted(p.name for p in (project / "ds").iterdir()) == [
        "dataset.json",
        "transactions.parquet",
    ]


# -- corrupt arrays -----------------------------------------------------------------------
def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[:100])


def _object_array(file: Path) -> None:
    np.save(file, np.array([{"a": 1}, None], dtype=object), allow_pickle=True)


def _empty(file: Path) -> None:
    file.write_bytes(b"")


def _npz(file: Path) -> None:
    with file.open("wb") as handle:
        np.savez(handle, x=np.zeros(3))


@pytest.mark.parametrize("spoil", [_truncate, _object_array, _empty, _npz])
@pytest.mark.parametrize("mmap", [True, False])
def test_a_corrupt_array_is_one_clear_error(model_dir, spoil, mmap):
    file = model_dir / "item_vectors.npy"
    spoil(file)
    with pytest.raises(DataValidationError) as caught:
        load_model(model_dir, mmap=mmap)
    message = str(caught.value)
    assert message.startswith(f"{file} is corrupt or unreadable (")
    assert message.endswith(RETRAIN)


@pytest.mark.parametrize("spoil", [_truncate, _object_array, _empty])
def test_the_cli_reports_a_corrupt_array_in_one_line(runner, model_dir, spoil):
    spoil(model_dir / "item_vectors.npy")
    line = _one_error_line(runner.invoke(cli, ["recommend", str(model_dir), "c0"]))
    assert "is corrupt or unreadable" in line and line.endswith(RETRAIN)


def test_arrays_of_the_wrong_shape_or_type_are_named(model_dir):
    np.save(model_dir / "item_vectors.npy", np.zeros((3, 2), dtype=np.float32))
    with pytest.raises(DataValidationError, match=r"item_vectors.npy is corrupt \(a float32 array"):
        load_model(model_dir)
    np.save(model_dir / "item_vectors.npy", np.array(["x"] * 16))
    with pytest.raises(DataValidationError, match=r"item_vectors.npy is corrupt"):
        load_model(model_dir)
    ids = IdMap([1, 2])
    ids.save(model_dir, "numbers")
    np.save(model_dir / "numbers.npy", np.zeros(2))
    with pytest.raises(DataValidationError, match="must hold a 1-D integer array"):
        IdMap.load(model_dir, "numbers")


@pytest.mark.parametrize("name", ["../secret.npy", "../secret", "sub/../../secret.npy", "a\\b"])
def test_stored_names_cannot_reach_outside_the_model_folder(model_dir, name):
    np.save(model_dir.parent / "secret.npy", np.arange(3))
    with pytest.raises(DataValidationError, match="is not a plain file name"):
        load_array(model_dir, name)
    with pytest.raises(DataValidationError, match="is not a plain file name"):
        IdMap.load(model_dir, name.removesuffix(".npy"))
    with pytest.raises(DataValidationError, match="is not a plain file name"):
        Embeddings.load(model_dir, name.removesuffix(".npy"))


def test_crafted_weight_names_are_refused(model_dir):
    pytest.importorskip("torch")
    from customer2vec.models.neural import load_weights

    (model_dir / "weights").mkdir()
    np.save(model_dir / "secret.npy", np.arange(3))
    with pytest.raises(DataValidationError, match=r"'\.\./secret\.npy' is not a plain file name"):
        load_weights(None, model_dir, ["../secret"])


@pytest.mark.parametrize("error", [KeyError("n_items"), TypeError("bad"), EOFError(), OSError(5)])
def test_any_other_load_failure_names_the_model_directory(model_dir, monkeypatch, error):
    def broken(self, directory, state, *, mmap):
        raise error

    monkeypatch.setattr(ALS, "_load_state", broken)
    with pytest.raises(DataValidationError, match="corrupt or unreadable") as caught:
        load_model(model_dir)
    assert str(caught.value).startswith(f"the model in {model_dir} is corrupt")
    assert str(caught.value).endswith(RETRAIN)


# -- corrupt model.json -------------------------------------------------------------------
def _edit(change):
    def apply(file: Path) -> None:
        file.write_text(json.dumps(change(json.loads(file.read_text()))))

    return apply


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_edit(lambda d: [d]), "is corrupt (it holds a list, not a JSON object)"),
        (_edit(lambda d: {**d, "state": None}), "is corrupt ('state' must be an object; got None)"),
        (_edit(lambda d: {**d, "params": []}), "is corrupt ('params' must be an object; got [])"),
        (
            _edit(lambda d: {k: v for k, v in d.items() if k != "model"}),
            "is corrupt ('model' must name a model; got None)",
        ),
        (_edit(lambda d: {**d, "model": "word2vec"}), "names an unknown model 'word2vec'"),
        (_edit(lambda d: {**d, "format_version": "1"}), "format_version must be an integer"),
        (_edit(lambda d: {**d, "dataset": "ds"}), "'dataset' must be an object"),
        (_edit(lambda d: {**d, "params": {"n_factor": 2}}), "als has no parameter 'n_factor'"),
        (lambda file: file.write_bytes(b'{"format": "\xff"}'), "is corrupt or unreadable"),
        (lambda file: file.write_text('{"format": '), "is corrupt (Expecting value)"),
    ],
)
def test_a_malformed_model_file_is_one_clear_error(runner, model_dir, spoil, message):
    file = model_dir / "model.json"
    spoil(file)
    with pytest.raises(DataValidationError) as caught:
        load_model(model_dir)
    assert str(caught.value).startswith(str(file)) and message in str(caught.value)
    line = _one_error_line(runner.invoke(cli, ["recommend", str(model_dir), "c0"]))
    assert message in line


def test_a_corrupt_catalogue_is_named(model_dir):
    (model_dir / "items.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(DataValidationError, match="items.parquet is corrupt or unreadable"):
        ItemCatalog.load(model_dir)
    pd.DataFrame({"sku": [1]}).to_parquet(model_dir / "items.parquet")
    with pytest.raises(DataValidationError, match=r"items.parquet is corrupt \(no item_id"):
        ItemCatalog.load(model_dir)
