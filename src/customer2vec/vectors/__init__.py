"""Vectors keyed by external ids and the one top-n / nearest-neighbor search.

This layer sits below the models (they return :class:`Embeddings` from ``fit``) and above
the corpus (roll-ups of item vectors into customer vectors read baskets).
"""

from customer2vec.vectors.embeddings import Embeddings, Neighbors
from customer2vec.vectors.search import top_n, top_rows

__all__ = ["Embeddings", "Neighbors", "top_n", "top_rows"]
