"""Next-basket prediction: repeat what a customer buys, explore what similar customers buy.

Most of a grocery basket is repeat purchases, so the strongest simple baselines are
personal frequency with recency decay (top-frequency) and that blended with the
customer's nearest neighbors (TIFU-KNN, Hu et al. SIGIR 2020). Plain cosine neighbors
of a history in embedding space recommend rare items and score near zero. This model
keeps both signals and lets the data weigh them:

1. **Candidates** for a customer: every item in their history (repeat), plus the
   ``n_explore`` items their nearest customers buy most that they never bought (explore).
2. **Features** for each (customer, item): purchase count and share of baskets,
   frequency decayed by basket age at two rates, baskets since the last purchase, whether
   it was in the last basket, the neighbors' decayed frequency, TIFU-KNN's two parts (the
   customer's grouped temporal frequency and their Euclidean neighbors' mean), the cosine
   between the item's vector and the customer's recent baskets (item2vec trained inside
   ``fit``; off by default),
   item popularity and repeat rate, the customer's number of baskets and basket size, and
   basket-size-aware counts: the item's purchases each divided by its basket's size
   (decayed at both rates), its purchases in small baskets (1-2 items), and the
   customer's share of small baskets.
3. **Weights from a validation split inside fit**: each customer's last training basket
   is held out, features come from the baskets before it, and gradient-boosted trees
   (scikit-learn's HistGradientBoosting) learn P(item in next basket | features), each
   bought item weighted by its basket's size to the power -``size_power``, since recall
   divides a customer's hits by that size. Nothing
   is tuned per dataset; the trees learn how repeat and explore trade off on this data.
   Then features are recomputed on the full history for scoring.

Persistence stays pickle-free: the fitted trees are exported as plain arrays (feature,
threshold, children, leaf value) and evaluated by a small numba kernel.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Self

import numpy as np
from scipy.sparse import csr_matrix

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.corpus.matrix import customer_item_matrix
from customer2vec.data.ids import IdMap, load_array
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models.next_basket_features import (
    SMALL_BASKET,
    decayed_vectors,
    history_stats,
    lines_of,
    lookup,
    neighbor_scores,
    recent_context,
    recent_popularity,
    sorted_csr,
    top_new,
)
from customer2vec.models.next_basket_trees import TREE_FIELDS, export_trees, predict_trees
from customer2vec.models.ranking import RankingModel
from customer2vec.models.tifu_knn import TIFUKNN

log = logging.getLogger(__name__)

FEATURES = (
    "count",
    "share",
    "decayed_fast",
    "decayed_slow",
    "gap",
    "in_last",
    "neighbors",
    "embedding",
    "popularity",
    "repeat_rate",
    "n_baskets",
    "basket_size",
    "cycle",
    "novelty",
    "days_gap",
    "days_cycle",
    "recent_popularity",
    "tifu_own",
    "tifu_neighbors",
    "per_size_fast",
    "per_size_slow",
    "small_baskets",
    "small_share",
)
#: Validation targets per customer inside fit: the last basket, then the one before.
N_VALIDATION_BASKETS = 2
#: Negatives kept per positive when the trees learn (the rest are sampled out, weighted).
NEGATIVE_RATIO = 20
#: Below this many training pairs the trees fit on one OpenMP thread.
SMALL_FIT_ROWS = 50_000


class NextBasket(RankingModel):
    """Repeat + explore next-basket recommender with weights learned on a validation split.

    Parameters
    ----------
    n_neighbors
        Nearest customers (cosine of decayed purchase vectors) behind the explore signal.
    n_explore
        Items never bought by the customer that enter as candidates, from the neighbors.
    n_embedding_epochs
        Epochs of an item2vec trained inside ``fit`` for the embedding feature (cosine
        between an item and the customer's last 3 baskets); 0, the default, skips it. On
        the Complete Journey it did not help: last-basket recall@10 0.152 with 5 epochs,
        0.155 without, so the explore signal comes from the neighbors alone by default.
    max_iter, learning_rate, max_leaf_nodes, min_samples_leaf
        Gradient-boosted trees (scikit-learn ``HistGradientBoostingClassifier``), all
        ``max_iter`` rounds, without early stopping. On the Complete Journey's last-basket
        split (recall@10, seeds 0/1, before the size-aware features and weights): 1,000
        rounds at 0.015 with leaves of 50 or more give 0.1631/0.1622; the earlier 200
        rounds at 0.1 with early stopping on a 10% sample of the pairs gave 0.1581 (it
        stopped early, on noise); LightGBM's lambdarank objective on the same features
        gave 0.1600.
    size_power
        Positives weigh ``target basket size ** -size_power`` (rescaled to mean 1): 1 matches
        recall@k exactly (a hit in a 2-item basket counts 10 times one in a 20-item basket)
        but leaves big baskets with little say; 0.5 is the compromise. Complete Journey
        recall@10 with the size-aware features (seeds 0/1/2): 0.1614/0.1605 at 0,
        0.1663/0.1650/0.1667 at 0.5, 0.1645 at 0.75, 0.1643 at 1; on the 593-customer
        Instacart sample 0.3848, 0.3863 and 0.3807 at 0, 0.5 and 1.
    max_train_customers
        Validation customers the trees learn from (a random sample above this), which
        bounds fit time at 200K customers.
    random_state
        Seed for the sample, the trees and the item2vec.
    """

    name = "next-basket"
    repeats = True

    def __init__(
        self,
        *,
        n_neighbors: int = 100,
        n_explore: int = 20,
        n_embedding_epochs: int = 0,
        max_iter: int = 1000,
        learning_rate: float = 0.015,
        max_leaf_nodes: int = 31,
        min_samples_leaf: int = 50,
        size_power: float = 0.5,
        max_train_customers: int = 20_000,
        random_state: int | None = 0,
    ) -> None:
        self.n_neighbors = n_neighbors
        self.n_explore = n_explore
        self.n_embedding_epochs = n_embedding_epochs
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.size_power = size_power
        self.max_train_customers = max_train_customers
        self.random_state = random_state

    @classmethod
    def quick_params(cls) -> dict[str, Any]:
        return {}

    # -- fit -------------------------------------------------------------------------------
    def fit(self, corpus: BasketCorpus) -> Self:
        require_int(self.n_neighbors, "n_neighbors", minimum=1)
        require_int(self.n_explore, "n_explore", minimum=0)
        require_int(self.n_embedding_epochs, "n_embedding_epochs", minimum=0)
        require_int(self.max_iter, "max_iter", minimum=1)
        require_float(self.learning_rate, "learning_rate", minimum=1e-6)
        require_int(self.max_leaf_nodes, "max_leaf_nodes", minimum=2)
        require_int(self.min_samples_leaf, "min_samples_leaf", minimum=1)
        require_float(self.size_power, "size_power", minimum=0.0, maximum=2.0)
        require_int(self.max_train_customers, "max_train_customers", minimum=10)
        if corpus.n_lines == 0:
            raise ConfigError("the corpus has no baskets to train on.")
        rng = np.random.default_rng(self.random_state)
        self.item_unit_ = self._item_vectors(corpus)

        # Validation splits: a customer's last basket is the target and the baskets before
        # it the history; then the basket before that, for twice the examples.
        parts, labels, sizes, n_targets, n_customers = [], [], [], 0, 0
        for back in range(1, N_VALIDATION_BASKETS + 1):
            n_baskets = np.diff(corpus.customer_indptr)
            eligible = np.flatnonzero(n_baskets >= back + 1)
            if len(eligible) < 10:
                continue
            if len(eligible) > self.max_train_customers:
                eligible = np.sort(rng.choice(eligible, self.max_train_customers, replace=False))
            target = corpus.customer_indptr[eligible + 1] - back
            keep = np.ones(corpus.n_baskets, dtype=bool)
            keep[corpus.customer_indptr[eligible + 1] - back] = False
            for later in range(1, back):
                keep[corpus.customer_indptr[eligible + 1] - later] = False
            history = corpus.take(np.flatnonzero(keep))
            self._fit_population(history)
            # `take` re-indexes customers: find the eligible ones in the history corpus.
            rows = history.customer_ids.to_internal(corpus.customer_ids.to_external(eligible))
            pairs, features = self._candidates(history, rows, self_rows=rows)
            # Row r of the targets is eligible[r], the customer of batch row r.
            targets = sorted_csr(corpus.take(target).to_csr())
            parts.append(features)
            labels.append(lookup(targets, pairs[:, 2], pairs[:, 1]) > 0)
            sizes.append(np.diff(targets.indptr)[pairs[:, 2]])
            n_targets += targets.nnz
            n_customers += len(rows)
        if not parts:
            raise ConfigError(
                "next-basket needs at least 10 customers with 2 or more baskets to learn from."
            )
        features, labels, sizes = np.vstack(parts), np.concatenate(labels), np.concatenate(sizes)
        log.info(
            "next-basket: %d candidate pairs from %d validation baskets, %.1f%% bought",
            len(labels),
            n_customers,
            100 * labels.mean(),
        )
        self.trees_, self.baseline_ = self._fit_trees(features, labels, sizes)
        self.validation_ = {
            "baskets": int(n_customers),
            "pairs": len(labels),
            "positive_rate": float(labels.mean()),
            "target_coverage": float(labels.sum() / max(n_targets, 1)),
        }
        self._fit_population(corpus)
        return self

    def _item_vectors(self, corpus: BasketCorpus) -> np.ndarray:
        if self.n_embedding_epochs == 0:
            return np.zeros((corpus.n_items, 1), dtype=np.float32)
        from customer2vec.models.item2vec import Item2Vec

        model = Item2Vec(n_epochs=self.n_embedding_epochs, random_state=self.random_state)
        return np.asarray(model.fit(corpus).item_vectors_.unit_vectors, dtype=np.float32)

    def _fit_population(self, corpus: BasketCorpus) -> None:
        """What scoring compares a customer with: item statistics and neighbor vectors."""
        self.item_ids_ = corpus.item_ids
        self.customer_ids_ = corpus.customer_ids
        counts = corpus.item_counts.astype(np.float64)
        self.popularity_ = np.log1p(counts).astype(np.float32)
        # Repeat rate: of the customers who bought an item, the share who bought it again.
        matrix = customer_item_matrix(corpus)
        buyers = np.bincount(matrix.indices, minlength=corpus.n_items)
        again = np.bincount(matrix.indices[matrix.data >= 2], minlength=corpus.n_items)
        self.repeat_rate_ = (again / np.maximum(buyers, 1)).astype(np.float32)
        self.recent_popularity_ = recent_popularity(corpus)
        everyone = lines_of(corpus, np.arange(corpus.n_customers))
        self.neighbor_vectors_ = decayed_vectors(everyone, corpus.n_items)
        # TIFU-KNN's two parts (own temporal frequency, neighbors' mean) enter as features,
        # so the trees start from the strongest baseline's signal and learn its blend.
        self.tifu_ = TIFUKNN().fit(corpus)

    def _fit_trees(
        self, features: np.ndarray, labels: np.ndarray, target_sizes: np.ndarray
    ) -> tuple[dict, float]:
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits

        if labels.all() or not labels.any():
            raise ConfigError("the validation baskets give one class only; need more data.")
        # Most candidates are not bought: keep every positive and a weighted sample of
        # negatives (at most NEGATIVE_RATIO per positive), which cuts fit time ~5x on the
        # Complete Journey without changing what the trees estimate.
        rng = np.random.default_rng(self.random_state)
        negatives = np.flatnonzero(~labels)
        rate = min(1.0, NEGATIVE_RATIO * labels.sum() / max(len(negatives), 1))
        kept = np.sort(
            np.concatenate([np.flatnonzero(labels), negatives[rng.random(len(negatives)) < rate]])
        )
        weights = np.where(labels[kept], 1.0, 1.0 / rate)
        features, labels = features[kept], labels[kept]
        # recall@k divides a customer's hits by the size of their basket, so an item of a
        # 2-item basket is worth 10 of a 20-item one; positives weigh size ** -power (mean 1).
        size_weight = np.maximum(target_sizes[kept], 1).astype(np.float64) ** -self.size_power
        weights[labels] *= size_weight[labels] / size_weight[labels].mean()
        # On small data, OpenMP threads cost more than they save, and on a busy machine
        # their barriers stall each of the 1,000 rounds (2 s alone became 150 s under load).
        threads = 1 if len(labels) < SMALL_FIT_ROWS else None
        with threadpool_limits(limits=threads, user_api="openmp"):
            trees = HistGradientBoostingClassifier(
                max_iter=self.max_iter,
                learning_rate=self.learning_rate,
                max_leaf_nodes=self.max_leaf_nodes,
                min_samples_leaf=self.min_samples_leaf,
                early_stopping=False,
                random_state=self.random_state,
            ).fit(features, labels, sample_weight=weights)
        return export_trees(trees), float(np.ravel(trees._baseline_prediction)[0])

    def _fitted_attributes(self) -> tuple[str, ...]:
        return ("trees_", "item_ids_", "customer_ids_", "neighbor_vectors_", "item_unit_", "tifu_")

    # -- scoring ---------------------------------------------------------------------------
    def score(self, history: BasketCorpus, customers: np.ndarray) -> np.ndarray:
        self.check_fitted()
        self.check_vocabulary(history, len(self.item_ids_))
        customers = np.asarray(customers, dtype=np.int64)
        if len(customers) == 0:
            return np.zeros((0, len(self.item_ids_)), dtype=np.float32)
        # A history customer the model was fitted on is not their own neighbor.
        known = self.customer_ids_.to_internal(
            history.customer_ids.to_external(customers), on_unknown="missing"
        )
        pairs, features = self._candidates(history, customers, self_rows=known)
        raw = predict_trees(features, *(self.trees_[f] for f in TREE_FIELDS)) + self.baseline_
        # Non-candidates rank below every candidate (negative scores), by popularity.
        scores = np.empty((len(customers), len(self.item_ids_)), dtype=np.float32)
        scores[:] = (self.popularity_ / max(float(self.popularity_.max()), 1e-9)) - 100.0
        # Candidates score the trees' probability that the item is in the next basket.
        scores[pairs[:, 2], pairs[:, 1]] = (1.0 / (1.0 + np.exp(-raw))).astype(np.float32)
        return scores

    def _candidates(
        self, history: BasketCorpus, customers: np.ndarray, *, self_rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Candidate pairs ``(customer, item, batch row)`` and their feature matrix."""
        history_lines = lines_of(history, customers)
        repeat = history_stats(history_lines, history.n_items)
        vectors = decayed_vectors(history_lines, history.n_items)
        neighbor_mix = neighbor_scores(vectors, self.neighbor_vectors_, self_rows, self.n_neighbors)
        explore = top_new(neighbor_mix, repeat, self.n_explore)
        rows = np.concatenate([repeat["row"], explore[0]])
        items = np.concatenate([repeat["item"], explore[1]])
        n_repeat = len(repeat["row"])
        features = np.zeros((len(rows), len(FEATURES)), dtype=np.float32)
        for name in (
            "count",
            "share",
            "decayed_fast",
            "decayed_slow",
            "per_size_fast",
            "per_size_slow",
            "small_baskets",
        ):
            features[:n_repeat, FEATURES.index(name)] = repeat[name]
        features[:, FEATURES.index("gap")] = 1000.0  # never bought: a gap longer than any
        features[:n_repeat, FEATURES.index("gap")] = repeat["gap"]
        features[:n_repeat, FEATURES.index("in_last")] = repeat["gap"] == 0
        features[:, FEATURES.index("neighbors")] = lookup(neighbor_mix, rows, items)
        context = recent_context(history_lines, self.item_unit_)
        features[:, FEATURES.index("embedding")] = np.einsum(
            "ij,ij->i", context[rows], self.item_unit_[items]
        )
        features[:, FEATURES.index("popularity")] = self.popularity_[items]
        features[:, FEATURES.index("repeat_rate")] = self.repeat_rate_[items]
        n_baskets = np.diff(history.customer_indptr)[customers].astype(np.float32)
        n_lines = (
            history.indptr[history.customer_indptr[customers + 1]]
            - history.indptr[history.customer_indptr[customers]]
        )
        features[:, FEATURES.index("n_baskets")] = n_baskets[rows]
        features[:, FEATURES.index("basket_size")] = (n_lines / np.maximum(n_baskets, 1))[rows]
        # Baskets since the last purchase, in units of the item's usual repurchase interval.
        features[:, FEATURES.index("cycle")] = 1000.0
        features[:n_repeat, FEATURES.index("cycle")] = (
            repeat["gap"] * repeat["count"] / n_baskets[repeat["row"]]
        )
        for name in ("days_gap", "days_cycle"):
            features[:, FEATURES.index(name)] = 1000.0
            features[:n_repeat, FEATURES.index(name)] = repeat[name]
        features[:, FEATURES.index("recent_popularity")] = self.recent_popularity_[items]
        # Distinct items over line items: low for customers who buy the same things again.
        distinct = np.bincount(repeat["row"], minlength=len(customers))
        features[:, FEATURES.index("novelty")] = (distinct / np.maximum(n_lines, 1))[rows]
        small = np.bincount(
            history_lines.row,
            weights=(history_lines.size <= SMALL_BASKET) / history_lines.size,
            minlength=len(customers),
        )
        features[:, FEATURES.index("small_share")] = (small / np.maximum(n_baskets, 1))[rows]
        own, neighbors = self.tifu_.components(history, customers)
        features[:, FEATURES.index("tifu_own")] = lookup(sorted_csr(own), rows, items)
        features[:, FEATURES.index("tifu_neighbors")] = lookup(sorted_csr(neighbors), rows, items)
        pairs = np.column_stack([customers[rows], items, rows]).astype(np.int64)
        return pairs, features

    # -- persistence -----------------------------------------------------------------------
    def _save_state(self, directory: Path) -> dict[str, Any]:
        for field in TREE_FIELDS:
            np.save(directory / f"tree_{field}.npy", self.trees_[field], allow_pickle=False)
        self.item_ids_.save(directory, "item_ids")
        self.customer_ids_.save(directory, "customer_ids")
        for name in ("popularity_", "repeat_rate_", "recent_popularity_", "item_unit_"):
            np.save(directory / f"{name[:-1]}.npy", getattr(self, name), allow_pickle=False)
        (directory / "tifu").mkdir()
        self.tifu_._save_state(directory / "tifu")
        matrix = self.neighbor_vectors_
        for part in ("data", "indices", "indptr"):
            np.save(directory / f"neighbors_{part}.npy", getattr(matrix, part), allow_pickle=False)
        return {
            "baseline": self.baseline_,
            "n_customers": int(matrix.shape[0]),
            "validation": self.validation_,
            "features": list(FEATURES),
        }

    def _load_state(self, directory: Path, state: dict[str, Any], *, mmap: bool) -> None:
        load = lambda name: load_array(directory, f"{name}.npy")  # noqa: E731
        self.trees_ = {field: load(f"tree_{field}") for field in TREE_FIELDS}
        if state.get("features") != list(FEATURES):
            raise DataValidationError(
                f"{directory} was saved by another customer2vec version, whose next-basket "
                f"trees read {len(state.get('features') or [])} features (this one computes "
                f"{len(FEATURES)}). Train it again: customer2vec train DATASET next-basket."
            )
        self.baseline_ = float(state["baseline"])
        self.validation_ = state.get("validation", {})
        self.item_ids_ = IdMap.load(directory, "item_ids", kind="item")
        self.customer_ids_ = IdMap.load(directory, "customer_ids", kind="customer")
        self.popularity_ = load("popularity")
        self.repeat_rate_ = load("repeat_rate")
        self.recent_popularity_ = load("recent_popularity")
        self.item_unit_ = load("item_unit")
        self.tifu_ = TIFUKNN()
        self.tifu_._load_state(directory / "tifu", {}, mmap=mmap)
        parts = [load(f"neighbors_{part}") for part in ("data", "indices", "indptr")]
        self.neighbor_vectors_ = csr_matrix(
            tuple(parts), shape=(state["n_customers"], len(self.item_ids_))
        )
