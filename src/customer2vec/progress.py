"""Progress of long work, on a terminal and in logs.

Every long step (training, scoring, walks, ingest) reports through :func:`progress`:

* on a terminal (stderr is a TTY) it is a tqdm bar;
* otherwise (a scheduler's log, a pipe, a notebook) it writes one plain line every
  ``STEP`` percent and at the end: ``item2vec: 35% (7/20 epoch) 12 s elapsed, ~22 s left``;
  a job in a log never looks hung;
* ``-q`` (:func:`set_enabled` ``(False)``) or ``CUSTOMER2VEC_PROGRESS=0`` turns both off;
  ``CUSTOMER2VEC_PROGRESS=1`` forces log lines on.

The object returned has tqdm's small interface: ``update(n)``, ``close()``, ``set_postfix``,
``set_postfix_str``, use as a context manager, iteration when made from an iterable.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from tqdm import tqdm

__all__ = ["STEP", "LogProgress", "progress", "set_enabled"]

#: Percent of the total between two log lines.
STEP = 5
ENV = "CUSTOMER2VEC_PROGRESS"
_enabled: bool | None = None


def set_enabled(enabled: bool | None) -> None:
    """Turn all progress off (``False``), on (``True``) or back to automatic (``None``)."""
    global _enabled
    _enabled = enabled


def _wanted(enabled: bool | None) -> bool:
    if _enabled is False or os.environ.get(ENV) == "0":
        return False
    if enabled is not None:
        return enabled
    return True


def progress(
    iterable: Iterable[Any] | None = None,
    *,
    total: float | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool | None = None,
    file: TextIO | None = None,
) -> Any:
    """A progress reporter: a tqdm bar on a terminal, log lines elsewhere, nothing when off.

    ``enabled=False`` turns this one off (a short task); ``None`` shows it unless progress is
    off globally.
    """
    stream = file if file is not None else sys.stderr
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    if not _wanted(enabled):
        return tqdm(iterable, total=total, disable=True)
    force_log = os.environ.get(ENV) == "1"
    if not force_log and _isatty(stream):
        return tqdm(iterable, total=total, desc=desc, unit=unit, file=stream, leave=False)
    return LogProgress(iterable, total=total, desc=desc, unit=unit, file=stream)


def _isatty(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class LogProgress:
    """Plain progress lines for logs: one every ``STEP`` percent of ``total``, one at the end."""

    def __init__(
        self,
        iterable: Iterable[Any] | None = None,
        *,
        total: float | None,
        desc: str,
        unit: str,
        file: TextIO,
    ) -> None:
        self.iterable = iterable
        self.total = total
        self.desc = desc or "progress"
        self.unit = unit
        self.file = file
        self.n: float = 0
        self.start = time.monotonic()
        self._next_step = STEP
        self._postfix = ""
        self._closed = False

    def __iter__(self) -> Iterator[Any]:
        if self.iterable is None:
            raise TypeError("this progress reporter was not made from an iterable")
        try:
            for item in self.iterable:
                yield item
                self.update(1)
        finally:
            self.close()

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self._postfix = text

    def set_postfix(self, refresh: bool = True, **values: object) -> None:
        self._postfix = ", ".join(f"{key}={value}" for key, value in values.items())

    def set_description(self, desc: str, refresh: bool = True) -> None:
        self.desc = desc

    def refresh(self) -> None:
        """Nothing to redraw in a log."""

    def update(self, n: float = 1) -> None:
        self.n += n
        if not self.total:
            return
        percent = 100.0 * self.n / self.total
        if percent >= self._next_step and self.n < self.total:
            self._write(percent)
            self._next_step = (int(percent) // STEP + 1) * STEP

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self.n > 0:
            self._write(100.0 * self.n / self.total if self.total else None, done=True)

    def _write(self, percent: float | None, done: bool = False) -> None:
        elapsed = time.monotonic() - self.start
        count = f"{_number(self.n)}/{_number(self.total)}" if self.total else _number(self.n)
        head = f"{percent:.0f}% " if percent is not None else ""
        line = f"{self.desc}: {head}({count} {self.unit}) {_duration(elapsed)} elapsed"
        if not done and percent:
            left = elapsed * (100.0 - percent) / percent
            line += f", ~{_duration(left)} left"
        if self._postfix:
            line += f", {self._postfix}"
        # a closed or broken log stream must not stop the work
        with contextlib.suppress(OSError, ValueError):
            print(line, file=self.file, flush=True)


def _number(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
