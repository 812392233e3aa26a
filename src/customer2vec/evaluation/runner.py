"""`customer2vec evaluate`: compare ranking models on a dataset's held-out next baskets.

Names -> models (registry defaults) -> a leak-free split -> :func:`evaluate_models`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from customer2vec.config import require_choice
from customer2vec.corpus.baskets import build_baskets
from customer2vec.data.dataset import Dataset
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models import create_model, get_model_class, model_names

log = logging.getLogger(__name__)

PROTOCOLS = ("last-basket", "time-split")
#: Compared by default: the baselines, a discovery recommender and the learned model.
DEFAULT_MODELS = ("popularity", "top-frequency", "tifu-knn", "item-knn", "als", "next-basket")


def ranking_model_names() -> list[str]:
    """Registered models that can rank items (usable by ``evaluate`` and ``recommend``)."""
    return [name for name in model_names() if get_model_class(name).can_rank]


def evaluate_dataset(
    dataset_path: str | Path,
    protocol: str = "last-basket",
    models: Sequence[str] = DEFAULT_MODELS,
    ks: Sequence[int] = (10, 20),
    min_baskets: int = 3,
    *,
    sample: int | None = None,
    exclude_seen: bool | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Fit each named model (default parameters) on the training part and score its ranking.

    Parameters
    ----------
    dataset_path
        A dataset directory.
    protocol
        ``"last-basket"`` (each customer's last basket, for customers with at least
        ``min_baskets``) or ``"time-split"`` (the first basket after a cutoff that leaves the
        last 10% of baskets out; customers with two baskets before it).
    models
        Registered ranking model names.
    ks
        Metric cut-offs.
    min_baskets
        ``"last-basket"`` only: fewest baskets of an evaluated customer.
    sample
        Score at most this many evaluated customers, drawn at random (seeded); every
        customer still trains the models. ``None`` scores them all.
    exclude_seen
        Hide items a customer bought before, as ``recommend --exclude-seen`` does. None:
        each model's own policy (what ``recommend`` does by default).
    progress
        Progress bars on stderr.

    Returns
    -------
    pandas.DataFrame
        One row per model (see :func:`~customer2vec.evaluation.nextbasket.evaluate_models`).

    Raises
    ------
    ConfigError
        If a model name is unknown or names a model that cannot rank, or the protocol is.
    DataValidationError
        If the dataset cannot be split by the protocol.
    """
    from customer2vec.evaluation.nextbasket import (
        evaluate_models,
        sample_targets,
        split_last_basket,
        split_time,
    )

    require_choice(protocol, "protocol", PROTOCOLS)
    names = list(dict.fromkeys(models))
    if not names:
        raise ConfigError("`models` must name at least one model; got none.")
    instances = {}
    for name in names:
        model = create_model(name)
        if not model.can_rank:
            raise ConfigError(
                f"model {name!r} cannot rank items; choose among "
                f"{', '.join(ranking_model_names())}."
            )
        instances[name] = model
    corpus = build_baskets(Dataset.open(dataset_path))
    if corpus.n_baskets == 0:
        raise DataValidationError(f"{dataset_path} holds no baskets to evaluate on.")
    if protocol == "last-basket":
        train, targets = split_last_basket(corpus, min_baskets=min_baskets)
    else:
        train, targets = split_time(corpus)
    if sample is not None:
        targets = sample_targets(targets, sample)
    log.info(
        "evaluating %d models on %d customers (%s, %d training baskets)",
        len(instances),
        targets.n_customers,
        protocol,
        train.n_baskets,
    )
    return evaluate_models(
        train, targets, instances, ks=ks, exclude_seen=exclude_seen, progress=progress
    )
