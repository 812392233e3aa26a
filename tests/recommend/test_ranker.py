"""The one ranker: the model's scores, masked (seen items by policy, candidates, NaN), cut."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError
from customer2vec.models.ranking import RankingModel
from customer2vec.recommend.ranker import Ranker


class Fixed(RankingModel):
    """Scores every customer with the same fixed row."""

    name = "fixed"

    def __init__(self, *, repeats_: bool = False) -> None:
        self.repeats_ = repeats_

    @property
    def repeats(self) -> bool:  # type: ignore[override]
        return self.repeats_

    def fit(self, corpus: Any) -> Fixed:
        self.row_ = np.array([0.4, np.nan, 0.9, 0.1, 0.9], dtype=np.float32)
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("row_",)

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        return np.broadcast_to(self.row_, (len(customers), len(self.row_)))

    def _save_state(self, directory: Path) -> None:
        return None

    def _load_state(self, directory: Path, state: dict, *, mmap: bool) -> None:
        return None


@pytest.fixture
def history() -> BasketCorpus:
    """Customer c0 bought item 2; c1 bought items 0 and 3."""
    indices = np.array([2, 0, 3], dtype=np.int32)
    return BasketCorpus(
        item_ids=IdMap([f"i{k}" for k in range(5)], kind="item"),
        indptr=np.array([0, 1, 3], dtype=np.int64),
        indices=indices,
        customer_ids=IdMap(["c0", "c1"], kind="customer"),
        basket_customer=np.array([0, 1], dtype=np.int32),
        basket_sequence=np.array([1, 1], dtype=np.int32),
        basket_time=None,
        item_counts=np.bincount(indices, minlength=5).astype(np.int64),
    )


def test_discovery_models_hide_seen_items_and_nan_ties_go_to_the_lower_index(history):
    model = Fixed(repeats_=False).fit(None)
    top, scores = Ranker(model).rank(history, np.array([0, 1]), n=5)
    np.testing.assert_array_equal(top, [[4, 0, 3, -1, -1], [2, 4, -1, -1, -1]])
    assert np.isneginf(scores[0, 3:]).all()
    assert model.row_[2] == np.float32(0.9)  # the model's own array is never masked


def test_repeat_models_keep_seen_items_unless_told(history):
    model = Fixed(repeats_=True).fit(None)
    top, _ = Ranker(model).rank(history, np.array([1]), n=3)
    np.testing.assert_array_equal(top, [[2, 4, 0]])
    top, _ = Ranker(model, exclude_seen=True).rank(history, np.array([1]), n=3)
    np.testing.assert_array_equal(top, [[2, 4, -1]])


def test_candidates_and_bad_settings(history):
    model = Fixed().fit(None)
    allowed = np.array([True, False, False, True, False])
    top, _ = Ranker(model, exclude_seen=False).rank(history, np.array([0]), n=4, allowed=allowed)
    np.testing.assert_array_equal(top, [[0, 3, -1, -1]])
    with pytest.raises(ConfigError, match="exclude_seen"):
        Ranker(model, exclude_seen="yes")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="cannot rank items"):
        Ranker(object())  # type: ignore[arg-type]


def test_a_wrapper_that_declares_it_can_rank_is_ranked(history):
    class Wrapper:
        can_rank, repeats, name = True, False, "wrapper"

        def __init__(self, inner):
            self.inner = inner

        def score(self, history, customers):
            return self.inner.score(history, customers)

    top, _ = Ranker(Wrapper(Fixed().fit(None))).rank(history, np.array([0]), n=2)
    np.testing.assert_array_equal(top, [[4, 0]])

    class Undeclared:
        name = "undeclared"

        def score(self, history, customers):
            return np.zeros((len(customers), history.n_items), dtype=np.float32)

    with pytest.raises(ConfigError, match="cannot rank items"):
        Ranker(Undeclared())  # type: ignore[arg-type]
