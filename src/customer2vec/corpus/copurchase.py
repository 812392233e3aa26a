"""Co-purchase lists: for each item, the items most often bought with it, best first.

Some retailers hold only these lists (``{1234: [5678, 6352, ...], ...}``); the
``copurchase`` model embeds items from them alone. A dataset without lists gets them from
its baskets (:func:`derive_copurchase`): each item's ``n_per_item`` partners that share the
most baskets with it, counted with ``B.T @ B``.

How partners are ranked (``score``): the literal "most often bought together" is the raw
count, but raw counts put the same best sellers at the top of nearly every list (on The
Complete Journey, the 20 most listed items fill 44% of all list slots), so lists say little
about the item itself. The default ``"cosine"`` divides the count by
``sqrt(count_i * count_j)`` (the Ochiai coefficient that item-kNN recommenders use): within
one item's list it is the count discounted by the square root of the partner's popularity.
Measured there (min_count=2, 33K items): share of listed partners in the item's own
``product_category`` 0.21 for cosine, 0.17 for lift, 0.12 for count; the ``copurchase``
model puts 0.73 of a cosine list among the item's 10 nearest neighbors but only about 0.3
of a count list, whose best sellers would have to be near neighbors of most items.
``score="count"`` is there for the literal reading.

Lists are stored in CSR form like :class:`~customer2vec.corpus.baskets.TokenRows`: row ``i``
is item ``i``'s list, ``indices[indptr[i]:indptr[i + 1]]``, best first, with the 1-based
``ranks`` beside it. Items that are only ever listed (never list owners) have empty rows.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_choice, require_int
from customer2vec.data.dataset import Dataset
from customer2vec.data.ids import IdMap
from customer2vec.errors import DataValidationError, DataWarning

if TYPE_CHECKING:
    from customer2vec.corpus.baskets import BasketCorpus

Source = Literal["lists", "derived"]
Score = Literal["count", "cosine", "lift"]
SCORES = ("count", "cosine", "lift")

#: Target number of co-occurrence entries per block of ``B.T @ B`` rows; bounds memory
#: (about 16 bytes per entry while a block is sorted) whatever the catalogue size.
_BLOCK_ENTRIES = 8_000_000


@dataclass(frozen=True, eq=False, repr=False)
class CopurchaseLists:
    """Each item's list of co-bought items, best first, in CSR form.

    Attributes
    ----------
    item_ids
        Every id that owns a list or appears in one: internal id -> external id.
    indptr
        ``int64``, ``n_items + 1`` offsets; item ``i``'s list is
        ``indices[indptr[i]:indptr[i + 1]]``.
    indices
        ``int32`` internal ids of the listed items, best first within each list.
    ranks
        ``int32`` 1-based rank of each listed item (1 = most often bought together).
    source
        ``"lists"`` when read from the dataset's ``copurchase`` table, ``"derived"`` when
        computed from baskets.
    """

    item_ids: IdMap
    indptr: np.ndarray
    indices: np.ndarray
    ranks: np.ndarray
    source: Source = "lists"

    @property
    def n_items(self) -> int:
        """Number of distinct ids (list owners and listed items)."""
        return len(self.item_ids)

    @property
    def n_pairs(self) -> int:
        """Number of (item, listed item) pairs over all lists."""
        return len(self.indices)

    @property
    def n_lists(self) -> int:
        """Number of items that own a non-empty list."""
        return int(np.count_nonzero(np.diff(self.indptr)))

    def list_lengths(self) -> np.ndarray:
        """Length of each item's list (``int64``; 0 for items that are only listed)."""
        return np.diff(self.indptr)

    def owners(self) -> np.ndarray:
        """``int64`` internal id of the list owner of each pair (aligned with ``indices``)."""
        return np.repeat(np.arange(self.n_items, dtype=np.int64), self.list_lengths())

    def to_pairs(self) -> pd.DataFrame:
        """The lists as a table: ``item_id``, ``other_item_id``, ``rank`` (external ids)."""
        return pd.DataFrame(
            {
                Columns.ITEM: self.item_ids.to_external(self.owners()),
                Columns.OTHER_ITEM: self.item_ids.to_external(self.indices),
                Columns.RANK: self.ranks.astype(np.int64),
            }
        )

    def to_dict(self) -> dict[object, list[object]]:
        """The lists as ``{item: [listed items, best first]}`` (items with a list only)."""
        external = self.item_ids.external.tolist()
        return {
            external[i]: [external[j] for j in self.indices[self.indptr[i] : self.indptr[i + 1]]]
            for i in np.flatnonzero(self.list_lengths())
        }

    @classmethod
    def from_dict(cls, lists: Mapping[Hashable, Sequence[Hashable]]) -> CopurchaseLists:
        """Build lists from ``{item: [listed items, best first]}`` (see :meth:`from_pairs`).

        Examples
        --------
        >>> lists = CopurchaseLists.from_dict({1234: [5678, 6352], 5678: [1234]})
        >>> lists.n_items, lists.n_pairs
        (3, 3)
        """
        owners = [item for item, listed in lists.items() for _ in listed]
        others = [other for listed in lists.values() for other in listed]
        ranks = [rank for listed in lists.values() for rank in range(1, len(listed) + 1)]
        frame = pd.DataFrame(
            {
                Columns.ITEM: pd.Series(owners, dtype=object),
                Columns.OTHER_ITEM: pd.Series(others, dtype=object),
                Columns.RANK: np.asarray(ranks, dtype=np.int64),
            }
        )
        return cls.from_pairs(frame)

    @classmethod
    def from_pairs(
        cls,
        pairs: pd.DataFrame,
        *,
        item_col: str = Columns.ITEM,
        other_col: str = Columns.OTHER_ITEM,
        rank_col: str | None = Columns.RANK,
        source: Source = "lists",
    ) -> CopurchaseLists:
        """Build lists from a pair table (one row per item and listed item).

        Rows are ordered by ``rank_col`` within each item (ties keep table order); without
        a rank column, table order is the list order. Ranks are renumbered 1, 2, ... per
        item. Self-pairs and repeated pairs (the best rank kept) are dropped with one
        ``DataWarning``. Ids are numbered in order of first appearance, owners first.

        Raises
        ------
        DataValidationError
            If a column is missing, an id is missing, or a rank is not an integer >= 1.
        """
        require_choice(source, "source", ("lists", "derived"))
        needed = [item_col, other_col] + ([rank_col] if rank_col is not None else [])
        missing = [c for c in needed if c not in pairs.columns]
        if missing:
            raise DataValidationError(
                f"co-purchase pairs lack column(s) {', '.join(missing)}; found "
                f"{', '.join(map(str, pairs.columns))}."
            )
        n_rows = len(pairs)
        if rank_col is None:
            rank = np.ones(n_rows, dtype=np.int64)
        else:
            raw = pd.to_numeric(pairs[rank_col], errors="coerce").to_numpy(dtype=np.float64)
            bad = ~np.isfinite(raw) | (raw < 1) | (raw != np.round(raw))
            if bad.any():
                first = int(np.argmax(bad))
                raise DataValidationError(
                    f"co-purchase `{rank_col}` must hold integers >= 1; {int(bad.sum())} rows "
                    f"do not (first: row {first}, value {pairs[rank_col].iloc[first]!r})."
                )
            rank = raw.astype(np.int64)
        ids = IdMap.from_values(
            np.concatenate([_column(pairs, item_col), _column(pairs, other_col)]), kind="item"
        )
        owner = ids.to_internal(_column(pairs, item_col))
        other = ids.to_internal(_column(pairs, other_col))
        # Best rank first, ties in table order; then keep the first row of each pair.
        order = np.lexsort((np.arange(n_rows), rank, owner))
        owner, other = owner[order], other[order]
        keep = owner != other
        n_self = int((~keep).sum())
        key = owner * len(ids) + other
        first = np.zeros(n_rows, dtype=bool)
        first[np.unique(key, return_index=True)[1]] = True
        n_repeated = int((keep & ~first).sum())
        keep &= first
        if n_self or n_repeated:
            warnings.warn(
                f"co-purchase lists: dropped {n_self + n_repeated:,} of {n_rows:,} pairs "
                f"(self_pair {n_self:,}, duplicate {n_repeated:,})",
                DataWarning,
                stacklevel=2,
            )
        return _from_sorted(ids, owner[keep], other[keep], source=source)

    def __repr__(self) -> str:
        return (
            f"CopurchaseLists(n_items={self.n_items}, n_lists={self.n_lists}, "
            f"n_pairs={self.n_pairs}, source={self.source!r})"
        )


def build_copurchase(
    dataset: Dataset, *, n_per_item: int = 10, min_count: int = 2, score: Score = "cosine"
) -> CopurchaseLists:
    """The dataset's co-purchase lists, or lists derived from its baskets if it has none.

    Parameters
    ----------
    dataset
        A dataset directory. Its ``copurchase`` table, when present, is used as is (the
        other parameters are then ignored).
    n_per_item, min_count, score
        For derived lists; see :func:`derive_copurchase`.

    Raises
    ------
    ConfigError
        If a parameter is invalid.
    DataValidationError
        If the table is malformed, or the baskets yield no pair bought together
        ``min_count`` times.
    """
    require_int(n_per_item, "n_per_item", minimum=1)
    require_int(min_count, "min_count", minimum=1)
    require_choice(score, "score", SCORES)
    if dataset.has("copurchase"):
        return CopurchaseLists.from_pairs(dataset.read("copurchase"), source="lists")
    from customer2vec.corpus.baskets import build_baskets

    baskets = build_baskets(dataset, min_item_count=min_count)
    return derive_copurchase(baskets, n_per_item=n_per_item, min_count=min_count, score=score)


def derive_copurchase(
    baskets: BasketCorpus, *, n_per_item: int = 10, min_count: int = 2, score: Score = "cosine"
) -> CopurchaseLists:
    """Each item's ``n_per_item`` most co-bought items, from a basket corpus.

    Co-occurrence counts are ``B.T @ B`` of the binary baskets x items matrix (the number of
    baskets holding both items), computed one block of items at a time so that memory stays
    bounded for large catalogues.

    Parameters
    ----------
    baskets
        The basket corpus.
    n_per_item
        Longest list per item.
    min_count
        A partner must share at least this many baskets with the item; items with no such
        partner get no list (and are left out unless another list names them).
    score
        How partners are ranked (see the module notes): ``"cosine"`` (default)
        ``count / sqrt(count_i * count_j)``; ``"count"`` the number of shared baskets, the
        literal "most often bought together"; ``"lift"``
        ``count * n_baskets / (count_i * count_j)``, which favours rare specific partners.
        ``count_i`` is the number of baskets holding item ``i``.

    Ties are broken by the partner's overall basket count (more popular first), then by
    id (the corpus's vocabulary order): the result never depends on the order of the
    input lines.

    Returns
    -------
    CopurchaseLists
        With ``source="derived"``; ids in the corpus's vocabulary order (most baskets first).

    Raises
    ------
    DataValidationError
        If no pair of items shares ``min_count`` baskets.
    """
    require_int(n_per_item, "n_per_item", minimum=1)
    require_int(min_count, "min_count", minimum=1)
    require_choice(score, "score", SCORES)
    from customer2vec.corpus.matrix import basket_item_matrix

    matrix = basket_item_matrix(baskets)
    by_item = matrix.T.tocsr()
    n_items = baskets.n_items
    item_counts = np.asarray(by_item.getnnz(axis=1), dtype=np.float64)
    # Expected entries of each item's row of B.T @ B bound its cost; cut blocks by that.
    basket_sizes = np.diff(matrix.indptr).astype(np.float64)
    row_cost = np.asarray(by_item @ basket_sizes, dtype=np.float64) if n_items else np.empty(0)
    bounds = _block_bounds(row_cost, _BLOCK_ENTRIES)
    owners, partners = [], []
    for start, stop in itertools.pairwise(bounds):
        block = (by_item[start:stop] @ matrix).tocoo()
        row = block.row.astype(np.int64) + start
        col = block.col.astype(np.int64)
        count = np.rint(block.data).astype(np.int64)
        keep = (row != col) & (count >= min_count)
        row, col, count = row[keep], col[keep], count[keep]
        # Keys that rank partners within a row like the scores do (the row's own count is a
        # constant factor), written so that equal scores give bit-equal keys: exact ties.
        if score == "lift":
            value = count / item_counts[col]
        elif score == "cosine":
            value = count.astype(np.float64) ** 2 / item_counts[col]
        else:
            value = count.astype(np.float64)
        # Best first; ties: partner in more baskets (internal order is by that), then id.
        order = np.lexsort((col, -value, row))
        row, col = row[order], col[order]
        first = np.searchsorted(row, row, side="left")
        top = np.arange(len(row)) - first < n_per_item
        owners.append(row[top])
        partners.append(col[top])
    owner = np.concatenate(owners) if owners else np.empty(0, dtype=np.int64)
    other = np.concatenate(partners) if partners else np.empty(0, dtype=np.int64)
    if len(owner) == 0:
        raise DataValidationError(
            f"no two items share {min_count} or more baskets, so no co-purchase list can be "
            "derived. Lower min_count or pass a dataset with more baskets."
        )
    used = np.zeros(n_items, dtype=bool)
    used[owner] = True
    used[other] = True
    kept = np.flatnonzero(used)
    remap = np.full(n_items, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    ids = IdMap(baskets.item_ids.to_external(kept), kind="item")
    return _from_sorted(ids, remap[owner], remap[other], source="derived")


def _from_sorted(
    ids: IdMap, owner: np.ndarray, other: np.ndarray, *, source: Source
) -> CopurchaseLists:
    """Lists from pairs sorted by owner, best first within an owner."""
    n_items = len(ids)
    indptr = np.zeros(n_items + 1, dtype=np.int64)
    np.cumsum(np.bincount(owner, minlength=n_items), out=indptr[1:])
    ranks = np.arange(len(owner), dtype=np.int64) - indptr[owner] + 1
    return CopurchaseLists(
        item_ids=ids,
        indptr=indptr,
        indices=other.astype(np.int32),
        ranks=ranks.astype(np.int32),
        source=source,
    )


def _block_bounds(cost: np.ndarray, budget: float) -> np.ndarray:
    """Split ``0..len(cost)`` into consecutive blocks whose summed cost is about ``budget``."""
    n = len(cost)
    if n == 0:
        return np.zeros(1, dtype=np.int64)
    cumulative = np.cumsum(cost)
    cuts = np.searchsorted(cumulative, np.arange(budget, cumulative[-1], budget), side="right")
    return np.unique(np.concatenate(([0], cuts, [n]))).astype(np.int64)


def _column(frame: pd.DataFrame, column: str) -> np.ndarray:
    values = frame[column]
    if values.isna().any():
        first = int(np.argmax(values.isna().to_numpy()))
        raise DataValidationError(
            f"co-purchase `{column}` must not be missing; {int(values.isna().sum())} rows are "
            f"(first: row {first}). Drop them first."
        )
    return values.to_numpy()
