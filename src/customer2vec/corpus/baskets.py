"""Baskets as sentences: the corpus that item2vec and the basket models consume.

The corpus is built with SQL over the ``transactions`` relation of an :class:`Engine`, so a
second engine (Spark SQL) can run the same text. Only aggregated results cross into Python:
the item vocabulary (one row per item) and one row per basket whose items arrive as an Arrow
``list<int32>``; that column's offsets and values *are* the CSR ``indptr`` and ``indices``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.matrix import basket_item_matrix
from customer2vec.corpus.sample import CustomerSample
from customer2vec.data.dataset import Dataset
from customer2vec.data.engine import Engine, quote_ident
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError

if TYPE_CHECKING:
    from scipy.sparse import csr_matrix

_REQUIRED = (Columns.CUSTOMER, Columns.BASKET, Columns.ITEM, Columns.SEQUENCE)


@dataclass(frozen=True, eq=False, repr=False)
class TokenRows:
    """Rows of item tokens in CSR form: row ``r`` is ``indices[indptr[r]:indptr[r + 1]]``.

    Attributes
    ----------
    item_ids
        Vocabulary: internal item id -> external id.
    indptr
        ``int64``, one more than the number of rows.
    indices
        ``int32`` internal item ids.
    """

    item_ids: IdMap
    indptr: np.ndarray
    indices: np.ndarray

    @property
    def n_items(self) -> int:
        """Size of the item vocabulary."""
        return len(self.item_ids)

    @property
    def n_lines(self) -> int:
        """Total number of tokens over all rows."""
        return len(self.indices)

    @property
    def n_rows(self) -> int:
        """Number of rows (baskets or customer documents)."""
        return len(self.indptr) - 1

    def row_lengths(self) -> np.ndarray:
        """Number of tokens in each row (``int64``)."""
        return np.diff(self.indptr)

    def iter_tokens(self) -> Iterator[list[str]]:
        """Yield each row as a list of ``str`` tokens (external ids), e.g. for gensim."""
        vocabulary = self.item_ids.external.astype(str).astype(object)
        for start, stop in zip(self.indptr[:-1], self.indptr[1:], strict=True):
            yield vocabulary[self.indices[start:stop]].tolist()

    def as_token_lists(self) -> list[list[str]]:
        """All rows as lists of ``str`` tokens (external ids)."""
        return list(self.iter_tokens())

    def _row(self, row: int) -> np.ndarray:
        """External item ids of one row."""
        if not 0 <= row < self.n_rows:
            raise IndexError(f"row {row} is out of range for {self.n_rows} rows.")
        return self.item_ids.to_external(self.indices[self.indptr[row] : self.indptr[row + 1]])

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(n_rows={self.n_rows}, n_items={self.n_items}, "
            f"n_lines={self.n_lines})"
        )


@dataclass(frozen=True, eq=False, repr=False)
class BasketCorpus(TokenRows):
    """Baskets as rows of internal item ids, ordered by customer, then basket sequence.

    Attributes
    ----------
    item_ids
        Vocabulary ordered by descending ``item_counts``, ties by id (word2vec style).
    indptr, indices
        CSR over baskets: ``int64`` offsets (``n_baskets + 1``), ``int32`` internal item ids.
        With ``dedupe=True`` a basket lists each item once, in order of first appearance.
    customer_ids
        Customers that have at least one basket, sorted by external id.
    basket_customer
        ``int32`` internal customer of each basket (non-decreasing).
    basket_sequence
        ``int32`` the basket's chronological rank for its customer (from ``sequence``).
    basket_time
        ``datetime64`` earliest timestamp of each basket, or None without timestamps.
    item_counts
        ``int64`` number of baskets containing each item (in the whole input).
    dropped
        What the build left out: ``items`` and their ``lines`` (below ``min_item_count``),
        ``baskets`` and ``customers`` left with no items, and ``duplicates`` (repeated lines
        of an item in one basket merged by ``dedupe``). Input rows always equal
        ``n_lines + dropped["lines"] + dropped["duplicates"]``.
    """

    customer_ids: IdMap
    basket_customer: np.ndarray
    basket_sequence: np.ndarray
    basket_time: np.ndarray | None
    item_counts: np.ndarray
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def n_baskets(self) -> int:
        """Number of baskets."""
        return self.n_rows

    @property
    def n_customers(self) -> int:
        """Number of customers with at least one basket."""
        return len(self.customer_ids)

    @cached_property
    def customer_indptr(self) -> np.ndarray:
        """``int64`` (``n_customers + 1``): customer ``c`` owns baskets ``[p[c], p[c + 1])``."""
        bounds = np.arange(self.n_customers + 1, dtype=self.basket_customer.dtype)
        return np.searchsorted(self.basket_customer, bounds).astype(np.int64)

    def take(self, baskets: np.ndarray) -> BasketCorpus:
        """A corpus of the given baskets (sorted internal indices), on the same vocabulary.

        Customers are those the baskets belong to; ``item_counts`` are recounted.
        """
        baskets = np.asarray(baskets, dtype=np.int64)
        lengths = np.diff(self.indptr)[baskets]
        indptr = np.zeros(len(baskets) + 1, dtype=np.int64)
        np.cumsum(lengths, out=indptr[1:])
        rows = concat_ranges(self.indptr[baskets], self.indptr[baskets + 1])
        indices = self.indices[rows]
        kept, customer = np.unique(self.basket_customer[baskets], return_inverse=True)
        return BasketCorpus(
            item_ids=self.item_ids,
            indptr=indptr,
            indices=indices,
            customer_ids=IdMap(self.customer_ids.to_external(kept), kind="customer"),
            basket_customer=customer.astype(np.int32),
            basket_sequence=self.basket_sequence[baskets],
            basket_time=None if self.basket_time is None else self.basket_time[baskets],
            item_counts=np.bincount(indices, minlength=self.n_items).astype(np.int64),
            dropped={},
        )

    def basket(self, i: int) -> np.ndarray:
        """External item ids of basket ``i`` (internal basket index)."""
        return self._row(i)

    def to_csr(self) -> csr_matrix:
        """Binary baskets x items matrix (``float32``); see :func:`basket_item_matrix`."""
        return basket_item_matrix(self)

    def __repr__(self) -> str:
        return (
            f"BasketCorpus(n_baskets={self.n_baskets}, n_items={self.n_items}, "
            f"n_customers={self.n_customers}, n_lines={self.n_lines}, "
            f"dropped={self.dropped})"
        )


def build_baskets(
    source: Dataset | Engine,
    *,
    min_item_count: int = 1,
    dedupe: bool = True,
    sample: CustomerSample | None = None,
) -> BasketCorpus:
    """Build the basket corpus from a dataset (or an engine with ``transactions`` registered).

    Parameters
    ----------
    source
        A :class:`Dataset`, or an engine whose ``transactions`` relation has the canonical
        columns (``customer_id``, ``basket_id``, ``item_id``, ``sequence``, [``timestamp``]).
    min_item_count
        Drop items found in fewer baskets than this (their lines, and baskets left empty,
        are dropped too and counted in ``dropped``).
    dedupe
        Make each basket a set of distinct items (kept in order of first appearance).
    sample
        Keep only these customers' baskets; the item vocabulary and ``item_counts`` stay
        those of every customer (None: every customer).

    Returns
    -------
    BasketCorpus

    Raises
    ------
    ConfigError
        If a parameter is invalid.
    DataValidationError
        If ``transactions`` lacks a canonical column.
    """
    require_int(min_item_count, "min_item_count", minimum=1)
    if not isinstance(dedupe, bool):
        raise ConfigError(f"`dedupe` must be a bool; got {dedupe!r}.")
    if isinstance(source, Dataset):
        if not source.has("transactions"):
            raise DataValidationError(
                f"dataset {source.path} has no transactions (it holds only "
                f"{', '.join(source.info['tables']) or 'nothing'}); this needs purchases. "
                "Ingest a transaction file too."
            )
        engine = source.engine()
        try:
            return _build(engine, min_item_count=min_item_count, dedupe=dedupe, sample=sample)
        finally:
            engine.close()
    return _build(source, min_item_count=min_item_count, dedupe=dedupe, sample=sample)


def _build(
    engine: Engine, *, min_item_count: int, dedupe: bool, sample: CustomerSample | None = None
) -> BasketCorpus:
    chosen = "TRUE" if sample is None or sample.everyone else _chosen_sql(sample)
    columns = engine.arrow("SELECT * FROM transactions LIMIT 0").schema.names
    missing = [name for name in _REQUIRED if name not in columns]
    if missing:
        raise DataValidationError(
            f"transactions lack column(s) {', '.join(missing)}; found {', '.join(columns)}. "
            "Write the dataset with `customer2vec ingest`."
        )
    has_time = Columns.TIMESTAMP in columns

    stats = engine.arrow(_item_stats_sql(engine, has_time))
    n_baskets_per_item = _numpy(stats.column("n_baskets")).astype(np.int64)
    n_lines_per_item = _numpy(stats.column("n_lines")).astype(np.int64)
    # Rows come ordered by descending count, so the kept vocabulary is a prefix.
    n_kept = int(np.searchsorted(-n_baskets_per_item, -min_item_count, side="right"))
    item_ids = IdMap(_ids(stats.column(Columns.ITEM)[:n_kept]), kind="item")

    table = engine.arrow(
        _baskets_sql(engine, has_time, min_item_count=min_item_count, dedupe=dedupe, chosen=chosen)
    )
    basket_customer, customer_ids = _runs(table.column(Columns.CUSTOMER))
    items = table.column("items")
    indptr = np.zeros(table.num_rows + 1, dtype=np.int64)
    np.cumsum(_numpy(pc.list_value_length(items)), out=indptr[1:])
    indices = _numpy(pc.list_flatten(items)).astype(np.int32, copy=False)
    basket_time = _numpy(table.column(Columns.TIMESTAMP)) if has_time else None

    n_input_lines = int(n_lines_per_item.sum())
    n_kept_lines = int(n_lines_per_item[:n_kept].sum())
    if chosen != "TRUE":  # the sample's lines, not everyone's
        sampled = engine.arrow(_sampled_lines_sql(chosen))
        n_lines = _numpy(sampled.column("n_lines")).astype(np.int64)
        known = item_ids.to_internal(_ids(sampled.column(Columns.ITEM)), on_unknown="missing")
        n_input_lines, n_kept_lines = int(n_lines.sum()), int(n_lines[known >= 0].sum())
    n_input_baskets, n_input_customers = table.num_rows, len(customer_ids)
    if n_kept < len(n_baskets_per_item) or chosen != "TRUE":
        row = engine.arrow(_totals_sql(chosen)).to_pylist()[0]
        n_input_baskets, n_input_customers = row["n_baskets"], row["n_customers"]
    dropped = {
        "items": len(n_baskets_per_item) - n_kept,
        "lines": n_input_lines - n_kept_lines,
        "baskets": n_input_baskets - table.num_rows,
        "customers": n_input_customers - len(customer_ids),
        "duplicates": n_kept_lines - len(indices),
    }
    return BasketCorpus(
        item_ids=item_ids,
        indptr=indptr,
        indices=indices,
        customer_ids=IdMap(customer_ids, kind="customer"),
        basket_customer=basket_customer,
        basket_sequence=_numpy(table.column(Columns.SEQUENCE)).astype(np.int32),
        basket_time=basket_time,
        item_counts=n_baskets_per_item[:n_kept].copy(),
        dropped=dropped,
    )


def _ctes(engine: Engine, has_time: bool) -> str:
    """``lines`` (numbered in file order) and ``pairs`` (one row per basket and item)."""
    c, b, i = (quote_ident(n) for n in (Columns.CUSTOMER, Columns.BASKET, Columns.ITEM))
    s, t = quote_ident(Columns.SEQUENCE), quote_ident(Columns.TIMESTAMP)
    time_column = f", {t}" if has_time else ""
    time_first = f", MIN({t}) AS {t}" if has_time else ""
    return f"""
        lines AS (
            SELECT {c}, {b}, {i}, {s}{time_column}, {engine.line_number} AS line_no
            FROM transactions
        ),
        pairs AS (
            SELECT {c}, {b}, {i}, MIN({s}) AS {s}{time_first},
                   MIN(line_no) AS line_no, COUNT(*) AS n_lines
            FROM lines
            GROUP BY {c}, {b}, {i}
        ),
        item_stats AS (
            SELECT {i}, COUNT(*) AS n_baskets, SUM(n_lines) AS n_lines
            FROM pairs
            GROUP BY {i}
        )"""


def _item_stats_sql(engine: Engine, has_time: bool) -> str:
    """Every item with its basket and line counts, in vocabulary order."""
    i = quote_ident(Columns.ITEM)
    return f"""
        WITH {_ctes(engine, has_time)}
        SELECT {i}, n_baskets, n_lines
        FROM item_stats
        ORDER BY n_baskets DESC, {i}"""


def _baskets_sql(
    engine: Engine, has_time: bool, *, min_item_count: int, dedupe: bool, chosen: str = "TRUE"
) -> str:
    """One row per kept basket: customer, sequence, [time], items (internal ids, line order)."""
    c, b, i = (quote_ident(n) for n in (Columns.CUSTOMER, Columns.BASKET, Columns.ITEM))
    s, t = quote_ident(Columns.SEQUENCE), quote_ident(Columns.TIMESTAMP)
    source = "pairs" if dedupe else "lines"
    time_column = f", p.{t}" if has_time else ""
    time_first = f", MIN({t}) AS {t}" if has_time else ""
    return f"""
        WITH {_ctes(engine, has_time)},
        vocabulary AS (
            SELECT {i}, CAST(ROW_NUMBER() OVER (ORDER BY n_baskets DESC, {i}) - 1 AS INTEGER)
                        AS item_index
            FROM item_stats
            WHERE n_baskets >= {int(min_item_count)}
        ),
        kept AS (
            SELECT p.{c}, p.{b}, p.{s}{time_column}, p.line_no, v.item_index
            FROM {source} AS p
            JOIN vocabulary AS v ON p.{i} = v.{i}
            WHERE {chosen}
        )
        SELECT {c}, CAST(MIN({s}) AS INTEGER) AS {s}{time_first},
               {engine.ordered_list("item_index", "line_no")} AS items
        FROM kept
        GROUP BY {c}, {b}
        ORDER BY {c}, {s}, {b}"""


def _chosen_sql(sample: CustomerSample) -> str:
    """Whether line ``p`` is a sampled customer's (the hash runs once per customer)."""
    c = quote_ident(Columns.CUSTOMER)
    return f"""p.{c} IN (
        SELECT {c} FROM (SELECT DISTINCT {c} FROM transactions) AS d
        WHERE {sample.sql(f"d.{Columns.CUSTOMER}")})"""


def _sampled_lines_sql(chosen: str) -> str:
    """Line items per item of the ``chosen`` customers."""
    i = quote_ident(Columns.ITEM)
    return f"SELECT {i}, COUNT(*) AS n_lines FROM transactions AS p WHERE {chosen} GROUP BY {i}"


def _totals_sql(chosen: str = "TRUE") -> str:
    """Baskets and customers in the input (before ``min_item_count``; ``chosen`` ones)."""
    c, b = quote_ident(Columns.CUSTOMER), quote_ident(Columns.BASKET)
    return f"""
        SELECT COUNT(*) AS n_baskets, COUNT(DISTINCT {c}) AS n_customers
        FROM (SELECT {c}, {b} FROM transactions AS p WHERE {chosen} GROUP BY {c}, {b}) AS baskets"""


def _runs(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Split a sorted column into runs: (``int32`` run of each row, external id of each run)."""
    values = column.combine_chunks()
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int32), _ids(values)
    change = _numpy(pc.not_equal(values.slice(1), values.slice(0, n - 1)))
    starts = np.flatnonzero(np.concatenate(([True], change)))
    run_of_row = np.cumsum(np.concatenate(([True], change)), dtype=np.int64) - 1
    return run_of_row.astype(np.int32), _ids(values.take(pa.array(starts)))


def _ids(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """External ids from Arrow: ``int64`` for integer types, else an object array of ``str``."""
    values = _numpy(column)
    return values.astype(np.int64 if pa.types.is_integer(column.type) else object, copy=False)


def _numpy(values: Any) -> np.ndarray:
    """Arrow array or chunked array -> NumPy (copying where Arrow's layout requires)."""
    return (
        values.to_numpy(zero_copy_only=False)
        if isinstance(values, pa.Array)
        else (values.to_numpy())
    )


def concat_ranges(starts: np.ndarray, stops: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(start, stop)`` for each pair (vectorized)."""
    lengths = stops - starts
    total = int(lengths.sum())
    first = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=first[1:])
    return np.arange(total, dtype=np.int64) + np.repeat(starts - first, lengths)


@dataclass(frozen=True, eq=False, repr=False)
class BasketsWithTables:
    """Baskets plus the dataset's side tables, for models that learn from attributes or labels.

    ``items`` is the whole catalogue (``item_id`` first, then attributes), including items
    never sold, so that cold-start models can place them; ``customers`` is the customer table
    (``customer_id`` first, then attributes and labels). Either is ``None`` when the dataset
    has no such table. Align rows with ``baskets.item_ids`` / ``baskets.customer_ids``.
    """

    baskets: BasketCorpus
    items: pd.DataFrame | None
    customers: pd.DataFrame | None

    def __repr__(self) -> str:
        tables = [name for name in ("items", "customers") if getattr(self, name) is not None]
        return f"BasketsWithTables({self.baskets!r}, tables={tables})"


def build_baskets_with_tables(
    dataset: Dataset, *, min_item_count: int = 1, sample: CustomerSample | None = None
) -> BasketsWithTables:
    """Baskets of ``dataset`` with its ``items`` and ``customers`` tables (when present)."""
    return BasketsWithTables(
        baskets=build_baskets(dataset, min_item_count=min_item_count, sample=sample),
        items=dataset.read("items") if dataset.has("items") else None,
        customers=dataset.read("customers") if dataset.has("customers") else None,
    )
