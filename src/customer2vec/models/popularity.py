"""Popularity: the same most-bought items for everyone."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.models.counting import CountingBaseline, basket_counts


class Popularity(CountingBaseline):
    """Rank items by the number of training baskets that hold them; same list for everyone."""

    name = "popularity"
    repeats = True
    persisted: ClassVar[dict[str, str]] = {"item_scores_": "array:item_scores_"}

    def __init__(self) -> None:
        pass

    def fit(self, corpus: BasketCorpus) -> Self:
        self.item_ids_ = corpus.item_ids
        self.item_scores_ = basket_counts(corpus).astype(np.float32)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        return np.broadcast_to(self.item_scores_, (len(customers), len(self.item_ids_))).copy()
