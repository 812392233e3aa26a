"""Inputs of the neural customer models (autoencoder, guided): labels, item groups, bags.

Both models accept a plain :class:`BasketCorpus` or :class:`BasketsWithTables`
(``corpus_kind = "baskets+tables"``). A label (a column of the customers table) and item
groups (an attribute of the items table) are read here, aligned with the corpus's internal
customer and item ids, with errors that name what is missing and how to fix it.

How a label column becomes a binary target (``label``, ``label_threshold``):

* Missing values (NaN, empty text) and customers absent from the table are *unlabeled*: they
  train on the embedding loss only.
* With ``label_threshold=T``: a customer is positive when the value is a number ``> T``. Text
  is read as a number, a trailing ``+`` allowed (``"3+"`` reads as 3), so
  ``label="coupon_redemptions", label_threshold=0`` means "redeemed at least one coupon" and
  ``label="kids_count", label_threshold=0`` "has kids".
* Without a threshold the column must hold exactly two values: booleans (True positive),
  two numbers (the larger positive, e.g. 0/1), or two texts (the later in sort order positive,
  e.g. no/yes, N/Y, False/True).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from customer2vec.columns import Columns
from customer2vec.config import require_float
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError

__all__ = [
    "GROUP_ATTRIBUTES",
    "WEIGHTINGS",
    "customer_labels",
    "idf",
    "item_groups",
    "log_counts",
    "unpack",
    "weighted_bags",
]

#: How a customer's bag weighs each item it bought, from the baskets holding it (``count``):
#: ``log(1 + count)``, 1, or ``log(1 + count)`` x the item's smoothed idf.
WEIGHTINGS = ("log", "binary", "tfidf")
#: Item attributes tried, in order, when ``attribute`` is not given.
GROUP_ATTRIBUTES = ("product_category", "category", "department", "aisle")


def unpack(
    corpus: BasketCorpus | BasketsWithTables,
) -> tuple[BasketCorpus, pd.DataFrame | None, pd.DataFrame | None]:
    """(Baskets, items table or None, customers table or None) of either kind of corpus."""
    if isinstance(corpus, BasketsWithTables):
        return corpus.baskets, corpus.items, corpus.customers
    if isinstance(corpus, BasketCorpus):
        return corpus, None, None
    raise DataValidationError(
        f"expected a BasketCorpus or BasketsWithTables; got {type(corpus).__name__}. Build it "
        "with customer2vec.corpus.build_baskets_with_tables(dataset)."
    )


def customer_labels(
    customers: pd.DataFrame | None,
    customer_ids: IdMap,
    label: str | None,
    threshold: float | None,
) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Binary targets aligned with ``customer_ids`` (``float32``, NaN = unlabeled).

    Returns ``(None, {})`` without a label, else the targets and a JSON-able description
    (rule, labeled customers, positive rate) worth keeping in ``model.json``.

    Raises
    ------
    ConfigError
        If ``label`` or ``threshold`` has the wrong type.
    DataValidationError
        If there is no customers table, no such column, values that the rule cannot read,
        or fewer than two classes among the labeled customers.
    """
    if label is None:
        return None, {}
    if not isinstance(label, str) or not label:
        raise ConfigError(f"`label` must be a column name of the customers table; got {label!r}.")
    if threshold is not None:
        threshold = require_float(threshold, "label_threshold")
    if customers is None:
        raise DataValidationError(
            f"label={label!r} needs the dataset's customers table, and the corpus has none. "
            "Ingest one (a customers file with customer_id and the label column) and train "
            "on the 'baskets+tables' corpus, or drop the label."
        )
    if label not in customers.columns or label == Columns.CUSTOMER:
        available = [c for c in customers.columns if c != Columns.CUSTOMER]
        raise DataValidationError(
            f"the customers table has no label column {label!r}; its columns are "
            f"{', '.join(map(str, available)) or '(none)'}."
        )
    table = customers.drop_duplicates(Columns.CUSTOMER).set_index(Columns.CUSTOMER)[label]
    values = table.reindex(pd.Index(customer_ids.external, dtype=customer_ids.external.dtype))
    missing = values.isna().to_numpy().copy()
    if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
        text = values.astype("string").str.strip()
        missing |= (text == "").fillna(True).to_numpy()
    if missing.all():
        raise DataValidationError(
            f"label {label!r} has no value for any of the {len(customer_ids)} customers with "
            "baskets; check that the customers table uses the transactions' customer ids."
        )
    target = np.full(len(customer_ids), np.nan, dtype=np.float32)
    known = values[~missing]
    if threshold is not None:
        numbers = _numbers(known, label)
        target[~missing] = (numbers > threshold).astype(np.float32)
        rule = f"{label} > {threshold:g}"
    else:
        positive, rule = _two_values(known, label)
        target[~missing] = positive.astype(np.float32)
    n_labeled = int((~missing).sum())
    rate = float(np.nanmean(target))
    if rate in (0.0, 1.0):
        raise DataValidationError(
            f"label rule {rule!r} gives one class to all {n_labeled} labeled customers "
            f"({'all positive' if rate else 'none positive'}); choose another label_threshold."
        )
    return target, {"rule": rule, "n_labeled": n_labeled, "positive_rate": round(rate, 4)}


def _numbers(values: pd.Series, label: str) -> np.ndarray:
    """Values as float64; text read as numbers with an optional trailing ``+``."""
    if pd.api.types.is_bool_dtype(values.dtype) or pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64)
    text = values.astype("string").str.strip().str.removesuffix("+")
    numbers = pd.to_numeric(text, errors="coerce")
    bad = numbers.isna().to_numpy()
    if bad.any():
        first = values[bad].iloc[0]
        raise DataValidationError(
            f"label {label!r}: {int(bad.sum())} values are not numbers (first: {first!r}), so "
            "label_threshold cannot apply; drop label_threshold for a two-valued column."
        )
    return numbers.to_numpy(dtype=np.float64)


def _two_values(values: pd.Series, label: str) -> tuple[np.ndarray, str]:
    """Positive mask and rule of a two-valued column (see the module docstring)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.to_numpy(dtype=bool), f"{label} is True"
    numeric = pd.api.types.is_numeric_dtype(values.dtype)
    distinct = values.unique() if numeric else values.astype(str).str.strip().unique()
    if len(distinct) != 2:
        examples = ", ".join(repr(v) for v in sorted(distinct, key=str)[:5])
        raise DataValidationError(
            f"label {label!r} has {len(distinct)} distinct values ({examples}"
            f"{', ...' if len(distinct) > 5 else ''}); a label without label_threshold must "
            "have two. Pass label_threshold=T to call values above T positive (e.g. "
            "label_threshold=0 for 'at least one')."
        )
    top = max(distinct) if numeric else sorted(distinct)[-1]
    shown = values.to_numpy() if numeric else values.astype(str).str.strip().to_numpy()
    return shown == top, f"{label} == {top!r}"


def item_groups(
    items: pd.DataFrame | None, item_ids: IdMap, attribute: str | None
) -> tuple[np.ndarray, list[Any], str]:
    """Group code of each item of ``item_ids`` from an items-table attribute.

    ``attribute=None`` takes the first of :data:`GROUP_ATTRIBUTES` the table has. Items
    without a value share one extra group, ``"(unknown)"``. Returns (``int64`` codes, group
    names, the attribute used).
    """
    if items is None:
        raise DataValidationError(
            "input='categories' needs the dataset's items table, and the corpus has none. "
            "Ingest one (--items FILE) and train on the 'baskets+tables' corpus, or use "
            "input='items'."
        )
    columns = [c for c in items.columns if c != Columns.ITEM]
    if attribute is None:
        attribute = next((c for c in GROUP_ATTRIBUTES if c in columns), None)
        if attribute is None:
            raise DataValidationError(
                f"the items table has none of the attributes {', '.join(GROUP_ATTRIBUTES)}; "
                f"pass attribute=NAME, one of {', '.join(map(str, columns)) or '(none)'}."
            )
    elif attribute not in columns:
        raise DataValidationError(
            f"the items table has no attribute {attribute!r}; its columns are "
            f"{', '.join(map(str, columns)) or '(none)'}."
        )
    table = items.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)[attribute]
    values = table.reindex(pd.Index(item_ids.external, dtype=item_ids.external.dtype))
    codes, names = pd.factorize(values, use_na_sentinel=True)
    codes = np.where(codes < 0, len(names), codes).astype(np.int64)
    return codes, [*names.tolist(), "(unknown)"], attribute


def idf(counts: csr_matrix) -> np.ndarray:
    """Smoothed idf of each item over customers x items ``counts`` (``customer_item_matrix``'s)."""
    df = np.bincount(counts.indices, minlength=counts.shape[1]).astype(np.float64)
    return (np.log((1.0 + counts.shape[0]) / (1.0 + df)) + 1.0).astype(np.float32)


def weighted_bags(
    counts: csr_matrix, weighting: str, item_idf: np.ndarray, *, norm: str
) -> csr_matrix:
    """Customers' bags of items weighted by ``weighting`` (see :data:`WEIGHTINGS`).

    ``counts`` is customers x items (baskets holding each item); ``item_idf`` comes from the
    training customers so that a history customer gets the weights it would have had in
    training. ``norm="l2"`` scales rows to unit length, ``"l1"`` to unit sum (weights of a
    mean). Returns a ``float32`` CSR matrix.
    """
    values = counts.data.astype(np.float64)
    values = np.ones_like(values) if weighting == "binary" else np.log1p(values)
    if weighting == "tfidf":
        values *= item_idf[counts.indices]
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    sums = np.bincount(
        rows, weights=values**2 if norm == "l2" else values, minlength=counts.shape[0]
    )
    scale = np.sqrt(sums) if norm == "l2" else sums
    values /= np.maximum(scale[rows], 1e-12)
    return csr_matrix((values.astype(np.float32), counts.indices, counts.indptr), counts.shape)


def log_counts(counts: csr_matrix) -> csr_matrix:
    """``log(1 + count)`` of every entry (``float32``)."""
    return csr_matrix(
        (np.log1p(counts.data).astype(np.float32), counts.indices, counts.indptr), counts.shape
    )
