"""Train a registered model on a dataset: build its corpus, fit, save with its config.

Configuration comes from a TOML file and ``key=value`` overrides (overrides win)::

    # item2vec.toml
    min_item_count = 1
    [params]
    n_factors = 64
    n_epochs = 20

``sample = 0.1`` (``train --sample 0.1``) trains on about a tenth of the customers, chosen by
a hash of the customer id salted with ``sample_seed`` (see
:class:`~customer2vec.corpus.sample.CustomerSample`): only their baskets are pulled into
memory, while the item vocabulary stays that of every customer. The model then recommends
and exports for every customer of the dataset (customers outside the sample are scored from
their history: inferred or rolled-up vectors, as for new customers).

Unknown keys are refused; the resolved configuration is saved in the model's ``model.json``.
"""

from __future__ import annotations

import logging
import os
import time
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from customer2vec.columns import Columns
from customer2vec.config import require_float, require_int
from customer2vec.corpus.sample import CustomerSample
from customer2vec.data.dataset import Dataset
from customer2vec.data.outputs import MODEL_OUTPUT, check_output
from customer2vec.errors import ConfigError
from customer2vec.models import create_model
from customer2vec.models.base import Model
from customer2vec.models.params import validate_params

log = logging.getLogger(__name__)
CONFIG_KEYS = {
    "model",
    "min_item_count",
    "params",
    "tune",
    "tune_trials",
    "tune_sample",
    "sample",
    "sample_seed",
}


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML training config; unknown top-level keys raise ``ConfigError``."""
    path = Path(path)
    try:
        config = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"config file not found: {path}.") from err
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"{path} is not valid TOML ({err}).") from err
    unknown = sorted(set(config) - CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key {unknown[0]!r}; allowed: {', '.join(sorted(CONFIG_KEYS))} "
            "(model parameters go under [params])."
        )
    if not isinstance(config.get("params", {}), dict):
        raise ConfigError(f"{path}: [params] must be a table of model parameters.")
    return config


def parse_param(text: str) -> tuple[str, Any]:
    """Parse ``key=value``; the value is read as TOML (numbers, booleans, strings)."""
    key, sep, raw = text.partition("=")
    key = key.strip().replace("-", "_")
    if not sep or not key:
        raise ConfigError(f"parameter {text!r} must look like key=value, e.g. n_factors=64.")
    try:
        value = tomllib.loads(f"v = {raw.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    return key, value


def resolve_config(
    name: str | None,
    config_file: str | Path | None = None,
    overrides: Mapping[str, Any] | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Merge a config file, parameter overrides and settings (``tune``...) into one config.

    Later sources win: file, then ``overrides`` (model parameters), then ``settings``.
    """
    config = load_config(config_file) if config_file else {}
    config.update({key: value for key, value in settings.items() if value is not None})
    model = name or config.get("model")
    if not model:
        raise ConfigError('no model named: pass --model NAME (or model = "..." in --config).')
    if name and config.get("model") and config["model"] != name:
        raise ConfigError(
            f"--model {name} disagrees with model = {config['model']!r} in the config file; "
            "drop one."
        )
    resolved = {
        "model": model,
        "min_item_count": config.get("min_item_count", 1),
        "params": {**config.get("params", {}), **(overrides or {})},
        "tune": bool(config.get("tune", False)),
        "tune_trials": config.get("tune_trials", 12),
        "tune_sample": config.get("tune_sample", 0.1),
        "sample": config.get("sample", 1.0),
        "sample_seed": config.get("sample_seed", 0),
    }
    CustomerSample(resolved["sample"], resolved["sample_seed"])  # checked before any work
    require_int(resolved["min_item_count"], "min_item_count", minimum=1)
    require_int(resolved["tune_trials"], "tune_trials (--tune-trials)", minimum=1)
    sample = require_float(resolved["tune_sample"], "tune_sample (--tune-sample)", minimum=0.0)
    if not 0 < sample <= 1:
        raise ConfigError(
            f"`tune_sample (--tune-sample)` must be a share of customers in (0, 1]; got {sample}."
        )
    return resolved


def train(dataset: Dataset, config: Mapping[str, Any]) -> Model:
    """Build the corpus the model needs, tune if asked, and fit; details go to ``meta_``."""
    params = dict(config["params"])
    model = create_model(config["model"], **params)
    validate_params(model)
    min_item_count = require_int(config.get("min_item_count", 1), "min_item_count", minimum=1)
    sample = CustomerSample(config.get("sample", 1.0), config.get("sample_seed", 0))
    started = time.perf_counter()
    corpus = build_corpus(dataset, model.corpus_kind, min_item_count=min_item_count, sample=sample)
    corpus_seconds = time.perf_counter() - started
    sampled = None
    if not sample.everyone:
        baskets = getattr(corpus, "baskets", corpus)
        sampled = {**sample.describe(), "customers": baskets.n_customers}
        log.info(
            "training on a sample of %d customers (%.3g of them, seed %d)",
            baskets.n_customers,
            sample.fraction,
            sample.seed,
        )
    tuning = None
    if config.get("tune"):
        from customer2vec.evaluation.selection import tune

        started = time.perf_counter()
        params, trials = tune(
            model.name,
            corpus,
            base_params=params,
            n_trials=config.get("tune_trials", 12),
            sample=config.get("tune_sample", 0.1),
        )
        model = create_model(config["model"], **params)
        tuning = {
            "seconds": round(time.perf_counter() - started, 3),
            "chosen": params,
            "trials": trials.to_dict(orient="records"),
        }
    log.info("training %s ...", model.name)
    started = time.perf_counter()
    model.fit(corpus)
    fit_seconds = time.perf_counter() - started
    log.info("trained %s in %.1f s (corpus %.1f s)", model.name, fit_seconds, corpus_seconds)
    model.meta_ = {
        # Absolute, so the model works from any directory; Model.save adds the path
        # relative to the model directory (see models.base.model_dataset_path).
        "dataset": {
            "path": str(Path(os.path.abspath(dataset.path))),
            "fingerprint": dataset.meta.get("fingerprint"),
        },
        "config": {**config, "params": model.get_params()},
        "timings": {
            "corpus_seconds": round(corpus_seconds, 3),
            "fit_seconds": round(fit_seconds, 3),
        },
        "tuning": tuning,
        "sample": sampled,
    }
    return model


def build_corpus(
    dataset: Dataset, kind: str, *, min_item_count: int = 1, sample: CustomerSample | None = None
) -> Any:
    """The corpus of ``kind`` (``"baskets"``, ``"baskets+tables"``, ``"copurchase"``).

    ``sample``: only these customers' baskets (the item vocabulary stays everyone's).

    Raises
    ------
    ConfigError
        If ``sample`` leaves customers out of a corpus that has none (``"copurchase"``).
    """
    from customer2vec.corpus import build_baskets, build_baskets_with_tables

    sample = None if sample is None or sample.everyone else sample
    if kind == "baskets":
        return build_baskets(dataset, min_item_count=min_item_count, sample=sample)
    if kind == "baskets+tables":
        return build_baskets_with_tables(dataset, min_item_count=min_item_count, sample=sample)
    if sample is not None:
        raise ConfigError(
            f"--sample {sample.fraction} samples customers, but a {kind} corpus has none (it "
            "is built from the dataset's co-purchase table); drop --sample."
        )
    if kind == "copurchase":
        from customer2vec.corpus.copurchase import build_copurchase

        return build_copurchase(dataset)
    raise ConfigError(f"unknown corpus kind {kind!r}.")


def train_to_directory(
    dataset_path: str | Path, out: str | Path, config: Mapping[str, Any], *, overwrite: bool = False
) -> Model:
    """Train on a dataset directory and save the model (with a slim item catalogue) to ``out``."""
    # Refuse a bad --out (the dataset itself, a folder we did not write) before training.
    check_output(out, overwrite=overwrite, kind=MODEL_OUTPUT, inputs=[dataset_path])
    dataset = Dataset.open(dataset_path)
    model = train(dataset, config)
    tables = {}
    if dataset.has("items") and model.has_item_vectors:
        items = dataset.read("items")
        tables["items"] = items[items[Columns.ITEM].isin(model.item_vectors_.keys)]
    model.save(out, overwrite=overwrite, meta=model.meta_, tables=tables)
    return model
