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
import fnmatch
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from customer2vec.data.engine import DuckDBEngine
from customer2vec.errors import DataValidationError

FORMAT_NAME = "customer2vec-dataset"
FORMAT_VERSION = 1
TABLES = ("transactions", "items", "customers", "copurchase")
INFO_FILE = "dataset.json"
#: The fix named in errors about a dataset's files.
REINGEST = "Ingest again."


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
            if not file.is_file():
                raise DataValidationError(f"{file} is missing ({INFO_FILE} lists it). {REINGEST}")
            try:
                rows = pq.read_metadata(file).num_rows
            except (ValueError, OSError) as err:  # ArrowInvalid is a ValueError
                raise DataValidationError(f"{file} is corrupt ({err}). {REINGEST}") from err
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


def _read_info(info_file: Path) -> dict[str, Any]:
    """Read and check the shape of ``dataset.json``; raise ``DataValidationError`` if bad."""
    try:
        meta = json.loads(info_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataValidationError(f"{info_file} is corrupt ({err.msg}). {REINGEST}") from err
    except (UnicodeDecodeError, OSError) as err:
        raise DataValidationError(
            f"{info_file} is corrupt or unreadable ({err}). {REINGEST}"
        ) from err

    def corrupt(what: str) -> DataValidationError:
        return DataValidationError(f"{info_file} is corrupt ({what}). {REINGEST}")

    if not isinstance(meta, dict):
        raise corrupt(f"it holds {_json_type(meta)}, not a JSON object")
    if meta.get("format") != FORMAT_NAME:
        raise DataValidationError(f"{info_file} is not a {FORMAT_NAME} description.")
    version = meta.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise corrupt(f"format_version must be an integer; got {_json_type(version)}")
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


# -- output directories ---------------------------------------------------------------------


@dataclass(frozen=True)
class OutputKind:
    """A kind of directory this tool writes, so that ``--overwrite`` replaces only its own.

    An existing output may be replaced when it is empty, or when its ``marker`` file says
    it is of this kind and every file in it is one this kind writes (``files``: glob
    patterns of file names, also inside the sub-folders named in ``dirs``).
    """

    #: What the directory holds, for messages ("dataset", "model").
    name: str
    #: The JSON file that identifies the directory.
    marker: str
    #: Value of the marker's ``"format"`` key; ``None``: the marker only needs ``keys``.
    format: str | None = None
    #: Keys the marker must hold (used when ``format`` is ``None``).
    keys: tuple[str, ...] = ()
    #: Glob patterns of the file names this kind writes.
    files: tuple[str, ...] = ()
    #: Names of the sub-folders this kind writes (holding files matching ``files``).
    dirs: tuple[str, ...] = ()

    def describes(self, directory: Path) -> bool:
        """Whether ``directory`` holds this kind's marker file."""
        marker = directory / self.marker
        if not marker.is_file() or marker.is_symlink():
            return False
        try:
            text = marker.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return False
        try:
            document = json.loads(text)
        except json.JSONDecodeError:
            # A truncated marker still starts with our header: "X is corrupt, write it again"
            # must be possible with --overwrite.
            return self.format is not None and f'"format": "{self.format}"' in text[:4096]
        if not isinstance(document, dict):
            return False
        if self.format is not None:
            return document.get("format") == self.format
        return all(key in document for key in self.keys)


DATASET_OUTPUT = OutputKind(
    "dataset",
    INFO_FILE,
    FORMAT_NAME,
    files=(INFO_FILE, *(f"{table}.parquet" for table in TABLES)),
    dirs=("_spill",),
)
MODEL_OUTPUT = OutputKind(
    "model",
    "model.json",
    "customer2vec-model",
    files=("*.json", "*.npy", "*.parquet"),
    dirs=("weights", "tifu"),
)
#: The folder ``customer2vec segment`` writes.
SEGMENTS_OUTPUT = OutputKind(
    "segments",
    "summary.json",
    keys=("what", "k"),
    files=("segments.parquet", "summary.json", "*.csv", "*.html"),
)
OUTPUT_KINDS = (DATASET_OUTPUT, MODEL_OUTPUT, SEGMENTS_OUTPUT)
#: Files an operating system's file browser drops into folders; never a reason to refuse.
_IGNORED_FILES = (".DS_Store", "Thumbs.db", "desktop.ini")


def check_output(
    out: str | Path,
    *,
    overwrite: bool = False,
    kind: OutputKind = DATASET_OUTPUT,
    inputs: Iterable[str | Path] = (),
) -> Path:
    """Check that ``out`` may be written (and replaced); return it as an absolute path.

    Commands call this before any work, and :func:`atomic_directory` again before writing.

    Raises
    ------
    DataValidationError
        If ``out`` is (or holds) the current directory, overlaps one of ``inputs``, exists
        without ``overwrite``, or exists but is not an output of ``kind`` written by
        customer2vec (empty directories excepted), or holds files customer2vec did not write.
    """
    out_abs = Path(os.path.abspath(out))
    real = out_abs.resolve()
    try:
        cwd = Path.cwd().resolve()
    except OSError:  # the working directory was removed: nothing of it to protect
        cwd = None
    if cwd is not None and (real == cwd or real in cwd.parents):
        where = "the current directory" if real == cwd else "a parent of the current directory"
        raise DataValidationError(
            f"--out {out} is {where}; customer2vec writes a whole folder there and replaces "
            f"it, so it refuses. Choose a new folder, e.g. --out {kind.name}."
        )
    for source in inputs:
        source_real = Path(os.path.abspath(source)).resolve()
        if source_real == real or real in source_real.parents or source_real in real.parents:
            raise DataValidationError(
                f"--out {out} overlaps the input {source}; writing there would destroy it. "
                "Choose another --out."
            )
    if not os.path.lexists(out_abs):
        return out_abs
    if not overwrite:
        raise DataValidationError(f"{out} already exists. Pass --overwrite to replace it.")
    if out_abs.is_symlink():
        raise DataValidationError(
            f"{out} is a symbolic link; refusing to replace it. Choose another --out."
        )
    if not out_abs.is_dir():
        raise DataValidationError(f"{out} exists and is not a directory. Choose another --out.")
    _check_ours(out, out_abs, kind)
    return out_abs


def check_file_output(out: str | Path, *, inputs: Iterable[str | Path] = ()) -> Path:
    """Check that file ``out`` may be written; return it as an absolute path.

    A file output (recommendations, exported vectors, a report) may replace an earlier file,
    but never a directory, one of ``inputs``, or a file inside a folder customer2vec wrote
    (a dataset or model folder with a foreign file in it would no longer be ours alone).
    """
    out_abs = Path(os.path.abspath(out))
    if out_abs.is_dir():
        raise DataValidationError(f"--out {out} is a directory; give a file name inside it.")
    real = out_abs.resolve()
    for source in inputs:
        source_real = Path(os.path.abspath(source)).resolve()
        if source_real == real or source_real in real.parents:
            raise DataValidationError(
                f"--out {out} is (inside) the input {source}; writing there would damage it. "
                "Choose another --out."
            )
    owner = next((k for k in OUTPUT_KINDS if k.describes(real.parent)), None)
    if owner is not None:
        raise DataValidationError(
            f"--out {out} is inside a customer2vec {owner.name} folder ({real.parent}); "
            "writing there would damage it. Choose a path outside it."
        )
    return out_abs


def _check_ours(out: str | Path, directory: Path, kind: OutputKind) -> None:
    """Raise unless ``directory`` is empty or an output of ``kind`` holding only our files."""
    if not any(directory.iterdir()):
        return
    if not kind.describes(directory):
        other = next((k for k in OUTPUT_KINDS if k != kind and k.describes(directory)), None)
        why = (
            f"it holds a customer2vec {other.name}, not a {kind.name}"
            if other is not None
            else f"no {kind.marker}"
        )
        raise DataValidationError(
            f"{out} exists and was not written by customer2vec ({why}); refusing to overwrite "
            "it. Choose another --out or remove it yourself."
        )
    foreign = _foreign_files(directory, kind)
    if foreign:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise DataValidationError(
            f"{out} holds {len(foreign)} file(s) customer2vec did not write ({shown}); "
            "refusing to overwrite it and delete them. Move them elsewhere or choose another "
            "--out."
        )


def _foreign_files(directory: Path, kind: OutputKind, prefix: str = "") -> list[str]:
    """Paths (relative to the output) of entries that ``kind`` never writes."""
    foreign = []
    for entry in sorted(directory.iterdir()):
        shown = f"{prefix}{entry.name}"
        if entry.name in _IGNORED_FILES:
            continue
        if entry.is_symlink():
            foreign.append(shown)
        elif entry.is_dir():
            if entry.name in kind.dirs:
                foreign.extend(_foreign_files(entry, kind, f"{shown}/"))
            else:
                foreign.append(f"{shown}/")
        elif not any(fnmatch.fnmatchcase(entry.name, pattern) for pattern in kind.files):
            foreign.append(shown)
    return foreign


@contextlib.contextmanager
def atomic_directory(
    out: str | Path,
    *,
    overwrite: bool = False,
    kind: OutputKind = DATASET_OUTPUT,
    inputs: Iterable[str | Path] = (),
) -> Iterator[Path]:
    """Yield a temporary directory that replaces ``out`` only if the block succeeds.

    Readers never see a half-written directory: the new one is renamed into place. An
    existing ``out`` is replaced only with ``overwrite`` and only if it is empty or an output
    of ``kind`` that holds nothing else (see :func:`check_output`); ``inputs`` (files or
    directories the command reads) may not overlap ``out``. Temporary folders of writers
    that were killed (``.OUT.tmp-PID-*``, ``.OUT.old-PID-*``) are removed first.
    """
    inputs = list(inputs)
    target = check_output(out, overwrite=overwrite, kind=kind, inputs=inputs)
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_siblings(target)
    tmp = _make_temp(target, "tmp")
    try:
        yield tmp
        check_output(out, overwrite=overwrite, kind=kind, inputs=inputs)  # changed meanwhile?
        if os.path.lexists(target):
            trash = _make_temp(target, "old")
            trash.rmdir()
            os.replace(target, trash)
            try:
                os.replace(tmp, target)
            except OSError:
                os.replace(trash, target)
                raise
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def _make_temp(target: Path, what: str) -> Path:
    """Create ``.NAME.WHAT-PID-TOKEN`` beside ``target`` (mode 0777 less the umask)."""
    while True:
        path = target.with_name(f".{target.name}.{what}-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            path.mkdir(mode=0o777)
        except FileExistsError:
            continue
        return path


def remove_stale_siblings(target: Path) -> list[Path]:
    """Remove ``.NAME.tmp-PID-*`` / ``.NAME.old-PID-*`` left beside ``target`` by dead writers.

    Only folders with this module's naming are touched, and only when process ``PID`` is
    gone (a write killed with SIGKILL cannot clean up after itself). Returns what was removed.
    """
    pattern = re.compile(rf"\.{re.escape(target.name)}\.(?:tmp|old)-(\d+)-[0-9a-f]+")
    removed = []
    try:
        siblings = list(target.parent.iterdir())
    except OSError:
        return removed
    for sibling in siblings:
        match = pattern.fullmatch(sibling.name)
        if match is None or sibling.is_symlink() or not sibling.is_dir():
            continue
        if _process_alive(int(match.group(1))):
            continue
        shutil.rmtree(sibling, ignore_errors=True)
        removed.append(sibling)
    return removed


def _process_alive(pid: int) -> bool:
    """Whether process ``pid`` exists (ours counts: another thread may be writing)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # exists but is not ours, or the id cannot be checked: leave it
    return True


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
