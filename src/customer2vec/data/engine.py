"""Query engines. DuckDB is the embedded default.

Corpus builders and ingestion speak SQL over named relations (``transactions``, ``items``...)
so that a second engine (Spark SQL) can run the same text when data outgrows one machine.
An engine only has to register tables and run queries; everything else is plain SQL.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from customer2vec.errors import ConfigError, DataValidationError

_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+|%)\s*", re.IGNORECASE)
MIN_MEMORY = 16 * 10**6


class Engine(Protocol):
    """The seam between SQL transformations and where they run."""

    def register_parquet(self, name: str, path: str | Path) -> None:
        """Expose a Parquet file (or glob) as relation ``name``."""

    def arrow(self, query: str) -> pa.Table:
        """Run ``query`` and return its result as an Arrow table."""

    def execute(self, query: str) -> None:
        """Run a statement that returns nothing of interest."""


class DuckDBEngine:
    """DuckDB engine: out-of-core, reads Parquet/CSV directly.

    Parameters
    ----------
    memory_limit
        DuckDB's memory limit, e.g. ``"4GB"``; spills to ``temp_directory`` past it.
    threads
        Worker threads; defaults to the number of CPUs.
    temp_directory
        Where DuckDB spills; defaults to DuckDB's own choice.
    """

    def __init__(
        self,
        *,
        memory_limit: str | None = "4GB",
        threads: int | None = None,
        temp_directory: str | Path | None = None,
    ) -> None:
        if memory_limit is not None:
            memory_limit = check_memory_limit(memory_limit)
        self.con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
        if memory_limit is not None:
            try:
                self.con.execute(f"SET memory_limit = {quote_literal(memory_limit)}")
            except duckdb.Error as err:
                self.con.close()
                raise ConfigError(
                    f"DuckDB refused `memory_limit` {memory_limit!r} ({_first_line(err)}). "
                    "Give a size such as '4GB' or '80%'."
                ) from err
        if temp_directory:
            self.con.execute(f"SET temp_directory = {quote_literal(str(temp_directory))}")
        self.con.execute("SET preserve_insertion_order = true")
        # DuckDB draws its own progress bar on stdout, where only results may go. In a Jupyter
        # kernel without ipywidgets DuckDB refuses any change to the setting, which is off there.
        with contextlib.suppress(duckdb.InvalidInputException):
            self.con.execute("SET enable_progress_bar = false")

    def register_parquet(self, name: str, path: str | Path) -> None:
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_ident(name)} AS "
            f"SELECT * FROM read_parquet({quote_literal(str(path))})"
        )

    def arrow(self, query: str) -> pa.Table:
        try:
            return self.con.sql(query).to_arrow_table()
        except DATA_ERRORS as err:
            raise DataValidationError(explain_duckdb_error(err)) from err

    def execute(self, query: str) -> None:
        run_sql(self.con, query)

    def scalar(self, query: str):
        """Return the first column of the first row of ``query``."""
        row = run_sql(self.con, query).fetchone()
        return None if row is None else row[0]

    def close(self) -> None:
        self.con.close()


DATA_ERRORS = (
    duckdb.ConversionException,
    duckdb.InvalidInputException,
    duckdb.IOException,
    duckdb.OutOfMemoryException,
)


class QueryDataError(DataValidationError):
    """A data error raised by DuckDB while a query ran; ``__cause__`` holds DuckDB's error.

    Its message cannot name the file at fault; ``ingest`` re-raises it with the file named.
    """


def run_sql(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyConnection:
    """Execute ``query``, turning DuckDB's data errors into ``QueryDataError``."""
    try:
        return con.execute(query)
    except DATA_ERRORS as err:
        raise QueryDataError(explain_duckdb_error(err)) from err


def check_memory_limit(value: object) -> str:
    """Return ``value`` if DuckDB can take it as a memory limit (``"4GB"``, ``"80%"``), else raise.

    Raises
    ------
    ConfigError
        If ``value`` is not a size of at least 16MB with a unit (B, KB, MB, GB, TB, KiB, MiB,
        GiB, TiB) or a percentage of the machine's memory in (0, 100].
    """
    match = _SIZE.fullmatch(value) if isinstance(value, str) else None
    ok = False
    if match:
        number, unit = float(match.group(1)), match.group(2).lower()
        if unit == "%":
            ok = 0 < number <= 100
        elif unit in _UNITS:
            ok = number * _UNITS[unit] >= MIN_MEMORY
    if not ok:
        raise ConfigError(
            "`memory_limit` (--memory-limit) must be a size of at least 16MB such as '4GB' or "
            f"'512MB', or a share of the machine's memory such as '80%'; got {value!r}."
        )
    return value.strip()


def explain_duckdb_error(err: Exception) -> str:
    """Turn a DuckDB error into one line that says what to do.

    DuckDB's own "CSV Error on Line: N" is left out: with parallel reading it can name the
    wrong line (``sources.diagnose_csv`` finds the real one).
    """
    text = _first_line(err)
    lowered = str(err).lower()
    if "csv error on line" in lowered:
        text = _csv_reason(err) or "the CSV file is malformed"
    if "out of memory" in lowered:
        return (
            f"DuckDB ran out of memory ({text}). Raise --memory-limit, or free disk space for "
            "spilling."
        )
    if "maximum line size" in lowered:
        return (
            f'a line is too long ({text}). A quote (") that never closes runs lines together: '
            "check the quoting; if the line is right, raise --max-line-size."
        )
    if "expected number of columns" in lowered:
        return (
            f"rows do not have as many fields as the header ({text}). Check --delimiter and that "
            "values holding the delimiter are quoted."
        )
    if "does not support the encoding" in lowered:
        return (
            f"{text.removeprefix('Invalid Input Error: ')}. Pass --encoding utf-8, latin-1 or "
            "utf-16."
        )
    if "not possible to automatically detect the csv" in lowered:
        return (
            "the CSV dialect could not be detected (rows differ in their number of fields). "
            "Check --delimiter, --encoding and the quoting."
        )
    if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return (
            f"the file is not valid UTF-8 ({text}). Pass --encoding latin-1 (or utf-16) to read it."
        )
    if "could not convert" in lowered or "conversion error" in lowered:
        return f"a column has values of the wrong type ({text}). Check the column mapping."
    return text


def _first_line(err: Exception) -> str:
    message = str(err).strip()
    return message.splitlines()[0] if message else type(err).__name__


def _csv_reason(err: Exception) -> str | None:
    """The line of a DuckDB CSV error that says what is wrong (not where, not the fixes)."""
    lines = [line.strip() for line in str(err).splitlines()[1:]]
    for line in lines:
        if line and not line.startswith(("Original Line:", "Possible", "*", "LINE ")):
            return line[:200]
    return None


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column or table name)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
