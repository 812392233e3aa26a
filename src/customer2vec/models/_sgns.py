"""Moved to :mod:`customer2vec.models.sgns`; this alias remains for ``models/node2vec.py``.

Delete it once node2vec imports ``customer2vec.models.sgns``.
"""

from __future__ import annotations

from customer2vec.models.sgns import DEFAULTS, build_alias, item_embeddings, train_sgns, warmup

__all__ = ["DEFAULTS", "build_alias", "item_embeddings", "train_sgns", "warmup"]
