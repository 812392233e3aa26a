"""item2vec: skip-gram with negative sampling over baskets (Barkan & Koenigstein 2016)."""

from __future__ import annotations

import os
from typing import Any, ClassVar, Self

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.errors import ConfigError, MissingDependencyError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.params import Options
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import (
    RECENT_BASKETS,
    check_customers,
    cosine_to_items,
    customer_counts,
)
from customer2vec.models.sgns import DEFAULTS, item_embeddings, train_sgns
from customer2vec.vectors.embeddings import Embeddings


class Item2Vec(EmbeddingModel, RankingModel):
    """Item vectors where products bought together sit close.

    A basket is a set: an item's context is its basket, not a sliding window. The default
    ``numba`` backend samples ``n_pairs_per_item`` basket-mates per item per epoch, so an
    epoch costs time linear in the number of line items; see ``models.sgns.train_sgns`` for the
    reasoning behind each default. ``context="window"`` trains on ordered sessions instead.
    Item vectors are the normalized input plus the normalized output vectors ("w + c").

    As a ranking model (a discovery recommender: ``repeats = False``) it ranks the nearest
    neighbors of a customer's latest purchases: items by cosine to the mean unit vector of
    the items of the customer's last ``RECENT_BASKETS`` (3) baskets.

    Parameters
    ----------
    n_factors
        Vector dimension.
    n_epochs
        Passes over the baskets.
    negative
        Negative samples per positive pair.
    ns_exponent
        Exponent of the negative-sampling distribution (count ** ns_exponent).
    sample
        Subsampling threshold for frequent items (0 disables it).
    learning_rate, min_learning_rate
        Start and end of the linearly decaying learning rate.
    context
        ``"basket"`` (whole basket, order ignored) or ``"window"`` (ordered sessions).
    window
        Half-width of the window when ``context="window"``.
    n_pairs_per_item
        Basket-mates sampled per item and epoch when ``context="basket"``.
    backend
        ``"numba"`` (ours) or ``"gensim"`` (Word2Vec with a whole-basket window, for
        comparison; needs the ``gensim`` extra).
    n_threads
        Training threads; 0 uses every core. With more than one thread training is Hogwild
        and not bit-reproducible; ``n_threads=1`` with a ``random_state`` is.
    random_state
        Seed.
    """

    name = "item2vec"
    repeats = False
    search_space: ClassVar[dict[str, list[Any]]] = {
        "n_factors": [32, 64, 128],
        "n_epochs": [5, 10, 20],
        "negative": [5, 10],
        "ns_exponent": [0.5, 0.75, 1.0],
        "sample": [0.0, 1e-4, 1e-3],
        "learning_rate": [0.05, 0.1, 0.2],
        "n_pairs_per_item": [3, 5, 10],
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "context": [Options("basket", "window")],
        "backend": [Options("numba", "gensim")],
    }

    def __init__(
        self,
        *,
        n_factors: int = DEFAULTS["n_factors"],
        n_epochs: int = DEFAULTS["n_epochs"],
        negative: int = DEFAULTS["negative"],
        ns_exponent: float = DEFAULTS["ns_exponent"],
        sample: float = DEFAULTS["sample"],
        learning_rate: float = DEFAULTS["learning_rate"],
        min_learning_rate: float = DEFAULTS["min_learning_rate"],
        context: str = DEFAULTS["context"],
        window: int = DEFAULTS["window"],
        n_pairs_per_item: int = DEFAULTS["n_pairs_per_item"],
        backend: str = "numba",
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.sample = sample
        self.learning_rate = learning_rate
        self.min_learning_rate = min_learning_rate
        self.context = context
        self.window = window
        self.n_pairs_per_item = n_pairs_per_item
        self.backend = backend
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 16, "n_threads": 1}

    def fit(self, corpus: BasketCorpus) -> Self:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.negative, "negative", minimum=1)
        require_float(self.ns_exponent, "ns_exponent", minimum=-2.0, maximum=2.0)
        require_float(self.sample, "sample", minimum=0.0)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
        require_float(
            self.min_learning_rate, "min_learning_rate", minimum=0.0, maximum=self.learning_rate
        )
        require_int(self.window, "window", minimum=1)
        require_int(self.n_pairs_per_item, "n_pairs_per_item", minimum=1)
        require_int(self.n_threads, "n_threads", minimum=0)
        if corpus.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        threads = self.n_threads or os.cpu_count() or 1
        seed = 0 if self.random_state is None else int(self.random_state)
        if self.backend == "gensim":
            vectors = self._fit_gensim(corpus, threads, seed)
        else:
            w_in, w_out = train_sgns(
                corpus.indptr,
                corpus.indices,
                corpus.n_items,
                corpus.item_counts,
                n_factors=self.n_factors,
                n_epochs=self.n_epochs,
                negative=self.negative,
                ns_exponent=self.ns_exponent,
                sample=self.sample,
                learning_rate=self.learning_rate,
                min_learning_rate=self.min_learning_rate,
                context=self.context,
                window=self.window,
                n_pairs_per_item=self.n_pairs_per_item,
                n_threads=threads,
                random_state=seed,
                label="item2vec",
            )
            vectors = item_embeddings(w_in, w_out)
        self.item_vectors_ = Embeddings(corpus.item_ids, vectors)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Cosine of every item to the mean unit vector of the customer's latest items."""
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)
        recent = customer_counts(history, customers, last=RECENT_BASKETS)
        return cosine_to_items(self.item_vectors_.unit_vectors, recent)

    def _fit_gensim(self, corpus: BasketCorpus, threads: int, seed: int) -> np.ndarray:
        try:
            from gensim.models import Word2Vec
        except ImportError as err:
            raise MissingDependencyError(
                "backend='gensim' needs gensim: pip install 'customer2vec[gensim]'"
            ) from err
        whole = self.context == "basket"
        model = Word2Vec(
            corpus.as_token_lists(),
            vector_size=self.n_factors,
            sg=1,
            window=int(corpus.row_lengths().max()) if whole else self.window,
            shrink_windows=not whole,
            negative=self.negative,
            ns_exponent=self.ns_exponent,
            sample=self.sample,
            alpha=self.learning_rate,
            min_alpha=self.min_learning_rate,
            epochs=self.n_epochs,
            min_count=1,
            workers=threads,
            seed=seed,
        )
        rows = corpus.item_ids.to_internal(np.array(model.wv.index_to_key, dtype=object))
        vectors = np.zeros((corpus.n_items, self.n_factors), dtype=np.float32)
        vectors[rows] = model.wv.vectors
        return vectors
