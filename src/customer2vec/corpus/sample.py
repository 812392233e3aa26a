"""A deterministic sample of customers, chosen by a hash of the customer id.

``train --sample 0.1`` keeps the customers whose id hashes below 10% of the hash range. The
choice is a SQL expression that DuckDB and Spark SQL evaluate alike (``md5`` of the id as
text, its first 8 hex digits compared as text with a threshold of the same width), and
:meth:`CustomerSample.contains` computes the same thing in Python, so the same customers are
chosen on any engine, in any order, on any machine. A different ``seed`` chooses another
sample of the same size.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.errors import ConfigError

__all__ = ["CustomerSample"]

_DIGITS = 8  # hex digits of the hash compared: 2**32 buckets
_BUCKETS = 16**_DIGITS
#: A column reference both engines read unquoted (DuckDB quotes with ", Spark with `).
_PLAIN_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?")


@dataclass(frozen=True)
class CustomerSample:
    """About ``fraction`` of the customers (by id hash, salted with ``seed``).

    Raises
    ------
    ConfigError
        If ``fraction`` is not in (0, 1] or ``seed`` is not a non-negative integer.

    Examples
    --------
    >>> sample = CustomerSample(0.5, seed=0)
    >>> sample.contains([1, 2, 3, 4]).tolist()  # doctest: +SKIP
    """

    fraction: float
    seed: int = 0

    def __post_init__(self) -> None:
        fraction = require_float(self.fraction, "sample (--sample)", minimum=0.0)
        if not 0 < fraction <= 1:
            raise ConfigError(
                f"`sample (--sample)` must be a share of customers in (0, 1]; got {fraction}."
            )
        require_int(self.seed, "sample_seed (--sample-seed)", minimum=0)

    @property
    def everyone(self) -> bool:
        """Whether every customer is in the sample (``fraction == 1``)."""
        return self.fraction >= 1

    @property
    def _threshold(self) -> str:
        """Hash prefixes below this (as fixed-width lowercase hex) are in the sample."""
        return format(min(round(self.fraction * _BUCKETS), _BUCKETS - 1), f"0{_DIGITS}x")

    def sql(self, column: str) -> str:
        """A boolean SQL expression over ``column`` (a customer id), true for the sample.

        Plain SQL that DuckDB and Spark SQL both run; ``TRUE`` for ``fraction == 1``.
        ``column`` is a plain name (``customer_id``, ``p.customer_id``): the engines quote
        names differently, so it goes unquoted.
        """
        if not _PLAIN_COLUMN.fullmatch(column):
            raise ConfigError(f"the customer sample needs a plain column name; got {column!r}.")
        if self.everyone:
            return "TRUE"
        text = f"CONCAT('{int(self.seed)}:', CAST({column} AS STRING))"
        return f"(SUBSTR(MD5({text}), 1, {_DIGITS}) < '{self._threshold}')"

    def contains(self, ids: Any) -> np.ndarray:
        """Whether each external id is in the sample (the SQL expression, in Python)."""
        values = np.asarray(ids, dtype=object).ravel()
        if self.everyone:
            return np.ones(len(values), dtype=bool)
        threshold, prefix = self._threshold, f"{int(self.seed)}:"
        return np.fromiter(
            (
                hashlib.md5(f"{prefix}{_text(v)}".encode()).hexdigest()[:_DIGITS] < threshold
                for v in values
            ),
            dtype=bool,
            count=len(values),
        )

    def describe(self) -> dict[str, Any]:
        """What ``model.json`` records: the fraction and the seed."""
        return {"fraction": float(self.fraction), "seed": int(self.seed)}


def _text(value: Any) -> str:
    """An id as SQL's ``CAST(id AS STRING)`` writes it (integers without a decimal point)."""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)
