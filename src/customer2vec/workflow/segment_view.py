"""A segment folder lined up with a served model's customers or items, for the explorer."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.analysis.segments import SegmentFolder
from customer2vec.columns import Columns
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError
from customer2vec.workflow.cards import ItemCards, json_scalar, plain

__all__ = ["SegmentView"]

log = logging.getLogger(__name__)


class SegmentView:
    """Segment labels by row of the model's customers (or items), and their overview.

    Parameters
    ----------
    folder
        What :func:`~customer2vec.analysis.segments.read_segments` read.
    ids
        The customers (``folder.what == "customers"``) or items the labels are lined up with.
    cards
        Item cards for the distinctive items.
    history
        The customers' history, for the sample customers (None: no samples).

    Raises
    ------
    DataValidationError
        If no id of the folder is among ``ids``.
    """

    def __init__(
        self,
        folder: SegmentFolder,
        ids: IdMap,
        cards: ItemCards,
        history: BasketCorpus | None,
    ) -> None:
        self.folder = folder
        self.what = folder.what
        self.cards = cards
        self.history = history
        rows = ids.to_internal(folder.labels.index.to_numpy(), on_unknown="missing")
        known = rows >= 0
        if not known.any():
            raise DataValidationError(
                f"none of the {len(rows):,} {self.what} in {folder.directory} belongs to this "
                "model's dataset; segment this model: `customer2vec segment MODEL --out DIR`."
            )
        if not known.all():
            log.warning(
                "%d of %d %s in %s are not in the model's dataset and were ignored",
                int((~known).sum()),
                len(rows),
                self.what,
                folder.directory,
            )
        #: Segment of each row of ``ids`` (-1: none).
        self.labels = np.full(len(ids), -1, dtype=np.int64)
        self.labels[rows[known]] = folder.labels.to_numpy()[known]
        log.info("loaded %d %s segments from %s", folder.k, self.what, folder.directory)

    @property
    def customer_labels(self) -> np.ndarray | None:
        """Segment of each history customer (None for item clusters)."""
        return self.labels if self.what == "customers" else None

    def customer_segment(self, row: int) -> int | None:
        labels = self.customer_labels
        return None if labels is None or labels[row] < 0 else int(labels[row])

    def item_segment(self, row: int) -> int | None:
        if self.what != "items" or self.labels[row] < 0:
            return None
        return int(self.labels[row])

    def overview(self) -> dict[str, Any]:
        """Each segment's size, profile, distinctive items and sample customers."""
        labels = self.labels[self.labels >= 0]
        sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
        out = []
        for segment in np.flatnonzero(sizes):
            out.append(
                {
                    "segment": int(segment),
                    "size": int(sizes[segment]),
                    "share": float(sizes[segment] / max(len(labels), 1)),
                    "profile": self._profile(segment),
                    "distinctive_items": self._distinctive(segment),
                    "sample_customers": self._samples(segment),
                }
            )
        summary = self.folder.summary
        return {
            "available": True,
            "hint": None,
            "what": self.what,
            "k": int(summary.get("k", len(out))),
            "silhouette": json_scalar(summary.get("silhouette")),
            "vectors_from": summary.get("vectors_from") or None,
            "segments": out,
        }

    def _rows(self, table: pd.DataFrame, segment: int) -> pd.DataFrame:
        if table.empty or Columns.SEGMENT not in table.columns:
            return table
        return table[table[Columns.SEGMENT] == segment]

    def _profile(self, segment: int) -> list[dict[str, Any]]:
        rows = self._rows(self.folder.profiles, segment)
        return [
            {
                "attribute": json_scalar(row.get("attribute")),
                "group": str(row.get("group")),
                "share": float(row.get("share", 0.0)),
                "lift": float(row.get("lift", 0.0)),
            }
            for row in rows.to_dict(orient="records")
        ]

    def _distinctive(self, segment: int) -> list[dict[str, Any]]:
        rows = self._rows(self.folder.distinctive, segment)
        if rows.empty:
            return []
        item_ids = self.cards.item_ids
        internal = item_ids.to_internal(rows[Columns.ITEM].to_numpy(), on_unknown="missing")
        items = self.cards.describe(item_ids.to_external(internal[internal >= 0]))
        lifts = rows["lift"].to_numpy()[internal >= 0]
        for item, lift in zip(items, lifts, strict=True):
            item["lift"] = float(lift)
        return items

    def _samples(self, segment: int) -> list[dict[str, Any]]:
        rows = self._rows(self.folder.samples, segment)
        if rows.empty or self.history is None:
            return []
        ids = self.history.customer_ids
        internal = ids.to_internal(rows[Columns.CUSTOMER].to_numpy(), on_unknown="missing")
        return [
            {"customer_id": plain(ids.external[c]), "top_items": json_scalar(text)}
            for c, text in zip(internal, rows.get("top_items", [None] * len(rows)), strict=True)
            if c >= 0
        ]
