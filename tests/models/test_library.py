"""The library as a notebook user expects it: top-level models, fit on a dataset, DataFrames,
a model saved from Python that the command line uses."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import customer2vec
from customer2vec.cli import cli
from customer2vec.data.synth import write_synth
from customer2vec.models import REGISTRY, get_model_class


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    path = tmp_path_factory.mktemp("lib") / "shop"
    write_synth(path, n_customers=300, n_items=60, random_state=3)
    return path


def test_every_registered_model_is_a_top_level_import() -> None:
    exported = {customer2vec.MODELS[name]: name for name in customer2vec.MODELS}
    assert set(exported) == set(REGISTRY), "add the model's class to customer2vec.MODELS"
    for model_name, class_name in exported.items():
        try:
            cls = getattr(customer2vec, class_name)
        except ImportError:  # an optional dependency (torch) is missing
            continue
        assert cls is get_model_class(model_name)
        assert class_name in customer2vec.__all__
    with pytest.raises(AttributeError):
        _ = customer2vec.NoSuchModel


def test_fit_on_a_path_similar_as_frame_and_cli_uses_the_saved_model(shop, tmp_path) -> None:
    model = customer2vec.Item2Vec(n_factors=8, n_epochs=2, n_threads=1).fit(str(shop))
    first = model.item_vectors_.keys[0]
    near = model.similar(first, n=4)
    assert list(near.columns[:3]) == ["item_id", "score", "rank"]
    assert len(near) == 4 and first not in set(near["item_id"])
    assert near["score"].is_monotonic_decreasing
    items = pd.read_parquet(shop / "items.parquet")
    extra = [c for c in items.columns if c != "item_id"]
    assert extra and set(extra) <= set(near.columns)  # names from the catalogue

    wide = model.item_vectors_.to_frame(wide=True)
    assert list(wide.columns) == ["item_id", *[f"dim_{j}" for j in range(8)]]
    np.testing.assert_array_equal(wide.iloc[:, 1:].to_numpy(), model.item_vectors_.vectors)

    out = model.save(tmp_path / "i2v")
    result = CliRunner().invoke(cli, ["similar", str(out), str(first), "-n", "4", "--json"])
    assert result.exit_code == 0, result.output
    assert str(near["item_id"].iloc[0]) in result.stdout


def test_fit_on_a_dataset_object_and_a_corpus_agree(shop) -> None:
    from customer2vec.corpus import build_baskets

    dataset = customer2vec.Dataset.open(shop)
    a = customer2vec.TopFrequency().fit(dataset)
    b = customer2vec.TopFrequency().fit(build_baskets(dataset))
    assert a.meta_["dataset"]["path"] == str(shop.resolve())
    assert "meta_" not in b.__dict__
    assert np.array_equal(a.popularity_, b.popularity_)


def test_fit_on_a_dataset_leaves_out_rare_items_and_the_saved_model_remembers(
    shop, tmp_path
) -> None:
    from customer2vec.corpus import build_baskets
    from customer2vec.recommend.saved import SavedModel

    counts = build_baskets(customer2vec.Dataset.open(shop)).item_counts
    cut = int(np.median(counts)) + 1
    model = customer2vec.Item2Vec(n_factors=8, n_epochs=1, n_threads=1)
    model.fit(shop, min_item_count=cut)
    assert len(model.item_vectors_) == int((counts >= cut).sum()) < len(counts)
    saved = SavedModel.open(model.save(tmp_path / "i2v"))
    assert saved.min_item_count == cut
    assert len(saved.history.item_ids) == len(model.item_vectors_)
    with pytest.raises(customer2vec.ConfigError, match="min_item_count"):
        customer2vec.Item2Vec().fit(
            build_baskets(customer2vec.Dataset.open(shop)), min_item_count=2
        )
