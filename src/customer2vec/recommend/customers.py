"""Vectors for every customer of a history: learned, inferred, or rolled up from items.

``export --what customers`` (one machine or Spark partitions) writes what
:func:`customer_embeddings` returns for the customers' history:

* a model that learns customer vectors gives its own vector to each customer it was trained
  on; a model that can infer vectors (``customer2vec``: doc2vec inference, seeded per
  customer) infers those of the others (customers outside a ``train --sample``, customers
  who arrived after training); the others of a model that cannot infer are left out with a
  warning;
* a model with item vectors only (``item2vec``, ``node2vec``...) rolls them up: each
  customer's vector is the mean of the unit vectors of the items it bought, one weight per
  line item (:func:`~customer2vec.vectors.rollup.rollup` with ``"mean"``).

Every vector depends on that customer's history and the model only, never on the other
customers in the batch, so a partition of customers gets the vectors the whole history
would give them (the distributed export relies on it).
"""

from __future__ import annotations

import warnings
from itertools import pairwise

import numpy as np

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataWarning
from customer2vec.models.base import Model
from customer2vec.recommend.saved import SavedModel
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.rollup import rollup

__all__ = ["customer_embeddings", "customer_vectors_origin", "saved_customer_embeddings"]

#: The roll-up weighting: per customer only (tf-idf's idf would depend on who else is there).
ROLLUP = "mean"


def customer_vectors_origin(model: Model) -> str:
    """Where :func:`customer_embeddings` takes ``model``'s customer vectors from, in words.

    Raises
    ------
    ConfigError
        If the model has neither customer nor item vectors.
    """
    if model.has_customer_vectors:
        if _can_infer(model):
            return f"{model.name} customer vectors (inferred for customers it was not trained on)"
        return f"{model.name} customer vectors (customers it was trained on)"
    if model.has_item_vectors:
        return f"mean of the unit {model.name} item vectors of each customer's line items"
    raise ConfigError(
        f"a {model.name} model has no customer or item vectors; export customers from a model "
        "that learns vectors (customer2vec, als, item2vec, ...)."
    )


def customer_embeddings(model: Model, history: BasketCorpus) -> Embeddings:
    """A vector for each customer of ``history`` (see the module docstring), in history order.

    Customers the model cannot give a vector (not trained on, no inference; or no item with a
    vector) are left out with one ``DataWarning`` that counts them.

    Raises
    ------
    ConfigError
        If the model has neither customer nor item vectors.
    """
    customer_vectors_origin(model)  # raises for a model without vectors
    if not model.has_customer_vectors:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DataWarning)  # counted below, over every part
            rolled = rollup(model.item_vectors_, history, weighting=ROLLUP)
        _warn_missing(history.n_customers - len(rolled), history.n_customers, "bought no item")
        return rolled
    stored = model.customer_vectors_
    rows = stored.id_map.to_internal(history.customer_ids.external, on_unknown="missing")
    found = rows >= 0
    vectors = np.empty((history.n_customers, stored.dim), dtype=np.float32)
    vectors[found] = stored.vectors[rows[found]]
    unknown = np.flatnonzero(~found)
    if len(unknown) and _can_infer(model):
        vectors[unknown] = model.infer(_documents(history, unknown))
        found[:] = True
    elif len(unknown):
        _warn_missing(len(unknown), history.n_customers, f"were not in {model.name}'s training")
    ids = IdMap(history.customer_ids.external[found], kind="customer")
    return Embeddings(ids, vectors[found], kind="customer")


def _can_infer(model: Model) -> bool:
    return callable(getattr(model, "infer", None))


def _documents(history: BasketCorpus, customers: np.ndarray) -> list[list[list[object]]]:
    """Each customer's baskets (oldest first) as lists of external item ids."""
    external, indptr = history.item_ids.external, history.indptr
    documents = []
    for customer in customers:
        first, stop = history.customer_indptr[customer], history.customer_indptr[customer + 1]
        items = external[history.indices[indptr[first] : indptr[stop]]].tolist()
        bounds = (indptr[first : stop + 1] - indptr[first]).tolist()
        documents.append([items[a:b] for a, b in pairwise(bounds)])
    return documents


def _warn_missing(n_missing: int, n_customers: int, why: str) -> None:
    if n_missing:
        warnings.warn(
            f"{n_missing} of {n_customers} customers {why}: they get no vector.",
            DataWarning,
            stacklevel=3,
        )


def saved_customer_embeddings(saved: SavedModel) -> Embeddings:
    """:func:`customer_embeddings` of a saved model over its dataset's whole history.

    When the dataset is gone, a model that learns customer vectors still exports those it
    stored (the reason is logged); one that rolls them up from items needs the dataset.

    Raises
    ------
    ConfigError
        If the model has neither customer nor item vectors.
    DataValidationError
        If a roll-up needs the dataset and it is gone.
    """
    customer_vectors_origin(saved.model)
    if saved.model.has_customer_vectors and saved.find_dataset() is None:
        return saved.model.customer_vectors_
    return customer_embeddings(saved.model, saved.history)
