"""Next-basket baselines: popularity, personal top frequency, TIFU-KNN and item KNN.

All four are deterministic counting models on sparse matrices (no training loop, no
random state). They rank *every* item, repeats included: in grocery data most of a next
basket is made of things the customer bought before, and these baselines are what a learned
model has to beat (SPEC section 5: TIFU-KNN 0.151, personal top frequency 0.137 recall@10 on
the Complete Journey, last basket per household; ``bench/next_basket_baselines.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
from numba import njit, prange
from scipy.sparse import csr_matrix

from customer2vec.config import require_choice, require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, concat_ranges
from customer2vec.data.ids import IdMap, load_array
from customer2vec.errors import DataValidationError
from customer2vec.models.ranking import RankingModel

METRICS = ("euclidean", "cosine")
#: Largest dense block (floats) built at once by the neighbor search: 64 MB of float32.
_BLOCK_FLOATS = 1 << 24


class _Baseline(RankingModel):
    """Shared plumbing: the item vocabulary, argument checks, save/load of arrays."""

    item_ids_: IdMap
    _arrays: tuple[str, ...] = ()

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("item_ids_", *self._arrays)

    def _start(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_ids_))
        customers = np.asarray(customers, dtype=np.int64).reshape(-1)
        if len(customers) and (customers.min() < 0 or customers.max() >= history.n_customers):
            raise DataValidationError(
                f"customer indices must be in [0, {history.n_customers}); got "
                f"{customers.min()}..{customers.max()}."
            )
        return customers

    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        self.item_ids_.save(directory, "items")
        for name in self._arrays:
            value = getattr(self, name)
            if isinstance(value, csr_matrix):
                for part in ("data", "indices", "indptr"):
                    np.save(
                        directory / f"{name}{part}.npy", getattr(value, part), allow_pickle=False
                    )
            else:
                np.save(directory / f"{name}.npy", value, allow_pickle=False)
        return {}

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        self.item_ids_ = IdMap.load(directory, "items", kind="item", mmap=mmap)
        n_items = len(self.item_ids_)
        for name in self._arrays:
            if (directory / f"{name}.npy").is_file():
                value = load_array(directory, f"{name}.npy", mmap=mmap)
            else:
                data, indices, indptr = (
                    load_array(directory, f"{name}{part}.npy", mmap=mmap)
                    for part in ("data", "indices", "indptr")
                )
                value = csr_matrix((data, indices, indptr), shape=(len(indptr) - 1, n_items))
            setattr(self, name, value)
        self._restore(directory, state, mmap=mmap)

    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        """Rebuild what is derived from the loaded arrays (subclasses)."""


class Popularity(_Baseline):
    """Rank items by the number of training baskets that hold them; same list for everyone."""

    name = "popularity"
    repeats = True
    _arrays = ("item_scores_",)

    def __init__(self) -> None:
        pass

    def fit(self, corpus: BasketCorpus) -> Self:
        self.item_ids_ = corpus.item_ids
        self.item_scores_ = _basket_counts(corpus).astype(np.float32)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        return np.broadcast_to(self.item_scores_, (len(customers), len(self.item_ids_))).copy()


class TopFrequency(_Baseline):
    """Rank items by how many of the customer's history baskets hold them.

    Ties (and the tail of a short history) are ordered by global popularity: a term in
    ``[0, 1)`` proportional to the item's training basket count is added, so it never
    outweighs one basket of personal frequency.
    """

    name = "top-frequency"
    repeats = True
    _arrays = ("popularity_",)

    def __init__(self) -> None:
        pass

    def fit(self, corpus: BasketCorpus) -> Self:
        self.item_ids_ = corpus.item_ids
        self.popularity_ = _tie_breaker(_basket_counts(corpus), scale=1.0)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        counts = _profiles(history, customers, lambda n, p: np.ones(len(p)))
        out = np.broadcast_to(self.popularity_, counts.shape).copy()
        _add_into(counts, out)
        return out


class TIFUKNN(_Baseline):
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
    _arrays = ("customer_profiles_",)

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
        require_choice(self.metric, "metric", METRICS)
        self.item_ids_ = corpus.item_ids
        self.customer_ids_ = corpus.customer_ids
        self.customer_profiles_ = self._vectors(corpus, np.arange(corpus.n_customers))
        self._index()
        return self

    def _restore(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        self.customer_ids_ = IdMap.load(directory, "customers", kind="customer", mmap=mmap)
        self._index()

    def _save_state(self, directory: Path) -> dict[str, Any] | None:
        self.customer_ids_.save(directory, "customers")
        return super()._save_state(directory)

    def _fitted_attributes(self) -> tuple[str, ...]:
        return (*super()._fitted_attributes(), "customer_ids_")

    def _index(self) -> None:
        profiles = self.customer_profiles_ = _canonical(self.customer_profiles_)
        # Kept transposed (items x customers), so a query block's dot products are one pass.
        self._profiles_t = _canonical(profiles.T.tocsr())
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

        return _profiles(corpus, customers, weight)

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
        block = max(1, _BLOCK_FLOATS // max(n_train, 1))
        for start in range(0, len(customers), block):
            rows = slice(start, start + block)
            neighbors = self._neighbors(own[rows], trained[rows])
            neighbors.data *= 1.0 - alpha
            _product_into(neighbors, self.customer_profiles_, out[rows])
        own.data *= alpha
        _add_into(own, out)
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
        block = max(1, _BLOCK_FLOATS // max(n_train, 1))
        parts = [
            self._neighbors(own[start : start + block], trained[start : start + block])
            @ self.customer_profiles_
            for start in range(0, len(customers), block)
        ]
        from scipy.sparse import vstack

        neighbors = csr_matrix(vstack(parts), dtype=np.float32) if parts else own[:0]
        return _canonical(own), _canonical(neighbors)

    def _neighbors(self, queries: csr_matrix, trained: np.ndarray) -> csr_matrix:
        """Queries x training customers: ``1 / k`` on each query's ``k`` nearest customers."""
        n_train = self.customer_profiles_.shape[0]
        n_queries = queries.shape[0]
        dots = np.zeros((n_queries, n_train), dtype=np.float32)
        _product_into(queries, self._profiles_t, dots)
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


class ItemKNN(_Baseline):
    """Item-based nearest neighbors over basket co-occurrence.

    ``sim(i, j) = co(i, j) / (count_i ** alpha * count_j ** (1 - alpha) + shrink)`` where
    ``co`` counts training baskets holding both items and ``count`` baskets holding one
    (``alpha=0.5``, ``shrink=0`` is the cosine; larger ``alpha`` leans towards the
    conditional probability ``P(j | i)``, i.e. towards popular ``j``). Each item keeps its
    ``n_neighbors`` most similar items plus itself, so items bought before score through
    their self-similarity. A customer's score for ``j`` is
    ``sum_b decay ** age_b * sum_{i in basket b} sim(i, j)`` with ``age_b`` the number of
    the customer's baskets after ``b``. Ties (items no history item reaches) are broken by
    popularity.

    Parameters
    ----------
    n_neighbors
        Neighbors kept per item (besides itself).
    alpha
        Asymmetry of the normalization (0.5: cosine).
    shrink
        Added to the normalization; damps similarities resting on few baskets.
    decay
        Weight ratio between a basket and the next more recent one.

    Notes
    -----
    The defaults (20, 0.5, 10, 0.9) are the best of a 24-point grid by mean relative
    recall@10 on the validation splits used for :class:`TIFUKNN`: few neighbors keep the
    ranking close to the customer's own items, and the shrink keeps rare co-occurrences out.
    """

    name = "item-knn"
    repeats = True
    _arrays = ("similarity_", "popularity_")

    def __init__(
        self,
        *,
        n_neighbors: int = 20,
        alpha: float = 0.5,
        shrink: float = 10.0,
        decay: float = 0.9,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.alpha = alpha
        self.shrink = shrink
        self.decay = decay

    def fit(self, corpus: BasketCorpus) -> Self:
        require_int(self.n_neighbors, "n_neighbors", minimum=0)
        require_float(self.alpha, "alpha", minimum=0.0, maximum=1.0)
        require_float(self.shrink, "shrink", minimum=0.0)
        require_float(self.decay, "decay", minimum=0.0, maximum=1.0)
        self.item_ids_ = corpus.item_ids
        baskets = corpus.to_csr()
        counts = _basket_counts(corpus).astype(np.float64)
        self.similarity_ = _item_similarity(
            baskets,
            counts,
            n_neighbors=self.n_neighbors,
            alpha=float(self.alpha),
            shrink=float(self.shrink),
        )
        # Far below any similarity a history item gives, so it only orders the ties.
        self.popularity_ = _tie_breaker(counts, scale=1e-6)
        return self

    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        customers = self._start(history, customers)
        decay = float(self.decay)
        profiles = _profiles(
            history, customers, lambda n, p: decay ** (n - 1 - p).astype(np.float64)
        )
        out = np.broadcast_to(self.popularity_, (len(customers), len(self.item_ids_))).copy()
        _product_into(profiles, self.similarity_, out)
        return out


# -- helpers ------------------------------------------------------------------------------
def _basket_counts(corpus: BasketCorpus) -> np.ndarray:
    """Number of baskets holding each item (a basket counts an item once)."""
    return np.bincount(corpus.to_csr().indices, minlength=corpus.n_items).astype(np.int64)


def _tie_breaker(counts: np.ndarray, *, scale: float) -> np.ndarray:
    """``scale * count / (max + 1)``: in ``[0, scale)``, ordered like popularity."""
    counts = np.asarray(counts, dtype=np.float64)
    return (scale * counts / (counts.max(initial=0.0) + 1.0)).astype(np.float32)


def _profiles(
    corpus: BasketCorpus,
    customers: np.ndarray,
    weight: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> csr_matrix:
    """Customers x items: ``sum_b weight(n, p)_b * basket_b`` over each customer's baskets.

    ``weight(n, p)`` gets, per basket, the customer's number of baskets ``n`` and the
    basket's 0-based chronological position ``p`` (arrays) and returns the basket weights.
    A basket counts each item once.
    """
    bounds = corpus.customer_indptr
    starts, stops = bounds[customers], bounds[customers + 1]
    n_per_customer = stops - starts
    baskets = concat_ranges(starts, stops)
    n = np.repeat(n_per_customer, n_per_customer)
    position = baskets - np.repeat(starts, n_per_customer)
    lengths = corpus.indptr[baskets + 1] - corpus.indptr[baskets]
    lines = concat_ranges(corpus.indptr[baskets], corpus.indptr[baskets + 1])
    basket_indptr = np.zeros(len(baskets) + 1, dtype=np.int64)
    np.cumsum(lengths, out=basket_indptr[1:])
    items = csr_matrix(
        (np.ones(len(lines), dtype=np.float64), corpus.indices[lines], basket_indptr),
        shape=(len(baskets), corpus.n_items),
    )
    items.sum_duplicates()
    items.data[:] = 1.0
    customer_indptr = np.zeros(len(customers) + 1, dtype=np.int64)
    np.cumsum(n_per_customer, out=customer_indptr[1:])
    weights = csr_matrix(
        (
            np.asarray(weight(n, position), dtype=np.float64),
            np.arange(len(baskets)),
            customer_indptr,
        ),
        shape=(len(customers), len(baskets)),
    )
    profiles = (weights @ items).tocsr()
    profiles.sum_duplicates()
    return _canonical(profiles)


def _canonical(matrix: csr_matrix) -> csr_matrix:
    """The dtypes the numba kernels are compiled for: float32 data, int32/int64 indices."""
    return csr_matrix(
        (
            matrix.data.astype(np.float32, copy=False),
            matrix.indices.astype(np.int32, copy=False),
            matrix.indptr.astype(np.int64, copy=False),
        ),
        shape=matrix.shape,
    )


def _add_into(matrix: csr_matrix, out: np.ndarray) -> None:
    """``out += matrix`` for a canonical CSR matrix (no repeated entries)."""
    rows = np.repeat(np.arange(matrix.shape[0]), np.diff(matrix.indptr))
    out[rows, matrix.indices] += matrix.data


def _product_into(left: csr_matrix, right: csr_matrix, out: np.ndarray) -> None:
    """``out += left @ right`` straight into a dense array.

    SciPy would build the (nearly dense) sparse product first, with a counting pass and
    hashing; accumulating each row into ``out`` does the same multiply-adds several times
    faster and needs no memory beyond ``out``.
    """
    left, right = _canonical(left), _canonical(right)
    _product_kernel(
        left.indptr, left.indices, left.data, right.indptr, right.indices, right.data, out
    )


@njit(cache=True, nogil=True)
def _product_kernel(
    a_indptr, a_indices, a_data, b_indptr, b_indices, b_data, out
):  # pragma: no cover
    for row in range(len(a_indptr) - 1):
        target = out[row]
        for jj in range(a_indptr[row], a_indptr[row + 1]):
            j = a_indices[jj]
            weight = a_data[jj]
            for kk in range(b_indptr[j], b_indptr[j + 1]):
                target[b_indices[kk]] += weight * b_data[kk]


def _item_similarity(
    baskets: csr_matrix, counts: np.ndarray, *, n_neighbors: int, alpha: float, shrink: float
) -> csr_matrix:
    """Items x items similarity keeping each row's top ``n_neighbors`` plus the diagonal."""
    n_items = baskets.shape[1]
    by_item = baskets.T.tocsr()
    left = counts**alpha
    right = counts ** (1.0 - alpha)
    # Rows of the co-occurrence counts are built in blocks of about _BLOCK_FLOATS products
    # (an item's cost is the total size of its baskets), which bounds the memory.
    cost = by_item @ np.diff(baskets.indptr).astype(np.float64)
    block_of = (np.cumsum(cost) // _BLOCK_FLOATS).astype(np.int64)
    bounds = np.append(np.searchsorted(block_of, np.unique(block_of)), n_items)
    indptrs, indices, values = [np.zeros(1, dtype=np.int64)], [], []
    for start, stop in itertools.pairwise(bounds):
        co = by_item[start:stop] @ baskets  # no repeated entries; order within rows is free
        rows = np.repeat(np.arange(start, stop), np.diff(co.indptr))
        sims = co.data / (left[rows] * right[co.indices] + shrink)
        keep = np.zeros(len(sims), dtype=np.bool_)
        _top_per_row(
            co.indptr.astype(np.int64), co.indices.astype(np.int64), sims, start, n_neighbors, keep
        )
        kept_per_row = np.bincount(rows[keep] - start, minlength=stop - start)
        indptrs.append(indptrs[-1][-1] + np.cumsum(kept_per_row))
        indices.append(co.indices[keep])
        values.append(sims[keep])
    similarity = csr_matrix(
        (
            np.concatenate(values).astype(np.float32),
            np.concatenate(indices).astype(np.int32),
            np.concatenate(indptrs),
        ),
        shape=(n_items, n_items),
    )
    similarity.sort_indices()
    return _canonical(similarity)


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


@njit(cache=True, nogil=True)
def _top_per_row(indptr, indices, values, first_row, n, keep):  # pragma: no cover
    """Mark each row's diagonal entry and its ``n`` largest other entries (ties: lower index)."""
    for row in range(len(indptr) - 1):
        a, b = indptr[row], indptr[row + 1]
        item = first_row + row
        if b - a <= n:
            keep[a:b] = True
            continue
        others = np.empty(b - a, dtype=np.float64)
        for jj in range(a, b):
            others[jj - a] = -np.inf if indices[jj] == item else values[jj]
            if indices[jj] == item:
                keep[jj] = True
        order = np.argsort(-others, kind="mergesort")
        for t in range(n):
            if others[order[t]] == -np.inf:
                break
            keep[a + order[t]] = True
