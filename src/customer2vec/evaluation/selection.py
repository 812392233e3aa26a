"""Automatic tuning: random search on a sample, judged on held-out baskets.

The validation task fits any item-vector model: hide each sampled customer's last basket,
train on the rest, and ask how many of a held-out basket's other items come back among an
item's ``k`` nearest neighbors (basket completion recall@k). Trial 0 is always the
defaults, so tuning never picks something worse than them on the validation baskets.
Tuning on a 10% sample keeps most of the gain (Chamberlain et al. 2020); the winner is
then refit on all the data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.errors import ConfigError
from customer2vec.models import create_model, get_model_class
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.search import top_rows

log = logging.getLogger(__name__)


def split_last_baskets(
    baskets: BasketCorpus, *, sample: float = 0.1, min_customers: int = 200, random_state: int = 0
) -> tuple[BasketCorpus, BasketCorpus]:
    """(training corpus, held-out last baskets) for a random sample of customers."""
    rng = np.random.default_rng(random_state)
    n_take = min(baskets.n_customers, max(min_customers, round(sample * baskets.n_customers)))
    chosen = np.sort(rng.choice(baskets.n_customers, size=n_take, replace=False))
    bounds = baskets.customer_indptr
    starts, stops = bounds[chosen], bounds[chosen + 1]
    multi = stops - starts >= 2  # a customer with one basket has nothing left to train on
    last = stops[multi] - 1
    mine = np.concatenate([np.arange(a, b) for a, b in zip(starts, stops, strict=True)])
    train = np.setdiff1d(mine, last, assume_unique=True)
    return baskets.take(train), baskets.take(last)


def completion_recall(
    vectors: Embeddings,
    held_out: BasketCorpus,
    train: BasketCorpus,
    *,
    k: int = 10,
    max_baskets: int = 2000,
    random_state: int = 0,
) -> float:
    """Share of a held-out basket's other items found among each item's ``k`` neighbors.

    Only items seen in training count (a model cannot place what it never saw).
    """
    seen = train.item_counts > 0
    rng = np.random.default_rng(random_state)
    order = rng.permutation(held_out.n_baskets)[:max_baskets]
    unit = vectors.unit_vectors
    rows = vectors.id_map.to_internal(train.item_ids.external, on_unknown="missing")
    candidates = np.flatnonzero(seen & (rows >= 0))
    sub = unit[rows[candidates]]
    position = np.full(train.n_items, -1, dtype=np.int64)
    position[candidates] = np.arange(len(candidates))
    hits = total = 0.0
    for b in order:
        items = held_out.indices[held_out.indptr[b] : held_out.indptr[b + 1]]
        items = items[position[items] >= 0]
        if len(items) < 2:
            continue
        scores = sub[position[items]] @ sub.T
        scores[np.arange(len(items)), position[items]] = -np.inf
        kk = min(k, len(candidates) - 1)
        top = top_rows(scores, kk)
        found = np.isin(top, position[items]).sum(axis=1)
        hits += float((found / np.minimum(kk, len(items) - 1)).sum())
        total += len(items)
    return hits / total if total else float("nan")


def tune(
    name: str,
    baskets: BasketCorpus,
    *,
    base_params: Mapping[str, Any] | None = None,
    n_trials: int = 12,
    sample: float = 0.1,
    k: int = 10,
    random_state: int = 0,
) -> tuple[dict[str, Any], pd.DataFrame]:
    """Random search over the model's ``search_space``; return (best params, trials table)."""
    require_int(n_trials, "n_trials", minimum=1)
    require_float(sample, "sample", minimum=0.0, maximum=1.0)
    space = get_model_class(name).search_space
    if not space:
        raise ConfigError(f"model {name!r} has no search space; train it without --tune.")
    base = dict(base_params or {})
    fixed = sorted(set(base) & set(space))
    if fixed:
        log.info("tuning keeps the given %s fixed", ", ".join(fixed))
    train, held_out = split_last_baskets(baskets, sample=sample, random_state=random_state)
    rng = np.random.default_rng(random_state)
    trials = [{}] + [
        {key: values[rng.integers(len(values))] for key, values in space.items() if key not in base}
        for _ in range(n_trials - 1)
    ]
    rows = []
    for trial in tqdm(trials, desc=f"tuning {name}", unit="trial", leave=False):
        params = {**base, **trial}
        started = time.perf_counter()
        model = create_model(name, **params).fit(train)
        score = completion_recall(model.item_vectors_, held_out, train, k=k)
        rows.append(
            {**trial, "seconds": time.perf_counter() - started, f"completion_recall@{k}": score}
        )
    metric = f"completion_recall@{k}"
    table = pd.DataFrame(rows)
    table = table[[*[c for c in table.columns if c not in ("seconds", metric)], "seconds", metric]]
    scores = table[metric].to_numpy()
    best = int(np.nanargmax(scores)) if np.isfinite(scores).any() else 0
    log.info(
        "tuning %s: best trial %d of %d (%s %.4f; defaults %.4f)",
        name,
        best,
        len(trials),
        metric,
        scores[best],
        scores[0],
    )
    return {**base, **trials[best]}, table
