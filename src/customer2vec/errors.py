"""Exception and warning classes.

Every error raised on purpose derives from :class:`Customer2VecError` and also from the
matching builtin, so callers may catch either.
"""

from __future__ import annotations


class Customer2VecError(Exception):
    """Base for every error this package raises on purpose."""


class DataValidationError(Customer2VecError, ValueError):
    """Input data is missing, malformed or inconsistent."""


class ConfigError(Customer2VecError, ValueError):
    """A parameter or configuration value is invalid."""


class UnknownIdError(Customer2VecError, KeyError):
    """An external id is not known to a model or dataset."""

    __str__ = Exception.__str__  # KeyError would quote the message


class NotFittedError(Customer2VecError, AttributeError):
    """A model was queried before ``fit``."""


class MissingDependencyError(Customer2VecError, ImportError):
    """An optional dependency is not installed; the message names the extra."""


class DataWarning(UserWarning):
    """Recoverable data issue (dropped rows, unknown items); the message carries counts."""
