"""Next-basket evaluation: leak-free splits, ranking metrics at k, and a model comparison.

Two protocols hold out one basket per evaluated customer:

- :func:`split_last_basket`: each customer's last basket (the protocol of the TIFU-KNN
  paper and of SPEC section 5's Complete Journey targets);
- :func:`split_time`: everything from a cutoff date on is hidden; a customer's first
  basket after it is the target (no model sees the future of anyone).

Models rank every item (no exclusion of items bought before: most of a grocery basket is
repeat purchases). Metrics are computed on the top-k item indices per customer, vectorized.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus, concat_ranges
from customer2vec.corpus.matrix import customer_item_matrix
from customer2vec.errors import DataValidationError
from customer2vec.models.ranking import RankingModel
from customer2vec.progress import progress as progress_bar
from customer2vec.recommend.ranker import Ranker

#: Customers scored at once: bounds memory at 200K customers x 50K items (200 MB float32).
BATCH_SIZE = 1024
METRIC_NAMES = (
    "recall",
    "ndcg",
    "hit",
    "precision",
    "recall_repeat",
    "recall_new",
    "coverage",
)


@dataclass(frozen=True, eq=False)
class Targets:
    """The held-out basket of each evaluated customer.

    Attributes
    ----------
    customers
        ``int64`` internal customer index of each evaluated customer *in the training
        corpus* (``train.customer_ids``), one per target.
    customer_ids
        External id of each evaluated customer.
    indptr, indices
        CSR of the target item sets: ``indices[indptr[t]:indptr[t + 1]]`` are the distinct
        internal item ids (sorted) of target ``t``.
    baskets
        ``int64`` index of each target basket in the corpus that was split.
    train_baskets
        ``int64`` indices (sorted) of the baskets of that corpus kept for training.
    """

    customers: np.ndarray
    customer_ids: np.ndarray
    indptr: np.ndarray
    indices: np.ndarray
    baskets: np.ndarray
    train_baskets: np.ndarray

    @property
    def n_customers(self) -> int:
        """Number of evaluated customers."""
        return len(self.customers)

    def items(self, t: int) -> np.ndarray:
        """Internal item ids of target ``t``."""
        return self.indices[self.indptr[t] : self.indptr[t + 1]]


def split_last_basket(
    corpus: BasketCorpus, *, min_baskets: int = 3
) -> tuple[BasketCorpus, Targets]:
    """Hold out the last basket of every customer with at least ``min_baskets`` baskets.

    Customers with fewer baskets stay in training whole: they inform the models (item
    statistics, neighbors) but are not evaluated.

    Parameters
    ----------
    corpus
        Baskets in chronological order per customer.
    min_baskets
        Fewest baskets an evaluated customer has (>= 2, so one is left to learn from).

    Returns
    -------
    (BasketCorpus, Targets)
        The training corpus (same item vocabulary) and the held-out baskets.

    Raises
    ------
    ConfigError
        If ``min_baskets`` is not an int >= 2.
    DataValidationError
        If no customer has ``min_baskets`` baskets.
    """
    require_int(min_baskets, "min_baskets", minimum=2)
    bounds = corpus.customer_indptr
    n_baskets = np.diff(bounds)
    evaluated = np.flatnonzero(n_baskets >= min_baskets)
    if len(evaluated) == 0:
        raise DataValidationError(
            f"no customer has {min_baskets} baskets (most: {int(n_baskets.max(initial=0))}); "
            "lower min_baskets."
        )
    held_out = bounds[evaluated + 1] - 1
    keep = np.ones(corpus.n_baskets, dtype=bool)
    keep[held_out] = False
    return _finish(corpus, np.flatnonzero(keep), held_out, evaluated)


def split_time(
    corpus: BasketCorpus,
    *,
    cutoff: str | np.datetime64 | pd.Timestamp | None = None,
    test_share: float = 0.1,
) -> tuple[BasketCorpus, Targets]:
    """Hide every basket from ``cutoff`` on; a customer's first basket after it is the target.

    Training keeps every basket strictly before the cutoff. Only customers with at least
    two baskets before the cutoff (so that a history, and a repeat pattern, exists) and at
    least one at or after it are evaluated; later baskets are unused.

    Parameters
    ----------
    corpus
        Baskets with ``basket_time``.
    cutoff
        First instant held out. Default: the day (00:00) of the basket that leaves the last
        ``test_share`` of all baskets at or after it (a whole day falls on one side).
    test_share
        Share of baskets held out when ``cutoff`` is None, in (0, 1).

    Returns
    -------
    (BasketCorpus, Targets)

    Raises
    ------
    DataValidationError
        If the corpus has no timestamps, or no customer qualifies for evaluation.
    """
    if corpus.basket_time is None:
        raise DataValidationError(
            "split_time needs basket timestamps but this corpus has none (the dataset was "
            "ingested without a time column); use split_last_basket instead."
        )
    times = corpus.basket_time
    if cutoff is None:
        require_float(test_share, "test_share", minimum=0.0, maximum=1.0)
        if not 0.0 < test_share < 1.0:
            raise DataValidationError(f"`test_share` must be in (0, 1); got {test_share!r}.")
        ordered = np.sort(times)
        position = min(int(np.floor(len(ordered) * (1.0 - test_share))), len(ordered) - 1)
        limit = ordered[position].astype("datetime64[D]")
    else:
        limit = np.datetime64(pd.Timestamp(cutoff).to_datetime64())
    before = times < limit
    n_before = np.bincount(corpus.basket_customer[before], minlength=corpus.n_customers)
    after = np.flatnonzero(~before)
    customers, first = np.unique(corpus.basket_customer[after], return_index=True)
    eligible = n_before[customers] >= 2
    if not eligible.any():
        raise DataValidationError(
            f"no customer has 2 baskets before the cutoff {limit} and one after it; move the "
            "cutoff (or test_share)."
        )
    return _finish(corpus, np.flatnonzero(before), after[first[eligible]], customers[eligible])


def _finish(
    corpus: BasketCorpus, train_baskets: np.ndarray, held_out: np.ndarray, customers: np.ndarray
) -> tuple[BasketCorpus, Targets]:
    train = corpus.take(train_baskets)
    external = corpus.customer_ids.to_external(customers)
    # ``take`` re-indexes customers to those present, so look them up by external id.
    in_train = train.customer_ids.to_internal(external)
    sets = corpus.take(held_out).to_csr()  # binary: each item once, sorted
    targets = Targets(
        customers=in_train.astype(np.int64),
        customer_ids=external,
        indptr=sets.indptr.astype(np.int64),
        indices=sets.indices.astype(np.int32),
        baskets=held_out.astype(np.int64),
        train_baskets=train_baskets.astype(np.int64),
    )
    return train, targets


def sample_targets(targets: Targets, n: int, *, random_state: int = 0) -> Targets:
    """At most ``n`` of the targets, drawn at random (seeded); all of them when fewer.

    Training is unchanged (every customer still informs the models); only the number of
    customers scored shrinks, which bounds evaluation time on large datasets.
    """
    require_int(n, "sample", minimum=1)
    if n >= targets.n_customers:
        return targets
    chosen = np.sort(
        np.random.default_rng(random_state).choice(targets.n_customers, n, replace=False)
    )
    starts, stops = targets.indptr[chosen], targets.indptr[chosen + 1]
    indptr = np.concatenate([[0], np.cumsum(stops - starts)]).astype(targets.indptr.dtype)
    return Targets(
        customers=targets.customers[chosen],
        customer_ids=targets.customer_ids[chosen],
        indptr=indptr,
        indices=targets.indices[concat_ranges(starts, stops)],
        baskets=targets.baskets[chosen],
        train_baskets=targets.train_baskets,
    )


def check_no_leak(targets: Targets) -> None:
    """Raise ``DataValidationError`` if a target basket is also a training basket."""
    leaked = np.intersect1d(targets.baskets, targets.train_baskets)
    if len(leaked):
        raise DataValidationError(
            f"{len(leaked)} target baskets are also in training (first: {int(leaked[0])})."
        )


# -- metrics ------------------------------------------------------------------------------
def rank_metrics(
    top: np.ndarray,
    target_indptr: np.ndarray,
    target_indices: np.ndarray,
    *,
    n_items: int,
    ks: Sequence[int] = (10, 20),
    seen_indptr: np.ndarray | None = None,
    seen_indices: np.ndarray | None = None,
) -> dict[str, float]:
    """Mean ranking metrics of top-k lists against target item sets.

    Parameters
    ----------
    top
        ``(n_customers, >= max(ks))`` recommended item indices, best first; -1 marks an
        empty slot (fewer items than k could be ranked).
    target_indptr, target_indices
        CSR of each customer's target item set (distinct items, at least one).
    n_items
        Catalogue size, for coverage.
    ks
        Cut-offs.
    seen_indptr, seen_indices
        CSR of the items each customer bought in training; they split targets into
        *repeat* and *new* items. Without them ``recall_repeat``/``recall_new`` are NaN.

    Returns
    -------
    dict
        ``{metric}@{k}`` for each k: ``recall`` (hits / |target|), ``ndcg`` (binary gains,
        ideal DCG over min(k, |target|) hits), ``hit`` (share with a hit), ``precision``
        (hits / k), ``recall_repeat`` (repeat hits / repeat targets, averaged over the
        customers with at least one repeat target: a customer whose target holds only new
        items has nothing to recall there, and counting them as 0 would mix the two
        questions), ``recall_new`` (the same for new items) and ``coverage`` (distinct items
        recommended to anyone / ``n_items``).
    """
    top = np.asarray(top)
    n_customers = top.shape[0]
    sizes = np.diff(target_indptr)
    owners = np.repeat(np.arange(n_customers, dtype=np.int64), sizes)
    target_keys = owners * n_items + target_indices
    valid = top >= 0
    top_keys = np.arange(n_customers, dtype=np.int64)[:, None] * n_items + top
    hit = valid & np.isin(top_keys, target_keys)
    if seen_indptr is not None and seen_indices is not None:
        seen_owners = np.repeat(np.arange(n_customers, dtype=np.int64), np.diff(seen_indptr))
        seen_keys = seen_owners * n_items + seen_indices
        top_repeat = np.isin(top_keys, seen_keys)
        n_repeat = np.bincount(
            owners, weights=np.isin(target_keys, seen_keys), minlength=n_customers
        )
    else:
        top_repeat = n_repeat = None
    discount = 1.0 / np.log2(np.arange(top.shape[1]) + 2.0)
    ideal = np.cumsum(discount)
    result: dict[str, float] = {}
    for k in ks:
        h = hit[:, :k]
        hits = h.sum(axis=1)
        ideal_k = ideal[np.clip(np.minimum(k, sizes), 1, None) - 1]
        result[f"recall@{k}"] = _mean(hits / np.maximum(sizes, 1))
        result[f"ndcg@{k}"] = _mean((h * discount[:k]).sum(axis=1) / ideal_k)
        result[f"hit@{k}"] = _mean(hits > 0)
        result[f"precision@{k}"] = _mean(hits / k)
        if top_repeat is None or n_repeat is None:
            result[f"recall_repeat@{k}"] = result[f"recall_new@{k}"] = float("nan")
        else:
            repeat_hits = (h & top_repeat[:, :k]).sum(axis=1)
            n_new = sizes - n_repeat
            has_repeat, has_new = n_repeat > 0, n_new > 0
            result[f"recall_repeat@{k}"] = _mean(repeat_hits[has_repeat] / n_repeat[has_repeat])
            result[f"recall_new@{k}"] = _mean((hits - repeat_hits)[has_new] / n_new[has_new])
        shown = top[:, :k][valid[:, :k]]
        result[f"coverage@{k}"] = len(np.unique(shown)) / n_items if n_items else float("nan")
    return result


def _mean(values: np.ndarray) -> float:
    return float(np.mean(values)) if len(values) else float("nan")


# -- harness ------------------------------------------------------------------------------
def evaluate_models(
    train: BasketCorpus,
    targets: Targets,
    models: Mapping[str, RankingModel],
    *,
    ks: Sequence[int] = (10, 20),
    batch_size: int = BATCH_SIZE,
    exclude_seen: bool | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Fit each model on ``train``, rank every item for the targets' customers, score.

    Parameters
    ----------
    train, targets
        From :func:`split_last_basket` or :func:`split_time`.
    models
        Name -> unfitted ranking model (fitted in place).
    ks
        Cut-offs for the metrics.
    batch_size
        Customers scored at once.
    exclude_seen
        Hide items a customer bought in training. None: each model's policy (``repeats``),
        exactly as ``recommend`` ranks by default.
    progress
        Show a progress bar per model (stderr).

    Returns
    -------
    pandas.DataFrame
        One row per model: ``model, fit_s, score_s, customers`` then, for each k,
        ``recall@k, ndcg@k, hit@k, precision@k, recall_repeat@k, recall_new@k, coverage@k``
        (see :func:`rank_metrics`). ``table.attrs["rankings"]`` maps each model to its
        ranked lists: the targets' customers x ``max(ks)`` item indices (-1: none), ranked by
        the same :class:`~customer2vec.recommend.ranker.Ranker` as ``recommend``.
    """
    ks = tuple(ks)
    if not ks:
        raise DataValidationError("`ks` must name at least one cut-off; got none.")
    for k in ks:
        require_int(k, "k", minimum=1)
    require_int(batch_size, "batch_size", minimum=1)
    depth = max(ks)
    seen = _customer_items(train, targets.customers)
    rows: list[dict[str, Any]] = []
    rankings: dict[str, np.ndarray] = {}
    for name, model in models.items():
        started = time.perf_counter()
        model.fit(train)
        fit_s = time.perf_counter() - started
        started = time.perf_counter()
        # The ranker a user's `recommend` uses: the model's seen-items policy, same ties.
        ranker = Ranker(model, exclude_seen=exclude_seen)
        top = np.empty((targets.n_customers, depth), dtype=np.int64)
        bar = progress_bar(total=targets.n_customers, desc=name, unit="customer", enabled=progress)
        with bar:
            for start in range(0, targets.n_customers, batch_size):
                batch = targets.customers[start : start + batch_size]
                top[start : start + len(batch)] = ranker.rank(train, batch, depth)[0]
                bar.update(len(batch))
        score_s = time.perf_counter() - started
        metrics = rank_metrics(
            top,
            targets.indptr,
            targets.indices,
            n_items=train.n_items,
            ks=ks,
            seen_indptr=seen.indptr,
            seen_indices=seen.indices,
        )
        row: dict[str, Any] = {
            "model": name,
            "fit_s": fit_s,
            "score_s": score_s,
            "customers": targets.n_customers,
        }
        row.update({f"{m}@{k}": metrics[f"{m}@{k}"] for k in ks for m in METRIC_NAMES})
        rows.append(row)
        rankings[name] = top
    columns = ["model", "fit_s", "score_s", "customers"]
    columns += [f"{m}@{k}" for k in ks for m in METRIC_NAMES]
    table = pd.DataFrame(rows, columns=columns)
    # The ranked lists themselves (customers x max(ks) item indices, -1: none), so that what
    # was measured can be compared with what `recommend` returns.
    table.attrs["rankings"] = rankings
    return table


def _customer_items(corpus: BasketCorpus, customers: np.ndarray) -> csr_matrix:
    """Binary customers x items matrix of the given customers' training baskets."""
    return customer_item_matrix(corpus, weighting="binary")[customers]
