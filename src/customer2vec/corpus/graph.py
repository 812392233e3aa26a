"""Graphs for node2vec: the item graph of baskets or co-purchase lists, or any edge list.

A :class:`Graph` is a square ``scipy.sparse.csr_matrix`` of positive ``float32`` weights
(row ``i`` lists node ``i``'s out-neighbors, sorted, no self-loops) with an
:class:`~customer2vec.data.ids.IdMap` of external node ids. Undirected graphs store every
edge in both rows.

Three builders:

* :func:`item_graph` from baskets: ``c_ij`` = the number of baskets holding both items,
  counted with ``B.T @ B`` one block of items at a time (as
  :func:`~customer2vec.corpus.copurchase.derive_copurchase` does), so memory stays bounded.
  A walk needs positive weights. ``weight="cosine"`` (default) is
  ``c_ij / sqrt(c_i * c_j)`` (``c_i``: baskets holding item ``i``), the score that ranks
  co-purchase lists; ``"count"`` is ``c_ij`` itself, which sends walks to the best sellers
  that every basket holds; ``"ppmi"`` is ``max(0, log(c_ij * n_baskets / (c_i * c_j)))``,
  PMI without the pairs bought together less than chance (PMI <= 0, which a walk cannot
  use), which sends walks to rare, specific partners. ``min_count`` drops pairs seen in
  fewer baskets (noise, which PMI overrates) and keeps the graph sparse: on The Complete
  Journey (68K items, 156K baskets) the 12M co-bought pairs shrink to 2.2M with
  ``min_count=2``, over 33K items. ``max_degree`` keeps only each item's heaviest edges
  (the union of those lists, so the graph stays symmetric): a k-nearest-neighbor graph,
  which walks better. Measured there with node2vec (share of a frequent item's 10 nearest
  neighbors in its product category, skip-gram window 2): cosine 0.250 with every pair,
  0.278 with ``max_degree=10`` (183K edges); count 0.233 and PPMI 0.219 with every pair;
  ``min_count=1`` (11.9M edges, count, window 5) 0.182.
* :func:`copurchase_graph` from "frequently bought together" lists: an edge per listed
  pair, weighted uniformly or by ``1 / rank``; a pair listed both ways adds up.
* :func:`read_edges` from a CSV or Parquet edge list (``source, target[, weight]``) of any
  entities, e.g. payments between customers. Repeated edges add up their weights
  (payments become total amounts); self-loops are dropped with a ``DataWarning``.
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix

from customer2vec.config import require_choice, require_int
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, DataWarning

if TYPE_CHECKING:
    from customer2vec.corpus.baskets import BasketCorpus
    from customer2vec.corpus.copurchase import CopurchaseLists

BasketWeight = Literal["ppmi", "count", "cosine"]
BASKET_WEIGHTS = ("ppmi", "count", "cosine")
ListWeight = Literal["uniform", "harmonic"]
LIST_WEIGHTS = ("uniform", "harmonic")
#: Default names of the edge-list columns.
SOURCE, TARGET, WEIGHT = "source", "target", "weight"


@dataclass(frozen=True, eq=False, repr=False)
class Graph:
    """A weighted graph in CSR form, keyed by external node ids.

    Attributes
    ----------
    node_ids
        Internal node id -> external id.
    adjacency
        ``csr_matrix`` (``n_nodes x n_nodes``, ``float32``): ``adjacency[i, j] > 0`` is the
        weight of the edge from ``i`` to ``j``. Sorted indices, no explicit zeros, no
        self-loops.
    directed
        False when every edge is stored in both directions.
    source
        How it was built: ``"baskets"``, ``"copurchase"`` or ``"edges"``.
    """

    node_ids: IdMap
    adjacency: csr_matrix
    directed: bool = False
    source: str = "edges"

    @property
    def n_nodes(self) -> int:
        """Number of nodes (isolated ones included)."""
        return len(self.node_ids)

    @property
    def n_edges(self) -> int:
        """Number of edges (an undirected edge counts once)."""
        nnz = self.adjacency.nnz
        return nnz if self.directed else nnz // 2

    def degrees(self) -> np.ndarray:
        """Number of (out-)neighbors of each node (``int64``)."""
        return np.diff(self.adjacency.indptr).astype(np.int64)

    def connected(self) -> np.ndarray:
        """Internal ids of the nodes with at least one (out-)neighbor."""
        return np.flatnonzero(self.degrees() > 0)

    @classmethod
    def from_edges(
        cls,
        sources: Sequence[Hashable] | np.ndarray,
        targets: Sequence[Hashable] | np.ndarray,
        weights: Sequence[float] | np.ndarray | None = None,
        *,
        directed: bool = False,
        kind: str = "node",
    ) -> Graph:
        """Build a graph from aligned arrays of external ids (and positive weights).

        Repeated edges add up; self-loops are dropped with one ``DataWarning``. Nodes are
        numbered in order of first appearance (sources, then targets).

        Raises
        ------
        DataValidationError
            If the arrays differ in length, an id is missing, or a weight is not a positive
            finite number.
        """
        sources, targets = np.asarray(sources), np.asarray(targets)
        if len(sources) != len(targets):
            raise DataValidationError(
                f"sources and targets must have the same length; got {len(sources)} and "
                f"{len(targets)}."
            )
        if weights is None:
            values = np.ones(len(sources), dtype=np.float64)
        else:
            values = np.asarray(weights, dtype=np.float64)
            if values.shape != sources.shape:
                raise DataValidationError(
                    f"weights must have one value per edge ({len(sources)}); got "
                    f"{values.shape[0] if values.ndim else 'a scalar'}."
                )
            _check_weights(values, "weight")
        ids = IdMap.from_values(np.concatenate([sources, targets]), kind=kind)
        rows, cols = ids.to_internal(sources), ids.to_internal(targets)
        n_self = int((rows == cols).sum())
        if n_self:
            warnings.warn(
                f"edge list: dropped {n_self:,} of {len(rows):,} edges (self_loop {n_self:,})",
                DataWarning,
                stacklevel=2,
            )
        adjacency = _assemble(len(ids), rows, cols, values, symmetrize=not directed)
        return cls(node_ids=ids, adjacency=adjacency, directed=directed, source="edges")

    def __repr__(self) -> str:
        kind = "directed" if self.directed else "undirected"
        return (
            f"Graph(n_nodes={self.n_nodes}, n_edges={self.n_edges}, {kind}, source={self.source!r})"
        )


def item_graph(
    baskets: BasketCorpus,
    *,
    weight: BasketWeight = "cosine",
    min_count: int = 2,
    max_degree: int = 0,
) -> Graph:
    """The item co-purchase graph of a basket corpus.

    Parameters
    ----------
    baskets
        The corpus; nodes are its items, in its vocabulary order (items without a partner
        stay as isolated nodes, so internal ids match the corpus).
    weight
        ``"cosine"`` (default) ``c_ij / sqrt(c_i * c_j)``; ``"count"`` the number of baskets
        holding both items; ``"ppmi"`` positive pointwise mutual information of the pair
        (pairs with PMI <= 0 left out). See the module notes.
    min_count
        Keep pairs found together in at least this many baskets.
    max_degree
        When > 0, keep only each item's ``max_degree`` heaviest edges (an edge stays when
        either end keeps it).

    Raises
    ------
    ConfigError
        If a parameter is invalid.
    """
    require_choice(weight, "weight", BASKET_WEIGHTS)
    require_int(min_count, "min_count", minimum=1)
    require_int(max_degree, "max_degree", minimum=0)
    from customer2vec.corpus.copurchase import _BLOCK_ENTRIES, _block_bounds
    from customer2vec.corpus.matrix import basket_item_matrix

    matrix = basket_item_matrix(baskets)
    by_item = matrix.T.tocsr()
    n_items, n_baskets = baskets.n_items, matrix.shape[0]
    item_counts = np.asarray(by_item.getnnz(axis=1), dtype=np.float64)
    basket_sizes = np.diff(matrix.indptr).astype(np.float64)
    row_cost = np.asarray(by_item @ basket_sizes, dtype=np.float64) if n_items else np.empty(0)
    rows, cols, values = [], [], []
    for start, stop in itertools.pairwise(_block_bounds(row_cost, _BLOCK_ENTRIES)):
        block = (by_item[start:stop] @ matrix).tocoo()
        row = block.row.astype(np.int64) + start
        col = block.col.astype(np.int32)
        count = block.data.astype(np.float64)
        keep = (row != col) & (count >= min_count)
        row, col, count = row[keep], col[keep], count[keep]
        if weight == "ppmi":
            count = np.log(count * n_baskets / (item_counts[row] * item_counts[col]))
            positive = count > 0
            row, col, count = row[positive], col[positive], count[positive]
        elif weight == "cosine":
            count = count / np.sqrt(item_counts[row] * item_counts[col])
        if max_degree:
            row, col, count = _heaviest(row, col, count, max_degree)
        rows.append(row)
        cols.append(col)
        values.append(count.astype(np.float32))
    row = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    col = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int32)
    value = np.concatenate(values) if values else np.zeros(0, dtype=np.float32)
    adjacency = csr_matrix((value, (row, col)), shape=(n_items, n_items), dtype=np.float32)
    if max_degree:
        adjacency = adjacency.maximum(adjacency.T).tocsr()
    adjacency.sort_indices()
    return Graph(node_ids=baskets.item_ids, adjacency=adjacency, directed=False, source="baskets")


def copurchase_graph(lists: CopurchaseLists, *, weight: ListWeight = "uniform") -> Graph:
    """The undirected graph of co-purchase lists: an edge between an item and each listed item.

    ``weight="uniform"`` gives every listed pair weight 1; ``"harmonic"`` gives ``1 / rank``.
    A pair listed both ways gets the sum. Nodes are the lists' ids.
    """
    require_choice(weight, "weight", LIST_WEIGHTS)
    if lists.n_pairs == 0:
        raise DataValidationError("the co-purchase lists are empty; there is no graph to walk.")
    values = np.ones(lists.n_pairs) if weight == "uniform" else 1.0 / lists.ranks
    adjacency = _assemble(lists.n_items, lists.owners(), lists.indices, values, symmetrize=True)
    return Graph(node_ids=lists.item_ids, adjacency=adjacency, directed=False, source="copurchase")


def read_edges(
    path: str | Path,
    *,
    source_col: str = SOURCE,
    target_col: str = TARGET,
    weight_col: str | None = WEIGHT,
    directed: bool = False,
) -> Graph:
    """Read an edge list (CSV or Parquet) into a :class:`Graph`.

    Parameters
    ----------
    path
        A ``.csv``/``.tsv`` (with a header) or ``.parquet`` file, one row per edge.
    source_col, target_col
        Columns holding the two node ids. Ids keep their external form (``"007"`` stays
        text, integers stay integers); both columns share one id space.
    weight_col
        Column of positive weights. With the default name ``"weight"`` the column is used
        when present and every edge weighs 1 otherwise; another name must exist. ``None``
        or ``""`` ignores weights.
    directed
        Keep edges one way (walks may then stop at a node without out-edges); by default
        every edge is walked both ways.

    Raises
    ------
    DataValidationError
        If the file is missing, unreadable or empty, a column is missing, or rows have a
        missing id or a weight that is not a positive number (with their count and the
        first bad row).
    """
    from customer2vec.data.engine import explain_duckdb_error, quote_ident
    from customer2vec.data.mapping import id_expr, id_type_of, source_type
    from customer2vec.data.sources import create_view, file_kind, resolve_files

    if not isinstance(directed, bool):
        raise ConfigError(f"`directed` must be a bool; got {directed!r}.")
    for name, value in (("source_col", source_col), ("target_col", target_col)):
        if not isinstance(value, str) or not value:
            raise ConfigError(f"`{name}` must be a column name; got {value!r}.")
    files = resolve_files([path], what="edge list")
    import duckdb

    con = duckdb.connect()
    try:
        columns = create_view(con, "edges", files)
        wanted = [("source_col", source_col), ("target_col", target_col)]
        use_weight = bool(weight_col) and (weight_col != WEIGHT or WEIGHT in columns)
        if use_weight:
            wanted.append(("weight_col", str(weight_col)))
        missing = [(flag, name) for flag, name in wanted if name not in columns]
        if missing:
            flag, name = missing[0]
            raise DataValidationError(
                f"edge list {path} has no column {name!r}; it has {', '.join(columns)}. "
                f"Name the right one with --param {flag}=COLUMN."
            )
        weight_sql = f"TRY_CAST({quote_ident(str(weight_col))} AS DOUBLE)" if use_weight else "1.0"
        if file_kind(files[0]) == "csv":
            # Ids as text, kept exactly (as ingest keeps them); the weight as text so that a
            # bad value is a counted bad row, not a parser error. The trim() stops DuckDB
            # (2.0) from pushing the TRY_CAST into the CSV reader as a strict cast.
            text = [source_col, target_col] + ([str(weight_col)] if use_weight else [])
            create_view(con, "edges", files, text_columns=text)
            if use_weight:
                weight_sql = f"TRY_CAST(trim({quote_ident(str(weight_col))}) AS DOUBLE)"
        kinds = {column: source_type(con, "edges", column) for column in (source_col, target_col)}
        id_type = "int64"
        for column in (source_col, target_col):
            if id_type_of(con, "edges", column, kinds[column]) == "string":
                id_type = "string"
        try:
            frame = con.execute(
                f"SELECT {id_expr(source_col, id_type, kinds[source_col])} AS s, "
                f"{id_expr(target_col, id_type, kinds[target_col])} AS t, {weight_sql} AS w "
                "FROM edges"
            ).df()
        except duckdb.Error as err:
            raise DataValidationError(f"cannot read {path}: {explain_duckdb_error(err)}") from err
    finally:
        con.close()
    bad = frame["s"].isna().to_numpy() | frame["t"].isna().to_numpy()
    _report_bad(bad, path, f"a missing {source_col!r} or {target_col!r} id", "Drop or fill them")
    if use_weight:
        weights = frame["w"].to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isfinite(weights) | (weights <= 0)
        _report_bad(
            bad,
            path,
            f"a {weight_col!r} that is not a positive number",
            "Drop them, or pass --param weight_col='' to ignore weights",
        )
    sources, targets = frame["s"].to_numpy(), frame["t"].to_numpy()
    if id_type == "int64":
        sources, targets = sources.astype(np.int64), targets.astype(np.int64)
    return Graph.from_edges(
        sources,
        targets,
        frame["w"].to_numpy(dtype=np.float64) if use_weight else None,
        directed=directed,
    )


def _report_bad(bad: np.ndarray, path: str | Path, what: str, fix: str) -> None:
    if bad.any():
        raise DataValidationError(
            f"edge list {path}: {int(bad.sum()):,} of {len(bad):,} rows have {what} "
            f"(first: data row {int(np.argmax(bad)) + 1}). {fix}."
        )


def _check_weights(values: np.ndarray, name: str) -> None:
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        first = int(np.argmax(bad))
        raise DataValidationError(
            f"edge `{name}` must be a positive number; {int(bad.sum())} edges are not "
            f"(first: edge {first}, value {values[first]!r}). Drop them or pass no weights."
        )


def _assemble(
    n_nodes: int, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, *, symmetrize: bool
) -> csr_matrix:
    """CSR adjacency from edges: duplicates summed, both ways if ``symmetrize``, no loops."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    values = np.asarray(values, dtype=np.float64)
    keep = rows != cols
    rows, cols, values = rows[keep], cols[keep], values[keep]
    if symmetrize:
        rows, cols = np.concatenate([rows, cols]), np.concatenate([cols, rows])
        values = np.concatenate([values, values])
    # Summed in float64, then stored as float32.
    adjacency = coo_matrix((values, (rows, cols)), shape=(n_nodes, n_nodes)).tocsr()
    adjacency.sum_duplicates()
    adjacency = adjacency.astype(np.float32)
    adjacency.sort_indices()
    return adjacency


def _heaviest(
    row: np.ndarray, col: np.ndarray, value: np.ndarray, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The ``k`` heaviest entries of each row (ties: lower column first)."""
    order = np.lexsort((col, -value, row))
    row, col, value = row[order], col[order], value[order]
    first = np.searchsorted(row, row, side="left")
    top = np.arange(len(row)) - first < k
    return row[top], col[top], value[top]
