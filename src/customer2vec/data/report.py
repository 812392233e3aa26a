"""Recoverable data issues: one ``DataWarning`` each, also kept for the ingest report."""

from __future__ import annotations

import warnings

from customer2vec.errors import DataWarning


def note(warned: list[str], message: str) -> None:
    """Record ``message`` in the report and emit it as a ``DataWarning``."""
    warned.append(message)
    warnings.warn(message, DataWarning, stacklevel=3)


def note_dropped(
    warned: list[str], dropped: dict[str, int], total: int, *, what: str = "", unit: str = "rows"
) -> None:
    """Report ``dropped`` (reason -> count) out of ``total``, if anything was dropped."""
    if not dropped:
        return
    prefix = f"{what}: " if what else ""
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in dropped.items())
    note(warned, f"{prefix}dropped {sum(dropped.values()):,} of {total:,} {unit}: {reasons}")
