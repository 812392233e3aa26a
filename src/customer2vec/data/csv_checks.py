"""Check CSV files beyond DuckDB's sniffer, and say what is wrong with their rows.

Compressed content is recognized by its first bytes whatever the file is named, and the
header line is compared with the columns DuckDB found. Rows with more (or fewer) fields than
the header make the sniffer fall back to one column or skip lines; :func:`diagnose_csv` then
counts them and names the first line.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gzip
import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb

from customer2vec.data.engine import quote_literal
from customer2vec.errors import DataValidationError

log = logging.getLogger(__name__)

#: Delimiters tried on the header line when none is given.
DELIMITERS = (",", ";", "\t", "|")
#: DuckDB's default longest line, in bytes.
DEFAULT_MAX_LINE_SIZE = 2_000_000
_HEAD_BYTES = 1 << 16
_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PK\x03\x04": "zip",
    b"PAR1": "parquet",
}
_SUFFIX_COMPRESSION = {".gz": "gzip", ".zst": "zstd"}


@dataclass(frozen=True)
class CsvDialect:
    """How to read CSV files: what the user said (``None``: detect)."""

    encoding: str | None = None
    delimiter: str | None = None
    max_line_size: int | None = None


def dialect_options(dialect: CsvDialect, compression: str | None) -> list[str]:
    """DuckDB ``read_csv`` options for ``dialect``'s encoding and line limit and ``compression``."""
    options = []
    if dialect.encoding:
        options.append(f"encoding = {quote_literal(dialect.encoding)}")
    if compression:
        options.append(f"compression = {quote_literal(compression)}")
    if dialect.max_line_size:
        options.append(f"max_line_size = {int(dialect.max_line_size)}")
    return options


def _content_kind(path: Path) -> str:
    """``gzip``, ``zstd``, ``zip``, ``parquet`` (from the first bytes) or ``plain``."""
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError as err:
        raise DataValidationError(f"cannot read {path}: {err.strerror}.") from err
    return next((kind for magic, kind in _MAGIC.items() if head.startswith(magic)), "plain")


def csv_compression(files: Sequence[Path]) -> str | None:
    """DuckDB's ``compression`` for CSV ``files``, from their content (``None``: by name).

    Raises
    ------
    DataValidationError
        For a ZIP archive or Parquet file named like a CSV file, or when compressed and plain
        files are mixed and one is misnamed (its content and name disagree).
    """
    kinds = {path: _content_kind(path) for path in files}
    for path, kind in kinds.items():
        if kind == "zip":
            raise DataValidationError(
                f"{path} is a ZIP archive (or an Excel workbook), not a CSV file. Unzip it, or "
                "export the sheet as CSV."
            )
        if kind == "parquet":
            raise DataValidationError(
                f"{path} holds Parquet data but is named like a CSV file. Rename it to "
                f"{path.name.split('.')[0]}.parquet."
            )
    found = set(kinds.values())
    if len(found) == 1:
        kind = found.pop()
        misnamed = [p for p in files if _SUFFIX_COMPRESSION.get(p.suffix.lower()) != kind]
        if kind != "plain" and misnamed:
            log.info("%s is %s-compressed; reading it as such", misnamed[0], kind)
        return "none" if kind == "plain" else kind
    for path, kind in kinds.items():
        named = _SUFFIX_COMPRESSION.get(path.suffix.lower(), "plain")
        if named != kind:
            what = "not compressed" if kind == "plain" else f"{kind}-compressed"
            fix = (
                f"rename it without {path.suffix}"
                if kind == "plain"
                else f"rename it to {path.name}{'.gz' if kind == 'gzip' else '.zst'}"
            )
            raise DataValidationError(
                f"{path} is {what} but named {path.name}, and the other files differ; {fix} "
                "(or pass compressed and plain files in separate runs)."
            )
    return None


def _head_text(path: Path, encoding: str | None, compression: str | None) -> str | None:
    """The start of ``path`` as text (``None`` if it cannot be decoded here)."""
    codec = (encoding or "utf-8").lower().replace("_", "-")
    if codec in ("utf-8", "utf8"):
        codec = "utf-8-sig"
    try:
        codecs.lookup(codec)
    except LookupError:
        return None
    kind = compression or _SUFFIX_COMPRESSION.get(path.suffix.lower(), "none")
    try:
        if kind == "gzip":
            with gzip.open(path, "rb") as handle:
                head = handle.read(_HEAD_BYTES)
        elif kind in ("none", "plain"):
            with path.open("rb") as handle:
                head = handle.read(_HEAD_BYTES)
        else:
            return None
    except (OSError, EOFError):
        return None
    return head.decode(codec, errors="replace").lstrip("\ufeff")


def first_line(path: Path, dialect: CsvDialect, compression: str | None) -> str | None:
    """The first line of ``path`` as text; ``None`` if it cannot be read here."""
    text = _head_text(path, dialect.encoding, compression)
    if text is None or ("\n" not in text and len(text.encode()) >= _HEAD_BYTES):
        return None
    return text.split("\n", 1)[0].rstrip("\r")


def _split(line: str, delimiters: Sequence[str]) -> tuple[str, list[str]] | None:
    """The delimiter of ``delimiters`` that splits ``line`` into most fields, and the fields."""
    best: tuple[str, list[str]] | None = None
    for delimiter in delimiters:
        if len(delimiter) != 1:
            return None
        fields = next(csv.reader([line], delimiter=delimiter), [])
        if best is None or len(fields) > len(best[1]):
            best = (delimiter, fields)
    return best


def _names(line: str, delimiter: str) -> set[str]:
    """Column names of header ``line`` split by ``delimiter``, as DuckDB names them."""
    if len(delimiter) != 1:
        return set()
    return {f.strip() for f in next(csv.reader([line], delimiter=delimiter), []) if f.strip()}


def header_fields(
    path: Path, dialect: CsvDialect, compression: str | None
) -> tuple[str, list[str]] | None:
    """The delimiter and fields of ``path``'s first line (the delimiter given, else the one of
    ``DELIMITERS`` that splits it most); ``None`` if unreadable here."""
    line = first_line(path, dialect, compression)
    if line is None:
        return None
    return _split(line, [dialect.delimiter] if dialect.delimiter else DELIMITERS)


def check_headers(
    con: duckdb.DuckDBPyConnection,
    files: Sequence[Path],
    columns: list[str],
    dialect: CsvDialect,
    compression: str | None,
) -> str | None:
    """Compare each file's header line with the columns DuckDB found.

    When they differ (rows with more fields than the header make DuckDB's sniffer read one
    column, or skip lines), raise with :func:`diagnose_csv`'s account; if no row is malformed,
    return the header's delimiter to read the files with (else ``None``).
    """
    known = set(columns)
    for path in files:
        line = first_line(path, dialect, compression)
        if dialect.delimiter and line is not None and dialect.delimiter not in line:
            other = _split(line, DELIMITERS)
            if other is not None and len(other[1]) > 1:
                raise DataValidationError(
                    f"cannot read {path}: its header line holds no {dialect.delimiter!r} "
                    f"(--delimiter) but {len(other[1])} fields separated by {other[0]!r}. "
                    f"Pass --delimiter {other[0]!r}, or leave it out to detect it."
                )
        found = header_fields(path, dialect, compression)
        if line is None or found is None or len(found[1]) < 2:
            continue
        delimiter, fields = found
        candidates = [dialect.delimiter] if dialect.delimiter else DELIMITERS
        if any(_names(line, d) <= known for d in candidates if len(_names(line, d)) > 1):
            continue  # DuckDB's columns are the header's (split by one of the delimiters)
        problem = diagnose_csv(con, path, delimiter, len(fields), dialect, compression)
        if problem:
            raise DataValidationError(f"cannot read {path}: {problem}")
        if delimiter != dialect.delimiter:
            return delimiter
    return None


def diagnose_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    delimiter: str,
    n_fields: int,
    dialect: CsvDialect,
    compression: str | None,
) -> str | None:
    """Read ``path`` strictly (its first line as header, ``delimiter``, ``"`` quotes) and say
    what is wrong with its rows, with counts and the first line; ``None`` if nothing is."""
    columns = ", ".join(f"'c{i}': 'VARCHAR'" for i in range(n_fields))
    options = [
        "header = true",
        "auto_detect = false",
        f"delim = {quote_literal(delimiter)}",
        "quote = '\"'",
        "escape = '\"'",
        "comment = ''",
        f"columns = {{{columns}}}",
        "ignore_errors = true",
        "store_rejects = true",
        "rejects_table = '__c2v_rejects'",
        "rejects_scan = '__c2v_reject_scans'",
        *dialect_options(dialect, compression),
    ]
    try:
        source = f"read_csv({quote_literal(str(path))}, {', '.join(options)})"
        con.execute(f"SELECT count(*) FROM {source}").fetchall()
        rows = con.execute("""
            SELECT error_type, count(DISTINCT line), min(line),
                   arg_min(csv_line, line), arg_min(error_message, line)
            FROM __c2v_rejects GROUP BY 1""").fetchall()
    except duckdb.Error:
        return None
    finally:
        for table in ("__c2v_rejects", "__c2v_reject_scans"):
            with contextlib.suppress(duckdb.Error):
                con.execute(f"DROP TABLE IF EXISTS {table}")
    if not rows:
        return None
    found = {error: (n, line, text, message) for error, n, line, text, message in rows}
    shown_delimiter = "tab" if delimiter == "\t" else repr(delimiter)
    for error in ("TOO MANY COLUMNS", "MISSING COLUMNS"):
        if error in found:
            n, line, text, _ = found[error]
            more = "more" if error == "TOO MANY COLUMNS" else "fewer"
            return (
                f"{n:,} row{'s' if n != 1 else ''} {'have' if n != 1 else 'has'} {more} fields "
                f"than the header's {n_fields} (first: line {line}: {_snippet(text)}). Check "
                f"--delimiter (read with {shown_delimiter}) and that values holding the "
                'delimiter are quoted ("a,b"); if the header is not on line 1, remove the '
                "lines above it."
            )
    if "LINE SIZE OVER MAXIMUM" in found:
        _, line, _, message = found["LINE SIZE OVER MAXIMUM"]
        limit = dialect.max_line_size or DEFAULT_MAX_LINE_SIZE
        actual = re.search(r"Actual Size:\s*(\d+)", message or "")
        size = int(actual.group(1)) if actual else limit + 1
        needed = max(limit + 1, math.ceil((size + 1) / 1_000_000) * 1_000_000)
        return (
            f"line {line} is {size:,} bytes long, over the {limit:,}-byte limit. A quote "
            '(") that never closes runs lines together: check the quoting; if the line is '
            f"right, pass --max-line-size {needed}."
        )
    for error in ("UNQUOTED VALUE", "UNTERMINATED QUOTE", "INVALID UNICODE", "INVALID ENCODING"):
        if error in found:
            n, line, text, _ = found[error]
            if "QUOTE" in error or "UNQUOTED" in error:
                return (
                    f'a quote (") on line {line} is not closed where its field ends '
                    f"({_snippet(text)}). Quote whole fields and double the quotes inside "
                    'them (""), or fix the line.'
                )
            return (
                f"line {line} is not valid {dialect.encoding or 'utf-8'} text. Pass --encoding "
                "latin-1 (or utf-16) to read it."
            )
    return None


def _snippet(text: str | None) -> str:
    text = (text or "").strip("\r\n").split("\n", 1)[0].rstrip("\r")
    return repr(text if len(text) <= 60 else text[:57] + "...")
