"""The command line, in-process: results on stdout, errors as `error:` with exit 1."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

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


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_has_help_with_an_example(runner, name):
    result = runner.invoke(cli, [name, "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output
    assert f"customer2vec {name}" in result.output


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


def test_usage_errors_exit_2(runner):
    assert runner.invoke(cli, ["ingest"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2
    assert runner.invoke(cli, ["ingest", "--preset", "nope", "--out", "x"]).exit_code == 2


def test_module_entry_point_runs():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "customer2vec", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.startswith("customer2vec, version ")


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


@pytest.fixture
def tribes_dataset(runner, tmp_path, two_tribes_csv, mapping_flags):
    out = tmp_path / "ds"
    result = runner.invoke(
        cli, ["-q", "ingest", str(two_tribes_csv), "--out", str(out), *mapping_flags]
    )
    assert result.exit_code == 0, result.output
    return out


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


def test_segment_customers_of_two_tribes(runner, tmp_path, tribes_dataset):
    model = tmp_path / "als"
    assert (
        runner.invoke(
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
            ],
        ).exit_code
        == 0
    )
    result = runner.invoke(
        cli, ["-q", "segment", str(model), "--out", str(tmp_path / "seg"), "--k", "2", "--json"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["k"] == 2
    import pandas as pd

    segments = pd.read_parquet(tmp_path / "seg" / "segments.parquet")
    tribe = segments["customer_id"].str[1:].astype(int) < 10
    assert pd.crosstab(segments["segment"], tribe).gt(0).sum(axis=1).eq(1).all()
    plot = (tmp_path / "seg" / "silhouette.html").read_text()
    assert "plotly" in plot and "chosen k = 2" in plot
    assert runner.invoke(cli, ["segment", str(model), "--out", "x", "--k", "lots"]).exit_code == 2


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


# -- recommend, recommend-batch, evaluate (issue 5) --------------------------------------
def _train_als(runner, dataset, out):
    params = ["--param", "n_factors=2", "--param", "n_threads=1"]
    result = runner.invoke(
        cli, ["-q", "train", str(dataset), "--model", "als", "--out", str(out), *params]
    )
    assert result.exit_code == 0, result.output
    return out


def test_recommend_table_and_json(runner, tmp_path, tribes_dataset):
    model = _train_als(runner, tribes_dataset, tmp_path / "als")
    result = runner.invoke(cli, ["recommend", str(model), "c0", "-n", "3"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("top 3 items for customer c0 (als)")
    assert "rank item_id" in result.stdout

    result = runner.invoke(
        cli, ["recommend", str(model), "c12", "-n", "8", "--include-seen", "--json"]
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert (document["customer"], document["model"]) == ("c12", "als")
    rows = document["recommendations"]
    assert [row["rank"] for row in rows] == list(range(1, 9))
    assert all(row["item_id"].startswith("b") for row in rows)  # c10-c19 buy only b* items

    result = runner.invoke(cli, ["recommend", str(model), "nobody"])
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unknown customer id 'nobody'")
    assert len(result.stderr.strip().splitlines()) == 1


def test_recommend_batch_writes_parquet(runner, tmp_path, tribes_dataset):
    import pandas as pd

    model = _train_als(runner, tribes_dataset, tmp_path / "als")
    out = tmp_path / "recs.parquet"
    result = runner.invoke(cli, ["recommend-batch", str(model), "--out", str(out), "-n", "2"])
    assert result.exit_code == 0, result.output
    assert "wrote 40 recommendations for 20 customers" in result.stderr
    recs = pd.read_parquet(out)
    assert list(recs.columns) == ["customer_id", "item_id", "score", "rank"]
    assert recs["rank"].tolist() == [1, 2] * 20

    ids = tmp_path / "ids.txt"
    ids.write_text("c3\n\nc15\n")
    result = runner.invoke(
        cli, ["recommend-batch", str(model), "--out", str(out), "--customers", str(ids)]
    )
    assert result.exit_code == 0, result.output
    assert pd.read_parquet(out)["customer_id"].unique().tolist() == ["c3", "c15"]

    ids.write_text("c3\nzz\nyy\n")
    result = runner.invoke(
        cli, ["recommend-batch", str(model), "--out", str(out), "--customers", str(ids)]
    )
    assert result.exit_code == 1
    assert result.stderr.startswith("error: 2 unknown customer ids (first: 'zz', 'yy')")
    assert len(result.stderr.strip().splitlines()) == 1
    assert pd.read_parquet(out)["customer_id"].unique().tolist() == ["c3", "c15"]  # untouched
    assert not list(tmp_path.glob(".*.tmp"))


def test_evaluate_baselines_on_the_tribes(runner, tmp_path, tribes_dataset):
    args = ["-q", "evaluate", str(tribes_dataset), "--models", "popularity,top-frequency"]
    result = runner.invoke(cli, [*args, "-k", "3,5", "--json", "--out", str(tmp_path / "e.csv")])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert [row["model"] for row in rows] == ["popularity", "top-frequency"]
    assert all(row["customers"] == 20 for row in rows)
    assert all(
        0.0 <= row[f"{m}@{k}"] <= 1.0 for row in rows for m in ("recall", "ndcg") for k in (3, 5)
    )
    assert (tmp_path / "e.csv").read_text().startswith("model,fit_s,score_s,customers,recall@3")

    result = runner.invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "at k = 10" in result.stdout and "at k = 20" in result.stdout

    result = runner.invoke(cli, [*args, "--sample", "7", "--json"])
    assert result.exit_code == 0, result.output
    assert all(row["customers"] == 7 for row in json.loads(result.stdout))
    assert runner.invoke(cli, [*args, "--sample", "0"]).exit_code == 2

    for extra, code, message in [
        (["--models", "copurchase"], 2, "error: model 'copurchase' cannot rank items"),
        (["--models", "nope"], 2, "error: unknown model 'nope'"),
        (["--min-baskets", "9"], 1, "error: no customer has 9 baskets"),
    ]:
        result = runner.invoke(cli, ["-q", "evaluate", str(tribes_dataset), *extra])
        assert result.exit_code == code, result.output
        assert result.stderr.startswith(message)
    assert runner.invoke(cli, ["evaluate", str(tribes_dataset), "-k", "ten"]).exit_code == 2


def test_library_warnings_are_passed_on_once_and_data_warnings_become_lines(capsys):
    # A regression: re-showing a caught warning inside `catch_warnings(record=True)`
    # appended it to the list being walked, and the command never returned.
    import warnings

    from customer2vec.cli._base import translate_errors
    from customer2vec.errors import DataWarning

    @translate_errors
    def command() -> str:
        warnings.warn("from a library", UserWarning, stacklevel=1)
        warnings.warn("3 rows dropped", DataWarning, stacklevel=1)
        return "done"

    with warnings.catch_warnings(record=True) as shown:
        warnings.simplefilter("always")
        assert command() == "done"
    assert [str(w.message) for w in shown] == ["from a library"]
    assert "warning: 3 rows dropped" in capsys.readouterr().err
