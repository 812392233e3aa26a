"""The dataset directory: canonical Parquet tables plus ``dataset.json``.

Layout::

    DATASET/
      dataset.json          column mapping, id types, counts, fingerprint, ingest report
      transactions.parquet  customer_id, basket_id, item_id, sequence, [timestamp, quantity, price]
      items.parquet         item_id, [name], attribute columns           (optional)
      customers.parquet     customer_id, attribute and label columns     (optional)
      copurchase.parquet    item_id, other_item_id, rank                 (optional)

A table is one Parquet file (DuckDB's ingest) or a folder of that name holding part files
``part-*.parquet`` whose concatenation in name order is the table (Spark's ingest); DuckDB,
pyarrow and pandas read either. Transactions are sorted by customer, then ``sequence`` (the
basket's chronological rank for its customer, starting at 1), then the order of lines in the
source. Writing the directory
safely (``--overwrite``, atomic replacement) is :mod:`customer2vec.data.outputs`' job.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from customer2vec.data.engine import ENGINES, DuckDBEngine, Engine
from customer2vec.errors import ConfigError, DataValidationError

FORMAT_NAME = "customer2vec-dataset"
FORMAT_VERSION = 1
TABLES = ("transactions", "items", "customers", "copurchase")
INFO_FILE = "dataset.json"
#: The fix named in errors about a dataset's files.
REINGEST = "Ingest again."


#: The engine ``Dataset.engine`` opens (see :func:`use_engine`).
_ENGINE: dict[str, str | None] = {"name": "duckdb", "master": None}


@contextlib.contextmanager
def use_engine(name: str = "duckdb", master: str | None = None) -> Iterator[None]:
    """Within the block, :meth:`Dataset.engine` (so every corpus build) runs on ``name``.

    ``name`` is ``"duckdb"`` or ``"spark"``; ``master`` is the Spark master (``local[2]``,
    ``yarn``...; ``None``: ``SPARK_REMOTE`` or ``local[*]``).
    """
    if name not in ENGINES:
        raise ConfigError(f"`engine` must be one of {', '.join(ENGINES)}; got {name!r}.")
    before = dict(_ENGINE)
    _ENGINE.update(name=name, master=master)
    try:
        yield
    finally:
        _ENGINE.update(before)


def table_files(path: Path) -> list[Path]:
    """The Parquet files of a table: the file itself, or a folder's part files in name order
    (hidden and ``_`` files, such as Spark's ``_SUCCESS``, skipped). Empty if absent."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(
            p
            for p in path.iterdir()
            if p.is_file() and p.suffix == ".parquet" and not p.name.startswith((".", "_"))
        )
    return []


class Dataset:
    """A dataset directory written by ``ingest`` or ``synth``.

    Examples
    --------
    >>> ds = Dataset.open("data/cj")                       # doctest: +SKIP
    >>> ds.info["line_items"], ds.read("items").columns    # doctest: +SKIP
    """

    def __init__(self, path: str | Path, meta: dict[str, Any]) -> None:
        self.path = Path(path)
        self.meta = meta

    @classmethod
    def open(cls, path: str | Path) -> Dataset:
        """Open a dataset directory; raise ``DataValidationError`` if it is not one.

        Checks ``dataset.json`` and, cheaply (Parquet footers only), that every table it
        lists is a readable Parquet file and that ``transactions`` holds as many rows as it
        says, so a truncated or missing table is reported here, not deep inside a command.
        """
        path = Path(path)
        info_file = path / INFO_FILE
        if not info_file.is_file():
            hint = (
                " It looks like a raw file: run `customer2vec ingest` on it first."
                if path.is_file()
                else ""
            )
            raise DataValidationError(
                f"{path} is not a customer2vec dataset (no {INFO_FILE}).{hint}"
            )
        meta = _read_info(info_file)
        dataset = cls(path, meta)
        dataset._check_tables()
        return dataset

    def _check_tables(self) -> None:
        """Raise if a listed table file is missing, not Parquet, or has the wrong row count."""
        import pyarrow.parquet as pq

        for table, name in self.meta.get("tables", {}).items():
            file = self.path / name
            parts = table_files(file)
            if not parts:
                raise DataValidationError(f"{file} is missing ({INFO_FILE} lists it). {REINGEST}")
            rows = 0
            for part in parts:
                try:
                    rows += pq.read_metadata(part).num_rows
                except (ValueError, OSError) as err:  # ArrowInvalid is a ValueError
                    raise DataValidationError(f"{part} is corrupt ({err}). {REINGEST}") from err
            expected = self.meta.get("counts", {}).get("line_items")
            if table == "transactions" and expected is not None and rows != expected:
                raise DataValidationError(
                    f"{file} is corrupt (it holds {rows} rows; {INFO_FILE} says {expected} "
                    f"line items). {REINGEST}"
                )

    def has(self, table: str) -> bool:
        """Whether the dataset holds ``table`` (one of ``TABLES``)."""
        return table in self.meta.get("tables", {})

    def table_path(self, table: str) -> Path:
        """Path of ``table``'s Parquet file (or folder of part files); raise if it has none."""
        if not self.has(table):
            raise DataValidationError(
                f"dataset {self.path} has no {table} table. Re-ingest with the matching flag "
                f"(--{'items' if table == 'items' else table} FILE)."
            )
        return self.path / self.meta["tables"][table]

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Read a whole table into pandas (use ``engine()`` for out-of-core work)."""
        return pd.read_parquet(self.table_path(table), columns=columns)

    def engine(self, **kwargs: Any) -> Engine:
        """An engine with every table of the dataset registered under its name.

        DuckDB (``kwargs`` are its options), or Spark when :func:`use_engine` chose it
        (``train --engine spark``).
        """
        engine: Engine
        if _ENGINE["name"] == "spark":
            from customer2vec.data.spark_engine import SparkEngine

            engine = SparkEngine(_ENGINE["master"])
        else:
            engine = DuckDBEngine(**kwargs)
        for table in self.meta.get("tables", {}):
            engine.register_parquet(table, self.table_path(table))
        return engine

    def query(self, sql: str) -> pd.DataFrame:
        """Run SQL over the dataset's tables (named ``transactions``, ``items``...)."""
        engine = self.engine()
        try:
            return engine.arrow(sql).to_pandas()
        finally:
            engine.close()

    def item_counts(self, *, min_count: int = 1) -> pd.DataFrame:
        """``item_id`` and ``n`` (line items) for items bought at least ``min_count`` times."""
        return self.query(
            f"SELECT item_id, count(*) AS n FROM transactions GROUP BY 1 "
            f"HAVING count(*) >= {int(min_count)} ORDER BY n DESC, item_id"
        )

    @property
    def info(self) -> dict[str, Any]:
        """Flat summary: counts plus the ingest report (what ``customer2vec info`` prints)."""
        report = self.meta.get("report", {})
        return {
            "path": str(self.path),
            "source": self.meta.get("source", {}),
            **self.meta.get("counts", {}),
            "rows_read": report.get("rows_read"),
            "rows_kept": report.get("rows_kept"),
            "rows_dropped": report.get("rows_dropped", {}),
            "warnings": report.get("warnings", []),
            "id_types": self.meta.get("id_types", {}),
            "basket_scope": self.meta.get("basket_scope"),
            "order": self.meta.get("order"),
            "tables": sorted(self.meta.get("tables", {})),
            "fingerprint": self.meta.get("fingerprint"),
        }

    def __repr__(self) -> str:
        counts = self.meta.get("counts", {})
        return (
            f"Dataset({str(self.path)!r}, customers={counts.get('customers')}, "
            f"items={counts.get('items')}, line_items={counts.get('line_items')})"
        )


#: Optional top-level fields of ``dataset.json`` and the JSON types they must have.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "tables": (dict,),
    "counts": (dict,),
    "source": (dict,),
    "report": (dict,),
    "id_types": (dict,),
    "planted": (dict,),
    "basket_scope": (str, type(None)),
    "order": (str, type(None)),
    "fingerprint": (str, type(None)),
}
_JSON_TYPE = {dict: "an object", list: "a list", str: "a string", type(None): "null"}


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    return _JSON_TYPE.get(type(value), type(value).__name__)


def read_description(
    file: Path, *, format_name: str, what: str, fix: str
) -> tuple[dict[str, Any], int]:
    """Read a JSON description we wrote (``dataset.json``, ``model.json``) and check its header.

    Returns the document and its ``format_version``. Raises ``DataValidationError`` naming
    ``file`` and ``fix`` when it is unreadable, not a JSON object, not of ``format_name``
    (``what`` names the kind in that message), or has a non-integer version.
    """
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataValidationError(f"{file} is corrupt ({err.msg}). {fix}") from err
    except (UnicodeDecodeError, OSError) as err:
        raise DataValidationError(f"{file} is corrupt or unreadable ({err}). {fix}") from err
    if not isinstance(document, dict):
        raise DataValidationError(
            f"{file} is corrupt (it holds {_json_type(document)}, not a JSON object). {fix}"
        )
    if document.get("format") != format_name:
        raise DataValidationError(f"{file} is not a {what} description.")
    version = document.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise DataValidationError(
            f"{file} is corrupt (format_version must be an integer; got "
            f"{_json_type(version)}). {fix}"
        )
    return document, version


def _read_info(info_file: Path) -> dict[str, Any]:
    """Read and check the shape of ``dataset.json``; raise ``DataValidationError`` if bad."""
    meta, version = read_description(
        info_file, format_name=FORMAT_NAME, what=FORMAT_NAME, fix=REINGEST
    )

    def corrupt(what: str) -> DataValidationError:
        return DataValidationError(f"{info_file} is corrupt ({what}). {REINGEST}")

    if version > FORMAT_VERSION:
        raise DataValidationError(
            f"{info_file.parent} was written by a newer customer2vec (format {version}); "
            "upgrade customer2vec to read it."
        )
    for field, types in _FIELD_TYPES.items():
        if field in meta and not isinstance(meta[field], types):
            expected = " or ".join(_JSON_TYPE[t] for t in types)
            raise corrupt(f"{field!r} must be {expected}; got {_json_type(meta[field])}")
    for table, name in meta.get("tables", {}).items():
        if table not in TABLES or name != f"{table}.parquet":
            raise corrupt(f"unknown table entry {table!r}: {name!r}")
    report = meta.get("report", {})
    numbers = {
        **{f"counts.{key}": value for key, value in meta.get("counts", {}).items()},
        "report.rows_read": report.get("rows_read"),
        "report.rows_kept": report.get("rows_kept"),
    }
    for field in ("rows_dropped", "warnings"):
        value = report.get(field)
        if value is not None and not isinstance(value, dict if field == "rows_dropped" else list):
            raise corrupt(f"report.{field} has the wrong type ({_json_type(value)})")
    numbers.update(
        {f"report.rows_dropped.{k}": v for k, v in report.get("rows_dropped", {}).items()}
    )
    for field, value in numbers.items():
        if field.endswith("_timestamp") or value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise corrupt(f"{field} must be an integer >= 0; got {value!r}")
    return meta


def fingerprint(directory: Path, files: list[str]) -> str:
    """SHA-256 over the bytes of ``files`` (in the given order), hex, prefixed by the algorithm.

    A table that is a folder counts as its part files in name order, each named by its path
    inside the dataset.
    """
    digest = hashlib.sha256()
    for name in files:
        for part in table_files(directory / name) or [directory / name]:
            digest.update(part.relative_to(directory).as_posix().encode())
            with part.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return "sha256:" + digest.hexdigest()


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write ``dataset.json`` with format header and fingerprint over the tables present."""
    from customer2vec.config import __version__

    tables = {
        name: f"{name}.parquet" for name in TABLES if (directory / f"{name}.parquet").exists()
    }
    full = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "customer2vec_version": __version__,
        "created": pd.Timestamp.now(tz="UTC").isoformat(timespec="seconds"),
        **meta,
        "tables": tables,
        "fingerprint": fingerprint(directory, sorted(tables.values())),
    }
    (directory / INFO_FILE).write_text(
        json.dumps(full, indent=2, default=str) + "\n", encoding="utf-8"
    )
