"""Side tables: item catalogue, customer table, "frequently bought together" lists.

Their ids follow the transactions' id rules (:mod:`customer2vec.data.mapping`): CSV id
columns are read as text, and a side table's id matches a transaction id when their texts
are equal, whatever the two columns' types (``42`` matches ``"42"`` and ``42.0``;
``"007"`` does not match ``7``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from customer2vec.columns import Columns
from customer2vec.data.engine import (
    create_table,
    drop_tables,
    line_number,
    quote_ident,
    register_arrow,
    register_parquet,
    write_parquet,
)
from customer2vec.data.mapping import (
    ALIASES,
    CANONICAL_INT,
    IdType,
    id_expr,
    id_text_sql,
    id_type_of,
    source_type,
)
from customer2vec.data.report import note, note_dropped
from customer2vec.data.sources import create_view, file_kind, read_copurchase_json, resolve_files
from customer2vec.errors import DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.engine import Connection
    from customer2vec.data.ingest import IngestOptions

log = logging.getLogger(__name__)
C = Columns
NAME_ALIASES = ("name", "product_name", "item_name", "description", "title", "product_title")


@dataclass
class SideTables:
    """SQL for the catalogue and customer table that a preset provides (or ``None``)."""

    items: str | None = None
    customers: str | None = None


def write_side_tables(
    con: Connection,
    side: SideTables,
    tmp: Path,
    opts: IngestOptions,
    id_types: dict[str, IdType],
    warned: list[str],
) -> dict[str, Any]:
    """Write items/customers/copurchase Parquet files; return their counts and report."""
    report: dict[str, Any] = {"counts": {}, "id_types": {}}
    has_transactions = (tmp / "transactions.parquet").exists()
    items_sql = (
        _user_table(
            con, "items_file", opts.items, opts.item_id_col, "item", opts.item_name_col, opts
        )
        or side.items
    )
    if items_sql:
        item_type = id_types.get(C.ITEM) or _detect(con, items_sql, "item_id")
        report["id_types"][C.ITEM] = item_type
        report["items"] = _write_keyed(
            con, items_sql, "item_id", item_type, tmp / "items.parquet", warned, "catalogue"
        )
        report["counts"]["catalogue_items"] = report["items"]["rows_kept"]
        if has_transactions:
            report.update(_coverage(con, tmp, "items", C.ITEM, warned))
    customers_sql = (
        _user_table(
            con, "customers_file", opts.customers, opts.customer_id_col, "customer", None, opts
        )
        or side.customers
    )
    if customers_sql:
        customer_type = id_types.get(C.CUSTOMER) or _detect(con, customers_sql, "customer_id")
        report["id_types"][C.CUSTOMER] = customer_type
        report["customers"] = _write_keyed(
            con,
            customers_sql,
            "customer_id",
            customer_type,
            tmp / "customers.parquet",
            warned,
            "customer table",
        )
        if has_transactions:
            report.update(_coverage(con, tmp, "customers", C.CUSTOMER, warned))
    if opts.copurchase is not None:
        item_type = id_types.get(C.ITEM) or report["id_types"].get(C.ITEM)
        report["copurchase"] = _write_copurchase(con, Path(opts.copurchase), item_type, tmp, warned)
        report["id_types"].setdefault(C.ITEM, report["copurchase"].pop("item_type"))
        report["counts"]["copurchase_items"] = report["copurchase"]["items"]
        report["counts"]["copurchase_pairs"] = report["copurchase"]["rows_kept"]
        if not has_transactions:
            report["counts"]["items"] = report["copurchase"]["distinct_ids"]
    return report


def _user_table(
    con: Connection,
    view: str,
    files: Any,
    id_col: str | None,
    role: str,
    name_col: str | None,
    opts: IngestOptions,
) -> str | None:
    """SQL renaming a user-given table's id (and name) column to the canonical names."""
    if not files:
        return None
    paths = resolve_files([files] if isinstance(files, str | Path) else list(files), what=role)
    read = {
        "encoding": opts.encoding,
        "delimiter": opts.delimiter,
        "max_line_size": opts.max_line_size,
    }
    columns = create_view(con, view, paths, **read)
    flag = f"--{role}-id-col"
    id_col = _pick(columns, id_col, ALIASES[role], flag, f"{role} table")
    if file_kind(paths[0]) == "csv":  # ids exactly as written
        create_view(con, view, paths, text_columns=[id_col], **read)
    select = [f"{quote_ident(id_col)} AS {role}_id"]
    if role == "item":
        name = _pick(
            columns, name_col, NAME_ALIASES, "--item-name-col", "item table", required=False
        )
        if name and name != id_col:
            select.append(f"{quote_ident(name)} AS {C.NAME}")
        excluded = {id_col, name}
    else:
        excluded = {id_col}
    select += [quote_ident(c) for c in columns if c not in excluded]
    return f"SELECT {', '.join(select)} FROM {quote_ident(view)}"


def _pick(
    columns: list[str],
    given: str | None,
    aliases: tuple[str, ...],
    flag: str,
    what: str,
    *,
    required: bool = True,
) -> str | None:
    if given is not None:
        if given not in columns:
            raise DataValidationError(
                f"column {given!r} ({flag}) is not in the {what}; it has {', '.join(columns)}."
            )
        return given
    lowered = {c.lower(): c for c in columns}
    hit = next((lowered[a] for a in aliases if a in lowered), None)
    if hit is None and required:
        raise DataValidationError(
            f"no id column found in the {what} among {', '.join(columns)}. Pass {flag} NAME."
        )
    return hit


def _detect(con: Connection, sql: str, column: str) -> IdType:
    return id_type_of(con, f"({sql}) AS t", column)


def _cast(con: Connection, relation: str, column: str, id_type: IdType) -> tuple[str, str]:
    """SQL casting a side-table id column to the transactions' id type, and SQL that is
    true where the id is missing (empty, blank, NaN): equal texts give equal keys."""
    kind = source_type(con, relation, column)
    return id_expr(column, id_type, kind), f"({id_text_sql(column, kind)}) IS NULL"


def _write_keyed(
    con: Connection,
    sql: str,
    key: str,
    id_type: IdType,
    target: Path,
    warned: list[str],
    what: str,
) -> dict[str, Any]:
    """Write a table keyed by ``key``: drop rows with unusable or repeated keys, counted."""
    cast, blank = _cast(con, f"({sql}) AS t", key, id_type)
    columns = [row[0] for row in con.execute(f"DESCRIBE {sql}").fetchall()]
    others = [quote_ident(c) for c in columns if c != key]
    create_table(
        con,
        "keyed",
        f"""
        SELECT {", ".join([f"{cast} AS {quote_ident(key)}", *others])},
               {blank} AS __blank, {line_number(con)} AS __row
        FROM ({sql}) AS t""",
    )
    create_table(
        con,
        "keyed_ranked",
        f"""
        SELECT *, row_number() OVER (PARTITION BY {quote_ident(key)} ORDER BY __row) AS __rank
        FROM keyed""",
    )
    rows_read, missing, bad, duplicate = con.execute(f"""
        SELECT count(*), count(CASE WHEN __blank THEN 1 END),
               count(CASE WHEN {quote_ident(key)} IS NULL AND NOT __blank THEN 1 END),
               count(CASE WHEN {quote_ident(key)} IS NOT NULL AND __rank > 1 THEN 1 END)
        FROM keyed_ranked""").fetchone()
    kept = ", ".join(quote_ident(c) for c in [key, *[c for c in columns if c != key]])
    write_parquet(
        con,
        f"SELECT {kept} FROM keyed_ranked "
        f"WHERE {quote_ident(key)} IS NOT NULL AND __rank = 1 ORDER BY __row",
        target,
    )
    dropped = {
        k: v
        for k, v in (("missing_id", missing), ("bad_id", bad), ("duplicate_id", duplicate))
        if v
    }
    note_dropped(warned, dropped, rows_read, what=what)
    drop_tables(con, "keyed", "keyed_ranked")
    return {
        "rows_read": rows_read,
        "rows_kept": rows_read - sum(dropped.values()),
        "rows_dropped": dropped,
    }


def _coverage(
    con: Connection, tmp: Path, table: str, key: str, warned: list[str]
) -> dict[str, int]:
    """Count transaction ids missing from a side table (kept, but reported)."""
    register_parquet(con, "lines_written", tmp / "transactions.parquet")
    register_parquet(con, "side_written", tmp / f"{table}.parquet")
    distinct, rows = con.execute(f"""
        SELECT count(DISTINCT t.{key}), count(*) FROM lines_written t
        LEFT JOIN side_written s ON t.{key} = s.{key} WHERE s.{key} IS NULL""").fetchone()
    if distinct:
        note(
            warned,
            f"{distinct:,} {key.removesuffix('_id')}s in the transactions ({rows:,} rows) "
            f"are not in the {table} table; they are kept, without attributes",
        )
    return {f"{table}_not_in_table": distinct, f"{table}_not_in_table_rows": rows}


def _write_copurchase(
    con: Connection,
    path: Path,
    item_type: IdType | None,
    tmp: Path,
    warned: list[str],
) -> dict[str, Any]:
    """Write ``copurchase.parquet`` (item_id, other_item_id, rank) from JSON or a table file."""
    if path.suffix.lower() == ".json":
        resolve_files([path], what="co-purchase")
        triples = read_copurchase_json(path)
        if not triples:
            raise DataValidationError(f"{path} holds no co-purchase lists.")
        item, other, rank = zip(*triples, strict=True)
        register_arrow(con, "copurchase_arrow", pa.table({"a": item, "b": other, "r": rank}))
        base = f"SELECT a, b, r, {line_number(con)} AS __row FROM copurchase_arrow"
    else:
        files = resolve_files([path], what="co-purchase")
        columns = create_view(con, "copurchase_file", files)
        if file_kind(files[0]) == "csv" and len(columns) >= 2:  # ids exactly as written
            create_view(con, "copurchase_file", files, text_columns=columns[:2])
        if len(columns) < 2:
            raise DataValidationError(
                f"{path} needs two columns (item, co-bought item) and an optional rank; it has "
                f"{', '.join(columns)}."
            )
        a, b = quote_ident(columns[0]), quote_ident(columns[1])
        rank = (
            quote_ident(columns[2])
            if len(columns) > 2
            else f"row_number() OVER (PARTITION BY {a} ORDER BY __row)"
        )
        base = (
            f"SELECT {a} AS a, {b} AS b, {rank} AS r, __row FROM (SELECT *, "
            f"{line_number(con)} AS __row FROM copurchase_file) AS f"
        )
    create_table(con, "cp_raw", base)
    if item_type is None:
        kinds = {c: source_type(con, "cp_raw", c) for c in ("a", "b")}
        both = " UNION ALL ".join(
            f"SELECT {id_text_sql(c, kind)} AS t FROM cp_raw" for c, kind in kinds.items()
        )
        bad = con.execute(
            f"SELECT 1 FROM ({both}) AS ids WHERE t IS NOT NULL AND NOT "
            f"(regexp_full_match(t, '{CANONICAL_INT}') AND TRY_CAST(t AS BIGINT) IS NOT NULL) "
            "LIMIT 1"
        ).fetchone()
        item_type = "int64" if bad is None else "string"
    create_table(
        con,
        "cp",
        f"""
        SELECT {_cast(con, "cp_raw", "a", item_type)[0]} AS a,
               {_cast(con, "cp_raw", "b", item_type)[0]} AS b,
               TRY_CAST(r AS BIGINT) AS r, __row FROM cp_raw""",
    )
    rows_read, bad, self_pairs = con.execute("""
        SELECT count(*), count(CASE WHEN a IS NULL OR b IS NULL OR r IS NULL THEN 1 END),
               count(CASE WHEN a = b THEN 1 END) FROM cp""").fetchone()
    create_table(
        con,
        "cp_kept",
        """
        SELECT a, b, min(r) AS r FROM cp
        WHERE a IS NOT NULL AND b IS NOT NULL AND r IS NOT NULL AND a <> b
        GROUP BY a, b""",
    )
    kept, items = con.execute("SELECT count(*), count(DISTINCT a) FROM cp_kept").fetchone()
    distinct_ids = con.execute(
        "SELECT count(*) FROM (SELECT a FROM cp_kept UNION SELECT b FROM cp_kept) AS ids"
    ).fetchone()[0]
    duplicates = rows_read - bad - self_pairs - kept
    write_parquet(
        con,
        f"""
        SELECT a AS {C.ITEM}, b AS {C.OTHER_ITEM},
               CAST(row_number() OVER (PARTITION BY a ORDER BY r, b) AS BIGINT) AS {C.RANK}
        FROM cp_kept ORDER BY a, {C.RANK}""",
        tmp / "copurchase.parquet",
    )
    drop_tables(con, "cp_raw", "cp", "cp_kept")
    dropped = {
        k: v
        for k, v in (("bad_id", bad), ("self_pair", self_pairs), ("duplicate", duplicates))
        if v
    }
    note_dropped(warned, dropped, rows_read, what="co-purchase lists", unit="pairs")
    return {
        "rows_read": rows_read,
        "rows_kept": kept,
        "rows_dropped": dropped,
        "items": items,
        "distinct_ids": distinct_ids,
        "item_type": item_type,
    }
