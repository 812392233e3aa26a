"""Customer and session vectors rolled up from item vectors (no training).

A customer's vector is a weighted mean of the unit-length vectors of the items it bought, so
an item's influence is its weight, never its norm (item2vec norms grow with frequency). Three
weightings of a customer's line items (one line = an item in a basket):

* ``"mean"``: every line weighs 1, so an item bought in 5 baskets counts 5 times.
* ``"tfidf"``: the customer x item counts weighted by smoothed idf (scikit-learn's
  ``TfidfTransformer`` defaults, see :func:`~customer2vec.corpus.matrix.customer_item_matrix`),
  so staples everyone buys weigh less than what sets the customer apart.
* ``"recency"``: a line weighs ``0.5 ** (age / half_life)``, its basket's age measured back
  from the customer's *own* last basket (so customers who left long ago are not faded to
  nothing). With timestamps the age is in days (``half_life_days``); a corpus built from
  sequence numbers only has no clock, so the age is the difference in basket sequence and the
  half-life is ``half_life_baskets``.

Everything is one sparse customers x items weight matrix times the item matrix: no Python loop
over customers.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Literal

import numpy as np
from scipy.sparse import csr_matrix

from customer2vec.config import require_choice, require_float
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.corpus.matrix import customer_item_matrix
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError, DataWarning, UnknownIdError
from customer2vec.vectors.embeddings import Embeddings

__all__ = ["ROLLUP_WEIGHTINGS", "recency_weights", "rollup", "session_vector"]

RollupWeighting = Literal["mean", "tfidf", "recency"]
ROLLUP_WEIGHTINGS = ("mean", "tfidf", "recency")
_DAY = np.timedelta64(1, "D")


def rollup(
    item_vectors: Embeddings,
    baskets: BasketCorpus,
    *,
    weighting: RollupWeighting = "tfidf",
    half_life_days: float = 90.0,
    half_life_baskets: float = 10.0,
) -> Embeddings:
    """Customer vectors as weighted means of the unit vectors of the items they bought.

    Parameters
    ----------
    item_vectors
        Item embeddings; corpus items they lack are ignored.
    baskets
        The customers' baskets.
    weighting
        ``"mean"``, ``"tfidf"`` or ``"recency"`` (see the module docstring).
    half_life_days
        ``"recency"`` with timestamps: a basket this many days older than the customer's last
        one weighs half as much.
    half_life_baskets
        ``"recency"`` on a corpus without timestamps: the half-life in baskets (sequence
        steps) back from the customer's last basket.

    Returns
    -------
    Embeddings
        Kind ``"customer"``, one row per customer with at least one item that has a vector,
        in corpus order. Customers without any such item are left out with a ``DataWarning``.

    Raises
    ------
    ConfigError
        If ``weighting`` or a half-life is invalid.
    """
    require_choice(weighting, "weighting", ROLLUP_WEIGHTINGS)
    require_float(half_life_days, "half_life_days", minimum=1e-9)
    require_float(half_life_baskets, "half_life_baskets", minimum=1e-9)
    if weighting == "tfidf":
        weights = customer_item_matrix(baskets, weighting="tfidf")
    else:
        line_weight = (
            np.ones(baskets.n_lines)
            if weighting == "mean"
            else np.repeat(
                recency_weights(
                    baskets, half_life_days=half_life_days, half_life_baskets=half_life_baskets
                ),
                baskets.row_lengths(),
            )
        )
        line_customer = np.repeat(baskets.basket_customer, baskets.row_lengths())
        weights = csr_matrix(
            (line_weight, (line_customer, baskets.indices)),
            shape=(baskets.n_customers, baskets.n_items),
        )  # duplicates (an item in several baskets) are summed
    rows = item_vectors.id_map.to_internal(baskets.item_ids.external, on_unknown="missing")
    known = rows >= 0
    unit = np.zeros((baskets.n_items, item_vectors.dim), dtype=np.float64)
    unit[known] = item_vectors.unit_vectors[rows[known]]
    weights = csr_matrix(weights, dtype=np.float64)
    weights.data *= known[weights.indices]
    totals = np.asarray(weights.sum(axis=1)).ravel()
    has = totals > 0
    if not has.all():
        warnings.warn(
            f"{int((~has).sum())} of {baskets.n_customers} customers bought no item that has "
            "a vector; they get no customer vector.",
            DataWarning,
            stacklevel=2,
        )
    vectors = (weights @ unit)[has] / totals[has, None]
    ids = IdMap(baskets.customer_ids.external[has], kind="customer")
    return Embeddings(ids, vectors.astype(np.float32), kind="customer")


def recency_weights(
    baskets: BasketCorpus, *, half_life_days: float = 90.0, half_life_baskets: float = 10.0
) -> np.ndarray:
    """Per basket, ``0.5 ** (age / half_life)`` with age back from its customer's last basket.

    Age is in days with ``basket_time`` (``half_life_days``), else in basket sequence steps
    (``half_life_baskets``). Returns ``float64`` of length ``n_baskets``; the last basket of
    every customer weighs 1.

    Raises
    ------
    DataValidationError
        If some baskets lack a timestamp.
    """
    starts = baskets.customer_indptr[:-1]
    counts = np.diff(baskets.customer_indptr)
    nonempty = counts > 0
    if baskets.basket_time is not None:
        times = np.asarray(baskets.basket_time)
        if np.isnat(times).any():
            raise DataValidationError(
                f"{int(np.isnat(times).sum())} baskets have no timestamp; recency needs one "
                "for every basket (or a corpus built from sequence numbers only)."
            )
        # Baskets of a customer are sorted by sequence, which need not follow time exactly.
        latest = np.maximum.reduceat(times, starts[nonempty])
        last = np.repeat(latest, counts[nonempty])
        age, half_life = (last - times) / _DAY, half_life_days
    else:
        sequence = baskets.basket_sequence.astype(np.int64)
        latest = np.maximum.reduceat(sequence, starts[nonempty])
        age, half_life = (np.repeat(latest, counts[nonempty]) - sequence), half_life_baskets
    return np.power(0.5, np.asarray(age, dtype=np.float64) / half_life)


def session_vector(
    item_vectors: Embeddings,
    items: Sequence[Hashable],
    *,
    weights: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """The weighted mean of the unit vectors of ``items`` (a session, a cart, any list).

    Parameters
    ----------
    item_vectors
        Item embeddings.
    items
        External item ids; ids without a vector are ignored (with their weights).
    weights
        One non-negative weight per item; equal weights by default.

    Returns
    -------
    numpy.ndarray
        ``float32`` vector of length ``item_vectors.dim``.

    Raises
    ------
    UnknownIdError
        If no item has a vector.
    DataValidationError
        If ``weights`` has the wrong length, negative or non-finite values, or the known
        items' weights sum to zero.
    """
    ids = list(items)
    rows = item_vectors.id_map.to_internal(ids, on_unknown="missing") if ids else np.zeros(0)
    if weights is None:
        values = np.ones(len(ids))
    else:
        values = np.asarray(weights, dtype=np.float64)
        if values.shape != (len(ids),):
            raise DataValidationError(
                f"weights must hold one number per item ({len(ids)}); got shape {values.shape}."
            )
        if not np.isfinite(values).all() or (values < 0).any():
            raise DataValidationError("weights must be finite and >= 0.")
    known = rows >= 0
    if not known.any():
        raise UnknownIdError(
            f"none of the {len(ids)} items has a vector; pass at least one known item id."
        )
    total = values[known].sum()
    if total <= 0:
        raise DataValidationError("the known items' weights sum to 0; give some a weight > 0.")
    unit = item_vectors.unit_vectors[rows[known].astype(np.int64)].astype(np.float64)
    return (values[known] @ unit / total).astype(np.float32)
