"""External <-> internal id maps.

Ids keep their external form end to end: integers stay ``int64``, strings stay ``str``.
Internally, models work on positions ``0..n-1``; an :class:`IdMap` translates both ways.

Persistence (no pickle): integer ids are written as ``NAME.npy`` (``int64``); string ids as
``NAME.json``, a UTF-8 JSON list of strings (readable by any tool, no Arrow needed).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Hashable
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from customer2vec.config import require_choice
from customer2vec.errors import DataValidationError, UnknownIdError

OnUnknown = Literal["raise", "skip", "missing"]
_ON_UNKNOWN = ("raise", "skip", "missing")
_INT64_MAX_DIGITS = 18  # any run of <= 18 decimal digits fits in int64
#: The fix named in errors about a saved model's files.
RETRAIN = "Train the model again."


class IdMap:
    """Map external ids (int64 or str) to internal positions ``0..n-1`` and back.

    Parameters
    ----------
    external_ids
        Unique ids, in internal order: ``external_ids[i]`` gets internal id ``i``. Integer
        arrays become ``int64``; strings become an object array of ``str``.
    kind
        What the ids name (``"item"``, ``"customer"``); used in error messages.

    Raises
    ------
    DataValidationError
        If ids repeat, are missing, or are neither all integers nor all strings.

    Examples
    --------
    >>> ids = IdMap(["b", "a", "c"], kind="item")
    >>> ids.to_internal(["a", "c"]).tolist()
    [1, 2]
    >>> ids.index("c"), "z" in ids
    (2, False)
    """

    def __init__(self, external_ids: Any, *, kind: str = "item") -> None:
        external = _normalize_ids(external_ids, kind)
        if external.flags.writeable and np.may_share_memory(external, external_ids):
            external = external.copy()  # freezing must not freeze the caller's array
        external.flags.writeable = False
        index = pd.Index(external, dtype=external.dtype, copy=False)
        if not index.is_unique:
            duplicated = index.duplicated(keep="first")
            first = _python_scalar(external[np.argmax(duplicated)])
            raise DataValidationError(
                f"{kind} ids must be unique; {int(duplicated.sum())} are repeated "
                f"(first: {first!r}). Use IdMap.from_values to keep first appearances."
            )
        self.kind = kind
        self._external = external
        self._index = index
        self._trimmed: tuple[pd.Index, np.ndarray] | None = None

    @classmethod
    def from_values(cls, values: Any, *, kind: str = "item") -> IdMap:
        """Build a map from ``values`` that may repeat, in order of first appearance."""
        return cls(pd.unique(_normalize_ids(values, kind)), kind=kind)

    @property
    def external(self) -> np.ndarray:
        """External ids in internal order (read-only; ``int64`` or object array of ``str``)."""
        return self._external

    @property
    def is_integer(self) -> bool:
        """Whether the ids are integers (else strings)."""
        return self._external.dtype.kind == "i"

    def __len__(self) -> int:
        return len(self._external)

    def __contains__(self, external_id: object) -> bool:
        if np.ndim(external_id) != 0:
            return False
        return bool(self._positions(external_id)[0][0] >= 0)

    def __repr__(self) -> str:
        head = ", ".join(repr(_python_scalar(x)) for x in self._external[:3])
        more = ", ..." if len(self) > 3 else ""
        return f"IdMap([{head}{more}], kind={self.kind!r}, n={len(self)})"

    def index(self, external_id: Hashable) -> int:
        """Return the internal id of one external id.

        Raises
        ------
        UnknownIdError
            If the id is not in the map.
        """
        positions, _ = self._positions(external_id)
        if positions[0] < 0:
            raise UnknownIdError(f"unknown {self.kind} id {_python_scalar(external_id)!r}")
        return int(positions[0])

    def to_internal(self, ids: Any, *, on_unknown: OnUnknown = "raise") -> np.ndarray:
        """Translate external ids to internal ids (``int64``).

        Parameters
        ----------
        ids
            Array-like of external ids. Strings that spell integers find integer ids and
            integers find string ids that spell them (``"123"`` <-> ``123``).
        on_unknown
            ``"raise"``: raise ``UnknownIdError``; ``"missing"``: return -1 in their place;
            ``"skip"``: leave them out (the result is then shorter than ``ids``).

        Raises
        ------
        UnknownIdError
            If ``on_unknown="raise"`` and some ids are not in the map.
        """
        require_choice(on_unknown, "on_unknown", _ON_UNKNOWN)
        positions, query = self._positions(ids)
        unknown = positions < 0
        if not unknown.any():
            return positions
        if on_unknown == "missing":
            return positions
        if on_unknown == "skip":
            return positions[~unknown]
        n_unknown = int(unknown.sum())
        first = _python_scalar(query[np.argmax(unknown)])
        if n_unknown == 1:
            message = f"unknown {self.kind} id {first!r}"
        else:
            message = f"{n_unknown} unknown {self.kind} ids (first: {first!r})"
        raise UnknownIdError(f"{message}. Pass on_unknown='skip' or 'missing' to allow them.")

    def to_external(self, internal: Any) -> np.ndarray:
        """Translate internal ids (``0..n-1``) to external ids; ``IndexError`` if out of range."""
        positions = np.asarray(internal)
        if positions.size == 0:
            return self._external[:0].copy()
        if positions.min() < 0 or positions.max() >= len(self):
            raise IndexError(
                f"internal {self.kind} ids must be in [0, {len(self)}); "
                f"got values from {positions.min()} to {positions.max()}."
            )
        return self._external[positions]

    def save(self, path: str | Path, name: str) -> Path:
        """Write the ids into directory ``path`` as ``NAME.npy`` (int) or ``NAME.json`` (str).

        Returns the written file. A stale file of the other kind with the same name is removed.
        """
        directory = Path(path)
        name = check_file_name(name, directory)
        directory.mkdir(parents=True, exist_ok=True)
        npy, js = directory / f"{name}.npy", directory / f"{name}.json"
        if self.is_integer:
            np.save(npy, self._external, allow_pickle=False)
            js.unlink(missing_ok=True)
            return npy
        js.write_text(json.dumps(self._external.tolist(), ensure_ascii=False), encoding="utf-8")
        npy.unlink(missing_ok=True)
        return js

    @classmethod
    def load(cls, path: str | Path, name: str, *, kind: str = "item", mmap: bool = False) -> IdMap:
        """Read ids written by :meth:`save`; ``mmap`` memory-maps integer ids.

        Raises
        ------
        DataValidationError
            If neither ``NAME.npy`` nor ``NAME.json`` exists, or the file is corrupt.
        """
        directory = Path(path)
        name = check_file_name(name, directory)
        npy, js = directory / f"{name}.npy", directory / f"{name}.json"
        if npy.is_file():
            ids = load_array(directory, npy.name, mmap=mmap)
            if ids.dtype.kind not in "iu" or ids.ndim != 1:
                raise DataValidationError(
                    f"{npy} must hold a 1-D integer array; got {ids.dtype} with shape "
                    f"{ids.shape}. {RETRAIN}"
                )
            return cls._checked(ids, kind, npy)
        if js.is_file():
            try:
                ids = json.loads(js.read_text(encoding="utf-8"))
            except (ValueError, OSError) as err:  # JSONDecodeError, UnicodeDecodeError
                raise DataValidationError(
                    f"{js} is corrupt or unreadable ({_reason(err)}). {RETRAIN}"
                ) from err
            if not isinstance(ids, list) or not all(isinstance(x, str) for x in ids):
                raise DataValidationError(f"{js} must hold a JSON list of strings. {RETRAIN}")
            return cls._checked(np.array(ids, dtype=object), kind, js)
        raise DataValidationError(
            f"no {kind} id list in {directory}: expected {npy.name} or {js.name}. {RETRAIN}"
        )

    @classmethod
    def _checked(cls, ids: np.ndarray, kind: str, file: Path) -> IdMap:
        """An id map read from ``file``: a bad list (repeated ids...) names the file."""
        try:
            return cls(ids, kind=kind)
        except DataValidationError as err:
            message = str(err).split(". Use IdMap.from_values")[0]
            raise DataValidationError(f"{file} is corrupt: {message}. {RETRAIN}") from err

    def _positions(self, ids: Any) -> tuple[np.ndarray, np.ndarray]:
        """Return (internal ids with -1 for unknown, the query as a 1-D array)."""
        query = _as_1d(ids)
        coerced, known = _coerce(query, integer=self.is_integer)
        positions = self._index.get_indexer(coerced).astype(np.int64, copy=False)
        if known is not None:
            positions[~known] = -1
        if not self.is_integer and (positions < 0).any():
            self._match_trimmed(coerced, positions, known)
        return positions, query

    def _match_trimmed(
        self, coerced: np.ndarray, positions: np.ndarray, known: np.ndarray | None
    ) -> None:
        """Find ids that differ from the query only by surrounding blanks, where unambiguous.

        Ids are stored exactly as given (``"00042137  "`` from a fixed-width export stays
        so, and comes back so); this lets a user type ``00042137`` and still find it.
        """
        missing = positions < 0
        if known is not None:
            missing &= known
        missing = np.flatnonzero(missing)
        if not len(missing):
            return
        if self._trimmed is None:
            trimmed = pd.Series(self._external, dtype=object).str.strip()
            unique = ~trimmed.duplicated(keep=False).to_numpy()
            self._trimmed = pd.Index(trimmed[unique]), np.flatnonzero(unique)
        index, where = self._trimmed
        query = pd.Series(coerced[missing], dtype=object).astype(str).str.strip()
        found = index.get_indexer(query)
        hit = found >= 0
        positions[missing[hit]] = where[found[hit]]


def check_file_name(name: object, directory: str | Path) -> str:
    """Return ``name`` if it names a file directly inside ``directory``; else raise.

    Names come from code or from a saved ``model.json``: refusing path separators and ``..``
    keeps a crafted file from making a load read outside the model's folder.

    Raises
    ------
    DataValidationError
        If ``name`` is not a non-empty string without ``/``, ``\\``, ``..`` or NUL.
    """
    if (
        not isinstance(name, str)
        or name in ("", ".")
        or ".." in name
        or any(sep in name for sep in ("/", "\\", "\0"))
    ):
        raise DataValidationError(
            f"{directory}: the stored file name {name!r} is not a plain file name (it must "
            f"not hold path separators or '..'), so the files are corrupt. {RETRAIN}"
        )
    return name


def load_array(
    directory: str | Path, name: str, *, mmap: bool = False, fix: str = ""
) -> np.ndarray:
    """Read the array ``directory/name`` (a ``.npy`` file) without pickle.

    Every saved model reads its arrays through here, so a missing, truncated, empty or
    object-dtype file gives one clear error naming it, never a traceback.

    Parameters
    ----------
    directory
        The folder holding the file (a model directory or one of its sub-folders).
    name
        The file's name; ``.npy`` is added when it has no such suffix. Path separators and
        ``..`` are refused.
    mmap
        Memory-map the array read-only instead of reading it into memory.
    fix
        What the user should do about a bad file (default: train the model again).

    Raises
    ------
    DataValidationError
        If the name is not a plain file name, or the file is missing, corrupt or unreadable.
    """
    fix = fix or RETRAIN
    name = check_file_name(name, directory)
    file = Path(directory) / (name if name.endswith(".npy") else f"{name}.npy")
    if not file.is_file():
        raise DataValidationError(f"{file} is missing. {fix}")
    try:
        array = np.load(file, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise DataValidationError(
            f"{file} is corrupt or unreadable ({_reason(err)}). {fix}"
        ) from err
    if not isinstance(array, np.ndarray):  # an .npz archive under a .npy name
        close = getattr(array, "close", None)
        if close is not None:
            close()
        raise DataValidationError(
            f"{file} is corrupt or unreadable (not a single .npy array). {fix}"
        )
    return array


def _reason(err: BaseException) -> str:
    """A short reason for a load error: its message, or its type when it has none."""
    message = str(err) or type(err).__name__
    if "pickle" in message:
        # NumPy's advice (load it with allow_pickle) would run code from the file: never.
        return "it is not a plain NumPy array: it holds Python objects or is not .npy data"
    return message


def _coerce(query: np.ndarray, *, integer: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """Cast ``query`` to the map's id type; return it and a mask of castable values (None: all).

    This is the one place that lets users type ids either way: ``"123"`` finds ``123`` in an
    integer map (the CLI always passes strings) and ``5`` finds ``"5"`` in a string map.
    """
    inferred = pd.api.types.infer_dtype(query) if query.dtype.kind == "O" else ""
    if inferred == "integer":
        with contextlib.suppress(OverflowError):  # ints beyond int64 stay objects: unknown
            query = query.astype(np.int64)
    elif inferred == "string" and not integer:
        return query, None
    elif inferred not in ("", "string", "empty"):
        # 20.0 (a pandas column with gaps) means 20 for both kinds of map.
        query = np.array(
            [int(x) if isinstance(x, float) and x.is_integer() else x for x in query], dtype=object
        )
    kind = query.dtype.kind
    if integer:
        if kind == "i":
            return query.astype(np.int64, copy=False), None
        if kind == "u":
            known = query <= np.iinfo(np.int64).max
            return np.where(known, query, 0).astype(np.int64), known
        if kind == "f":
            with np.errstate(invalid="ignore"):
                known = np.isfinite(query) & (query == np.round(query)) & (np.abs(query) < 2**63)
            return np.where(known, query, 0).astype(np.int64), known
        if kind not in "OUS":
            return np.zeros(len(query), dtype=np.int64), np.zeros(len(query), dtype=bool)
        return _parse_integers(query)
    if kind in "iu":
        return query.astype(str).astype(object), None
    if kind == "f":
        with np.errstate(invalid="ignore"):
            known = np.isfinite(query) & (query == np.round(query))
        text = np.where(known, query, 0).astype(np.int64).astype(str).astype(object)
        return text, known
    if kind == "O":
        series = pd.Series(query, dtype=object)
        known = ~series.isna().to_numpy()
        return series.astype(str).to_numpy(dtype=object), None if known.all() else known
    return query.astype(str).astype(object), None


def _parse_integers(query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parse strings (or Python ints in an object array) that spell integers."""
    text = pd.Series(query, dtype=object).astype(str).str.strip()
    known = np.array(text.str.fullmatch(r"[+-]?[0-9]+").fillna(False), dtype=bool)
    values = np.zeros(len(query), dtype=np.int64)
    strings = text.to_numpy(dtype=object)
    digits = np.char.str_len(np.char.lstrip(strings[known].astype(str), "+-"))
    short = np.flatnonzero(known)[digits <= _INT64_MAX_DIGITS]
    values[short] = strings[short].astype(str).astype(np.int64)
    for position in np.flatnonzero(known)[digits > _INT64_MAX_DIGITS]:
        number = int(strings[position])  # rare: 19+ digits may or may not fit in int64
        if -(2**63) <= number < 2**63:
            values[position] = number
        else:
            known[position] = False
    return values, known


def _normalize_ids(values: Any, kind: str) -> np.ndarray:
    """Return ids as a 1-D ``int64`` array or object array of ``str``; raise if neither fits."""
    ids = _as_1d(values)
    dtype = ids.dtype.kind
    if dtype == "i":
        return ids.astype(np.int64, copy=False)
    if dtype == "u":
        if ids.size and ids.max() > np.iinfo(np.int64).max:
            raise DataValidationError(f"{kind} ids must fit in int64; got {ids.max()}.")
        return ids.astype(np.int64)
    if dtype == "f" and np.array_equal(ids, np.round(ids)):  # e.g. a nullable column read as float
        return ids.astype(np.int64)
    if dtype == "U":
        return ids.astype(object)
    if dtype == "O":
        inferred = pd.api.types.infer_dtype(ids, skipna=False)
        if inferred in ("string", "empty"):
            return ids
        if inferred == "integer":
            try:
                return ids.astype(np.int64)
            except OverflowError as err:
                raise DataValidationError(f"{kind} ids must fit in int64.") from err
        if pd.isna(ids).any():
            first = int(np.argmax(pd.isna(ids)))
            raise DataValidationError(
                f"{kind} ids must not be missing; found {int(pd.isna(ids).sum())} missing "
                f"(first at position {first}). Drop or fill them first."
            )
    sample = _python_scalar(ids[0]) if ids.size else None
    raise DataValidationError(
        f"{kind} ids must be all integers or all strings; got {_type_name(ids)} "
        f"values such as {sample!r}. Cast the id column to one type."
    )


def _type_name(ids: np.ndarray) -> str:
    """Describe the type of ``ids`` for an error message."""
    if ids.dtype.kind == "O":
        return pd.api.types.infer_dtype(ids, skipna=False)
    return str(ids.dtype)


def _as_1d(values: Any) -> np.ndarray:
    if isinstance(values, pd.Series | pd.Index | pd.api.extensions.ExtensionArray):
        values = values.to_numpy()
    # Python strings and lists go to object arrays: NumPy's fixed-width "U" dtype would drop
    # trailing NUL characters, and a list like [1, "a"] must not silently become strings.
    if isinstance(values, str | list | tuple):
        array = np.empty(1 if isinstance(values, str) else len(values), dtype=object)
        try:
            array[:] = [values] if isinstance(values, str) else values
        except ValueError as err:
            raise DataValidationError("ids must be one-dimensional (a list of ids).") from err
        return array
    array = np.asarray(values)
    if array.ndim == 0:
        return array.reshape(1)
    if array.ndim > 1:
        raise DataValidationError(f"ids must be one-dimensional; got shape {array.shape}.")
    return array


def _python_scalar(value: Any) -> Any:
    """Unwrap NumPy scalars so that ``repr`` shows ``'a'`` rather than ``np.str_('a')``."""
    return value.item() if isinstance(value, np.generic) else value
