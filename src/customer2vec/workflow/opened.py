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

from customer2vec.analysis.segments import SegmentFolder, read_segments
from customer2vec.recommend.recommender import Recommender
from customer2vec.recommend.saved import SavedModel

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
