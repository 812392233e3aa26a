"""Item embeddings from co-purchase lists alone ("frequently bought together").

Each (item, listed item) pair is an edge; training pulls the two items' unit vectors
together and pushes randomly drawn items away, like LINE's first-order proximity (Tang et
al. 2015) with negative sampling, but on the unit sphere: the score of a pair is
``scale * (cos - margin)``. Neighbors are later read by cosine, so training on the cosine
itself, with a margin that random pairs should stay below, is what makes listed items
*nearest* neighbors; training on raw dot products (LINE, SGNS) lets vector norms absorb the
signal that cosine then ignores.

Measured on The Complete Journey (``bench/copurchase.py``: 33K items, 245K pairs of lists
derived from baskets with the default cosine score, 64 factors): recall@10 is the share of
listed items among each item's 10 nearest neighbors; hidden@10 the same for list entries
hidden from training (20% of each list), i.e. what the embedding infers rather than stores.

================================================  =========  =========  =======
method                                            recall@10  hidden@10  seconds
================================================  =========  =========  =======
this model, defaults                              0.73       0.38       20
  negatives drawn by degree ** 0.75 (word2vec)    0.72       0.37       22
  rank weight 1 / rank                            0.70       0.38       22
  rank weight uniform                             0.75       0.36       18
  n_epochs=100                                    0.75       0.39       41
  plus 2-hop "hard" negatives (prototype)         0.75       0.34       28
dot-product LINE, first order (prototype)         0.31       0.18       21
SGNS on "baskets" of item + its list, 20 epochs   0.31       0.14       32
truncated SVD of normalized adjacency             0.28       0.20       9
truncated SVD of PPMI adjacency                   0.14       0.11       2
================================================  =========  =========  =======

Uniform negatives (``ns_exponent=0``) win because the target treats every item alike: with
word2vec's degree-weighted negatives, items found in many lists are pushed away from
everything, the opposite of what their listers need. Linear rank weights trade a little
recall against uniform ones for better generalization, and use the order of the list.
Lists ranked by raw co-purchase count are much harder (recall@10 0.32): a few best sellers
fill nearly half of all list slots and would have to sit near almost every item.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar, Self

import numpy as np
from numba import njit

from customer2vec.config import require_choice, require_float, require_int
from customer2vec.corpus.copurchase import CopurchaseLists
from customer2vec.errors import DataValidationError
from customer2vec.models.base import EmbeddingModel
from customer2vec.models.params import Options
from customer2vec.vectors.embeddings import Embeddings

RANK_WEIGHTS = ("linear", "harmonic", "uniform")
_MULTIPLIER = np.uint64(2685821657736338717)  # xorshift64* output multiplier
_MIN_LR_FRACTION = 1e-3


class CoPurchase(EmbeddingModel):
    """Item vectors in which each item's co-purchase list sits among its nearest neighbors.

    Parameters
    ----------
    n_factors
        Vector dimension.
    n_epochs
        Passes; each draws as many pairs as the lists hold (pairs drawn by rank weight).
    negative
        Random items pushed away per drawn pair.
    ns_exponent
        Negatives are drawn with probability proportional to (list appearances) ** this;
        0 draws them uniformly (best measured: the target treats every item alike).
    scale
        Sharpness of the logistic score ``scale * (cos - margin)``.
    margin
        Cosine that separates listed pairs (above) from random pairs (below).
    learning_rate
        Initial step, decayed linearly to 1/1000 of it.
    rank_weight
        How often a pair is drawn, by its rank ``r`` in a list whose longest has ``n``:
        ``"linear"`` ``(n + 1 - r) / n``, ``"harmonic"`` ``1 / r``, ``"uniform"`` 1.
    random_state
        Seed; the same seed and lists give the same vectors (training is single-threaded).
    """

    name = "copurchase"
    corpus_kind = "copurchase"
    _parameter_constraints: ClassVar[dict[str, list[Any]]] = {
        "rank_weight": [Options(*RANK_WEIGHTS)]
    }

    def __init__(
        self,
        *,
        n_factors: int = 64,
        n_epochs: int = 50,
        negative: int = 5,
        ns_exponent: float = 0.0,
        scale: float = 16.0,
        margin: float = 0.5,
        learning_rate: float = 0.1,
        rank_weight: str = "linear",
        random_state: int | None = 0,
    ) -> None:
        self.n_factors = n_factors
        self.n_epochs = n_epochs
        self.negative = negative
        self.ns_exponent = ns_exponent
        self.scale = scale
        self.margin = margin
        self.learning_rate = learning_rate
        self.rank_weight = rank_weight
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {"n_factors": 8}

    def fit(self, lists: CopurchaseLists) -> Self:
        require_int(self.n_factors, "n_factors", minimum=1)
        require_int(self.n_epochs, "n_epochs", minimum=1)
        require_int(self.negative, "negative", minimum=0)
        require_float(self.ns_exponent, "ns_exponent", minimum=0.0)
        require_float(self.scale, "scale", minimum=0.0)
        require_float(self.margin, "margin", minimum=-1.0, maximum=1.0)
        require_float(self.learning_rate, "learning_rate", minimum=0.0)
        if self.random_state is not None:
            require_int(self.random_state, "random_state", minimum=0)
        if not isinstance(lists, CopurchaseLists):
            raise DataValidationError(
                f"{self.name} trains on CopurchaseLists (build_copurchase); got "
                f"{type(lists).__name__}."
            )
        if lists.n_pairs == 0:
            raise DataValidationError("the co-purchase lists are empty; nothing to train on.")
        vectors = _train(
            lists.owners().astype(np.int32),
            lists.indices.astype(np.int32),
            rank_weights(lists.ranks, self.rank_weight),
            lists.n_items,
            n_factors=self.n_factors,
            n_epochs=self.n_epochs,
            negative=self.negative,
            ns_exponent=float(self.ns_exponent),
            scale=float(self.scale),
            margin=float(self.margin),
            learning_rate=float(self.learning_rate),
            random_state=self.random_state,
        )
        self.item_vectors_ = Embeddings(lists.item_ids, vectors)
        return self


def rank_weights(ranks: np.ndarray, kind: str = "linear") -> np.ndarray:
    """Weight of each list entry from its 1-based rank (see ``CoPurchase.rank_weight``)."""
    require_choice(kind, "rank_weight", RANK_WEIGHTS)
    ranks = np.asarray(ranks, dtype=np.float64)
    if kind == "uniform" or len(ranks) == 0:
        return np.ones(len(ranks))
    if kind == "harmonic":
        return 1.0 / ranks
    longest = ranks.max()
    return (longest + 1.0 - ranks) / longest


def _train(
    owners: np.ndarray,
    others: np.ndarray,
    weights: np.ndarray,
    n_items: int,
    *,
    n_factors: int,
    n_epochs: int,
    negative: int,
    ns_exponent: float,
    scale: float,
    margin: float,
    learning_rate: float,
    random_state: int | None,
) -> np.ndarray:
    """Unit vectors (``n_items x n_factors``, float32) trained on the weighted pairs."""
    rng = np.random.default_rng(random_state)
    vectors = rng.standard_normal((n_items, n_factors), dtype=np.float32)
    vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    edge_prob, edge_alias = _alias_table(weights)
    degree = np.bincount(owners, weights=weights, minlength=n_items) + np.bincount(
        others, weights=weights, minlength=n_items
    )
    noise_prob, noise_alias = _alias_table(np.power(degree, ns_exponent))
    n_samples = len(owners)
    step = 1.0 / (n_samples * n_epochs)
    for epoch in range(n_epochs):
        _train_epoch(
            owners,
            others,
            edge_prob,
            edge_alias,
            noise_prob,
            noise_alias,
            vectors,
            n_samples,
            negative,
            scale,
            margin,
            learning_rate,
            learning_rate * _MIN_LR_FRACTION,
            epoch / n_epochs,
            step,
            np.uint64(rng.integers(1, 2**63 - 1)),
        )
    return vectors


def _alias_table(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose's alias table: draw ``i`` with probability ``weights[i] / weights.sum()``."""
    weights = np.asarray(weights, dtype=np.float64)
    return _build_alias(weights * (len(weights) / weights.sum()))


@njit(cache=True)
def _build_alias(scaled: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = scaled.shape[0]
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n).astype(np.int64)
    small = np.empty(n, dtype=np.int64)
    large = np.empty(n, dtype=np.int64)
    n_small = 0
    n_large = 0
    for i in range(n):
        if scaled[i] < 1.0:
            small[n_small] = i
            n_small += 1
        else:
            large[n_large] = i
            n_large += 1
    while n_small > 0 and n_large > 0:
        n_small -= 1
        s = small[n_small]
        g = large[n_large - 1]
        prob[s] = scaled[s]
        alias[s] = g
        scaled[g] = scaled[g] + scaled[s] - 1.0
        if scaled[g] < 1.0:
            n_large -= 1
            small[n_small] = g
            n_small += 1
    return prob, alias


@njit(inline="always")
def _next(state: np.uint64) -> np.uint64:
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


@njit(inline="always")
def _draw(state: np.uint64, prob: np.ndarray, alias: np.ndarray) -> int:
    """One draw from an alias table, from the 64 bits of ``state`` (xorshift64*)."""
    bits = state * _MULTIPLIER
    slot = np.int64(((bits >> np.uint64(32)) * np.uint64(prob.shape[0])) >> np.uint64(32))
    uniform = np.float64(bits & np.uint64(0xFFFFFFFF)) * (1.0 / 4294967296.0)
    return slot if uniform < prob[slot] else alias[slot]


@njit(inline="always")
def _normalize_row(vectors: np.ndarray, row: int) -> None:
    norm = 0.0
    for d in range(vectors.shape[1]):
        norm += vectors[row, d] * vectors[row, d]
    inverse = np.float32(1.0 / math.sqrt(max(norm, 1e-24)))
    for d in range(vectors.shape[1]):
        vectors[row, d] *= inverse


@njit(nogil=True, fastmath=True, cache=True)
def _train_epoch(
    owners,
    others,
    edge_prob,
    edge_alias,
    noise_prob,
    noise_alias,
    vectors,
    n_samples,
    negative,
    scale,
    margin,
    lr_start,
    lr_end,
    progress,
    progress_step,
    seed,
):
    """Draw ``n_samples`` pairs; for each, one logistic step on the positive and negatives.

    Vectors stay on the unit sphere (renormalized after each step), so ``u . v`` is the
    cosine the neighbors are read with.
    """
    dim = vectors.shape[1]
    state = np.uint64(seed) | np.uint64(1)
    gradient = np.empty(dim, dtype=np.float32)
    for sample in range(n_samples):
        lr = lr_start - (lr_start - lr_end) * (progress + progress_step * sample)
        state = _next(state)
        edge = _draw(state, edge_prob, edge_alias)
        # Both directions: the owner pulls its listed item and vice versa.
        if (state >> np.uint64(63)) & np.uint64(1):
            center, positive = owners[edge], others[edge]
        else:
            center, positive = others[edge], owners[edge]
        for d in range(dim):
            gradient[d] = 0.0
        for k in range(negative + 1):
            if k == 0:
                target, label = positive, 1.0
            else:
                state = _next(state)
                target = _draw(state, noise_prob, noise_alias)
                if target in (center, positive):
                    continue
                label = 0.0
            cosine = 0.0
            for d in range(dim):
                cosine += vectors[center, d] * vectors[target, d]
            score = scale * (cosine - margin)
            if score > 30.0:
                fitted = 1.0
            elif score < -30.0:
                fitted = 0.0
            else:
                fitted = 1.0 / (1.0 + math.exp(-score))
            g = np.float32((label - fitted) * lr)
            for d in range(dim):
                gradient[d] += g * vectors[target, d]
                vectors[target, d] += g * vectors[center, d]
            _normalize_row(vectors, target)
        for d in range(dim):
            vectors[center, d] += gradient[d]
        _normalize_row(vectors, center)
