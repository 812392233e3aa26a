"""Moved to :mod:`customer2vec.models.neural`; this alias remains for
``tests/models/test_persistence.py``. Delete it once that test imports ``models.neural``.
"""

from __future__ import annotations

from customer2vec.models.neural import import_torch, load_weights, save_weights

__all__ = ["import_torch", "load_weights", "save_weights"]
