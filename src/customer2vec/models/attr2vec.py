"""attr2vec: attribute-aware item2vec with vectors for new products (Meta-Prod2Vec style).

Product attributes (``department=PRODUCE``, ``brand=National``...) are extra tokens trained
with the baskets, in the spirit of Meta-Prod2Vec (Vasile, Smirnova & Conneau 2016). For each
item occurrence (the *center*) and its sampled basket-mates (the contexts), one epoch makes:

* item -> basket-mates: the skip-gram pairs of item2vec (``models.sgns.baskets``);
* item -> its own attributes: the center predicts its attribute tokens (negatives drawn
  among attribute tokens), which ties items that share attributes together;
* attribute -> basket-mates: one of the center's attribute tokens, drawn at random, predicts
  the same basket-mates (with the same negatives). This is what trains an attribute's input
  vector in the items' space: ``brand=X`` learns what is bought with products of brand X.

An item's vector mixes its own vector with the mean of its attribute tokens' vectors
(``attribute_weight``). A catalogue item with attributes but no sales (cold start) gets the
attribute mean alone: it appears in ``item_vectors_`` (``similar``, ``export``) and can be
ranked for customers once the history's vocabulary is extended with it
(:meth:`Attr2Vec.with_new_items`). :meth:`Attr2Vec.infer_items` places products added to the
catalogue after training.

The training loop (``models.sgns.attributes``) reuses the SGNS steps of ``models.sgns.kernels``
(the update, the xorshift stream, alias tables, subsampling); only the pair schedule above is
new.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import pandas as pd

from customer2vec.config import require_float, require_int
from customer2vec.corpus.attributes import (
    build_item_attributes,
    extend_vocabulary,
    parse_attributes,
    unsold_items,
)
from customer2vec.corpus.baskets import BasketCorpus, BasketsWithTables
from customer2vec.data.ids import IdMap
from customer2vec.errors import ConfigError, DataValidationError, DataWarning
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import (
    RECENT_BASKETS,
    check_customers,
    cosine_to_items,
    customer_counts,
)
from customer2vec.models.sgns import DEFAULTS, item_embeddings, train_attr2vec
from customer2vec.vectors.embeddings import Embeddings

__all__ = ["Attr2Vec"]

_ATTRIBUTE_NAME = "attribute"


def _unit(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), np.float32(1e-12))


def _attribute_means(
    indptr: np.ndarray, indices: np.ndarray, token_unit: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: unit mean of its tokens' unit vectors, and whether it has any token."""
    counts = np.diff(indptr)
    owners = np.repeat(np.arange(len(counts)), counts)
    sums = np.zeros((len(counts), token_unit.shape[1]), dtype=np.float32)
    np.add.at(sums, owners, token_unit[indices])
    return _unit(sums), counts > 0


class Attr2Vec(EmbeddingModel, RankingModel):
    """Item vectors from baskets and product attributes; vectors for unsold products too.

    Fitted on a :class:`BasketsWithTables` (``customer2vec train`` builds one), it reads the
    attributes from the items table. Without an items table, or fitted on a plain
    :class:`BasketCorpus` (``customer2vec evaluate``), it has no attributes and trains like
    item2vec. It ranks like item2vec (a discovery recommender, ``repeats = False``): cosine of
    every item to the mean unit vector of the items of the customer's last 3 baskets.

    Parameters
    ----------
    attributes
        Item table columns to turn into tokens (a list, or one comma-separated string). None:
        every text column other than ``name`` with at least two values and at most one value
        per 10 items (see :func:`~customer2vec.corpus.attributes.default_attributes`).
    attribute_weight
        Weight of the attribute mean in a sold item's vector, in [0, 1]: the vector is
        ``(1 - w) * own + w * attributes`` (unit vectors). Unsold items use the attributes
        alone whatever the weight. 0 keeps sold items' own vectors (attributes still shape
        them through training). 0.25 ranked hidden products best on The Complete Journey
        (``bench/cold_start.py`` protocol, hidden recall@10 for w = 0, 0.1, 0.25, 0.5, 1:
        0.0126, 0.0131, 0.0147, 0.0137, 0.0115); it also lifts sold items' category
        purity@10 from 0.63 (w = 0) to 0.87, since the category is one of the attributes.
    new_items
        Give vectors to catalogue items without sales (cold start). Items whose attribute
        tokens all belong to unsold items only get none.
    n_factors, n_epochs, negative, ns_exponent, sample, learning_rate, min_learning_rate,
    n_pairs_per_item
        As in item2vec (``models.sgns.train_sgns`` explains each default).
    n_threads
        Training threads; 0 uses every core. ``n_threads=1`` with a ``random_state`` is
        bit-reproducible; more threads train Hogwild.
    random_state
        Seed.

    Fitted attributes: ``item_vectors_`` (sold items in the corpus's order, then new ones),
    ``item_ids_`` (the sold items: the vocabulary of histories given to :meth:`score`),
    ``attribute_vectors_`` (one per token), ``attribute_columns_``, ``n_new_items_``.
    """

    name = "attr2vec"
    corpus_kind = "baskets+tables"
    persisted: ClassVar[dict[str, str]] = {"attribute_vectors_": f"embeddings:{_ATTRIBUTE_NAME}"}
    repeats = False

    def __init__(
        self,
        *,
        attributes: str | list[str] | None = None,
        attribute_weight: float = 0.25,
        new_items: bool = True,
        n_factors: int = DEFAULTS["n_factors"],
        n_epochs: int = DEFAULTS["n_epochs"],
        negative: int = DEFAULTS["negative"],
        ns_exponent: float = DEFAULTS["ns_exponent"],
        sample: float = DEFAULTS["sample"],
        learning_rate: float = DEFAULTS["learning_rate"],
        min_learning_rate: float = DEFAULTS["min_learning_rate"],
        n_pairs_per_item: int = DEFAULTS["n_pairs_per_item"],
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.attributes = attributes
        self.attribute_weight = attribute_weight
        self.new_items = new_items
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.n_pairs_per_item = n_pairs_per_item
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 16, "n_threads": 1}

    # -- training ------------------------------------------------------------------------
    def _check_params(self) -> None:
        parse_attributes(self.attributes)
        require_float(self.attribute_weight, "attribute_weight", minimum=0.0, maximum=1.0)
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.negative, "negative", minimum=1)
        require_float(self.ns_exponent, "ns_exponent", minimum=-2.0, maximum=2.0)
        require_float(self.sample, "sample", minimum=0.0)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_float(
            self.min_learning_rate, "min_learning_rate", minimum=0.0, maximum=self.learning_rate
        )
        require_int(self.n_pairs_per_item, "n_pairs_per_item", minimum=1)
        require_int(self.n_threads, "n_threads", minimum=0)
        if self.random_state is not None:
            require_int(self.random_state, "random_state", minimum=0)

    def fit(self, corpus: BasketsWithTables | BasketCorpus) -> Self:
        self._check_params()
        if isinstance(corpus, BasketsWithTables):
            baskets, items = corpus.baskets, corpus.items
        elif isinstance(corpus, BasketCorpus):
            baskets, items = corpus, None
        else:
            raise DataValidationError(
                f"attr2vec fits on baskets with tables (or plain baskets); got "
                f"{type(corpus).__name__}."
            )
        if baskets.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        if items is None and self.attributes:
            raise DataValidationError(
                f"`attributes` names {self.attributes!r} but there is no items table; ingest "
                "the dataset with --items FILE or drop `attributes`."
            )
        n_sold = baskets.n_items
        new = (
            unsold_items(baskets, items)
            if items is not None and self.new_items
            else np.zeros(0, dtype=object)
        )
        everything = extend_vocabulary(baskets, new)
        if items is not None:
            attrs = build_item_attributes(items, everything.item_ids, self.attributes)
        else:
            attrs = build_item_attributes(
                pd.DataFrame({"item_id": everything.item_ids.external}), everything.item_ids, []
            )
        # Tokens carried by sold items only are trained; the others stay out of every mean.
        sold_lines = np.arange(attrs.indptr[n_sold])
        weights = np.bincount(
            attrs.indices[sold_lines],
            weights=np.repeat(baskets.item_counts, np.diff(attrs.indptr[: n_sold + 1])),
            minlength=attrs.n_tokens,
        )
        syn0, syn1 = train_attr2vec(
            baskets,
            attrs.indptr[: n_sold + 1],
            attrs.indices[sold_lines],
            weights,
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            negative=self.negative,
            ns_exponent=self.ns_exponent,
            sample=self.sample,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            n_pairs_per_item=self.n_pairs_per_item,
            n_threads=self.n_threads or os.cpu_count() or 1,
            random_state=0 if self.random_state is None else int(self.random_state),
        )
        own = _unit(item_embeddings(syn0[:n_sold], syn1[:n_sold]))
        trained = np.flatnonzero(weights > 0)
        token_vectors = _unit(item_embeddings(syn0[n_sold:][trained], syn1[n_sold:][trained]))
        self.attribute_vectors_ = Embeddings(
            IdMap(attrs.token_ids.external[trained], kind=_ATTRIBUTE_NAME),
            token_vectors,
            kind=_ATTRIBUTE_NAME,
        )
        self.attribute_columns_ = list(attrs.columns)
        # Re-express every item's tokens over the trained tokens only.
        remap = np.full(attrs.n_tokens, -1, dtype=np.int64)
        remap[trained] = np.arange(len(trained))
        indptr, indices = _keep_tokens(attrs.indptr, remap[attrs.indices])
        means, has = _attribute_means(indptr, indices, token_vectors)
        w = np.float32(self.attribute_weight)
        sold = own.copy()
        mixed = has[:n_sold]
        sold[mixed] = _unit((1 - w) * own[mixed] + w * means[:n_sold][mixed])
        placed = n_sold + np.flatnonzero(has[n_sold:])
        vectors = np.vstack([sold, means[placed]])
        ids = everything.item_ids.external
        self.item_vectors_ = Embeddings(np.concatenate([ids[:n_sold], ids[placed]]), vectors)
        self.item_ids_ = baskets.item_ids
        self.n_new_items_ = len(placed)
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_", "item_ids_", "attribute_vectors_", "n_new_items_")

    # -- new items -----------------------------------------------------------------------
    def with_new_items(self, history: BasketCorpus) -> BasketCorpus:
        """``history`` with the model's new (unsold) items appended to its vocabulary.

        Scoring the result ranks new items too: ``model.score(model.with_new_items(h), c)``.
        """
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_ids_))
        return extend_vocabulary(history, self.item_vectors_.keys[len(self.item_ids_) :])

    def infer_items(self, items: pd.DataFrame) -> Embeddings:
        """Vectors for catalogue rows from their attributes alone (products added later).

        ``items`` needs ``item_id`` and the model's attribute columns. Items with no
        attribute value seen in training are left out with a ``DataWarning``.

        Raises
        ------
        DataValidationError
            If a column is missing or no item can be placed.
        """
        self.check_fitted()
        ids = IdMap.from_values(items.get("item_id", []), kind="item")
        attrs = build_item_attributes(items, ids, list(self.attribute_columns_))
        remap = self.attribute_vectors_.id_map.to_internal(
            attrs.token_ids.external, on_unknown="missing"
        )
        indptr, indices = _keep_tokens(attrs.indptr, remap[attrs.indices])
        means, has = _attribute_means(indptr, indices, self.attribute_vectors_.unit_vectors)
        if not has.any():
            raise DataValidationError(
                f"none of the {len(ids)} items has an attribute value seen in training "
                f"(columns {', '.join(self.attribute_columns_) or 'none'}); nothing to place."
            )
        if not has.all():
            warnings.warn(
                f"{int((~has).sum())} of {len(ids)} items have no attribute value seen in "
                "training and got no vector.",
                DataWarning,
                stacklevel=2,
            )
        return Embeddings(ids.external[has], means[has])

    # -- ranking -------------------------------------------------------------------------
    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Cosine of every item to the mean unit vector of the customer's latest items.

        ``history`` uses the sold items (``item_ids_``) or, from :meth:`with_new_items`,
        every item of ``item_vectors_``; new items are then scored too.
        """
        self.check_fitted()
        n_all = len(self.item_vectors_)
        if history.n_items != n_all:
            self.check_vocabulary(history, len(self.item_ids_))
        customers = check_customers(history, customers)
        unit = self.item_vectors_.unit_vectors[: history.n_items]
        recent = customer_counts(history, customers, last=RECENT_BASKETS)
        return cosine_to_items(unit, recent)

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        # The vectors are declared in ``persisted``; the vocabulary split is kept as counts.
        state = super()._save_state(directory) or {}
        return {
            **state,
            "n_sold_items": len(self.item_ids_),
            "attribute_columns": list(self.attribute_columns_),
        }

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        if "n_sold_items" not in state:
            raise DataValidationError(f"{directory} lacks attr2vec state; train and save again.")
        super()._load_state(directory, state, mmap=mmap)
        n_sold = int(state["n_sold_items"])
        self.item_ids_ = IdMap(self.item_vectors_.keys[:n_sold], kind="item")
        self.n_new_items_ = len(self.item_vectors_) - n_sold
        self.attribute_columns_ = list(state.get("attribute_columns", []))


def _keep_tokens(indptr: np.ndarray, indices: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows without the entries marked -1 in ``indices``."""
    keep = indices >= 0
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    new_indptr = np.zeros(len(indptr), dtype=np.int64)
    np.cumsum(np.bincount(rows[keep], minlength=len(indptr) - 1), out=new_indptr[1:])
    return new_indptr, indices[keep]
