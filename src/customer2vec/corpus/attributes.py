"""Attribute tokens: product attributes as extra words (``department=PRODUCE``, ``brand=X``).

Attribute-aware item2vec (Meta-Prod2Vec, Vasile et al. 2016) trains these tokens with the
baskets, so an item that was never sold can still be placed from its attributes alone (cold
start). This module turns the catalogue into tokens per item, in CSR form aligned with an item
vocabulary, and extends a basket corpus's vocabulary with catalogue items that have no sales.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError

#: Default attributes need at least this many catalogue items per distinct value on average;
#: near-unique columns (names, package sizes of a tiny catalogue...) say little about a
#: product's neighbors and leave most tokens on one item each.
MIN_ITEMS_PER_VALUE = 10
#: Columns never used as attributes by default.
_NOT_ATTRIBUTES = {Columns.ITEM, Columns.NAME}


@dataclass(frozen=True, eq=False, repr=False)
class ItemAttributes:
    """Each item's attribute tokens, as CSR rows aligned with an item vocabulary.

    Attributes
    ----------
    item_ids
        Row ``i`` holds the tokens of item ``item_ids.external[i]``.
    token_ids
        Token vocabulary (``"column=value"`` strings), in order of first appearance.
    indptr
        ``int64`` (``n_items + 1``).
    indices
        ``int32`` token ids of each item, in ``columns`` order (missing values have none).
    columns
        The catalogue columns the tokens come from.
    """

    item_ids: IdMap
    token_ids: IdMap
    indptr: np.ndarray
    indices: np.ndarray
    columns: tuple[str, ...]

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_tokens(self) -> int:
        return len(self.token_ids)

    def tokens_of(self, item: object) -> list[str]:
        """The attribute tokens of one item (external id)."""
        row = self.item_ids.index(item)
        tokens = self.indices[self.indptr[row] : self.indptr[row + 1]]
        return self.token_ids.to_external(tokens).tolist()

    def token_counts(self, weights: np.ndarray | None = None) -> np.ndarray:
        """``float64`` per token: items carrying it, or the sum of their ``weights``."""
        owners = np.repeat(np.arange(self.n_items), np.diff(self.indptr))
        values = None if weights is None else np.asarray(weights, dtype=np.float64)[owners]
        return np.bincount(self.indices, weights=values, minlength=self.n_tokens).astype(np.float64)

    def __repr__(self) -> str:
        return (
            f"ItemAttributes(n_items={self.n_items}, n_tokens={self.n_tokens}, "
            f"columns={list(self.columns)})"
        )


def default_attributes(items: pd.DataFrame) -> list[str]:
    """Categorical columns of ``items`` worth turning into tokens.

    Text, categorical and boolean columns other than ``item_id`` and ``name`` with at least
    two distinct values and at most one per ``MIN_ITEMS_PER_VALUE`` items (rounded up).
    Numeric columns (codes, ranks, prices) are left out; name them explicitly to use them.
    """
    n_items = max(items[Columns.ITEM].nunique(), 1) if Columns.ITEM in items else len(items)
    chosen = []
    for column in items.columns:
        if column in _NOT_ATTRIBUTES:
            continue
        values = items[column]
        categorical = (
            values.dtype == object
            or pd.api.types.is_string_dtype(values)
            or isinstance(values.dtype, pd.CategoricalDtype)
            or pd.api.types.is_bool_dtype(values)
        )
        n_values = values.nunique()
        if categorical and 2 <= n_values <= math.ceil(n_items / MIN_ITEMS_PER_VALUE):
            chosen.append(column)
    return chosen


def parse_attributes(attributes: str | Sequence[str] | None) -> list[str] | None:
    """``None``, a list of column names, or one comma-separated string of them."""
    if attributes is None:
        return None
    if isinstance(attributes, str):
        names = [part.strip() for part in attributes.split(",") if part.strip()]
    elif isinstance(attributes, Iterable) and all(isinstance(a, str) for a in attributes):
        names = list(attributes)
    else:
        raise ConfigError(
            "`attributes` must be a list of item table columns or a comma-separated string; "
            f"got {attributes!r}."
        )
    return list(dict.fromkeys(names))


def build_item_attributes(
    items: pd.DataFrame,
    item_ids: IdMap,
    attributes: str | Sequence[str] | None = None,
) -> ItemAttributes:
    """Attribute tokens ``column=value`` of every item of ``item_ids``.

    Parameters
    ----------
    items
        The catalogue: ``item_id`` and attribute columns (first row of a repeated id wins).
    item_ids
        The vocabulary to align rows with; items missing from the catalogue get no token.
    attributes
        Columns to use; by default :func:`default_attributes`. An empty list means none.

    Raises
    ------
    DataValidationError
        If ``items`` has no ``item_id`` column or lacks a named attribute column.
    """
    if Columns.ITEM not in items.columns:
        raise DataValidationError(
            f"the items table has no {Columns.ITEM!r} column; found {', '.join(items.columns)}."
        )
    names = parse_attributes(attributes)
    columns = default_attributes(items) if names is None else names
    missing = [c for c in columns if c not in items.columns]
    if missing:
        raise DataValidationError(
            f"attribute column {missing[0]!r} is not in the items table; its columns are "
            f"{', '.join(map(str, items.columns))}. Fix `attributes`."
        )
    table = items.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)
    rows = table.index.get_indexer(pd.Index(item_ids.external))
    n_items = len(item_ids)
    owners: list[np.ndarray] = []
    tokens: list[np.ndarray] = []
    for column in columns:
        values = table[column].to_numpy(dtype=object)
        picked = np.where(rows >= 0, values[np.maximum(rows, 0)], None) if len(rows) else values
        has = pd.notna(pd.Series(picked, dtype=object)).to_numpy()
        owners.append(np.flatnonzero(has))
        tokens.append(np.array([f"{column}={token_text(v)}" for v in picked[has]], dtype=object))
    owner = np.concatenate(owners) if owners else np.zeros(0, dtype=np.int64)
    token = np.concatenate(tokens) if tokens else np.zeros(0, dtype=object)
    # Group by item, keeping `columns` order within an item (stable sort).
    order = np.argsort(owner, kind="stable")
    owner, token = owner[order], token[order]
    token_ids = IdMap.from_values(token, kind="attribute")
    indptr = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_items), out=indptr[1:])
    indices = token_ids.to_internal(token).astype(np.int32) if len(token) else np.zeros(0, np.int32)
    return ItemAttributes(item_ids, token_ids, indptr, indices, tuple(columns))


def unsold_items(corpus: BasketCorpus, items: pd.DataFrame) -> np.ndarray:
    """External ids of catalogue items that are not in ``corpus``'s vocabulary, in table order."""
    ids = pd.unique(items[Columns.ITEM].dropna())
    known = corpus.item_ids.to_internal(ids, on_unknown="missing")
    return np.asarray(ids[known < 0])


def extend_vocabulary(corpus: BasketCorpus, new_items: Iterable[object]) -> BasketCorpus:
    """``corpus`` with ``new_items`` appended to its vocabulary (no baskets, count 0).

    The baskets and every internal id already in use are unchanged, so a model trained on
    ``corpus`` can score the extended corpus, new items included (cold start).

    Raises
    ------
    DataValidationError
        If a new item is already in the vocabulary or its id type differs.
    """
    new = np.asarray(list(new_items), dtype=object)
    if len(new) == 0:
        return corpus
    clash = corpus.item_ids.to_internal(new, on_unknown="missing")
    if (clash >= 0).any():
        first = new[int(np.argmax(clash >= 0))]
        raise DataValidationError(
            f"{int((clash >= 0).sum())} new items are already in the vocabulary (first: "
            f"{first!r}); pass only items without sales."
        )
    external = np.concatenate([corpus.item_ids.external.astype(object), new])
    if corpus.item_ids.is_integer:
        try:
            external = external.astype(np.int64)
        except (TypeError, ValueError) as err:
            raise DataValidationError(
                f"new item ids must be integers like the corpus's item ids; got {new[:3].tolist()}."
            ) from err
    return replace(
        corpus,
        item_ids=IdMap(external, kind="item"),
        item_counts=np.concatenate([corpus.item_counts, np.zeros(len(new), dtype=np.int64)]),
    )


def token_text(value: object) -> str:
    """A value as token text: integral floats lose their ``.0`` (``3.0`` -> ``3``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
