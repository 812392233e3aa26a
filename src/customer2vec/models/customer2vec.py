"""customer2vec: doc2vec over customers' chronological baskets (Le & Mikolov 2014).

Each customer is a document tagged with its id; its words are the items of its baskets, oldest
first (:func:`~customer2vec.corpus.documents.build_documents`). Two modes:

* ``"dbow"`` (PV-DBOW): the customer vector predicts each of its items through the output
  layer; item vectors are trained alongside with skip-gram over basket-mates, sharing that
  output layer, so items and customers live in one space (gensim's ``dbow_words=1``);
* ``"dm"`` (PV-DM): the mean of the customer vector and of basket-mates' item vectors
  predicts each item.

Set semantics. A basket is a set, so an item's context is its basket, never a sliding window
over the concatenated history: each epoch every kept item draws up to ``window`` distinct
basket-mates (the whole basket when it is smaller). Line order inside a basket is therefore
irrelevant (nothing to shuffle), and no context crosses from one basket into the next. The
baskets of a customer are visited in a fresh random order each epoch: walked oldest first, a
long history's vector drifts toward its last few hundred items (the engine, in
``models.sgns.doc2vec``, says more).

No length cap. gensim silently cuts documents at 10,000 tokens; this kernel walks every
basket of every customer, so a long history is used in full (``models.sgns.train_doc2vec``
returns the token count, ``n_epochs * n_lines``).

Engine, measured on The Complete Journey (2,469 households, 1.47M line items; 10 epochs,
64 factors, 2 shared cores; CPU seconds, which contention distorts less than wall time):

=========================================  =====  ======  ===========  ==========
method                                     CPU s  wall s  self top-1   shop-alike
=========================================  =====  ======  ===========  ==========
this kernel, dbow (defaults)               55     31      0.889        0.428
gensim Doc2Vec dbow_words, window 5        171    173     0.818        0.420
gensim Doc2Vec dbow_words, ``alpha=0.1``   221    -       0.914        0.442
this kernel, dm (defaults)                 13.5   7       0.854        0.381
gensim Doc2Vec dm, window 5                47     47      0.570        0.410
=========================================  =====  ======  ===========  ==========

*self top-1*: vectors inferred from a customer's odd and even baskets separately; share of
customers whose odd-half vector's nearest even-half vector is their own (a vector that
captures a stable taste finds itself). *shop-alike*: mean cosine between the tf-idf
product-category profiles of a customer and its 10 nearest customers (random pairs 0.322,
the profiles' own 10 nearest 0.665). At gensim's default rate (0.025) this kernel scores
0.81 / 0.41, level with gensim; at our rate (0.1) gensim is a little better (its positional
window also pairs items of neighboring baskets) for 4x the CPU time. We keep the kernel for
that speed, for basket-set contexts, for histories of any length, and because inference must
run from saved ``.npy`` arrays without pickle: the same kernel fits a new customer vector
against the frozen item and output vectors, so training and inference share one objective.
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.corpus.documents import build_documents
from customer2vec.errors import ConfigError, DataValidationError, UnknownIdError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.params import Options
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import check_customers, customer_documents, customer_vectors
from customer2vec.models.sgns import FrozenDoc2Vec, freeze_doc2vec, infer_doc2vec, train_doc2vec
from customer2vec.vectors.embeddings import Embeddings

__all__ = ["Customer2Vec"]

MODES = ("dbow", "dm")


class Customer2Vec(EmbeddingModel, RankingModel):
    """Customer vectors with doc2vec (PV-DBOW or PV-DM) over chronological baskets.

    Sets ``customer_vectors_`` (one vector per training customer, external ids) and
    ``item_vectors_`` (the input item vectors, in the same space as the customers), and can
    :meth:`infer` vectors for customers not seen in training. It ranks items (a discovery
    recommender: ``repeats = False``) by customer vector . output vectors (:meth:`score`).

    Defaults, measured on The Complete Journey with the metrics of the module docstring
    (self top-1 / shop-alike; CPU seconds on 2 shared cores):

    * ``mode="dbow"``: the stronger doc2vec mode in the literature (Lau & Baldwin 2016) and
      here: 0.889 / 0.428 against dm's 0.854 / 0.381, and better item vectors (share of an
      item's 10 nearest neighbors in its product category, items bought >= 20 times: 0.35
      against 0.26). ``"dm"`` costs a quarter of the time (13.5 against 55 s).
    * ``learning_rate=0.1`` (to ``min_learning_rate=1e-4``), ``n_epochs=10``: dbow at 0.025,
      0.05, 0.1, 0.2 scores 0.81, 0.86, 0.89, 0.88 / 0.407, 0.405, 0.428, 0.445; 20 epochs
      at 0.05 equal 10 at 0.1 (0.895 / 0.427) for twice the time. 0.1 is also item2vec's
      rate (0.4 diverges there). For dm, 0.1 trades shop-alike (0.379 against 0.408 at 0.05)
      for self-identification (0.85 against 0.78); 0.025 gives 0.64 / 0.407.
    * ``window=5`` basket-mates per item and epoch (item2vec's ``n_pairs_per_item``): at 0.1,
      window 3 gives 0.913 / 0.418 in 32 s against 0.889 / 0.428 in 45 s; at 0.05 window 2
      and 10 give 0.868 / 0.385 and 0.841 / 0.416 (10 at twice the cost).
    * ``negative=5``, ``ns_exponent=0.75``, ``sample=1e-3``: word2vec's defaults; subsampling
      only thins staples above 0.1% of line items. On a tiny catalogue (tens of items) every
      item is above that threshold: pass ``sample=0``.
    * ``n_factors=64``.

    Parameters
    ----------
    mode
        ``"dbow"`` (PV-DBOW, items trained by skip-gram alongside) or ``"dm"`` (PV-DM, the
        mean of the customer vector and basket-mates predicts each item).
    n_factors
        Vector dimension.
    n_epochs
        Passes over the customers (and, by default, over a document in :meth:`infer`).
    window
        Most basket-mates per item and epoch: the skip-gram targets of an item (``dbow``) or
        the items averaged with the customer vector (``dm``). Contexts never leave a basket.
    negative
        Negative samples per positive.
    ns_exponent
        Exponent of the negative-sampling distribution (count ** ns_exponent).
    sample
        Subsampling threshold for frequent items (0 disables it).
    learning_rate, min_learning_rate
        Start and end of the linearly decaying learning rate.
    n_threads
        Training and inference threads; 0 uses every core. Training with more than one
        thread is Hogwild and not bit-reproducible; ``n_threads=1`` with a ``random_state``
        is. Inference is reproducible with any number of threads.
    random_state
        Seed of training and inference.
    """

    name = "customer2vec"
    corpus_kind = "baskets"
    repeats = False
    has_customer_vectors = True
    persisted: ClassVar[dict[str, str]] = {
        "output_vectors_": "array:output_vectors",
        "item_counts_": "array:item_counts",
    }
    search_space: ClassVar[dict[str, list[Any]]] = {
        "n_factors": [32, 64, 128],
        "n_epochs": [10, 20],
        "window": [3, 5, 10],
        "negative": [5, 10],
        "sample": [0.0, 1e-4, 1e-3],
        "learning_rate": [0.025, 0.05, 0.1],
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"mode": [Options(*MODES)]}

    def __init__(
        self,
        *,
        mode: str = "dbow",
        n_factors: int = 64,
        n_epochs: int = 10,
        window: int = 5,
        negative: int = 5,
        ns_exponent: float = 0.75,
        sample: float = 1e-3,
        learning_rate: float = 0.1,
        min_learning_rate: float = 1e-4,
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.mode = mode
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.window = window
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 16, "sample": 0.0, "n_threads": 1}

    # -- training ------------------------------------------------------------------------
    def _check_params(self) -> None:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.window, "window", minimum=1)
        require_int(self.negative, "negative", minimum=1)
        require_float(self.ns_exponent, "ns_exponent", minimum=-2.0, maximum=2.0)
        require_float(self.sample, "sample", minimum=0.0)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_float(
            self.min_learning_rate, "min_learning_rate", minimum=0.0, maximum=self.learning_rate
        )
        require_int(self.n_threads, "n_threads", minimum=0)
        if self.random_state is not None:
            require_int(self.random_state, "random_state", minimum=0)

    def fit(self, corpus: BasketCorpus) -> Self:
        self._check_params()
        if corpus.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        documents = build_documents(corpus)
        customers, items, outputs, _ = train_doc2vec(
            documents,
            corpus.item_counts,
            mode=self.mode,
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            window=self.window,
            negative=self.negative,
            ns_exponent=self.ns_exponent,
            sample=self.sample,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            n_threads=self._threads(),
            random_state=self._seed(),
        )
        self.item_vectors_ = Embeddings(corpus.item_ids, items)
        self.customer_vectors_ = Embeddings(documents.customer_ids, customers, kind="customer")
        self.output_vectors_ = outputs
        self.item_counts_ = np.asarray(corpus.item_counts, dtype=np.int64)
        self._inference = None
        return self

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_vectors_", "customer_vectors_", "output_vectors_", "item_counts_")

    def _threads(self) -> int:
        return self.n_threads or os.cpu_count() or 1

    def _seed(self) -> int:
        return 0 if self.random_state is None else int(self.random_state)

    # -- inference -----------------------------------------------------------------------
    def infer(
        self,
        documents: Sequence[Sequence[Hashable] | Sequence[Sequence[Hashable]]],
        *,
        n_epochs: int | None = None,
    ) -> np.ndarray:
        """Vectors for customers not seen in training, one row per document.

        The trained item and output vectors stay fixed; each document's vector is fitted by
        the training objective from a seeded start, so the same document always gets the
        same vector (whatever else is in the batch, whatever ``n_threads``).

        Parameters
        ----------
        documents
            One entry per customer: a list of item ids, taken as one basket (a session, a
            set of items), or a list of baskets (each a list of item ids), oldest first.
            Basket boundaries matter only to ``mode="dm"``, whose context is basket-mates.
            Items unknown to the model are ignored.
        n_epochs
            Passes over each document; defaults to the model's ``n_epochs``.

        Returns
        -------
        numpy.ndarray
            ``float32`` of shape ``(len(documents), n_factors)``.

        Raises
        ------
        UnknownIdError
            If a document holds no item known to the model (its vector would be noise).
        DataValidationError
            If a document mixes item ids and baskets.
        """
        self.check_fitted()
        epochs = self.n_epochs if n_epochs is None else n_epochs
        require_int(epochs, "n_epochs", minimum=1)
        return self._infer_encoded(*self._encode(documents), epochs)

    def _infer_encoded(
        self, bounds: np.ndarray, basket_indptr: np.ndarray, indices: np.ndarray, epochs: int
    ) -> np.ndarray:
        """:meth:`infer` on documents already encoded (see :meth:`_encode`)."""
        return infer_doc2vec(
            self._inference_state(),
            bounds,
            basket_indptr,
            indices,
            mode=self.mode,
            window=self.window,
            negative=self.negative,
            learning_rate=self.learning_rate,
            min_learning_rate=self.min_learning_rate,
            n_epochs=epochs,
            n_threads=self._threads(),
            random_state=self._seed(),
        )

    # -- ranking -------------------------------------------------------------------------
    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Customer vector . output vectors (SGNS logits); new customers' vectors inferred.

        The output layer, unlike cosine to the input item vectors, keeps what the training
        objective learned about popularity.
        """
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)

        def infer(unknown: np.ndarray) -> np.ndarray:
            return self._infer_encoded(*customer_documents(history, unknown), self.n_epochs)

        vectors = customer_vectors(
            self.customer_vectors_.id_map, self.customer_vectors_.vectors, history, customers, infer
        )
        return vectors @ np.asarray(self.output_vectors_, dtype=np.float32).T

    def _encode(self, documents: Sequence[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Documents -> (basket bounds, baskets per document as indptr, internal item ids).

        Unknown items are dropped, then baskets left empty.
        """
        if not _is_sequence(documents):
            raise DataValidationError(
                "documents must be a list of documents, each a list of item ids (or of "
                f"baskets); got {type(documents).__name__}."
            )
        items: list[Any] = []
        basket_sizes: list[int] = []
        doc_sizes: list[int] = []
        for number, document in enumerate(documents):
            if not _is_sequence(document):
                raise DataValidationError(
                    f"document {number} must be a list of item ids (or of baskets); got "
                    f"{type(document).__name__}."
                )
            nested = [_is_sequence(x) for x in document]
            if any(nested) and not all(nested):
                raise DataValidationError(
                    f"document {number} mixes item ids and baskets; pass either a list of item "
                    "ids or a list of baskets (lists of item ids)."
                )
            parts = list(document) if nested and all(nested) else [document]
            for part in parts:
                items.extend(part)
                basket_sizes.append(len(part))
            doc_sizes.append(len(parts))
        n_docs, n_baskets = len(doc_sizes), len(basket_sizes)
        internal = (
            self.item_vectors_.id_map.to_internal(items, on_unknown="missing")
            if items
            else np.zeros(0, dtype=np.int64)
        )
        known = internal >= 0
        basket_of_item = np.repeat(np.arange(n_baskets), basket_sizes)
        kept = np.bincount(basket_of_item[known], minlength=n_baskets)
        doc_of_basket = np.repeat(np.arange(n_docs), doc_sizes)
        known_per_doc = np.bincount(doc_of_basket, weights=kept, minlength=n_docs)
        if (known_per_doc == 0).any():
            number = int(np.argmax(known_per_doc == 0))
            given = int(np.bincount(doc_of_basket, weights=basket_sizes, minlength=n_docs)[number])
            raise UnknownIdError(
                f"document {number} holds no item known to the model ({given} items given); "
                "drop it or add known items."
            )
        nonempty = kept > 0
        bounds = np.zeros(int(nonempty.sum()) + 1, dtype=np.int64)
        np.cumsum(kept[nonempty], out=bounds[1:])
        basket_indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(doc_of_basket[nonempty], minlength=n_docs), out=basket_indptr[1:])
        return bounds, basket_indptr, internal[known].astype(np.int32)

    def _inference_state(self) -> FrozenDoc2Vec:
        """Writable copies of the frozen arrays and the sampling tables, built once."""
        if getattr(self, "_inference", None) is None:
            self._inference = freeze_doc2vec(
                self.item_vectors_.vectors,
                self.output_vectors_,
                self.item_counts_,
                sample=self.sample,
                ns_exponent=self.ns_exponent,
            )
        return self._inference

    # -- persistence ---------------------------------------------------------------------
    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        n_items = len(self.item_vectors_)
        if (
            self.output_vectors_.shape != self.item_vectors_.vectors.shape
            or self.item_counts_.shape != (n_items,)
        ):
            raise DataValidationError(
                f"{directory}: arrays disagree in shape; train and save again."
            )
        self._inference = None


def _is_sequence(value: Any) -> bool:
    """A list, tuple or 1-D array (a document or a basket), not a string or a scalar id."""
    if isinstance(value, np.ndarray):
        return value.ndim == 1
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))
