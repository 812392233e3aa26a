"""The co-purchase model: embeddings from "frequently bought together" lists alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from customer2vec.columns import Columns as C
from customer2vec.corpus.copurchase import CopurchaseLists
from customer2vec.data.dataset import Dataset, write_meta
from customer2vec.errors import ConfigError, DataValidationError, NotFittedError
from customer2vec.evaluation.intrinsic import neighbor_recall
from customer2vec.models import create_model, load_model
from customer2vec.models.copurchase import CoPurchase, rank_weights
from customer2vec.workflow.training import train

SMALL = {"n_factors": 16, "n_epochs": 30}


def _group_lists(n_groups: int, group_size: int) -> CopurchaseLists:
    """Items ``<letter><k>``; each lists the others of its group only, nearest index first."""
    lists = {}
    for g in range(n_groups):
        letter = "abcdefgh"[g]
        for k in range(group_size):
            others = sorted((j for j in range(group_size) if j != k), key=lambda j: abs(j - k))
            lists[f"{letter}{k}"] = [f"{letter}{j}" for j in others]
    return CopurchaseLists.from_dict(lists)


@pytest.fixture
def two_groups() -> CopurchaseLists:
    """a0-a5 list only a* items, b0-b5 only b* items."""
    return _group_lists(2, 6)


@pytest.fixture
def four_groups() -> CopurchaseLists:
    """Four groups of six items, each listing the five others of its group."""
    return _group_lists(4, 6)


def test_fit_returns_self_and_vectors_cover_every_id(two_groups: CopurchaseLists) -> None:
    model = CoPurchase(**SMALL, random_state=0)
    assert model.fit(two_groups) is model
    vectors = model.item_vectors_
    assert len(vectors) == two_groups.n_items and vectors.dim == 16
    np.testing.assert_allclose(np.linalg.norm(vectors.vectors, axis=1), 1.0, atol=1e-5)


def test_neighbors_stay_in_group(two_groups: CopurchaseLists) -> None:
    vectors = CoPurchase(**SMALL, random_state=0).fit(two_groups).item_vectors_
    for item in vectors.keys:
        hits = vectors.similar(item, n=5)
        assert all(other[0] == item[0] for other in hits.ids), (item, hits.ids)


def test_listed_items_are_nearest_neighbors(four_groups: CopurchaseLists) -> None:
    vectors = CoPurchase(**SMALL, random_state=0).fit(four_groups).item_vectors_
    assert neighbor_recall(vectors, four_groups.to_pairs(), k=5) == 1.0


def test_items_only_listed_get_vectors() -> None:
    lists = CopurchaseLists.from_dict({"a": ["b", "c"], "b": ["a", "c"], "x": ["y", "z"]})
    vectors = CoPurchase(**SMALL, random_state=0).fit(lists).item_vectors_
    assert "c" in vectors and "z" in vectors
    assert set(vectors.similar("c", n=2).ids) == {"a", "b"}


def test_seeded_fit_is_deterministic(two_groups: CopurchaseLists) -> None:
    first = CoPurchase(**SMALL, random_state=7).fit(two_groups).item_vectors_.vectors
    again = CoPurchase(**SMALL, random_state=7).fit(two_groups).item_vectors_.vectors
    other = CoPurchase(**SMALL, random_state=8).fit(two_groups).item_vectors_.vectors
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_refit_starts_from_scratch(two_groups: CopurchaseLists) -> None:
    model = CoPurchase(**SMALL, random_state=3)
    first = model.fit(two_groups).item_vectors_.vectors.copy()
    model.fit(_group_lists(3, 4))
    assert len(model.item_vectors_) == 12
    np.testing.assert_array_equal(model.fit(two_groups).item_vectors_.vectors, first)


def test_save_load_round_trip(tmp_path: Path, two_groups: CopurchaseLists) -> None:
    model = CoPurchase(**SMALL, rank_weight="harmonic", random_state=0).fit(two_groups)
    model.save(tmp_path / "model")
    loaded = load_model(tmp_path / "model")
    assert isinstance(loaded, CoPurchase)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.item_vectors_.vectors, model.item_vectors_.vectors)
    np.testing.assert_array_equal(loaded.item_vectors_.keys, model.item_vectors_.keys)
    assert loaded.item_vectors_.similar("a0", n=3).ids.tolist() == (
        model.item_vectors_.similar("a0", n=3).ids.tolist()
    )


def test_not_fitted_before_fit() -> None:
    with pytest.raises(NotFittedError):
        CoPurchase().check_fitted()


def test_registered_under_its_name() -> None:
    model = create_model("copurchase", n_factors=8)
    assert isinstance(model, CoPurchase) and model.corpus_kind == "copurchase"
    assert model.get_params()["n_factors"] == 8


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"n_factors": 0}, "n_factors"),
        ({"n_epochs": 0}, "n_epochs"),
        ({"negative": -1}, "negative"),
        ({"margin": 2.0}, "margin"),
        ({"scale": -1.0}, "scale"),
        ({"rank_weight": "log"}, "rank_weight"),
        ({"random_state": "x"}, "random_state"),
    ],
)
def test_bad_parameters_are_refused_at_fit(
    two_groups: CopurchaseLists, params: dict, name: str
) -> None:
    model = CoPurchase(**params)  # __init__ stores, never validates
    with pytest.raises(ConfigError, match=f"`{name}`"):
        model.fit(two_groups)


def test_fit_refuses_other_corpora() -> None:
    with pytest.raises(DataValidationError, match="CopurchaseLists"):
        CoPurchase().fit([["a", "b"]])


def test_rank_weights() -> None:
    ranks = np.array([1, 2, 4])
    np.testing.assert_allclose(rank_weights(ranks, "linear"), [1.0, 0.75, 0.25])
    np.testing.assert_allclose(rank_weights(ranks, "harmonic"), [1.0, 0.5, 0.25])
    np.testing.assert_allclose(rank_weights(ranks, "uniform"), [1.0, 1.0, 1.0])


def test_train_derives_lists_from_baskets(tmp_path: Path) -> None:
    """A dataset without lists: ``train`` derives them from the baskets, then fits."""
    rows = []
    for basket in range(40):  # a* items are bought together, b* items together
        letter = "ab"[basket % 2]
        for k in range(4):
            if (basket + k) % 5:
                rows.append((f"c{basket % 4}", basket, f"{letter}{k}", basket // 4 + 1))
    frame = pd.DataFrame(rows, columns=[C.CUSTOMER, C.BASKET, C.ITEM, C.SEQUENCE])
    frame.to_parquet(tmp_path / "transactions.parquet", index=False)
    write_meta(tmp_path, {"id_types": {C.ITEM: "string"}, "counts": {}})
    config = {"model": "copurchase", "min_item_count": 1, "params": dict(SMALL)}
    model = train(Dataset.open(tmp_path), config)
    vectors = model.item_vectors_
    assert sorted(vectors.keys) == [f"{x}{k}" for x in "ab" for k in range(4)]
    assert all(other.startswith("a") for other in vectors.similar("a0", n=3).ids)
