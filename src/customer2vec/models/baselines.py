"""The four counting baselines under their former module name.

Each model lives in its own module (``popularity``, ``top_frequency``, ``tifu_knn``,
``item_knn``; shared plumbing in ``counting``); this module keeps older imports working.
"""

from __future__ import annotations

from customer2vec.models.item_knn import ItemKNN
from customer2vec.models.popularity import Popularity
from customer2vec.models.tifu_knn import METRICS, TIFUKNN
from customer2vec.models.top_frequency import TopFrequency

__all__ = ["METRICS", "TIFUKNN", "ItemKNN", "Popularity", "TopFrequency"]
