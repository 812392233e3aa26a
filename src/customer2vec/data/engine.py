"""Query engines. DuckDB is the embedded default.

Corpus builders and ingestion speak SQL over named relations (``transactions``, ``items``...)
so that a second engine (Spark SQL) can run the same text when data outgrows one machine.
An engine only has to register tables and run queries; everything else is plain SQL.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import duckdb
import pyarrow as pa

from customer2vec.errors import DataValidationError


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
        self.con = duckdb.connect(config={"threads": threads or os.cpu_count() or 1})
        if memory_limit:
            self.con.execute(f"SET memory_limit = '{memory_limit}'")
        if temp_directory:
            self.con.execute(f"SET temp_directory = {quote_literal(str(temp_directory))}")
        self.con.execute("SET preserve_insertion_order = true")
        # DuckDB draws its own progress bar on stdout, where only results may go.
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


DATA_ERRORS = (duckdb.ConversionException, duckdb.InvalidInputException, duckdb.IOException)


def run_sql(con: duckdb.DuckDBPyConnection, query: str) -> duckdb.DuckDBPyConnection:
    """Execute ``query``, turning DuckDB's data errors into ``DataValidationError``."""
    try:
        return con.execute(query)
    except DATA_ERRORS as err:
        raise DataValidationError(explain_duckdb_error(err)) from err


def explain_duckdb_error(err: Exception) -> str:
    """Turn a DuckDB error into one line that says what to do."""
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    lowered = str(err).lower()
    if "unicode" in lowered or "utf-8" in lowered or "utf8" in lowered:
        return (
            f"the file is not valid UTF-8 ({text}). Pass --encoding latin-1 (or utf-16) to read it."
        )
    if "could not convert" in lowered or "conversion error" in lowered:
        return f"a column has values of the wrong type ({text}). Check the column mapping."
    return text


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column or table name)."""
    return '"' + name.replace('"', '""') + '"'


def quote_literal(value: str) -> str:
    """Quote an SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
