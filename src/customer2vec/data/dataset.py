"""The dataset directory: canonical Parquet tables plus ``dataset.json``.

Layout::

    DATASET/
      dataset.json          column mapping, id types, counts, fingerprint, ingest report
      transactions.parquet  customer_id, basket_id, item_id, sequence, [timestamp, quantity, price]
      items.parquet         item_id, [name], attribute columns           (optional)
      customers.parquet     customer_id, attribute and label columns     (optional)
      copurchase.parquet    item_id, other_item_id, rank                 (optional)

Transactions are sorted by customer, then ``sequence`` (the basket's chronological rank for
its customer, starting at 1), then the order of lines in the source.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from customer2vec.data.engine import DuckDBEngine
from customer2vec.errors import DataValidationError

FORMAT_NAME = "customer2vec-dataset"
FORMAT_VERSION = 1
TABLES = ("transactions", "items", "customers", "copurchase")
INFO_FILE = "dataset.json"


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
        """Open a dataset directory; raise ``DataValidationError`` if it is not one."""
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
        try:
            meta = json.loads(info_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise DataValidationError(f"{info_file} is corrupt ({err.msg}). Ingest again.") from err
        if meta.get("format") != FORMAT_NAME:
            raise DataValidationError(f"{info_file} is not a {FORMAT_NAME} description.")
        if meta.get("format_version", 0) > FORMAT_VERSION:
            raise DataValidationError(
                f"{path} was written by a newer customer2vec (format "
                f"{meta['format_version']}); upgrade customer2vec to read it."
            )
        return cls(path, meta)

    def has(self, table: str) -> bool:
        """Whether the dataset holds ``table`` (one of ``TABLES``)."""
        return table in self.meta.get("tables", {})

    def table_path(self, table: str) -> Path:
        """Path of ``table``'s Parquet file; raise if the dataset has none."""
        if not self.has(table):
            raise DataValidationError(
                f"dataset {self.path} has no {table} table. Re-ingest with the matching flag "
                f"(--{'items' if table == 'items' else table} FILE)."
            )
        return self.path / self.meta["tables"][table]

    def read(self, table: str, columns: list[str] | None = None) -> pd.DataFrame:
        """Read a whole table into pandas (use ``engine()`` for out-of-core work)."""
        return pd.read_parquet(self.table_path(table), columns=columns)

    def engine(self, **kwargs: Any) -> DuckDBEngine:
        """A DuckDB engine with every table of the dataset registered under its name."""
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


@contextlib.contextmanager
def atomic_directory(out: str | Path, *, overwrite: bool = False) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out`` only if the block succeeds.

    Readers never see a half-written directory: the new one is renamed into place.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise DataValidationError(f"{out} already exists. Pass --overwrite to replace it.")
    if out.exists() and not out.is_dir():
        raise DataValidationError(f"{out} exists and is not a directory. Choose another --out.")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        yield tmp
        if out.exists():
            trash = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, trash)
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def fingerprint(directory: Path, files: list[str]) -> str:
    """SHA-256 over the bytes of ``files`` (in the given order), hex, prefixed by the algorithm."""
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode())
        with (directory / name).open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return "sha256:" + digest.hexdigest()


def write_meta(directory: Path, meta: dict[str, Any]) -> None:
    """Write ``dataset.json`` with format header and fingerprint over the tables present."""
    from customer2vec import __version__

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
