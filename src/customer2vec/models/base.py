"""The model contract shared by every model (scikit-learn style, pickle-free persistence).

Everything about a model is declared once, on its class:

- ``name`` registers the class (``Model.__init_subclass__``); ``models.REGISTRY`` maps the
  name to its module, which is imported only when the model is asked for.
- ``__init__`` stores keyword-only hyperparameters unchanged; ``get_params`` reads them
  back from the signature, so each parameter is written once. Their annotations and the
  class's ``_parameter_constraints`` are checked (``models.params``) at the start of every
  ``fit``: the base wraps each subclass's ``fit``.
- ``fit(corpus) -> self`` trains from scratch; fitted state ends in ``_``. ``fit`` also takes
  a :class:`Dataset` or a dataset path (``models.library``: the corpus is built, with
  ``fit(dataset, min_item_count=N)`` leaving out rarer items as ``train`` does, and the
  dataset is remembered in ``meta_`` so a saved model works from the command line).
- Capabilities: ``has_item_vectors``, ``has_customer_vectors``, ``can_rank`` (and, for
  ranking models, ``repeats``) say what a fitted model offers, so callers ask instead of
  probing attributes.
- ``quick_params()`` gives small, fast settings for tiny data (the contract tests).
- ``persisted`` declares the fitted state that is saved (attribute -> kind: embeddings,
  array, csr, ids or JSON scalar); the base's ``_save_state``/``_load_state`` write and read
  it, and ``_restore`` rebuilds what derives from it.
- ``save(dir)`` writes ``model.json`` plus ``.npy`` arrays and id lists, atomically;
  ``load(dir)`` reads them without pickle, so loading never runs code.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from pathlib import Path, PurePath
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from customer2vec.data.dataset import INFO_FILE, Dataset, read_description
from customer2vec.data.ids import RETRAIN, IdMap, load_array
from customer2vec.data.outputs import MODEL_OUTPUT, atomic_directory
from customer2vec.errors import ConfigError, DataValidationError, NotFittedError
from customer2vec.models.params import check_constraints, validate_params
from customer2vec.vectors.embeddings import Embeddings

MODEL_FILE = MODEL_OUTPUT.marker
FORMAT_NAME = MODEL_OUTPUT.format
FORMAT_VERSION = 1

#: Every class that sets ``name``, by (module, name), filled by ``Model.__init_subclass__``:
#: ``models.get_model_class`` imports the module ``models.REGISTRY`` names, then looks the
#: class up here (so a class elsewhere that reuses a name, in a test say, shadows nothing).
_CLASSES: dict[tuple[str, str], type[Model]] = {}

#: The kinds of persisted state (see ``Model.persisted``) and the default file or key for
#: an attribute ``attr``.
_PERSIST_DEFAULTS: dict[str, Callable[[str], str]] = {
    "embeddings": lambda attr: attr.removesuffix("_vectors_"),
    "array": lambda attr: attr.rstrip("_"),
    "csr": lambda attr: attr.rstrip("_"),
    "ids": lambda attr: attr.rstrip("_"),
    "scalar": lambda attr: attr.rstrip("_"),
}
_CSR_PARTS = ("data", "indices", "indptr")


class Persisted:
    """One parsed ``Model.persisted`` entry: ``KIND[:NAME][?]``."""

    __slots__ = ("attr", "kind", "name", "optional")

    def __init__(self, attr: str, spec: str, owner: str) -> None:
        body, self.optional = (spec[:-1], True) if spec.endswith("?") else (spec, False)
        kind, _, name = body.partition(":")
        if kind not in _PERSIST_DEFAULTS or not attr.endswith("_"):
            raise TypeError(
                f"{owner}.persisted[{attr!r}] = {spec!r}: the key must be a fitted attribute "
                f"(ending in _) and the kind one of {', '.join(_PERSIST_DEFAULTS)}."
            )
        self.attr, self.kind, self.name = attr, kind, name or _PERSIST_DEFAULTS[kind](attr)

    @property
    def flag(self) -> str:
        """State key recording whether an optional file-backed attribute was saved."""
        return f"has_{self.attr.rstrip('_')}"


class Model(ABC):
    """Base class: registration, capabilities, parameters, fitted checks, save/load."""

    #: Registry name (``customer2vec train --model NAME``); setting it registers the class.
    name: ClassVar[str] = ""
    #: What ``fit`` consumes: ``"baskets"`` (a BasketCorpus), ``"baskets+tables"`` or
    #: ``"copurchase"`` (lists).
    corpus_kind: ClassVar[str] = "baskets"
    #: Whether a fitted model has ``item_vectors_`` (``similar``, ``export``, item maps).
    has_item_vectors: ClassVar[bool] = False
    #: Whether a fitted model has ``customer_vectors_`` (``export --what customers``,
    #: segments without a roll-up of item vectors).
    has_customer_vectors: ClassVar[bool] = False
    #: Whether the model ranks items for customers (``score``; ``recommend``, ``evaluate``).
    can_rank: ClassVar[bool] = False
    #: Values ``train --tune`` draws from, per parameter (empty: the model is not tuned).
    search_space: ClassVar[dict[str, list[Any]]] = {}
    #: What the ``__init__`` annotations cannot say, per parameter: a list of allowed types,
    #: ``None``, ``params.Interval`` s and ``params.Options`` (a value must satisfy one).
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {}
    #: The fitted state ``save`` writes, per attribute: ``"KIND[:NAME][?]"``. Subclasses add
    #: entries (the base classes' come first, in declaration order). Kinds:
    #:
    #: - ``embeddings``: ``Embeddings.save/load`` as ``NAME_vectors.npy`` + ``NAME_ids.*``
    #:   (NAME defaults to the attribute before ``_vectors_``);
    #: - ``array``: ``NAME.npy`` (``np.save``, read by ``data.ids.load_array``);
    #: - ``csr``: ``NAMEdata.npy``, ``NAMEindices.npy``, ``NAMEindptr.npy``, a matrix with
    #:   one column per item (``len(self.item_ids_)``, declared before it);
    #: - ``ids``: ``IdMap.save/load`` as ``NAME.npy`` or ``NAME.json`` (the id kind is the
    #:   attribute before ``_ids_``);
    #: - ``scalar``: a JSON value kept in ``model.json``'s ``state`` under NAME.
    #:
    #: NAME defaults to the attribute without its trailing ``_``. ``?`` marks an attribute
    #: that may be ``None``: a file-backed one is then not written and ``state["has_ATTR"]``
    #: (attribute without ``_``) records whether it was; a scalar is stored as ``null`` and
    #: left unset on load. File names and state keys are the saved format: keep them.
    persisted: ClassVar[dict[str, str]] = {}
    #: ``persisted`` of the class and its bases, parsed (set by ``__init_subclass__``).
    _persisted: ClassVar[tuple[Persisted, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            declared.update(vars(klass).get("persisted", {}))
        cls._persisted = tuple(Persisted(a, spec, cls.__name__) for a, spec in declared.items())
        fit = cls.__dict__.get("fit")
        if fit is not None and not getattr(fit, "__isabstractmethod__", False):
            cls.fit = _validating(fit)  # type: ignore[method-assign]
        if "_parameter_constraints" in cls.__dict__:
            check_constraints(cls._parameter_constraints, set(cls._param_names()), cls.__name__)
        name = cls.__dict__.get("name")
        if name:
            known = _CLASSES.get((cls.__module__, name))
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(
                    f"{cls.__module__} defines two models named {name!r} "
                    f"({known.__qualname__} and {cls.__qualname__}); rename one."
                )
            _CLASSES[cls.__module__, name] = cls

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        """Small, fast settings for tiny data; parameters left out keep their defaults.

        The contract suite (``tests/models/test_contract.py``) fits every registered model
        with them, like sktime's ``get_test_params``; each model overrides this (with ``{}``
        when its defaults are already fast).
        """
        return {}

    @classmethod
    def _param_names(cls) -> list[str]:
        return [
            p.name
            for p in inspect.signature(cls.__init__).parameters.values()
            if p.kind is inspect.Parameter.KEYWORD_ONLY
        ]

    def get_params(self) -> dict[str, Any]:
        """Hyperparameters, read from the ``__init__`` signature."""
        return {name: getattr(self, name) for name in self._param_names()}

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
        """Train from scratch on ``corpus`` and return ``self``.

        Hyperparameters are checked first (:func:`~customer2vec.models.params.validate_params`
        runs before the subclass's ``fit``): a bad one raises ``ConfigError`` before any work.
        """

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
        (e.g. the item catalogue, for readable neighbors). A ``meta["dataset"]["path"]`` is
        stored absolute and relative to ``path`` (see :func:`model_dataset_path`).

        ``overwrite`` replaces an existing ``path`` only if it is empty or a model folder
        holding nothing but model files; ``path`` may not overlap the model's dataset.
        """
        from customer2vec.config import __version__

        self.check_fitted()
        # A model fitted on a dataset (``fit(dataset_or_path)``) remembers it in ``meta_``.
        meta = dict(meta if meta is not None else self.__dict__.get("meta_") or {})
        dataset = meta.get("dataset")
        inputs = []
        if isinstance(dataset, Mapping) and isinstance(dataset.get("path"), str):
            meta["dataset"] = dataset_reference(dataset, path)
            inputs.append(meta["dataset"]["path"])
        with atomic_directory(path, overwrite=overwrite, kind=MODEL_OUTPUT, inputs=inputs) as tmp:
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
                **meta,
            }
            (tmp / MODEL_FILE).write_text(
                json.dumps(document, indent=2, default=str) + "\n", encoding="utf-8"
            )
        return Path(path)

    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        """Write the ``persisted`` state into ``directory``; return the JSON-able scalars.

        A model whose state does not fit ``persisted`` overrides this (and ``_load_state``),
        usually calling ``super()`` first and adding to the returned dict.
        """
        state: dict[str, Any] = {}
        for entry in self._persisted:
            value = getattr(self, entry.attr, None) if entry.optional else getattr(self, entry.attr)
            if entry.kind == "scalar":
                state[entry.name] = value
                continue
            if entry.optional:
                state[entry.flag] = value is not None
                if value is None:
                    continue
            if entry.kind in ("embeddings", "ids"):
                value.save(directory, entry.name)
            elif entry.kind == "csr":
                for part in _CSR_PARTS:
                    file = directory / f"{entry.name}{part}.npy"
                    np.save(file, getattr(value, part), allow_pickle=False)
            else:
                np.save(
                    directory / f"{entry.name}.npy", np.ascontiguousarray(value), allow_pickle=False
                )
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        """Restore the ``persisted`` state written by :meth:`_save_state`, then ``_restore``."""
        for entry in self._persisted:
            if entry.kind == "scalar":
                if not entry.optional or state.get(entry.name) is not None:
                    setattr(self, entry.attr, state[entry.name])
                continue
            if entry.optional and not state.get(entry.flag):
                setattr(self, entry.attr, None)
                continue
            if entry.kind == "embeddings":
                value: Any = Embeddings.load(directory, entry.name, mmap=mmap)
            elif entry.kind == "ids":
                kind = entry.attr.removesuffix("_ids_")
                value = IdMap.load(directory, entry.name, kind=kind, mmap=mmap)
            elif entry.kind == "csr":
                data, indices, indptr = (
                    load_array(directory, f"{entry.name}{part}.npy", mmap=mmap)
                    for part in _CSR_PARTS
                )
                shape = (len(indptr) - 1, len(self.item_ids_))
                value = csr_matrix((data, indices, indptr), shape=shape)
            else:
                value = load_array(directory, f"{entry.name}.npy", mmap=mmap)
            setattr(self, entry.attr, value)
        self._restore(directory, state, mmap=mmap)

    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:  # noqa: B027
        """Check and rebuild what derives from the loaded state (subclasses; runs last)."""


def _validating(fit: Callable[..., Any]) -> Callable[..., Any]:
    """``fit`` that first checks the model's hyperparameters (``params.validate_params``)."""

    @functools.wraps(fit)
    def checked_fit(
        self: Model, data: Any, *args: Any, min_item_count: int = 1, **kwargs: Any
    ) -> Any:
        from customer2vec.models.library import as_corpus, dataset_meta

        validate_params(self)
        corpus, dataset = as_corpus(data, self.corpus_kind, min_item_count=min_item_count)
        fitted = fit(self, corpus, *args, **kwargs)
        if dataset is not None:
            self.meta_ = dataset_meta(dataset, min_item_count=min_item_count)
        return fitted

    return checked_fit


def read_model_file(path: str | Path) -> dict[str, Any]:
    """Read and check ``model.json``; raise ``DataValidationError`` if ``path`` is no model.

    The document must be a JSON object with our ``format``, an integer ``format_version``,
    a registered ``model`` name, a ``params`` object and, when present, ``state``,
    ``dataset`` and ``config`` objects.
    """
    from customer2vec.models import REGISTRY

    path = Path(path)
    file = path / MODEL_FILE
    if not file.is_file():
        hint = (
            " It is a dataset: train a model on it first." if (path / INFO_FILE).is_file() else ""
        )
        raise DataValidationError(f"{path} is not a customer2vec model (no {MODEL_FILE}).{hint}")
    document, version = read_description(
        file, format_name=FORMAT_NAME, what="customer2vec model", fix=RETRAIN
    )

    def corrupt(what: str) -> DataValidationError:
        return DataValidationError(f"{file} is corrupt ({what}). {RETRAIN}")

    if version > FORMAT_VERSION:
        raise DataValidationError(f"{path} was saved by a newer customer2vec; upgrade to load it.")
    name = document.get("model")
    if not isinstance(name, str):
        raise corrupt(f"'model' must name a model; got {name!r}")
    if name not in REGISTRY:
        raise DataValidationError(
            f"{file} names an unknown model {name!r} (this customer2vec knows "
            f"{', '.join(sorted(REGISTRY))}). Upgrade customer2vec if a newer one saved it, "
            "or train the model again."
        )
    if not isinstance(document.get("params"), dict):
        raise corrupt(f"'params' must be an object; got {document.get('params')!r}")
    for key in ("state", "dataset", "config"):
        if key in document and not isinstance(document[key], dict):
            if key == "config" and document[key] is None:
                continue
            raise corrupt(f"{key!r} must be an object; got {document[key]!r}")
    return document


def dataset_reference(dataset: Mapping[str, Any], model_dir: str | Path) -> dict[str, Any]:
    """``dataset`` (from ``model.json``) with its path absolute and relative to ``model_dir``.

    The relative path keeps a model working when it moves together with its dataset; the
    absolute one when the model alone moves.
    """
    absolute = Path(os.path.abspath(dataset["path"]))
    reference = {**dataset, "path": str(absolute)}
    try:
        relative = os.path.relpath(absolute, os.path.abspath(model_dir))
    except ValueError:  # another drive (Windows): no relative path
        reference.pop("relative_path", None)
    else:
        reference["relative_path"] = PurePath(relative).as_posix()
    return reference


def model_dataset_path(model_dir: str | Path, meta: Mapping[str, Any]) -> Path:
    """Where the dataset a model was trained on is now.

    Tried in order: the path relative to the model directory (model and dataset moved
    together), the absolute path (the model alone moved), and the path as stored, relative
    to the working directory (models saved before the dataset's absolute path was kept).

    Raises
    ------
    DataValidationError
        If ``meta`` names no dataset, or no tried path holds one.
    """
    reference = meta.get("dataset") if isinstance(meta, Mapping) else None
    if not isinstance(reference, Mapping):
        raise DataValidationError(f"{model_dir} does not name its dataset; train it again.")
    tried: list[Path] = []
    relative = reference.get("relative_path")
    if isinstance(relative, str) and relative:
        tried.append(Path(model_dir) / relative)
    stored = reference.get("path")
    if isinstance(stored, str) and stored:
        tried.append(Path(stored))
    if not tried:
        raise DataValidationError(f"{model_dir} does not name its dataset; train it again.")
    for candidate in tried:
        if (candidate / INFO_FILE).is_file():
            return candidate
    shown = ", ".join(str(candidate) for candidate in dict.fromkeys(tried))
    raise DataValidationError(
        f"the dataset model {model_dir} was trained on is gone (tried {shown}). Move the "
        "dataset back (or keep it beside the model as it was at training), or train the "
        "model again."
    )


def resolve_model_dataset(model_dir: str | Path, meta: Mapping[str, Any]) -> Dataset:
    """Open the dataset a saved model was trained on (see :func:`model_dataset_path`)."""
    return Dataset.open(model_dataset_path(model_dir, meta))


class EmbeddingModel(Model):
    """A model whose fitted state is item vectors and, optionally, customer vectors.

    A model that also learns customer vectors sets ``has_customer_vectors = True``.
    """

    has_item_vectors = True

    persisted: ClassVar[dict[str, str]] = {
        "item_vectors_": "embeddings",
        "customer_vectors_": "embeddings?",
    }

    item_vectors_: Embeddings
    customer_vectors_: Embeddings | None = None

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_",)

    def similar(self, item: Any, n: int = 10) -> pd.DataFrame:
        """The ``n`` items nearest ``item`` (cosine): ``item_id``, ``score``, ``rank`` and,
        for a model fitted on a dataset, the catalogue's columns (names, departments...)."""
        from customer2vec.models.library import similar_frame

        self.check_fitted()
        return similar_frame(self, item, n)
