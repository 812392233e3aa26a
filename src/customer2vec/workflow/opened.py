"""`open_model`: a model directory with everything that goes with it, opened one way.

Everything above the recommend layer that opens a model (the CLI, the HTTP API and explorer,
the demo) calls :func:`open_model`. It composes the pieces the lower layers use themselves:
:class:`~customer2vec.recommend.saved.SavedModel` (model, ``model.json``, dataset, history,
catalogue) and :func:`~customer2vec.analysis.segments.read_segments`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from customer2vec.analysis.segments import SegmentFolder, read_segments
from customer2vec.recommend.recommender import Recommender
from customer2vec.recommend.saved import SavedModel
from customer2vec.workflow.cards import ItemCards

__all__ = ["OpenedModel", "open_model"]


@dataclass(frozen=True, eq=False, repr=False)
class OpenedModel(SavedModel):
    """A :class:`SavedModel` plus its segments and, for ranking models, its recommender.

    ``model``, ``meta``, ``dataset``, ``history`` and ``catalog`` are those of
    :class:`~customer2vec.recommend.saved.SavedModel`: the dataset, history and catalogue are
    read on first use.
    """

    segments: SegmentFolder | None = None

    @property
    def can_rank(self) -> bool:
        """Whether the model ranks items for customers (has a :attr:`recommender`)."""
        return self.model.can_rank

    @cached_property
    def recommender(self) -> Recommender:
        """The model's :class:`Recommender` over :attr:`history` and :attr:`catalog`.

        Raises
        ------
        ConfigError
            If the model cannot rank items (see :attr:`can_rank`).
        """
        return Recommender(self.model, self.history, catalog=self.catalog)

    @cached_property
    def cards(self) -> ItemCards:
        """A card (id, name, attributes, baskets) per item of the model: its item vectors'
        vocabulary, else its history's; basket counts are 0 when the dataset is gone."""
        history = self.history if self.find_dataset() is not None else None
        if self.model.has_item_vectors:
            item_ids = self.model.item_vectors_.id_map
        elif history is not None:
            item_ids = history.item_ids
        else:
            item_ids = self.catalog_ids()
        return ItemCards(item_ids, self.catalog, history)

    def catalog_ids(self) -> Any:
        """The catalogue's item ids as an IdMap (for a model without its own vocabulary)."""
        from customer2vec.data.ids import IdMap

        return IdMap(self.catalog.table.index.tolist(), kind="item")

    def search_items(self, text: str, n: int = 10) -> dict[str, Any]:
        """Items whose id, name or attributes contain every word of ``text``: an exact id
        first, then best sellers (see :meth:`ItemCards.search`)."""
        return self.cards.search(text, n)


def open_model(
    model_dir: str | Path,
    *,
    segments: str | Path | None = None,
    dataset: str | Path | None = None,
    mmap: bool = True,
) -> OpenedModel:
    """Open a saved model; its dataset, history and catalogue are read when first used.

    Parameters
    ----------
    model_dir
        A directory written by ``customer2vec train``.
    segments
        A folder written by ``customer2vec segment`` for this model (optional).
    dataset
        A dataset to use instead of the one the model was trained on.
    mmap
        Memory-map the model's arrays.

    Raises
    ------
    DataValidationError
        If ``model_dir`` holds no model or a corrupt one, or ``segments`` is no segment folder.

    Examples
    --------
    >>> opened = open_model("models/c2v", segments="segments/c2v")   # doctest: +SKIP
    >>> opened.history.n_customers, opened.segments.k                 # doctest: +SKIP
    >>> opened.recommender.recommend("C-0042", n=5)                   # doctest: +SKIP
    """
    opened = OpenedModel.open(model_dir, dataset=dataset, mmap=mmap)
    if segments is None:
        return opened
    return dataclasses.replace(opened, segments=read_segments(segments))
