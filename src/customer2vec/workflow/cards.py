"""Item cards for the explorer: id, name, display attributes and basket count of each item,
product search over them, and the one conversion of table values to JSON scalars.

Cards are plain dicts of external ids and Python scalars (no NaN), ready to serialize.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.vectors.catalog import ItemCatalog

__all__ = [
    "ItemCards",
    "Scalar",
    "json_scalar",
    "lookup",
    "plain",
    "row_record",
    "time_text",
]

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
#: What :func:`json_scalar` returns: the JSON scalars of the API's response models.
Scalar = str | int | float | bool | None


class ItemCards:
    """One display record per item of ``item_ids``, built once, and search over them.

    Parameters
    ----------
    item_ids
        The items to describe (the model's vocabulary).
    catalog
        Names and attributes.
    history
        Baskets counted per item (None: every count is 0).
    """

    def __init__(self, item_ids: IdMap, catalog: ItemCatalog, history: BasketCorpus | None) -> None:
        self.item_ids = item_ids
        self.catalog = catalog
        self.counts = _counts_on(item_ids, history)
        # Built once: a request then costs one vectorized id lookup instead of pandas work.
        self._cards = _cards(item_ids, catalog, self.counts)
        self._search_text = _search_text(self._cards)
        #: Rows of ``item_ids``, best sellers first.
        self.by_count = np.argsort(-self.counts, kind="stable")

    def __len__(self) -> int:
        return len(self._cards)

    def index(self, item: Hashable) -> int:
        """Row of ``item`` (``"123"`` finds integer id 123), -1 if unknown."""
        return lookup(self.item_ids, item)

    def card(self, row: int) -> dict[str, Any]:
        """A fresh copy of the card of row ``row``."""
        card = self._cards[row]
        return {**card, "attributes": dict(card["attributes"])}

    def describe(self, ids: Sequence[Hashable] | np.ndarray, scores: Any = None) -> list[dict]:
        """Card of each id (with ``rank`` and ``score`` when ``scores`` is given); ids outside
        the vocabulary (the history of a copurchase model) get a card with count 0."""
        rows = self.item_ids.to_internal(np.asarray(ids), on_unknown="missing")
        out = []
        for i, row in enumerate(rows):
            record = self.card(row) if row >= 0 else self._foreign_card(ids[i])
            if scores is not None:
                record["rank"] = i + 1
                record["score"] = float(scores[i])
            out.append(record)
        return out

    def search(self, query: str, n: int) -> dict[str, Any]:
        """Items whose id, name or attributes contain every word of ``query``, best sellers
        first (an exact id first of all); the best sellers when ``query`` is blank."""
        words = query.lower().split()
        order = self.by_count
        if words:
            mask = np.ones(len(self._search_text), dtype=bool)
            for word in words:
                mask &= self._search_text.str.contains(word, regex=False).to_numpy()
            order = order[mask[order]]
            exact = self.index(query.strip())
            if exact >= 0:
                order = np.concatenate([[exact], order[order != exact]])
        return {
            "query": query,
            "total": len(order),
            "items": self.describe(self.item_ids.to_external(order[:n])),
        }

    def attributes(self, item: Hashable) -> dict[str, Any]:
        """Every catalogue attribute of ``item`` but its name (missing values left out)."""
        return row_record(self.catalog.table, item, drop=(Columns.NAME,))

    def _foreign_card(self, item: Hashable) -> dict[str, Any]:
        return _cards(IdMap([item], kind="item"), self.catalog, np.zeros(1, dtype=np.int64))[0]


def _counts_on(item_ids: IdMap, history: BasketCorpus | None) -> np.ndarray:
    """Baskets containing each item of ``item_ids`` (0 for items outside the history)."""
    if history is None:
        return np.zeros(len(item_ids), dtype=np.int64)
    rows = history.item_ids.to_internal(item_ids.external, on_unknown="missing")
    return np.where(rows >= 0, history.item_counts[np.maximum(rows, 0)], 0).astype(np.int64)


def _cards(item_ids: IdMap, catalog: ItemCatalog, counts: np.ndarray) -> list[dict[str, Any]]:
    """One display record per item: id, name, display attributes, basket count."""
    frame = catalog.describe(item_ids.external)
    attrs = [c for c in catalog.display_columns if c != Columns.NAME]
    n = len(item_ids)
    names = (
        [_name(v) for v in frame[Columns.NAME].tolist()]
        if Columns.NAME in frame.columns
        else [None] * n
    )
    columns = {a: [json_scalar(value) for value in frame[a].tolist()] for a in attrs}
    ids = item_ids.external.tolist()
    return [
        {
            "item_id": ids[i],
            "name": names[i],
            "attributes": {a: columns[a][i] for a in attrs},
            "count": int(counts[i]),
        }
        for i in range(n)
    ]


def _search_text(cards: list[dict[str, Any]]) -> pd.Series:
    """One lowercase line per item: id, name and display attributes."""
    lines = [
        " ".join(
            str(v) for v in (c["item_id"], c["name"], *c["attributes"].values()) if v is not None
        ).lower()
        for c in cards
    ]
    return pd.Series(lines, dtype=object)


def lookup(ids: IdMap, value: Hashable) -> int:
    """Internal id of one external id, -1 if unknown (``"123"`` finds integer id 123)."""
    if ids.is_integer and isinstance(value, str) and _INTEGER.fullmatch(value):
        value = int(value)  # the fast path of IdMap for the ids of URL paths
    return int(ids.to_internal([value], on_unknown="missing")[0])


def row_record(table: pd.DataFrame, key: Hashable, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """One row of ``table`` as JSON-safe scalars (missing values left out); {} if absent."""
    if table.empty or key not in table.index:
        return {}
    row = table.loc[key]
    if isinstance(row, pd.DataFrame):
        row = row.iloc[0]
    values = {str(k): json_scalar(v) for k, v in row.items() if k not in drop}
    return {k: v for k, v in values.items() if v is not None}


def json_scalar(value: Any) -> Scalar:
    """Any catalogue or table value as a JSON-safe scalar: the one conversion of the API.

    Missing values (None, NaN, NaT, ``pd.NA``, infinities) -> None; numpy scalars -> Python;
    dates, times and durations -> ISO strings; decimals -> strings; bytes -> text; lists,
    arrays and dicts (Parquet list/struct columns) -> one display string; anything else ->
    ``str(value)``. A column of any type can then serve every endpoint.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64 | np.timedelta64):
        value = value.item()
    if isinstance(value, int | str):  # bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, np.datetime64 | datetime.datetime | datetime.date | datetime.time):
        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            value = pd.Timestamp(value)
        return value.isoformat()
    if isinstance(value, np.timedelta64 | datetime.timedelta):
        return None if pd.isna(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, Mapping):
        return json.dumps(
            {str(k): json_scalar(v) for k, v in value.items()}, ensure_ascii=False, allow_nan=False
        )
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        parts = (json_scalar(v) for v in (value.tolist() if hasattr(value, "tolist") else value))
        return ", ".join(str(part) for part in parts if part is not None)
    return str(value)


def _name(value: Any) -> str | None:
    """A display name as text: numeric names too (``1000.0`` from a column with NA -> "1000")."""
    value = json_scalar(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value is None else str(value)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar (ids as JSON has them); anything else unchanged."""
    return value.item() if isinstance(value, np.generic) else value


def time_text(times: np.ndarray | None, basket: int) -> str | None:
    """The ISO time of basket ``basket`` (None without times or when missing)."""
    if times is None:
        return None
    value = times[basket]
    if np.isnat(value):
        return None
    return pd.Timestamp(value).isoformat()
