"""Model commands in-process (cli/models.py): train, similar, export."""

from __future__ import annotations

import json

from customer2vec.cli import cli


def test_train_similar_export(runner, tmp_path, tribes_dataset):
    model = tmp_path / "als"
    result = runner.invoke(
        cli,
        [
            "-q",
            "train",
            str(tribes_dataset),
            "--model",
            "als",
            "--out",
            str(model),
            "--param",
            "n_factors=8",
            "--param",
            "n_iterations=10",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["item_vectors"] == [16, 8]
    assert summary["params"]["n_factors"] == 8
    saved = json.loads((model / "model.json").read_text())
    assert saved["config"]["params"]["n_iterations"] == 10
    assert saved["dataset"]["fingerprint"].startswith("sha256:")

    result = runner.invoke(cli, ["similar", str(model), "a0", "-n", "3", "--json"])
    assert result.exit_code == 0, result.output
    neighbors = json.loads(result.stdout)["neighbors"]
    assert [row["rank"] for row in neighbors] == [1, 2, 3]
    assert all(row["item_id"].startswith("a") for row in neighbors)

    result = runner.invoke(
        cli, ["export", str(model), "--what", "customers", "--out", str(tmp_path / "c.parquet")]
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    assert pd.read_parquet(tmp_path / "c.parquet").shape == (20, 2)


def test_train_config_file_and_errors(runner, tmp_path, tribes_dataset):
    config = tmp_path / "als.toml"
    config.write_text('model = "als"\n[params]\nn_factors = 4\nn_iterations = 3\n')
    result = runner.invoke(
        cli,
        [
            "-q",
            "train",
            str(tribes_dataset),
            "--config",
            str(config),
            "--out",
            str(tmp_path / "m"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["item_vectors"] == [16, 4]
    for args, message in [
        (["--model", "nope"], "unknown model 'nope'"),
        (["--model", "als", "--param", "n_factors=0"], "`n_factors` must be an int >= 1; got 0"),
        (["--model", "als", "--param", "n_bananas=1"], "als has no parameter 'n_bananas'"),
    ]:
        result = runner.invoke(
            cli, ["-q", "train", str(tribes_dataset), "--out", str(tmp_path / "x"), *args]
        )
        assert result.exit_code == 2  # a bad parameter is a usage error
        assert message in result.stderr
    result = runner.invoke(cli, ["similar", str(tmp_path / "m"), "nope"])
    assert result.exit_code == 1
    assert "error: unknown item id 'nope'" in result.stderr


def test_customer2vec_train_segment_export(runner, tmp_path, tribes_dataset):
    """The issue-4 path as a user runs it: train customer2vec, segment, export customers."""
    import pandas as pd

    model = tmp_path / "c2v"
    args = ["-q", "train", str(tribes_dataset), "--model", "customer2vec", "--out", str(model)]
    params = ["--param", "n_factors=8", "--param", "n_epochs=40", "--param", "n_threads=1"]
    assert runner.invoke(cli, args + params).exit_code == 0
    result = runner.invoke(cli, ["-q", "segment", str(model), "--out", str(tmp_path / "seg")])
    assert result.exit_code == 0, result.output
    assert "customer2vec customer vectors" in result.stdout
    segments = pd.read_parquet(tmp_path / "seg" / "segments.parquet")
    tribe = segments["customer_id"].str[1:].astype(int) < 10
    assert pd.crosstab(segments["segment"], tribe).gt(0).sum(axis=1).eq(1).all()
    out = tmp_path / "customers.parquet"
    result = runner.invoke(cli, ["export", str(model), "--what", "customers", "--out", str(out)])
    assert result.exit_code == 0, result.output
    vectors = pd.read_parquet(out)
    assert list(vectors.columns) == ["customer_id", "vector"] and len(vectors) == 20
    assert len(vectors["vector"].iloc[0]) == 8
