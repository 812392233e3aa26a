"""The model contract shared by every model (scikit-learn style, pickle-free persistence).

- ``__init__`` stores keyword-only hyperparameters unchanged; ``get_params`` reads them
  back from the signature, so each parameter is written once.
- ``fit(corpus) -> self`` validates and trains from scratch; fitted state ends in ``_``.
- ``save(dir)`` writes ``model.json`` plus ``.npy`` arrays and id lists, atomically;
  ``load(dir)`` reads them without pickle, so loading never runs code.
"""

from __future__ import annotations

import inspect
import json
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Self

import pandas as pd

from customer2vec.data.dataset import atomic_directory
from customer2vec.errors import ConfigError, DataValidationError, NotFittedError
from customer2vec.index.embeddings import Embeddings

MODEL_FILE = "model.json"
FORMAT_NAME = "customer2vec-model"
FORMAT_VERSION = 1


class Model(ABC):
    """Base class: parameters, fitted checks, save/load."""

    #: Registry name (``customer2vec train --model NAME``).
    name: ClassVar[str] = ""
    #: What ``fit`` consumes: ``"baskets"`` (a BasketCorpus) or ``"copurchase"`` (lists).
    corpus_kind: ClassVar[str] = "baskets"

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, read from the ``__init__`` signature."""
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params: Any) -> Self:
        """Set hyperparameters; unknown names raise ``ConfigError``."""
        known = self.get_params()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ConfigError(
                f"{self.name} has no parameter {unknown[0]!r}; its parameters are "
                f"{', '.join(sorted(known))}."
            )
        for key, value in params.items():
            setattr(self, key, value)
        return self

    def __getattr__(self, name: str) -> Any:
        # Only reached for missing attributes: a fitted attribute asked for before fit.
        if name.endswith("_") and not name.startswith("_"):
            raise NotFittedError(
                f"this {self.name} model is not fitted yet ({name} is set by fit); call fit() "
                "or load a saved model."
            )
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def is_fitted(self) -> bool:
        return all(hasattr(self, attr) for attr in self._fitted_attributes())

    def check_fitted(self) -> None:
        """Raise ``NotFittedError`` unless ``fit`` (or ``load``) has run."""
        if not self.is_fitted:
            raise NotFittedError(
                f"this {self.name} model is not fitted yet; call fit() or load a saved model."
            )

    @abstractmethod
    def fit(self, corpus: Any) -> Self:
        """Train from scratch on ``corpus`` and return ``self``."""

    @abstractmethod
    def _fitted_attributes(self) -> tuple[str, ...]:
        """Names of the attributes that exist once the model is fitted."""

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"

    # -- persistence ---------------------------------------------------------------------
    def save(
        self,
        path: str | Path,
        *,
        overwrite: bool = False,
        meta: dict[str, Any] | None = None,
        tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> Path:
        """Write the fitted model to directory ``path`` (atomically).

        ``meta`` is stored in ``model.json`` beside the parameters (dataset fingerprint,
        resolved configuration, timings...); ``tables`` are written as ``NAME.parquet``
        (e.g. the item catalogue, for readable neighbors).
        """
        from customer2vec import __version__

        self.check_fitted()
        with atomic_directory(path, overwrite=overwrite) as tmp:
            state = self._save_state(tmp) or {}
            for table, frame in (tables or {}).items():
                frame.to_parquet(tmp / f"{table}.parquet", index=False)
            document = {
                "format": FORMAT_NAME,
                "format_version": FORMAT_VERSION,
                "model": self.name,
                "customer2vec_version": __version__,
                "params": self.get_params(),
                "state": state,
                **(meta or {}),
            }
            (tmp / MODEL_FILE).write_text(
                json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8"
            )
        return Path(path)

    @abstractmethod
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        """Write fitted arrays into ``directory``; return JSON-able scalars to keep."""

    @abstractmethod
    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        """Restore fitted state written by :meth:`_save_state`."""


def read_model_file(path: str | Path) -> dict[str, Any]:
    """Read and check ``model.json``; raise ``DataValidationError`` if ``path`` is no model."""
    path = Path(path)
    file = path / MODEL_FILE
    if not file.is_file():
        hint = (
            " It is a dataset: train a model on it first."
            if (path / "dataset.json").is_file()
            else ""
        )
        raise DataValidationError(f"{path} is not a customer2vec model (no {MODEL_FILE}).{hint}")
    try:
        document = json.loads(file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise DataValidationError(f"{file} is corrupt ({err.msg}). Train again.") from err
    if document.get("format") != FORMAT_NAME:
        raise DataValidationError(f"{file} is not a customer2vec model description.")
    if document.get("format_version", 0) > FORMAT_VERSION:
        raise DataValidationError(f"{path} was saved by a newer customer2vec; upgrade to load it.")
    return document


class EmbeddingModel(Model):
    """A model whose fitted state is item vectors and, optionally, customer vectors."""

    item_vectors_: Embeddings
    customer_vectors_: Embeddings | None = None

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_",)

    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        self.item_vectors_.save(directory, "item")
        if self.customer_vectors_ is not None:
            self.customer_vectors_.save(directory, "customer")
        return {"has_customer_vectors": self.customer_vectors_ is not None}

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        self.item_vectors_ = Embeddings.load(directory, "item", mmap=mmap)
        if state.get("has_customer_vectors"):
            self.customer_vectors_ = Embeddings.load(directory, "customer", mmap=mmap)
