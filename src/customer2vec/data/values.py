"""SQL reading the typed columns of ingest: quantities, prices and times (either engine).

``staged`` (ingest's first table) holds them as ``quantity``, ``price`` and ``ts``;
:func:`check_parsed` refuses a mapping where one of them parses in no row at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from customer2vec.data.engine import parse_time, quote_ident
from customer2vec.data.mapping import BLANK, ColumnMapping, source_type
from customer2vec.errors import DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.engine import Connection


def number_sql(con: Connection, relation: str, column: str | None) -> tuple[str, str] | None:
    """SQL for a quantity or price column as DOUBLE, and the predicate of a bad value: one
    that is given (not empty) but is not a finite number (text, NaN, infinity)."""
    if column is None:
        return None
    col = quote_ident(column)
    value = f"TRY_CAST({col} AS DOUBLE)"
    kind = source_type(con, relation, column)
    if kind in {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT"}:
        return value, "false"
    if kind == "VARCHAR":
        given = f"{col} IS NOT NULL AND NOT regexp_full_match({col}, '{BLANK}')"
    else:
        given = f"{col} IS NOT NULL"
    return value, f"({given} AND NOT coalesce(isfinite({value}), false))"


def time_sql(con: Connection, column: str, time_format: str | None) -> str:
    """SQL for a time column as TIMESTAMP (``NULL`` where unreadable), with the format if given."""
    col = quote_ident(column)
    if time_format:
        return parse_time(con, f"CAST({col} AS STRING)", time_format)
    return f"TRY_CAST({col} AS TIMESTAMP)"


def check_parsed(
    con: Connection, m: ColumnMapping, time_format: str | None, rows_read: int
) -> None:
    """Refuse a mapping where a typed column parses in no row at all (wrong column or format)."""
    parsed = con.execute(
        "SELECT count(ts), count(seq_raw), count(quantity), count(price) FROM staged"
    ).fetchone()
    time_fix = (
        f"its values do not match --time-format {time_format!r}; correct the format"
        if time_format
        else "give its format with --time-format (e.g. '%d/%m/%Y %H:%M')"
    )
    checks = (
        ("time", m.time, "a timestamp", time_fix),
        ("sequence", m.sequence, "a whole number", "it must hold order numbers"),
        ("quantity", m.quantity, "a number", "it must hold quantities"),
        ("price", m.price, "a number", "it must hold prices"),
    )
    for (role, column, kind, fix), n_parsed in zip(checks, parsed, strict=True):
        if column and n_parsed == 0:
            raise DataValidationError(
                f"column {column!r} (--{role}-col) could not be read as {kind} in any of the "
                f"{rows_read:,} rows; {fix}, or map another column."
            )
