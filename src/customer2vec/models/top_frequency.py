"""Personal top frequency: the items of most of the customer's baskets first."""

from __future__ import annotations

from typing import ClassVar, Self

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.models.counting import (
    CountingBaseline,
    add_into,
    basket_counts,
    profiles_of,
    tie_breaker,
)


class TopFrequency(CountingBaseline):
    """Rank items by how many of the customer's history baskets hold them.

    Ties (and the tail of a short history) are ordered by global popularity: a term in
    ``[0, 1)`` proportional to the item's training basket count is added, so it never
    outweighs one basket of personal frequency.
    """

    name = "top-frequency"
    repeats = True
    persisted: ClassVar[dict[str, str]] = {"popularity_": "array:popularity_"}

    def __init__(self) -> None:
        pass

    def fit(self, corpus: BasketCorpus) -> Self:
        self.item_ids_ = corpus.item_ids
        self.popularity_ = tie_breaker(basket_counts(corpus), scale=1.0)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        counts = profiles_of(history, customers, lambda n, p: np.ones(len(p)))
        out = np.broadcast_to(self.popularity_, counts.shape).copy()
        add_into(counts, out)
        return out
