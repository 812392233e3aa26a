"""Query engines. DuckDB is the embedded default; Spark SQL (``spark_engine.py``) the other.

Corpus builders and ingestion speak SQL over named relations (``transactions``, ``items``...)
so that Spark can run the same text when data outgrows one machine. An engine only has to
register tables and run queries; everything else is plain SQL. The few steps that are not a
query (number a scan's lines, keep an intermediate table, write or read Parquet) are the
functions at the end of this module: DuckDB's SQL for them, or the Spark engine's method.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import duckdb
import pyarrow as pa

from customer2vec.errors import ConfigError, DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.spark_engine import SparkEngine

    #: What ingest passes around: a DuckDB connection, or the Spark engine that answers alike.
    Connection = duckdb.DuckDBPyConnection | SparkEngine

_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12}
_UNITS.update({"kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40})
_SIZE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+|%)\s*", re.IGNORECASE)
MIN_MEMORY = 16 * 10**6


ENGINES = ("duckdb", "spark")


class Engine(Protocol):
    """The seam between SQL transformations and where they run."""

    #: SQL numbering the rows of a scan in the order read (an increasing key, maybe sparse).
    line_number: str

    def ordered_list(self, value: str, order: str) -> str:
        """SQL aggregating ``value`` into a list sorted by ``order``."""

    def register_parquet(self, name: str, path: str | Path) -> None:
        """Expose a Parquet file (or glob) as relation ``name``."""

    def arrow(self, query: str) -> pa.Table:
        """Run ``query`` and return its result as an Arrow table."""

    def execute(self, query: str) -> None:
        """Run a statement that returns nothing of interest."""


class DuckDBEngine:
    """DuckDB engine: out-of-core, reads Parquet/CSV directly.

    It keeps insertion order, so ``row_number() OVER ()`` numbers lines in file order.

    Parameters
    ----------
    memory_limit
        DuckDB's memory limit, e.g. ``"4GB"``; spills to ``temp_directory`` past it.
    threads
        Worker threads; defaults to the number of CPUs.
    temp_directory
        Where DuckDB spills; defaults to DuckDB's own choice.
    """

    line_number = "row_number() OVER ()"

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

    @staticmethod
    def ordered_list(value: str, order: str) -> str:
        return f"ARRAY_AGG({value} ORDER BY {order})"

    def register_parquet(self, name: str, path: str | Path) -> None:
        self.con.execute(
            f"CREATE OR REPLACE VIEW {quote_ident(name)} AS SELECT * FROM {parquet_scan(path)}"
        )

    def arrow(self, query: str) -> pa.Table:
        try:
            return self.con.sql(query).to_arrow_table()
        except DATA_ERRORS as err:
            raise DataValidationError(explain_duckdb_error(err)) from err

    def execute(self, query: str) -> duckdb.DuckDBPyConnection:
        return run_sql(self.con, query)

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


def run_sql(con: Connection, query: str) -> Any:
    """Execute ``query``, turning DuckDB's data errors into ``QueryDataError``."""
    try:
        return con.execute(query)
    except DATA_ERRORS as err:
        raise QueryDataError(explain_duckdb_error(err)) from err


def parquet_scan(path: str | Path) -> str:
    """DuckDB's ``read_parquet`` of a Parquet file or of a folder of part files (Spark's)."""
    path = Path(path)
    target = path / "*.parquet" if path.is_dir() else path
    return f"read_parquet({quote_literal(str(target))})"


# -- the steps that are not one query: DuckDB SQL, or the Spark engine's method -------------
def _is_duckdb(con: Connection) -> bool:
    return isinstance(con, duckdb.DuckDBPyConnection)


def line_number(con: Connection) -> str:
    """SQL numbering a scan's rows in the order read (for ``ORDER BY`` and ``min``)."""
    return DuckDBEngine.line_number if _is_duckdb(con) else con.line_number


def create_table(con: Connection, name: str, query: str) -> None:
    """Compute ``query`` once and keep its rows as relation ``name``."""
    if _is_duckdb(con):
        run_sql(con, f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {query}")
    else:
        con.create_table(name, query)


def drop_tables(con: Connection, *names: str) -> None:
    """Forget tables made by :func:`create_table`."""
    for name in names:
        if _is_duckdb(con):
            run_sql(con, f"DROP TABLE IF EXISTS {quote_ident(name)}")
        else:
            con.drop(name)


def write_parquet(con: Connection, query: str, target: Path, *, row_group_size: int = 0) -> None:
    """Write ``query``'s rows, in its order, as Parquet (zstd) at ``target``: one file from
    DuckDB, a folder of part files in order from Spark."""
    if _is_duckdb(con):
        groups = f", ROW_GROUP_SIZE {int(row_group_size)}" if row_group_size else ""
        run_sql(
            con,
            f"COPY ({query}) TO {quote_literal(str(target))} "
            f"(FORMAT parquet, COMPRESSION zstd{groups})",
        )
    else:
        con.write_parquet(query, target)


def register_parquet(con: Connection, name: str, path: Path) -> None:
    """Expose a Parquet file or folder of part files as relation ``name``."""
    if _is_duckdb(con):
        run_sql(
            con,
            f"CREATE OR REPLACE TEMP VIEW {quote_ident(name)} AS SELECT * FROM "
            f"{parquet_scan(path)}",
        )
    else:
        con.register_parquet(name, path)


def register_arrow(con: Connection, name: str, table: pa.Table) -> None:
    """Expose an Arrow table as relation ``name``."""
    if _is_duckdb(con):
        con.register(name, table)
    else:
        con.register_arrow(name, table)


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


#: strptime directives -> Java (Spark) pattern letters; numbers take one or two digits.
_JAVA_TIME = {
    "Y": "yyyy",
    "y": "yy",
    "m": "M",
    "d": "d",
    "H": "H",
    "I": "h",
    "M": "m",
    "S": "s",
    "f": "SSSSSS",
    "p": "a",
    "b": "MMM",
    "B": "MMMM",
    "j": "D",
    "%": "%",
}


def parse_time(con: Connection, text_sql: str, time_format: str) -> str:
    """SQL reading text as a timestamp with a strptime format (``NULL`` where it does not fit).

    DuckDB takes the format as it is; for Spark it becomes a Java pattern (the directives
    in ``_JAVA_TIME``; another one is a ``ConfigError``).
    """
    if _is_duckdb(con):
        return f"try_strptime({text_sql}, {quote_literal(time_format)})"
    pattern, literal, i = [], [], 0
    while i < len(time_format):
        char = time_format[i]
        if char == "%" and i + 1 < len(time_format):
            directive = time_format[i + 1]
            if directive not in _JAVA_TIME:
                raise ConfigError(
                    f"--time-format directive %{directive} is not supported with --engine "
                    f"spark; use {', '.join('%' + k for k in _JAVA_TIME)}, or the duckdb engine."
                )
            pattern.append(_java_literal("".join(literal)))
            literal = []
            pattern.append(_JAVA_TIME[directive])
            i += 2
        else:
            literal.append(char)
            i += 1
    pattern.append(_java_literal("".join(literal)))
    return f"try_to_timestamp({text_sql}, {quote_literal(''.join(pattern))})"


def _java_literal(text: str) -> str:
    """Literal text in a Java date pattern: letters quoted, separators as they are."""
    if not any(c.isalpha() or c == "'" for c in text):
        return text
    return "'" + text.replace("'", "''") + "'"
