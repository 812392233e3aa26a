"""TIFU-KNN: temporal item-frequency vectors blended with the nearest customers'."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
from numba import njit, prange
from scipy.sparse import csr_matrix

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.models.counting import (
    BLOCK_FLOATS,
    CountingBaseline,
    add_into,
    canonical,
    product_into,
    profiles_of,
)

METRICS = ("euclidean", "cosine")


class TIFUKNN(CountingBaseline):
    """TIFU-KNN: temporal item-frequency vectors blended with the nearest customers'.

    Hu, He, Gao and Zhang, "Modeling Personalized Item Frequency Information for
    Next-basket Recommendation", SIGIR 2020; this follows the authors' reference code
    (github.com/HaojiHu/TIFUKNN), which differs from the paper's text in two places noted
    below. A customer's history (``b`` baskets, oldest first) is cut into ``n_groups``
    consecutive groups of near-equal size (the last ``b mod n_groups`` groups hold one
    basket more; with fewer than ``n_groups`` baskets each basket is a group). Basket ``j``
    (0-based) is a multi-hot vector weighted ``within_decay ** (b - 1 - j)`` (the reference
    counts this decay over the whole history, not within the group as the paper writes);
    group vectors are the mean of their baskets; the customer vector is
    ``sum_g group_decay ** (n_groups - 1 - g) * group_g / n_real_groups`` (the reference
    keeps ``n_groups`` in the exponent for short histories too). The score is
    ``alpha * own + (1 - alpha) * mean of the n_neighbors nearest training customers``
    (Euclidean distance, as in the reference; the customer never counts as their own
    neighbor).

    Parameters
    ----------
    n_neighbors
        ``k``, how many training customers make up the neighborhood.
    n_groups
        ``m`` in the reference code (``group_size`` there; the number of groups, not baskets
        per group).
    within_decay
        ``r_b``, decay per basket of age.
    group_decay
        ``r_g``, decay per group of age.
    alpha
        Weight of the customer's own vector against the neighbors' mean.
    metric
        ``"euclidean"`` (reference) or ``"cosine"`` to pick neighbors.

    Notes
    -----
    The paper's settings (k, m, r_b, r_g, alpha) are (900, 3, 0.9, 0.6, 0.2) for Dunnhumby,
    (300, 7, 0.9, 0.7, 0.7) for Ta-Feng and (900, 3, 0.9, 0.7, 0.9) for Instacart. The
    defaults (100, 3, 0.95, 0.8, 0.3) are the best of a 72-point grid by mean relative
    recall@10 on validation splits (each customer's second-to-last basket as the target)
    of the Complete Journey and a 593-customer Instacart subset
    (``bench/next_basket_baselines.py --choose-defaults``): within 2% of each dataset's own
    best on the Complete Journey and 4% on Instacart, which prefers a larger ``alpha``
    (0.7-0.9, as in the paper). ``within_decay`` matters most (0.8 loses a fifth of the
    recall on the Complete Journey, whose households have a median of 43 baskets); cosine
    neighbors were slightly worse than Euclidean ones.

    Neighbors are found exactly, with sparse products in blocks of queries, so the cost
    grows with the number of (query, training customer) pairs that share an item.
    """

    name = "tifu-knn"
    repeats = True
    persisted: ClassVar[dict[str, str]] = {
        "customer_profiles_": "csr:customer_profiles_",
        "customer_ids_": "ids:customers",
    }

    def __init__(
        self,
        *,
        n_neighbors: int = 100,
        n_groups: int = 3,
        within_decay: float = 0.95,
        group_decay: float = 0.8,
        alpha: float = 0.3,
        metric: Literal["euclidean", "cosine"] = "euclidean",
    ) -> None:
        self.n_neighbors = n_neighbors
        self.n_groups = n_groups
        self.within_decay = within_decay
        self.group_decay = group_decay
        self.alpha = alpha
        self.metric = metric

    def fit(self, corpus: BasketCorpus) -> Self:
        require_int(self.n_neighbors, "n_neighbors", minimum=1)
        require_int(self.n_groups, "n_groups", minimum=1)
        require_float(self.within_decay, "within_decay", minimum=0.0, maximum=1.0)
        require_float(self.group_decay, "group_decay", minimum=0.0, maximum=1.0)
        require_float(self.alpha, "alpha", minimum=0.0, maximum=1.0)
        self.item_ids_ = corpus.item_ids
        self.customer_ids_ = corpus.customer_ids
        self.customer_profiles_ = self._vectors(corpus, np.arange(corpus.n_customers))
        self._index()
        return self

    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        self._index()

    def _index(self) -> None:
        profiles = self.customer_profiles_ = canonical(self.customer_profiles_)
        # Kept transposed (items x customers), so a query block's dot products are one pass.
        self._profiles_t = canonical(profiles.T.tocsr())
        self._sq_norms = np.asarray(
            profiles.multiply(profiles).sum(axis=1), dtype=np.float64
        ).ravel()

    def _vectors(self, corpus: BasketCorpus, customers: np.ndarray) -> csr_matrix:
        groups, r_b, r_g = self.n_groups, float(self.within_decay), float(self.group_decay)

        def weight(n: np.ndarray, p: np.ndarray) -> np.ndarray:
            base = n // groups
            n_plain = groups - (n - base * groups)  # groups without the extra basket
            split = n_plain * base
            late = p >= split
            group = np.where(late, n_plain + (p - split) // (base + 1), p // np.maximum(base, 1))
            size = np.where(late, base + 1, base)
            short = n < groups
            group = np.where(short, p, group)
            size = np.where(short, 1, size)
            real = np.minimum(n, groups)
            return (
                r_b ** (n - 1 - p).astype(np.float64)
                * r_g ** (groups - 1 - group).astype(np.float64)
                / (size * real)
            )

        return profiles_of(corpus, customers, weight)

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        own = self._vectors(history, customers)
        if history.customer_ids is self.customer_ids_:
            trained = customers
        else:
            trained = self.customer_ids_.to_internal(
                history.customer_ids.external[customers], on_unknown="missing"
            )
        alpha = float(self.alpha)
        out = np.zeros((len(customers), len(self.item_ids_)), dtype=np.float32)
        n_train = self.customer_profiles_.shape[0]
        block = max(1, BLOCK_FLOATS // max(n_train, 1))
        for start in range(0, len(customers), block):
            rows = slice(start, start + block)
            neighbors = self._neighbors(own[rows], trained[rows])
            neighbors.data *= 1.0 - alpha
            product_into(neighbors, self.customer_profiles_, out[rows])
        own.data *= alpha
        add_into(own, out)
        return out

    def components(
        self, history: BasketCorpus, customers: np.ndarray
    ) -> tuple[csr_matrix, csr_matrix]:
        """The two parts of the score, sparse: own vectors and the neighbors' mean vectors.

        ``score = alpha * own + (1 - alpha) * neighbors``; models that learn their own blend
        (``next-basket``) use the parts as features.
        """
        customers = self._start(history, customers)
        own = self._vectors(history, customers)
        trained = self.customer_ids_.to_internal(
            history.customer_ids.external[customers], on_unknown="missing"
        )
        n_train = self.customer_profiles_.shape[0]
        block = max(1, BLOCK_FLOATS // max(n_train, 1))
        parts = [
            self._neighbors(own[start : start + block], trained[start : start + block])
            @ self.customer_profiles_
            for start in range(0, len(customers), block)
        ]
        from scipy.sparse import vstack

        neighbors = csr_matrix(vstack(parts), dtype=np.float32) if parts else own[:0]
        return canonical(own), canonical(neighbors)

    def _neighbors(self, queries: csr_matrix, trained: np.ndarray) -> csr_matrix:
        """Queries x training customers: ``1 / k`` on each query's ``k`` nearest customers."""
        n_train = self.customer_profiles_.shape[0]
        n_queries = queries.shape[0]
        dots = np.zeros((n_queries, n_train), dtype=np.float32)
        product_into(queries, self._profiles_t, dots)
        q_norms = np.asarray(queries.multiply(queries).sum(axis=1), dtype=np.float64).ravel()
        k = min(int(self.n_neighbors), n_train - int((trained >= 0).any()))
        if k < 1:
            return csr_matrix((n_queries, n_train), dtype=np.float32)
        # With someone excluded, k <= n_train - 1, so an excluded customer is never picked.
        nearest = np.empty((n_queries, k), dtype=np.int64)
        _nearest_kernel(
            dots,
            q_norms,
            self._sq_norms,
            trained.astype(np.int64),
            k,
            self.metric == "euclidean",
            nearest,
        )
        return csr_matrix(
            (
                np.full(n_queries * k, 1.0 / k, dtype=np.float32),
                nearest.ravel(),
                np.arange(0, n_queries * k + 1, k),
            ),
            shape=(n_queries, n_train),
        )


@njit(cache=True, nogil=True, parallel=True)
def _nearest_kernel(dots, q_norms, sq_norms, exclude, k, euclidean, out):  # pragma: no cover
    """Indices of each row's ``k`` nearest columns (ties: lowest index), into ``out``."""
    n_train = dots.shape[1]
    for row in prange(dots.shape[0]):
        distance = np.empty(n_train, dtype=np.float64)
        for j in range(n_train):
            if euclidean:
                distance[j] = q_norms[row] + sq_norms[j] - 2.0 * dots[row, j]
            else:
                norms = max(q_norms[row] * sq_norms[j], 1e-30)
                distance[j] = -dots[row, j] / np.sqrt(norms)
        if exclude[row] >= 0:
            distance[exclude[row]] = np.inf
        threshold = np.partition(distance, k - 1)[k - 1]
        taken = 0
        for j in range(n_train):
            if distance[j] < threshold:
                out[row, taken] = j
                taken += 1
        for j in range(n_train):
            if taken == k:
                break
            if distance[j] == threshold:
                out[row, taken] = j
                taken += 1
