"""Read CSV/Parquet/JSON files into DuckDB (or Spark) views, with errors a person can act on.

CSV files are checked beyond what DuckDB's sniffer does (compression by content, the header
line against the columns found, malformed rows counted and the first one named): see
:mod:`customer2vec.data.csv_checks`.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from customer2vec.data.csv_checks import (
    CsvDialect,
    check_headers,
    csv_compression,
    diagnose_csv,
    dialect_options,
    header_fields,
)
from customer2vec.data.engine import explain_duckdb_error, quote_ident, quote_literal
from customer2vec.errors import DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.engine import Connection

log = logging.getLogger(__name__)

TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".tsv", ".txt", ".csv.gz", ".tsv.gz")


def resolve_files(sources: Sequence[str | Path], *, what: str = "transactions") -> list[Path]:
    """Expand directories and check that every file exists, is readable and not empty."""
    if not sources:
        raise DataValidationError(f"no {what} file given. Pass one or more CSV/Parquet files.")
    files: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.name.lower().endswith(TABLE_SUFFIXES))
            if not found:
                raise DataValidationError(
                    f"directory {path} has no CSV or Parquet files. Pass the files themselves "
                    "or use a --preset for a known layout."
                )
            files.extend(found)
        elif not path.exists():
            raise DataValidationError(f"{what} file not found: {path}.")
        else:
            files.append(path)
    for path in files:
        try:
            with path.open("rb") as handle:
                first = handle.read(1)
        except OSError as err:
            raise DataValidationError(f"cannot read {path}: {err.strerror}.") from err
        if not first:
            raise DataValidationError(f"{path} is empty (0 bytes). Check the export.")
    kinds = {file_kind(p) for p in files}
    if len(kinds) > 1:
        raise DataValidationError(
            f"{what} files mix formats ({', '.join(sorted(kinds))}). Convert them to one format."
        )
    return files


def file_kind(path: Path) -> str:
    """Return ``"parquet"`` or ``"csv"`` from a file name."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith(".json"):
        return "json"
    if name.endswith(TABLE_SUFFIXES) or name.endswith(".gz"):
        return "csv"
    raise DataValidationError(
        f"cannot tell the format of {path}: expected .csv, .tsv, .txt, .parquet (or .json "
        "for co-purchase lists)."
    )


def create_view(
    con: Connection,
    name: str,
    files: Sequence[Path],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    text_columns: Sequence[str] = (),
    max_line_size: int | None = None,
) -> list[str]:
    """Create view ``name`` over ``files`` and return its column names.

    ``text_columns`` are read as text (CSV only): ids, to keep them exactly as written, and
    times parsed later with a format. Gzip or zstd content is read as such whatever the file
    is named. On the Spark engine, CSV columns are all read as text (the SQL casts them).
    Raises ``DataValidationError`` for unreadable, malformed or row-less files,
    naming the file, the first bad line and the fix.
    """
    if file_kind(files[0]) == "json":
        raise DataValidationError(
            f"{files[0]} is JSON; only co-purchase lists (--copurchase) may be JSON. Give "
            "tables as CSV or Parquet."
        )
    shown = show_files(files)
    if not isinstance(con, duckdb.DuckDBPyConnection):  # the Spark engine: CSV read as text
        columns = con.read_files(name, files, csv=file_kind(files[0]) == "csv")
        if con.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1").fetchone() is None:
            raise DataValidationError(f"{shown} has no data rows (only a header, or nothing).")
        return columns
    if file_kind(files[0]) == "parquet":
        listing = "[" + ", ".join(quote_literal(str(p)) for p in files) + "]"
        reader = f"read_parquet({listing}, union_by_name = true)"
        try:
            columns, has_row = _open_view(con, name, reader)
        except duckdb.Error as err:
            raise DataValidationError(f"cannot read {shown}: {explain_duckdb_error(err)}") from err
    else:
        dialect = CsvDialect(encoding, delimiter, max_line_size)
        if dialect.delimiter is None and files[0].name.lower().endswith((".tsv", ".tsv.gz")):
            dialect = CsvDialect(encoding, "\t", max_line_size)
        compression = csv_compression(files)
        columns, has_row = _open_csv_view(con, name, files, dialect, compression, text_columns)
        forced = check_headers(con, files, columns, dialect, compression)
        if forced is not None:
            log.info("reading %s with delimiter %r (found on the header line)", shown, forced)
            dialect = CsvDialect(encoding, forced, max_line_size)
            columns, has_row = _open_csv_view(con, name, files, dialect, compression, text_columns)
    if has_row is None:
        raise DataValidationError(f"{shown} has no data rows (only a header, or nothing).")
    return columns


def show_files(files: Sequence[str | Path]) -> str:
    """Name up to three files for a message."""
    return ", ".join(str(p) for p in files[:3]) + (" ..." if len(files) > 3 else "")


def _open_view(
    con: duckdb.DuckDBPyConnection, name: str, reader: str
) -> tuple[list[str], tuple | None]:
    con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT * FROM {reader}")
    columns = [row[0] for row in con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]
    has_row = con.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1").fetchone()
    return columns, has_row


def _open_csv_view(
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: Sequence[Path],
    dialect: CsvDialect,
    compression: str | None,
    text_columns: Sequence[str],
) -> tuple[list[str], tuple | None]:
    listing = "[" + ", ".join(quote_literal(str(p)) for p in files) + "]"
    # Quotes are '"' (RFC 4180, what every spreadsheet and pandas write) and no line is a
    # comment: left to the sniffer, an apostrophe in a value (O'Brien) could be taken for the
    # quote and rows run together, and rows whose first id starts with '#' would vanish.
    options = [
        "union_by_name = true",
        "header = true",
        "sample_size = 200000",
        "quote = '\"'",
        "comment = ''",
    ]
    options += dialect_options(dialect, compression)
    if dialect.delimiter:
        options.append(f"delim = {quote_literal(dialect.delimiter)}")
    if text_columns:
        types = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in dict.fromkeys(text_columns))
        options.append(f"types = {{{types}}}")
    try:
        return _open_view(con, name, f"read_csv({listing}, {', '.join(options)})")
    except duckdb.Error as err:
        raise DataValidationError(explain_read_error(con, err, files, dialect)) from err


def explain_read_error(
    con: duckdb.DuckDBPyConnection,
    err: duckdb.Error,
    files: Sequence[str | Path],
    dialect: CsvDialect | None = None,
) -> str:
    """``cannot read FILE: <what is wrong and the fix>`` for a DuckDB error raised while
    reading ``files``; a CSV file named by the error (or the only one) is diagnosed."""
    dialect = dialect or CsvDialect()
    named = re.search(r"^\s*file = (.+?)\s*$", str(err), re.MULTILINE)
    path = Path(named.group(1)) if named else None
    if path is None and len(files) == 1:
        path = Path(files[0])
    if path is not None and path.is_file() and _is_csv(path):
        try:
            compression = csv_compression([path])
        except DataValidationError as bad:
            return str(bad)
        found = header_fields(path, dialect, compression)
        problem = None
        if found is not None:
            problem = diagnose_csv(con, path, found[0], len(found[1]), dialect, compression)
        return f"cannot read {path}: {problem or explain_duckdb_error(err)}"
    shown = str(path) if path is not None else show_files(list(files))
    return f"cannot read {shown}: {explain_duckdb_error(err)}"


def _is_csv(path: Path) -> bool:
    try:
        return file_kind(path) == "csv"
    except DataValidationError:
        return False


def read_copurchase_json(path: Path) -> list[tuple[str, str, int]]:
    """Read ``{"1234": ["5678", ...], ...}`` into (item, other_item, rank) triples.

    Ranks start at 1 (the product most often bought together).
    """
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as err:
        raise DataValidationError(f"{path} is not valid UTF-8. Re-save it as UTF-8.") from err
    except json.JSONDecodeError as err:
        raise DataValidationError(
            f"{path} is not valid JSON ({err.msg} at line {err.lineno}). Expected "
            '{"item": ["other item", ...], ...}.'
        ) from err
    if not isinstance(payload, dict):
        raise DataValidationError(
            f'{path} must hold a JSON object {{"item": ["other item", ...]}}; '
            f"got a {type(payload).__name__}."
        )
    bad = [key for key, value in payload.items() if not isinstance(value, list)]
    if bad:
        raise DataValidationError(
            f"{path}: {len(bad)} entries are not lists (first: {bad[0]!r}). Each value must be "
            "a list of item ids, best first."
        )
    return [
        (str(item), str(other), rank)
        for item, others in payload.items()
        for rank, other in enumerate(others, start=1)
    ]
