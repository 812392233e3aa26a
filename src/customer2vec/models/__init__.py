"""Models: one module per model behind the ``Model`` contract, found by name."""

from __future__ import annotations

import importlib
from pathlib import Path

from customer2vec.data.ids import RETRAIN
from customer2vec.errors import ConfigError, Customer2VecError, DataValidationError
from customer2vec.models.base import (
    _CLASSES,
    EmbeddingModel,
    Model,
    model_dataset_path,
    read_model_file,
    resolve_model_dataset,
)
from customer2vec.models.params import validate_params

#: ``customer2vec train --model NAME`` -> the module (under ``customer2vec.models``) whose
#: class sets ``name = NAME``: the one line a new model adds here. Modules import lazily,
#: so an optional dependency (torch) is needed only by the model that uses it.
REGISTRY: dict[str, str] = {
    "item2vec": "item2vec",
    "als": "als",
    "customer2vec": "customer2vec",
    "copurchase": "copurchase",
    "next-basket": "next_basket",
    "popularity": "popularity",
    "top-frequency": "top_frequency",
    "tifu-knn": "tifu_knn",
    "item-knn": "item_knn",
    "attr2vec": "attr2vec",
    "gru": "gru",
    "candidate-gen": "candidate_gen",
    "autoencoder": "autoencoder",
    "guided": "guided",
    "node2vec": "node2vec",
}


#: What a corrupt or crafted model folder makes ``_load_state`` raise, beyond our own errors
#: (``RuntimeError``: torch's ``load_state_dict`` on weights of the wrong shape).
_LOAD_ERRORS = (
    ValueError,
    OSError,
    EOFError,
    KeyError,
    TypeError,
    IndexError,
    AttributeError,
    RuntimeError,
)


def model_names() -> list[str]:
    """Names accepted by ``train --model``."""
    return sorted(REGISTRY)


def get_model_class(name: str) -> type[Model]:
    """The model class registered under ``name`` (its module is imported now).

    Raises
    ------
    ConfigError
        If no model has that name.
    ImportError
        If the module ``REGISTRY`` names defines no class with that ``name`` (a broken
        registry line), or an optional dependency it imports is missing.
    """
    if name not in REGISTRY:
        raise ConfigError(f"unknown model {name!r}; choose one of {', '.join(model_names())}.")
    module = importlib.import_module(f"{__name__}.{REGISTRY[name]}")
    cls = _CLASSES.get((module.__name__, name))
    if cls is None:
        raise ImportError(
            f"{module.__name__} defines no model named {name!r}: a class there must set "
            f"name = {name!r}, or REGISTRY[{name!r}] must name the module that does."
        )
    return cls


def create_model(name: str, **params: object) -> Model:
    """Instantiate model ``name`` with ``params`` (unknown parameters raise ``ConfigError``)."""
    return get_model_class(name)().set_params(**params)


def load_model(path: str | Path, *, mmap: bool = True) -> Model:
    """Load a model directory written by ``Model.save`` (no pickle).

    Raises
    ------
    DataValidationError
        If ``path`` holds no model, or its ``model.json`` or arrays are corrupt: one message
        naming the model directory, never a traceback from deep inside NumPy or a model.
    """
    document = read_model_file(path)
    try:
        model = create_model(document["model"], **document["params"])
        validate_params(model)
    except ConfigError as err:
        raise DataValidationError(
            f"{Path(path) / 'model.json'} is corrupt: {err} {RETRAIN}"
        ) from err
    try:
        model._load_state(Path(path), document.get("state", {}), mmap=mmap)
    except Customer2VecError:
        raise
    except _LOAD_ERRORS as err:
        reason = str(err) or type(err).__name__
        raise DataValidationError(
            f"the model in {path} is corrupt or unreadable ({type(err).__name__}: {reason}). "
            f"{RETRAIN}"
        ) from err
    model.meta_ = document
    return model


__all__ = [
    "REGISTRY",
    "EmbeddingModel",
    "Model",
    "create_model",
    "get_model_class",
    "load_model",
    "model_dataset_path",
    "model_names",
    "resolve_model_dataset",
]
