"""customer2vec: product and customer embeddings from retail transactions.

Every model is importable from here (``from customer2vec import Item2Vec``); a model's module
is imported on first use, so an optional dependency (torch) is needed only by the models that
use it. ``fit`` takes a dataset directory, a :class:`Dataset` or a corpus::

    from customer2vec import Item2Vec, ingest
    ingest(["orders.csv"], "data/shop")
    model = Item2Vec().fit("data/shop")
    model.similar("SKU-1042", n=5)
"""

from __future__ import annotations

import importlib
from typing import Any

from customer2vec.columns import Columns
from customer2vec.config import __version__
from customer2vec.data.dataset import Dataset
from customer2vec.data.ingest import ingest
from customer2vec.errors import (
    ConfigError,
    Customer2VecError,
    DataValidationError,
    DataWarning,
    NotFittedError,
    UnknownIdError,
)

#: Class name -> registered model name (``customer2vec train --model NAME``).
MODELS: dict[str, str] = {
    "ALS": "als",
    "Attr2Vec": "attr2vec",
    "Autoencoder": "autoencoder",
    "CandidateGen": "candidate-gen",
    "CoPurchase": "copurchase",
    "Customer2Vec": "customer2vec",
    "GRU": "gru",
    "Guided": "guided",
    "Item2Vec": "item2vec",
    "ItemKNN": "item-knn",
    "NextBasket": "next-basket",
    "Node2Vec": "node2vec",
    "Popularity": "popularity",
    "TIFUKNN": "tifu-knn",
    "TopFrequency": "top-frequency",
}

__all__ = [
    "Columns",
    "ConfigError",
    "Customer2VecError",
    "DataValidationError",
    "DataWarning",
    "Dataset",
    "NotFittedError",
    "UnknownIdError",
    "__version__",
    "ingest",
    *MODELS,
]


def __getattr__(name: str) -> Any:
    if name in MODELS:
        models = importlib.import_module("customer2vec.models")
        cls = models.get_model_class(MODELS[name])
        globals()[name] = cls
        return cls
    raise AttributeError(f"module 'customer2vec' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(MODELS))
