"""Using models in-process (cli/use.py): recommend, recommend-batch, evaluate, segment."""

from __future__ import annotations

import json

from customer2vec.cli import cli


def _train_als(runner, dataset, out):
    params = ["--param", "n_factors=2", "--param", "n_threads=1"]
    result = runner.invoke(
        cli, ["-q", "train", str(dataset), "--model", "als", "--out", str(out), *params]
    )
    assert result.exit_code == 0, result.output
    return out


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


def test_recommend_for_a_session_of_items(runner, tmp_path, tribes_dataset):
    model = tmp_path / "i2v"
    params = ["n_factors=16", "n_epochs=40", "sample=0.0", "n_threads=1"]
    result = runner.invoke(
        cli,
        ["-q", "train", str(tribes_dataset), "--model", "item2vec", "--out", str(model)]
        + [arg for p in params for arg in ("--param", p)],
    )
    assert result.exit_code == 0, result.output
    result = runner.invoke(cli, ["recommend", str(model), "--items", "a1, a2,zz", "-n", "4"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("top 4 items for the session (item2vec)")
    assert "1 of the session's items are unknown to the model and were left out: zz" in (
        result.stderr
    )
    result = runner.invoke(
        cli, ["recommend", str(model), "--items", "a1,a2,zz", "-n", "4", "--json"]
    )
    document = json.loads(result.stdout)
    assert document["customer"] is None and document["unknown_items"] == ["zz"]
    ids = [row["item_id"] for row in document["recommendations"]]
    assert len(ids) == 4 and all(i.startswith("a") for i in ids)  # the session's tribe
    assert not {"a1", "a2"} & set(ids)
    both = runner.invoke(cli, ["recommend", str(model), "c0", "--items", "a1"])
    neither = runner.invoke(cli, ["recommend", str(model)])
    assert both.exit_code == neither.exit_code == 2
    none_known = runner.invoke(cli, ["recommend", str(model), "--items", "zz,yy"])
    assert none_known.exit_code == 1 and "none of the 2 session items" in none_known.stderr
