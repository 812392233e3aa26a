"""Vectors keyed by external ids, nearest-neighbor search, recommenders.

``index.embeddings`` is a leaf (it needs only ``data.ids`` and NumPy) so that models can
return :class:`Embeddings` from ``fit``; recommenders in this package sit above the models.
"""

from customer2vec.index.embeddings import Embeddings, Neighbors

__all__ = ["Embeddings", "Neighbors"]
