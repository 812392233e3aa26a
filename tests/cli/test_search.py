"""`customer2vec search`: items found by id, name or attribute; an exact id first."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from customer2vec.cli import cli


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    from click.testing import CliRunner

    root = tmp_path_factory.mktemp("search")
    runner = CliRunner()
    shop = root / "shop"
    result = runner.invoke(
        cli, ["-q", "synth", "--customers", "200", "--items", "60", "--out", str(shop)]
    )
    assert result.exit_code == 0, result.output
    items = pd.read_parquet(shop / "items.parquet")
    # A German product name with a decimal comma, as a user's catalogue has it.
    items.loc[items.index[5], "name"] = "Vollmilch 3,5% 1L"
    items.to_parquet(shop / "items.parquet", index=False)
    out = root / "i2v"
    args = ["-q", "train", str(shop), "--model", "item2vec", "--out", str(out)]
    result = runner.invoke(cli, [*args, "--param", "n_epochs=1", "--param", "n_factors=8"])
    assert result.exit_code == 0, result.output
    return out, items


def test_search_by_name_words_any_case(runner, model_dir) -> None:
    out, items = model_dir
    result = runner.invoke(cli, ["search", str(out), "vollMILCH", "3,5%", "--json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout)
    assert found["total"] == 1
    assert found["items"][0]["item_id"] == items["item_id"].iloc[5]
    assert found["items"][0]["name"] == "Vollmilch 3,5% 1L"


def test_search_puts_the_exact_id_first_then_best_sellers(runner, model_dir) -> None:
    out, items = model_dir
    wanted = items["item_id"].iloc[1]
    result = runner.invoke(cli, ["search", str(out), wanted, "-n", "3", "--json"])
    found = json.loads(result.stdout)
    assert found["items"][0]["item_id"] == wanted
    result = runner.invoke(cli, ["search", str(out), "item", "-n", "5", "--json"])
    counts = [card["count"] for card in json.loads(result.stdout)["items"]]
    assert counts == sorted(counts, reverse=True) and counts[0] > 0


def test_search_table_and_no_match(runner, model_dir) -> None:
    out, _ = model_dir
    result = runner.invoke(cli, ["search", str(out), "vollmilch"])
    assert result.exit_code == 0
    assert "1 items match 'vollmilch'" in result.stdout
    assert "Vollmilch 3,5% 1L" in result.stdout and "baskets" in result.stdout
    result = runner.invoke(cli, ["search", str(out), "no-such-thing"])
    assert result.exit_code == 0 and result.stdout.startswith("0 items match")


def test_similar_with_a_name_points_to_search(runner, model_dir) -> None:
    out, _ = model_dir
    result = runner.invoke(cli, ["similar", str(out), "Vollmilch"])
    assert result.exit_code == 1
    assert "customer2vec search" in result.stderr
