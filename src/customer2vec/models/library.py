"""What a notebook user expects of a model: ``fit`` on a dataset, ``similar`` as a DataFrame.

``Model.fit`` accepts what the model consumes (a corpus), a :class:`Dataset`, or the path of a
dataset directory: :func:`as_corpus` builds the model's ``corpus_kind`` from the latter two,
and records the dataset in ``meta_`` so that ``model.save(dir)`` writes a model the command
line can use (``customer2vec similar DIR ITEM``, ``recommend``, ``serve``)::

    from customer2vec import Item2Vec
    model = Item2Vec().fit("data/shop")            # a dataset directory from `ingest`
    Item2Vec().fit("data/shop", min_item_count=5)  # items in 5+ baskets, as `train` can
    model.similar("SKU-1042", n=5)                 # DataFrame: item_id, score, rank, names
    model.item_vectors_.to_frame(wide=True)        # item_id, dim_0 ... dim_63
    model.save("models/i2v")                       # then: customer2vec similar models/i2v SKU-1042
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.data.dataset import Dataset
from customer2vec.errors import ConfigError

__all__ = ["as_corpus", "dataset_meta", "similar_frame"]


def as_corpus(data: Any, kind: str, *, min_item_count: int = 1) -> tuple[Any, Dataset | None]:
    """``(corpus, dataset)``: ``data`` itself when it is a corpus, else the corpus of ``kind``
    built from the dataset ``data`` is or names (``dataset`` is then that dataset), without
    the items in fewer than ``min_item_count`` baskets."""
    require_int(min_item_count, "min_item_count", minimum=1)
    if isinstance(data, str | os.PathLike):
        data = Dataset.open(data)
    if not isinstance(data, Dataset):
        if min_item_count != 1:
            raise ConfigError(
                f"min_item_count={min_item_count} applies when fitting on a dataset; this "
                f"{type(data).__name__} is built already (build it with min_item_count, or "
                "pass the dataset)."
            )
        return data, None
    from customer2vec.corpus import build_baskets, build_baskets_with_tables

    if kind == "baskets":
        return build_baskets(data, min_item_count=min_item_count), data
    if kind == "baskets+tables":
        return build_baskets_with_tables(data, min_item_count=min_item_count), data
    from customer2vec.corpus.copurchase import build_copurchase

    return build_copurchase(data), data


def dataset_meta(dataset: Dataset, *, min_item_count: int = 1) -> dict[str, Any]:
    """``model.json``'s reference to the dataset a model was fitted on (absolute path), and
    the ``min_item_count`` its corpus was built with (so a saved model's history matches)."""
    return {
        "dataset": {
            "path": str(Path(os.path.abspath(dataset.path))),
            "fingerprint": dataset.meta.get("fingerprint"),
        },
        "config": {"min_item_count": min_item_count},
    }


def similar_frame(model: Any, item: Any, n: int) -> pd.DataFrame:
    """``model.item_vectors_.similar(item, n)`` as a DataFrame, with the catalogue's columns
    (names, departments...) when the model knows its dataset."""
    frame = model.item_vectors_.similar(item, n).to_frame()
    reference = (model.__dict__.get("meta_") or {}).get("dataset") or {}
    path = reference.get("path")
    if path and Path(path).is_dir():
        dataset = Dataset.open(path)
        if dataset.has("items"):
            items = dataset.read("items")
            if Columns.ITEM in items.columns:
                items = items.drop_duplicates(Columns.ITEM)
                frame = frame.merge(items, on=Columns.ITEM, how="left", sort=False)
    return frame
