"""Parameter validation shared by every layer (one message shape for every parameter)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from customer2vec.errors import ConfigError

#: The package version (the one source; ``customer2vec.__version__`` re-exports it).
__version__ = "0.1.0"


def require_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """Return ``value`` if it is an int within bounds, else raise ``ConfigError``."""
    ok = isinstance(value, int) and not isinstance(value, bool)
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        raise ConfigError(f"`{name}` must be an int{_bounds(minimum, maximum)}; got {value!r}.")
    return value


def require_float(
    value: Any, name: str, *, minimum: float | None = None, maximum: float | None = None
) -> float:
    """Return ``value`` as float if it is a real number within bounds, else raise."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    ok = ok and (minimum is None or value >= minimum) and (maximum is None or value <= maximum)
    if not ok:
        raise ConfigError(f"`{name}` must be a number{_bounds(minimum, maximum)}; got {value!r}.")
    return float(value)


def require_choice(value: Any, name: str, choices: Collection[str]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ConfigError``."""
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ConfigError(f"`{name}` must be one of {options}; got {value!r}.")
    return value


def _bounds(minimum: float | None, maximum: float | None) -> str:
    if minimum is not None and maximum is not None:
        return f" in [{minimum}, {maximum}]"
    if minimum is not None:
        return f" >= {minimum}"
    if maximum is not None:
        return f" <= {maximum}"
    return ""
