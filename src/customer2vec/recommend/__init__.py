"""Recommendations: a fitted ranking model, the customers' history and the one ranker.

Everything that ranks items (``recommend``, ``recommend-batch``, the HTTP API, ``evaluate``)
goes through :class:`Recommender`, so every published figure is what a user gets.
"""

from customer2vec.recommend.recommender import Recommender, save_recommendations

__all__ = ["Recommender", "save_recommendations"]
