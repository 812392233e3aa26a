"""Recommendations: a fitted ranking model plus the customers' history, external ids in and out.

A :class:`Recommender` asks its model to score every item for history customers (see
``models.ranking``), drops what should not be shown (items the customer bought, when the model
is a discovery recommender or when asked; items outside ``candidates``) and returns the best.
Internal indices never leave this module.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.data.outputs import check_file_output
from customer2vec.errors import ConfigError, DataValidationError, DataWarning, UnknownIdError
from customer2vec.models.ranking import RankingModel
from customer2vec.progress import progress as progress_bar
from customer2vec.recommend.ranker import Ranker
from customer2vec.recommend.ranker import check_ranking as _check_ranking
from customer2vec.recommend.saved import SavedModel, model_items
from customer2vec.vectors.catalog import ItemCatalog
from customer2vec.vectors.embeddings import Neighbors

__all__ = ["Recommender", "save_recommendations"]

#: Customers scored at once: bounds memory at 50K items (200 MB of float32 scores).
BATCH_SIZE = 1024
#: The (new) customer a session is scored as; no integer id map can hold it.
_SESSION_CUSTOMER = "<session>"


class Recommender:
    """Top items for customers from a fitted :class:`RankingModel` and their history.

    Parameters
    ----------
    model
        A fitted ranking model.
    history
        The customers' baskets, on the model's item vocabulary (usually the training
        corpus; :meth:`load` rebuilds it from the model's dataset).
    catalog
        Item names and attributes for :meth:`describe`.

    Raises
    ------
    ConfigError
        If ``model`` cannot rank items.
    DataValidationError
        If ``history`` does not use the model's item vocabulary.

    Examples
    --------
    >>> rec = Recommender.load("models/als")                  # doctest: +SKIP
    >>> rec.recommend("C-0042", n=5).ids                      # doctest: +SKIP
    >>> rec.recommend_many(n=10).head()                       # doctest: +SKIP
    """

    def __init__(
        self, model: RankingModel, history: BasketCorpus, *, catalog: ItemCatalog | None = None
    ) -> None:
        _check_ranking(model)
        model.check_fitted()
        items = None if model.maps_history_items else model_items(model)
        if items is not None and not np.array_equal(items.external, history.item_ids.external):
            raise DataValidationError(
                f"the history's items do not match the {model.name} model's ({len(items)} items "
                f"in the model, {history.n_items} in the history); its dataset changed since "
                "training: train the model again."
            )
        self.model = model
        self.history = history
        self.catalog = catalog or ItemCatalog(None)

    @classmethod
    def load(cls, model_dir: str | Path, *, mmap: bool = True) -> Recommender:
        """Load a saved model and rebuild its history from the dataset named in ``model.json``.

        Opened through :class:`~customer2vec.recommend.saved.SavedModel`: the dataset is looked
        for beside the model first, then where it was at training (see
        :func:`customer2vec.models.model_dataset_path`), so the working directory does not
        matter; the history is built with the model's ``min_item_count``.

        Raises
        ------
        DataValidationError
            If the model names no dataset, the dataset is gone, or its items no longer match
            the model's.
        ConfigError
            If the model cannot rank items.
        """
        saved = SavedModel.open(model_dir, mmap=mmap)
        _check_ranking(saved.model)  # before the (slow) corpus build
        return cls(saved.model, saved.history, catalog=saved.catalog)

    # -- queries -------------------------------------------------------------------------
    def recommend(
        self,
        customer: Hashable,
        n: int = 10,
        *,
        exclude_seen: bool | None = None,
        candidates: Iterable[Hashable] | None = None,
    ) -> Neighbors:
        """The ``n`` best items for a history customer, best first.

        Parameters
        ----------
        customer
            External customer id (``"123"`` finds integer id ``123``).
        n
            Most items to return (fewer when exclusions leave fewer).
        exclude_seen
            Leave out items the customer bought. None: the model's default (left out unless
            the model's ``repeats`` is True, as for next-basket models).
        candidates
            Item ids to choose from; ids unknown to the model are skipped with a warning.

        Raises
        ------
        UnknownIdError
            If the customer has no baskets in the history (or no candidate is known).
        """
        require_int(n, "n", minimum=1)
        if np.ndim(customer) != 0:
            raise DataValidationError(
                f"`customer` must be one id; got {type(customer).__name__}. "
                "Use recommend_many for several."
            )
        index = self._customers([customer])
        allowed = self._candidates(candidates)
        ranker = Ranker(self.model, exclude_seen=exclude_seen)
        ids, scores, _ = self._top(ranker, index, n, allowed)
        return Neighbors(ids, scores)

    def recommend_many(
        self,
        customers: Iterable[Hashable] | None = None,
        n: int = 10,
        *,
        exclude_seen: bool | None = None,
        candidates: Iterable[Hashable] | None = None,
        batch_size: int = BATCH_SIZE,
        progress: bool | None = None,
    ) -> pd.DataFrame:
        """Top ``n`` items for many customers (all history customers when None).

        Scores ``batch_size`` customers at a time, so memory stays bounded. ``progress``
        shows a bar on stderr (None: when there is more than one batch).

        Returns
        -------
        pandas.DataFrame
            Columns ``customer_id, item_id, score, rank`` (rank 1 = best), customers in the
            order given.

        Raises
        ------
        UnknownIdError
            If some customers have no baskets in the history (the message counts them).
        """
        require_int(n, "n", minimum=1)
        require_int(batch_size, "batch_size", minimum=1)
        if customers is None:
            index = np.arange(self.history.n_customers, dtype=np.int64)
        else:
            index = self._customers(list(customers))
        ranker = Ranker(self.model, exclude_seen=exclude_seen)
        allowed = self._candidates(candidates)
        show = len(index) > batch_size if progress is None else progress
        parts: list[pd.DataFrame] = []
        with progress_bar(total=len(index), desc="recommend", unit="customer", enabled=show) as bar:
            for start in range(0, len(index), batch_size):
                batch = index[start : start + batch_size]
                ids, scores, counts = self._top(ranker, batch, n, allowed)
                owners = self.history.customer_ids.to_external(np.repeat(batch, counts))
                firsts = np.repeat(np.cumsum(counts) - counts, counts)
                parts.append(
                    pd.DataFrame(
                        {
                            Columns.CUSTOMER: owners,
                            Columns.ITEM: ids,
                            Columns.SCORE: scores,
                            Columns.RANK: np.arange(1, len(ids) + 1) - firsts,
                        }
                    )
                )
                bar.update(len(batch))
        if not parts:
            return self._empty_frame()
        return pd.concat(parts, ignore_index=True)

    def recommend_session(
        self,
        items: Sequence[Hashable],
        n: int = 10,
        *,
        exclude_seen: bool = True,
        candidates: Iterable[Hashable] | None = None,
    ) -> Neighbors:
        """The ``n`` best items for a new customer whose only basket is ``items``.

        Item ids unknown to the model are skipped with a ``DataWarning``; ``exclude_seen``
        leaves the session's own items out.

        Raises
        ------
        UnknownIdError
            If no item of the session is known to the model.
        """
        require_int(n, "n", minimum=1)
        if isinstance(items, str | bytes) or np.ndim(items) != 1:
            raise DataValidationError(
                f"`items` must be a list of item ids; got {type(items).__name__}."
            )
        given = list(items)
        internal = self.history.item_ids.to_internal(given, on_unknown="missing")
        known = internal[internal >= 0]
        if len(known) == 0:
            raise UnknownIdError(
                f"none of the {len(given)} session items is known to the model"
                + (f" (first: {_show(given[0])})" if given else "")
                + "; pass item ids the model was trained on."
            )
        if len(known) < len(given):
            first = given[int(np.argmax(internal < 0))]
            warnings.warn(
                f"{len(given) - len(known)} of {len(given)} session items are unknown to the "
                f"model and were skipped (first: {_show(first)}).",
                DataWarning,
                stacklevel=2,
            )
        session = _session_corpus(self.history, pd.unique(known).astype(np.int32))
        allowed = self._candidates(candidates)
        ranker = Ranker(self.model, exclude_seen=bool(exclude_seen))
        ids, scores, _ = self._top(ranker, np.zeros(1, dtype=np.int64), n, allowed, history=session)
        return Neighbors(ids, scores)

    def similar_items(self, item: Hashable, n: int = 10) -> Neighbors:
        """The ``n`` items nearest to ``item`` by the model's item vectors (cosine).

        Raises
        ------
        ConfigError
            If the model has no item vectors.
        UnknownIdError
            If the model does not know ``item``.
        """
        if not self.model.has_item_vectors:
            raise ConfigError(
                f"a {self.model.name} model has no item vectors; use an embedding model (als, "
                "item2vec, customer2vec) for similar items."
            )
        return self.model.item_vectors_.similar(item, n=n)

    def customer_id(self, customer: Hashable) -> Hashable:
        """The canonical external form of a history customer id (``"12"`` -> ``12``)."""
        value = self.history.customer_ids.to_external(self._customers([customer]))[0]
        return value.item() if isinstance(value, np.generic) else value

    def describe(self, hits: Neighbors) -> pd.DataFrame:
        """``rank, item_id, score`` and the catalogue's name and attributes of each hit."""
        table = hits.to_frame().merge(self.catalog.describe(hits.ids), on=Columns.ITEM, how="left")
        return table[[Columns.RANK, Columns.ITEM, Columns.SCORE, *self.catalog.display_columns]]

    # -- internals -----------------------------------------------------------------------
    def _customers(self, customers: list[Hashable]) -> np.ndarray:
        """History indices of external customer ids; ``UnknownIdError`` naming the unknown."""
        index = self.history.customer_ids.to_internal(customers, on_unknown="missing")
        unknown = np.flatnonzero(index < 0)
        if len(unknown):
            first = ", ".join(_show(customers[i]) for i in unknown[:3])
            what = (
                f"unknown customer id {first}"
                if len(unknown) == 1
                else f"{len(unknown)} unknown customer ids (first: {first})"
            )
            raise UnknownIdError(
                f"{what}: no baskets in the model's dataset. For a new customer, recommend "
                "from their items: customer2vec recommend MODEL --items A,B,C "
                "(Python: recommend_session)."
            )
        return index

    def _candidates(self, candidates: Iterable[Hashable] | None) -> np.ndarray | None:
        """A mask over items of the allowed candidates (None: every item)."""
        if candidates is None:
            return None
        given = list(candidates)
        internal = self.history.item_ids.to_internal(given, on_unknown="missing")
        if not (internal >= 0).any():
            raise UnknownIdError(
                f"none of the {len(given)} candidate items is known to the model; pass item ids "
                "the model was trained on."
            )
        if (internal < 0).any():
            warnings.warn(
                f"{int((internal < 0).sum())} of {len(given)} candidate items are unknown to the "
                f"model and were skipped (first: {_show(given[int(np.argmax(internal < 0))])}).",
                DataWarning,
                stacklevel=3,
            )
        mask = np.zeros(self.history.n_items, dtype=bool)
        mask[internal[internal >= 0]] = True
        return mask

    def _top(
        self,
        ranker: Ranker,
        customers: np.ndarray,
        n: int,
        allowed: np.ndarray | None,
        *,
        history: BasketCorpus | None = None,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(External item ids, scores, items per customer) of the best ``n`` per customer."""
        history = self.history if history is None else history
        top, scores = ranker.rank(history, customers, n, allowed=allowed)
        valid = top >= 0
        ids = history.item_ids.to_external(top[valid])
        return ids, scores[valid], valid.sum(axis=1)

    def _empty_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            {
                Columns.CUSTOMER: self.history.customer_ids.external[:0],
                Columns.ITEM: self.history.item_ids.external[:0],
                Columns.SCORE: np.zeros(0, dtype=np.float32),
                Columns.RANK: np.zeros(0, dtype=np.int64),
            }
        )

    def __repr__(self) -> str:
        return (
            f"Recommender({self.model.name}, {self.history.n_customers} customers, "
            f"{self.history.n_items} items)"
        )


def save_recommendations(table: pd.DataFrame, path: str | Path) -> Path:
    """Write a :meth:`Recommender.recommend_many` table to Parquet atomically (temp + rename)."""
    path = check_file_output(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        table.to_parquet(tmp, index=False)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _session_corpus(history: BasketCorpus, items: np.ndarray) -> BasketCorpus:
    """One new customer with one basket of ``items`` (internal ids), on the history's items."""
    return BasketCorpus(
        item_ids=history.item_ids,
        indptr=np.array([0, len(items)], dtype=np.int64),
        indices=items,
        customer_ids=IdMap([_SESSION_CUSTOMER], kind="customer"),
        basket_customer=np.zeros(1, dtype=np.int32),
        basket_sequence=np.ones(1, dtype=np.int32),
        basket_time=None,
        item_counts=np.bincount(items, minlength=history.n_items).astype(np.int64),
        dropped={},
    )


def _show(value: Any) -> str:
    return repr(value.item() if isinstance(value, np.generic) else value)
