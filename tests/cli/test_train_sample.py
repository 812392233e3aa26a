"""train --sample: trains on a share of the customers, still serves every customer."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from customer2vec.cli import cli
from customer2vec.corpus.sample import CustomerSample
from customer2vec.data.dataset import Dataset

QUICK = ["--param", "n_factors=8", "--param", "n_threads=1"]


@pytest.mark.parametrize("name", ["item2vec", "customer2vec"])
def test_sampled_model_serves_every_customer(runner, tmp_path, tribes_dataset, name) -> None:
    model = tmp_path / name
    args = ["-q", "train", str(tribes_dataset), "--model", name, "--out", str(model), *QUICK]
    args += ["--param", "n_epochs=40"]
    result = runner.invoke(cli, [*args, "--sample", "0.5", "--sample-seed", "2", "--json"])
    assert result.exit_code == 0, result.output
    everyone = Dataset.open(tribes_dataset).read("transactions")["customer_id"].unique()
    chosen = CustomerSample(0.5, seed=2).contains(everyone)
    assert 0 < chosen.sum() < len(everyone)
    document = json.loads((model / "model.json").read_text())
    assert document["config"]["sample"] == 0.5 and document["config"]["sample_seed"] == 2
    assert document["sample"] == {"fraction": 0.5, "seed": 2, "customers": int(chosen.sum())}
    assert json.loads(result.stdout)["sample"]["customers"] == int(chosen.sum())
    if name == "customer2vec":  # it learned vectors for the sampled customers only
        learned = json.loads(result.stdout)["customer_vectors"][0]
        assert learned == int(chosen.sum())

    recs = tmp_path / "recs.parquet"
    result = runner.invoke(
        cli, ["-q", "recommend-batch", str(model), "--out", str(recs), "-n", "3"]
    )
    assert result.exit_code == 0, result.output
    assert set(pd.read_parquet(recs)["customer_id"]) == set(everyone)

    vectors = tmp_path / "customers.parquet"
    result = runner.invoke(
        cli, ["-q", "export", str(model), "--what", "customers", "--out", str(vectors)]
    )
    assert result.exit_code == 0, result.output
    table = pd.read_parquet(vectors)
    assert sorted(table["customer_id"]) == sorted(everyone)
    # The planted answer: each customer's vector is nearest its own tribe's customers.
    unit = np.stack(table["vector"].to_numpy())
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    tribe = table["customer_id"].str[1:].astype(int).to_numpy() < 10
    assert (tribe[similarity.argmax(axis=1)] == tribe).mean() > 0.9


def test_same_sample_on_a_second_run(runner, tmp_path, tribes_dataset) -> None:
    counts = []
    for run in range(2):
        out = tmp_path / f"m{run}"
        args = ["-q", "train", str(tribes_dataset), "--model", "item2vec", "--out", str(out)]
        result = runner.invoke(cli, [*args, *QUICK, "--sample", "0.3", "--json"])
        assert result.exit_code == 0, result.output
        counts.append(json.loads(result.stdout)["sample"])
    assert counts[0] == counts[1]


def test_sample_of_a_copurchase_model_is_refused(runner, tmp_path, tribes_dataset) -> None:
    args = ["train", str(tribes_dataset), "--model", "copurchase", "--out", str(tmp_path / "m")]
    result = runner.invoke(cli, [*args, "--sample", "0.5"])
    assert result.exit_code == 2
    assert "drop --sample" in result.stderr
