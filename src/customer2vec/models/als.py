"""Matrix factorization with alternating least squares (implicit feedback, via ``implicit``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.corpus.matrix import WEIGHTINGS, customer_item_matrix
from customer2vec.data.ids import load_array
from customer2vec.errors import MissingDependencyError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.params import Options
from customer2vec.models.ranking import RankingModel
from customer2vec.models.scoring import (
    check_customers,
    customer_counts,
    customer_vectors,
    solve_factors,
    weigh,
)
from customer2vec.vectors.embeddings import Embeddings

_ITEM_CUSTOMERS_FILE = "item_customers.npy"


class ALS(EmbeddingModel, RankingModel):
    """Item and customer vectors from implicit ALS (Hu, Koren & Volinsky 2008).

    The customers x items matrix counts the baskets holding each item, weighted by
    ``weighting`` (BM25 by default, as implicit recommends) and scaled by ``alpha``.
    Customer vectors are ALS's user factors; item vectors its item factors.

    As a ranking model (a discovery recommender: ``repeats = False``) it scores customer
    factor . item factors. A history customer the model was not fitted on gets the factor
    that ALS's least squares gives its weighted row against the frozen item factors, with
    the weighting statistics (BM25/tf-idf document frequencies) of the training corpus.

    Parameters
    ----------
    n_factors
        Vector dimension.
    regularization
        L2 penalty on the factors.
    alpha
        Confidence scale of the weighted matrix.
    n_iterations
        ALS sweeps.
    weighting
        ``"bm25"``, ``"tfidf"``, ``"count"`` or ``"binary"`` (see ``customer_item_matrix``).
    n_threads
        Threads for implicit (0 = all cores).
    random_state
        Seed of the initial factors.
    """

    name = "als"
    repeats = False
    has_customer_vectors = True
    search_space: ClassVar[dict[str, list]] = {
        "n_factors": [32, 64, 128],
        "regularization": [0.01, 0.05, 0.1, 0.5],
        "n_iterations": [10, 15, 30],
        "weighting": ["bm25", "tfidf", "count"],
    }
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {"weighting": [Options(*WEIGHTINGS)]}

    def __init__(
        self,
        *,
        n_factors: int = 64,
        regularization: float = 0.05,
        alpha: float = 1.0,
        n_iterations: int = 15,
        weighting: str = "bm25",
        n_threads: int = 0,
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.regularization = regularization
        self.alpha = alpha
        self.n_iterations = n_iterations
        self.weighting = weighting
        self.n_threads = n_threads
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 8, "n_iterations": 10, "n_threads": 1}

    def fit(self, corpus: BasketCorpus) -> Self:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_float(self.regularization, "regularization", minimum=0.0)
        require_float(self.alpha, "alpha", minimum=0.0)
        require_int(self.n_iterations, "n_iterations", minimum=1)
        require_int(self.n_threads, "n_threads", minimum=0)
        try:
            from implicit.cpu.als import AlternatingLeastSquares
            from threadpoolctl import threadpool_limits
        except ImportError as err:
            raise MissingDependencyError(
                "ALS needs the 'implicit' package: pip install implicit"
            ) from err
        matrix = customer_item_matrix(corpus, weighting=self.weighting)
        matrix.data *= np.float32(self.alpha)
        # implicit runs its own threads; a multithreaded BLAS underneath only oversubscribes.
        with threadpool_limits(1, "blas"):
            model = AlternatingLeastSquares(
                factors=self.n_factors,
                regularization=self.regularization,
                alpha=1.0,
                iterations=self.n_iterations,
                num_threads=self.n_threads,
                random_state=self.random_state,
                calculate_training_loss=False,
            )
            model.fit(matrix, show_progress=False)
        self.item_vectors_ = Embeddings(corpus.item_ids, np.asarray(model.item_factors))
        self.customer_vectors_ = Embeddings(
            corpus.customer_ids, np.asarray(model.user_factors), kind="customer"
        )
        counts = customer_item_matrix(corpus)
        self._weighting_stats = (
            np.bincount(counts.indices, minlength=corpus.n_items).astype(np.int64),
            float(counts.sum()) / max(corpus.n_customers, 1),
        )
        return self

    # -- ranking -------------------------------------------------------------------------
    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        """Customer factor . item factors; factors of new customers solved from history."""
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_vectors_))
        customers = check_customers(history, customers)
        items = self.item_vectors_.vectors

        def solve(unknown: np.ndarray) -> np.ndarray:
            item_customers, mean_items, n_customers = self._statistics(history)
            confidence = weigh(
                customer_counts(history, unknown),
                self.weighting,
                item_customers=item_customers,
                n_customers=n_customers,
                mean_items=mean_items,
            )
            confidence.data *= np.float32(self.alpha)
            return solve_factors(items, confidence, self.regularization)

        factors = customer_vectors(
            self.customer_vectors_.id_map, self.customer_vectors_.vectors, history, customers, solve
        )
        return factors @ items.T

    def _statistics(self, history: BasketCorpus) -> tuple[np.ndarray, float, int]:
        """(Training customers per item, mean items per customer, training customers)."""
        stats = getattr(self, "_weighting_stats", None)
        if stats is None:  # saved before these were kept: the history stands in for training
            counts = customer_item_matrix(history)
            n = max(history.n_customers, 1)
            return np.bincount(counts.indices, minlength=history.n_items), counts.sum() / n, n
        return stats[0], stats[1], len(self.customer_vectors_)

    # -- persistence ---------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        state = super()._save_state(directory) or {}
        stats = getattr(self, "_weighting_stats", None)
        if stats is not None:
            np.save(directory / _ITEM_CUSTOMERS_FILE, stats[0], allow_pickle=False)
            state["mean_items"] = stats[1]
        return state

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        super()._load_state(directory, state, mmap=mmap)
        file = directory / _ITEM_CUSTOMERS_FILE
        self._weighting_stats = None
        if file.is_file() and "mean_items" in state:
            stats = load_array(directory, _ITEM_CUSTOMERS_FILE)
            self._weighting_stats = (stats, float(state["mean_items"]))
