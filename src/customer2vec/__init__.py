"""customer2vec: product and customer embeddings from retail transactions."""

from __future__ import annotations

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
]
