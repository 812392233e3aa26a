"""A saved model with what it was trained on: the one way a model directory is opened.

:class:`SavedModel` reads ``model.json`` and the model's arrays at once and everything else on
first use: the dataset (found beside the model or where it was at training), the customers'
history (rebuilt with the model's own ``min_item_count``, so it is the model's vocabulary),
and the item catalogue. :class:`~customer2vec.recommend.recommender.Recommender.load`, the
analysis and evaluation commands, and :func:`customer2vec.workflow.opened.open_model` (which
adds segments) all open models through it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Self

from customer2vec.corpus.baskets import BasketCorpus, build_baskets
from customer2vec.data.dataset import Dataset
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError
from customer2vec.models import Model, load_model, model_dataset_path
from customer2vec.vectors.catalog import ItemCatalog

__all__ = ["SavedModel", "model_items"]

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False, repr=False)
class SavedModel:
    """A model loaded from its directory; its dataset, history and catalogue read on demand.

    Parameters
    ----------
    model_dir
        The model directory.
    model
        The loaded model (``meta_`` holds its ``model.json`` document).
    dataset_dir
        A dataset to use instead of the one named in ``model.json`` (None: that one).

    Examples
    --------
    >>> saved = SavedModel.open("models/als")                # doctest: +SKIP
    >>> saved.history.n_customers, len(saved.catalog.table)  # doctest: +SKIP
    """

    model_dir: Path
    model: Model
    dataset_dir: Path | None = None

    @classmethod
    def open(
        cls,
        model_dir: str | Path,
        *,
        dataset: str | Path | None = None,
        mmap: bool = True,
        **fields: Any,
    ) -> Self:
        """Load the model in ``model_dir`` (``fields``: those a subclass adds).

        Raises
        ------
        DataValidationError
            If ``model_dir`` holds no model or a corrupt one.
        """
        model = load_model(model_dir, mmap=mmap)
        return cls(Path(model_dir), model, None if dataset is None else Path(dataset), **fields)

    @property
    def meta(self) -> dict[str, Any]:
        """The model's ``model.json`` document."""
        return self.model.meta_

    @property
    def min_item_count(self) -> int:
        """The ``min_item_count`` the model was trained with (1 when ``model.json`` has none)."""
        config = self.meta.get("config")
        value = config.get("min_item_count", 1) if isinstance(config, Mapping) else 1
        return value if isinstance(value, int) and not isinstance(value, bool) else 1

    @cached_property
    def dataset_path(self) -> Path:
        """Where the model's dataset is now (see :func:`customer2vec.models.model_dataset_path`).

        Raises
        ------
        DataValidationError
            If ``model.json`` names no dataset or the dataset is gone.
        """
        if self.dataset_dir is not None:
            return self.dataset_dir
        return model_dataset_path(self.model_dir, self.meta)

    @cached_property
    def dataset(self) -> Dataset:
        """The dataset the model was trained on (or ``dataset_dir``).

        Raises
        ------
        DataValidationError
            If it is gone or is not a dataset.
        """
        return Dataset.open(self.dataset_path)

    def find_dataset(self) -> Dataset | None:
        """:attr:`dataset`, or None (the reason logged once) when it is named nowhere or gone."""
        return None if self._dataset_missing else self.dataset

    @cached_property
    def _dataset_missing(self) -> bool:
        try:
            self.dataset_path  # noqa: B018  (resolved once, then cached)
        except DataValidationError as err:
            log.warning("%s", err)
            return True
        return False

    @cached_property
    def history(self) -> BasketCorpus:
        """The customers' baskets, built as at training (the model's ``min_item_count``).

        Built on first use: on a large dataset this is the slow part of opening a model.

        Raises
        ------
        DataValidationError
            If the dataset is gone or has no transactions.
        """
        return build_baskets(self.dataset, min_item_count=self.min_item_count)

    @cached_property
    def catalog(self) -> ItemCatalog:
        """Item names and attributes: those saved with the model, else the dataset's items
        table (empty when neither exists).

        Raises
        ------
        DataValidationError
            If the model's ``items.parquet`` is corrupt.
        """
        catalog = ItemCatalog.load(self.model_dir)
        if catalog.table.empty:
            dataset = self.find_dataset()
            if dataset is not None and dataset.has("items"):
                catalog = ItemCatalog(dataset.read("items"))
        return catalog

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.model.name}, {str(self.model_dir)!r})"


def model_items(model: Model) -> IdMap | None:
    """The model's item vocabulary, where it exposes one (None: it does not).

    A history the model ranks must use these items, in this order, unless the model declares
    ``maps_history_items`` (it maps any history's items onto its own).
    """
    items = getattr(model, "item_ids_", None)
    if isinstance(items, IdMap):
        return items
    return model.item_vectors_.id_map if model.has_item_vectors else None
