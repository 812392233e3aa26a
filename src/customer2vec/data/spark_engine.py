"""Spark SQL engine: the SQL that ingest and the corpus builders send to DuckDB, run by Spark.

``--engine spark`` swaps :class:`~customer2vec.data.engine.DuckDBEngine` for this class. The
queries are the same text; what differs between the two dialects is handled here, once:

* identifiers are written in double quotes (``"customer_id"``, standard SQL and DuckDB); Spark
  reads those as string literals, so :func:`spark_sql` turns them into backquotes;
* string literals are raw (``'\\p{Z}'`` means the regex, as in DuckDB), and ``TIMESTAMP``
  means a timestamp without time zone (DuckDB's ``TIMESTAMP``), both by session settings;
* the DuckDB functions our SQL uses that Spark lacks (``regexp_full_match``, ``isfinite``)
  are defined as Spark SQL functions of the same meaning;
* ``DESCRIBE`` answers with DuckDB's type names (``VARCHAR``, ``BIGINT``...), the names the
  id rules in :mod:`customer2vec.data.mapping` decide on;
* the few things that are not a query (number the lines of a scan, keep an intermediate
  table, write Parquet, read files) are methods, with a DuckDB twin in ``engine.py``.

Tables are written as a folder of part files (``transactions.parquet/part-00000-....parquet``,
in sort order): DuckDB, pyarrow, pandas and :class:`~customer2vec.data.dataset.Dataset` read
the folder as one table.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from functools import reduce
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from customer2vec.errors import DataValidationError

__all__ = ["SparkEngine", "duckdb_type", "spark_sql"]

#: Session settings that make Spark SQL read our SQL as DuckDB does (see the module docstring).
SQL_SETTINGS = {
    "spark.sql.parser.escapedStringLiterals": "true",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.legacy.parquet.nanosAsLong": "true",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.ansi.enabled": "false",
}
#: DuckDB functions our SQL uses, defined for Spark with the same meaning.
FUNCTIONS = (
    # RE2's and Java's \A and \z both anchor at the very start and end of the text.
    "CREATE OR REPLACE TEMPORARY FUNCTION regexp_full_match(s STRING, p STRING) "
    "RETURNS BOOLEAN RETURN regexp_like(s, concat('\\A(?:', p, ')\\z'))",
    # NaN compares above +inf in both engines, so only finite values pass.
    "CREATE OR REPLACE TEMPORARY FUNCTION isfinite(x DOUBLE) "
    "RETURNS BOOLEAN RETURN abs(x) <= 1.7976931348623157E308",
)
#: Spark type names (``DataType.simpleString()``) -> DuckDB's.
_TYPES = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp_ntz": "TIMESTAMP",
    "timestamp": "TIMESTAMP WITH TIME ZONE",
    "date": "DATE",
    "binary": "BLOB",
}


def spark_sql(query: str) -> str:
    """``query`` with double-quoted identifiers in Spark's backquotes (literals untouched)."""
    out: list[str] = []
    i, n = 0, len(query)
    while i < n:
        char = query[i]
        if char not in "'\"":
            out.append(char)
            i += 1
            continue
        j, text = i + 1, []
        while j < n:
            if query[j] == char:
                if j + 1 < n and query[j + 1] == char:  # doubled quote inside
                    text.append(char)
                    j += 2
                    continue
                break
            text.append(query[j])
            j += 1
        body = "".join(text)
        if char == '"':
            out.append("`" + body.replace("`", "``") + "`")
        else:
            out.append(query[i : j + 1])
        i = j + 1
    return "".join(out)


def duckdb_type(spark_type: str) -> str:
    """DuckDB's name for a Spark type (``decimal(38,0)`` -> ``DECIMAL(38,0)``)."""
    return _TYPES.get(spark_type, spark_type.upper())


class _Result:
    """What ``execute`` returns: DuckDB's ``fetchone``/``fetchall``/``df`` on a Spark result."""

    def __init__(self, frame: Any = None, rows: list[tuple] | None = None) -> None:
        self._frame, self._rows = frame, rows

    def fetchall(self) -> list[tuple]:
        if self._rows is None:
            self._rows = [] if self._frame is None else [tuple(r) for r in self._frame.collect()]
        return self._rows

    def fetchone(self) -> tuple | None:
        if self._rows is None and self._frame is not None:
            return next((tuple(r) for r in self._frame.limit(1).collect()), None)
        rows = self.fetchall()
        return rows[0] if rows else None

    def df(self) -> Any:
        return self._frame.toArrow().to_pandas()


class SparkEngine:
    """Runs our SQL on Spark; see the module docstring.

    Parameters
    ----------
    master
        ``--spark-master``: ``local[*]``, ``local[2]``, ``spark://host:7077``, ``yarn``...;
        ``None`` uses ``SPARK_REMOTE`` (Spark Connect) when set, else ``local[*]``.
    scratch
        Folder for intermediate tables (defaults to none: :meth:`create_table` then caches).
    session
        An existing Spark session to use instead of starting one.
    """

    #: Orders rows in scan order (ids grow with the partition, and within it).
    line_number = "monotonically_increasing_id()"

    def __init__(
        self, master: str | None = None, *, scratch: str | Path | None = None, session: Any = None
    ) -> None:
        if session is None:
            from customer2vec.data.spark import spark_session

            # Spark's console progress bar would garble stderr (our progress goes there).
            session = spark_session(master, config={"spark.ui.showConsoleProgress": "false"})
        self.spark = session
        for key, value in SQL_SETTINGS.items():
            self.spark.conf.set(key, value)
        for statement in FUNCTIONS:
            self.spark.sql(statement)
        self.scratch = Path(scratch) if scratch is not None else None
        self._views: set[str] = set()
        self._cached: list[Any] = []

    # -- queries ------------------------------------------------------------------------
    def sql(self, query: str) -> Any:
        """A Spark DataFrame for ``query`` (our SQL text); errors become one line."""
        try:
            return self.spark.sql(spark_sql(query))
        except Exception as err:  # AnalysisException, ParseException, Py4J errors ...
            raise DataValidationError(f"Spark refused a query ({_first_line(err)}).") from err

    @staticmethod
    def ordered_list(value: str, order: str) -> str:
        """``ARRAY_AGG(value ORDER BY order)``, which Spark SQL lacks."""
        return f"transform(array_sort(collect_list(struct({order} AS o, {value} AS v))), x -> x.v)"

    def arrow(self, query: str) -> pa.Table:
        return _collect(lambda: self.sql(query).toArrow())

    def execute(self, query: str) -> _Result:
        """Run ``query``; ``DESCRIBE`` answers DuckDB-style (name, DuckDB type) rows."""
        stripped = query.strip()
        if stripped.upper().startswith("DESCRIBE "):
            rest = stripped[len("DESCRIBE ") :].strip()
            frame = self.sql(rest if rest.upper().startswith("SELECT") else f"SELECT * FROM {rest}")
            return _Result(rows=self.describe_frame(frame))
        frame = self.sql(query)
        if stripped.upper().startswith(("CREATE", "DROP")):
            return _Result(rows=[])
        return _Result(frame)

    def scalar(self, query: str) -> Any:
        row = _collect(lambda: self.execute(query).fetchone())
        return None if row is None else row[0]

    @staticmethod
    def describe_frame(frame: Any) -> list[tuple[str, str]]:
        return [(f.name, duckdb_type(f.dataType.simpleString())) for f in frame.schema.fields]

    # -- relations ----------------------------------------------------------------------
    def register_parquet(self, name: str, path: str | Path | Sequence[str | Path]) -> None:
        """Expose Parquet files (a file, a folder of part files, or a list) as ``name``."""
        paths = [path] if isinstance(path, str | Path) else list(path)
        self._view(name, self._read_parquet(paths))

    def register_arrow(self, name: str, table: pa.Table) -> None:
        self._view(name, self.spark.createDataFrame(table.to_pandas()))

    def read_files(self, name: str, files: Sequence[Path], *, csv: bool) -> list[str]:
        """View ``name`` over ``files`` in the given order; CSV columns are all text."""
        if csv:
            frames = [
                self.spark.read.csv(str(f), header=True, inferSchema=False, quote='"', escape='"')
                for f in files
            ]
            frame = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
        else:
            frame = self._read_parquet(files)
        self._view(name, frame)
        return list(frame.columns)

    def create_table(self, name: str, query: str) -> None:
        """Compute ``query`` once and keep it as ``name`` (Parquet in ``scratch``, or cached)."""
        frame = self.sql(query)
        if self.scratch is None:
            frame = frame.persist()
            _collect(frame.count)
            self._cached.append(frame)
        else:
            target = self.scratch / name
            if target.exists():
                shutil.rmtree(target)
            _collect(lambda: frame.write.parquet(str(target)))
            frame = self.spark.read.parquet(str(target))
        self._view(name, frame)

    def write_parquet(self, query: str, target: Path) -> None:
        """Write ``query`` to ``target``: a folder of part files, in the query's order."""
        _collect(lambda: self.sql(query).write.mode("overwrite").parquet(str(target)))
        for leftover in list(target.glob(".*.crc")) + list(target.glob("_*")):
            leftover.unlink()

    def drop(self, *names: str) -> None:
        for name in names:
            self.spark.catalog.dropTempView(name)
            self._views.discard(name)

    def close(self) -> None:
        """Drop this engine's views and cached tables (the session stays for the next)."""
        for frame in self._cached:
            frame.unpersist()
        for name in list(self._views):
            self.spark.catalog.dropTempView(name)
        self._views.clear()

    # -- helpers ------------------------------------------------------------------------
    def _view(self, name: str, frame: Any) -> None:
        frame.createOrReplaceTempView(name)
        self._views.add(name)

    def _read_parquet(self, paths: Sequence[str | Path]) -> Any:
        """Union of the files in order (so ``line_number`` follows it); nanosecond
        timestamps (pandas' default, which Spark reads as integers) become timestamps."""
        from customer2vec.data.dataset import table_files

        frames = []
        # A folder's part files one by one: Spark would order a folder's splits by size.
        files = [part for path in paths for part in table_files(Path(path)) or [Path(path)]]
        for path in files:
            frame = self.spark.read.parquet(str(path))
            nanos = _nanosecond_columns(Path(path))
            if nanos:
                from pyspark.sql import functions as fn

                micros = {c: fn.timestamp_micros(fn.floor(frame[c] / 1000)) for c in nanos}
                frame = frame.withColumns({c: v.cast("timestamp_ntz") for c, v in micros.items()})
            frames.append(frame)
        return reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)


def _nanosecond_columns(path: Path) -> list[str]:
    """Columns stored as nanosecond timestamps in the Parquet file (or first part file)."""
    if path.is_dir():
        parts = sorted(p for p in path.glob("*.parquet") if not p.name.startswith(("_", ".")))
        if not parts:
            return []
        path = parts[0]
    schema = pq.read_schema(path)
    return [f.name for f in schema if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]


def _collect(action: Any) -> Any:
    """Run a Spark action, turning its errors into one line."""
    try:
        return action()
    except DataValidationError:
        raise
    except Exception as err:
        raise DataValidationError(f"Spark failed ({_first_line(err)}).") from err


def _first_line(err: Exception) -> str:
    text = str(err).strip()
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:300]
    return type(err).__name__
