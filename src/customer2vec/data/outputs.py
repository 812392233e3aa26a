"""Output directories: where commands may write, and replacing a folder atomically.

A command that writes a folder (a dataset, a model, segments) first checks that ``--out``
may be written with :func:`check_output`, then writes inside :func:`atomic_directory`, which
renames the finished folder into place. ``--overwrite`` replaces only an output of the same
kind that holds nothing customer2vec did not write.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from customer2vec.data.dataset import FORMAT_NAME, INFO_FILE, TABLES
from customer2vec.errors import DataValidationError


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
    # A table is a file, or (Spark's ingest) a folder of that name holding part files.
    files=(INFO_FILE, *(f"{table}.parquet" for table in TABLES), "part-*.parquet"),
    dirs=("_spill", *(f"{table}.parquet" for table in TABLES)),
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
