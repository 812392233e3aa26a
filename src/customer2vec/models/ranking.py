"""The ranking contract: models that score every item for a customer's history.

A ranking model is fitted on a :class:`BasketCorpus` (the training population: what the
items are, who the neighbors are, how popular things are) and then scores customers from
a *history* corpus given at query time, on the same item vocabulary. The history is
usually the training corpus itself (``recommend``, ``evaluate``), but it may hold
customers the model never saw (a new customer, or a session given as one basket), so
recommenders, the evaluation harness and the HTTP API all go through one method.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import ClassVar

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.errors import DataValidationError
from customer2vec.models.base import Model


class RankingModel(Model):
    """Base for models that rank items for customers (``recommend``, ``evaluate``)."""

    can_rank = True
    #: Whether recommendations keep items the customer bought before, by default. True for
    #: next-basket models (most of a grocery basket is repeat purchases); False for
    #: discovery-style recommenders.
    repeats: ClassVar[bool] = True
    #: Whether :meth:`score` accepts a history on any item vocabulary (it maps the
    #: history's item ids to its own vectors; items it has none for score ``-inf``).
    maps_history_items: ClassVar[bool] = False

    @abstractmethod
    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Score every item for some customers of ``history``.

        Parameters
        ----------
        history
            Baskets in chronological order per customer, on this model's item vocabulary
            (``history.item_ids`` equals the training corpus's).
        customers
            Internal customer indices of ``history`` (``int64``).

        Returns
        -------
        numpy.ndarray
            ``float32`` array of shape ``(len(customers), n_items)``; higher is better.
            Items a model cannot score get ``-inf``.
        """

    def check_vocabulary(self, history: BasketCorpus, n_items: int) -> None:
        """Raise ``DataValidationError`` unless ``history`` uses a vocabulary of ``n_items``."""
        if history.n_items != n_items:
            raise DataValidationError(
                f"the history has {history.n_items} items but this {self.name} model was "
                f"trained on {n_items}; build the history with the model's item vocabulary."
            )
