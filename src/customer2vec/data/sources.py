"""Read CSV/Parquet/JSON files into DuckDB views, with errors a person can act on."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import duckdb

from customer2vec.data.engine import explain_duckdb_error, quote_ident, quote_literal
from customer2vec.errors import DataValidationError

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
    con: duckdb.DuckDBPyConnection,
    name: str,
    files: Sequence[Path],
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    text_columns: Sequence[str] = (),
) -> list[str]:
    """Create view ``name`` over ``files`` and return its column names.

    ``text_columns`` are read as text (CSV only), e.g. times parsed later with a format.
    Raises ``DataValidationError`` for unreadable, malformed or row-less files.
    """
    listing = "[" + ", ".join(quote_literal(str(p)) for p in files) + "]"
    if file_kind(files[0]) == "json":
        raise DataValidationError(
            f"{files[0]} is JSON; only co-purchase lists (--copurchase) may be JSON. Give "
            "tables as CSV or Parquet."
        )
    if file_kind(files[0]) == "parquet":
        reader = f"read_parquet({listing}, union_by_name = true)"
    else:
        options = ["union_by_name = true", "header = true", "sample_size = 200000"]
        if encoding:
            options.append(f"encoding = {quote_literal(encoding)}")
        if delimiter:
            options.append(f"delim = {quote_literal(delimiter)}")
        elif files[0].name.lower().endswith((".tsv", ".tsv.gz")):
            options.append("delim = '\\t'")
        if text_columns:
            types = ", ".join(f"{quote_literal(c)}: 'VARCHAR'" for c in text_columns)
            options.append(f"types = {{{types}}}")
        reader = f"read_csv({listing}, {', '.join(options)})"
    shown = ", ".join(str(p) for p in files[:3]) + (" ..." if len(files) > 3 else "")
    try:
        con.execute(f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT * FROM {reader}")
        columns = [row[0] for row in con.execute(f"DESCRIBE {quote_ident(name)}").fetchall()]
        has_row = con.execute(f"SELECT 1 FROM {quote_ident(name)} LIMIT 1").fetchone()
    except duckdb.Error as err:
        raise DataValidationError(f"cannot read {shown}: {explain_duckdb_error(err)}") from err
    if has_row is None:
        raise DataValidationError(f"{shown} has no data rows (only a header, or nothing).")
    return columns


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
