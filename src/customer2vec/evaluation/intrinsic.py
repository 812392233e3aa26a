"""Intrinsic quality of embeddings: do neighbors share a category, do lists come back?"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from customer2vec.config import require_choice, require_int
from customer2vec.errors import DataValidationError
from customer2vec.vectors.embeddings import Embeddings
from customer2vec.vectors.search import top_rows

_BLOCK = 2048


def knn_indices(
    unit: np.ndarray,
    k: int,
    *,
    candidates: np.ndarray | None = None,
    self_rows: np.ndarray | None = None,
) -> np.ndarray:
    """Each row's ``k`` nearest rows of ``candidates`` by dot product (blocked, exact).

    Without ``candidates`` the rows search among themselves. ``self_rows`` gives each
    query's own row in ``candidates`` (or -1), which is never returned.
    """
    if candidates is None:
        candidates, self_rows = unit, np.arange(unit.shape[0])
    n = unit.shape[0]
    k = min(k, candidates.shape[0] - 1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        scores = unit[start:stop] @ candidates.T
        if self_rows is not None:
            mine = self_rows[start:stop]
            has = mine >= 0
            scores[np.flatnonzero(has), mine[has]] = -np.inf
        out[start:stop] = top_rows(scores, k)
    return out


def _aligned(
    embeddings: Embeddings, labels: pd.Series, ids: Iterable[Hashable] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors and labels of the ids that have both a vector and a label."""
    rows = _aligned_rows(embeddings, labels, ids)
    values = labels.reindex(pd.Index(embeddings.id_map.to_external(rows))).to_numpy()
    return embeddings.unit_vectors[rows], values


def _aligned_rows(
    embeddings: Embeddings, labels: pd.Series, ids: Iterable[Hashable] | None
) -> np.ndarray:
    """Rows (in ``embeddings``) of the ids ``_aligned`` keeps, in the same order."""
    wanted = embeddings.keys if ids is None else np.asarray(list(ids), dtype=object)
    rows = embeddings.id_map.to_internal(wanted, on_unknown="missing")
    rows = rows[rows >= 0]
    has = labels.reindex(pd.Index(embeddings.id_map.to_external(rows))).notna().to_numpy()
    return rows[has]


def neighbor_purity(
    embeddings: Embeddings,
    labels: pd.Series,
    *,
    k: int = 10,
    ids: Iterable[Hashable] | None = None,
    search: Literal["ids", "all"] = "ids",
) -> float:
    """Share of each id's ``k`` nearest neighbors that carry the same label.

    Parameters
    ----------
    embeddings
        Vectors to judge.
    labels
        Label per external id (e.g. ``items.set_index("item_id")["department"]``).
    k
        Neighbors per id.
    ids
        Judge these ids (e.g. items bought at least 20 times); ids without a vector or a
        label are left out. Default: every id with both.
    search
        ``"ids"``: neighbors are searched among the judged ids only. ``"all"``: among every
        vector (rare items included), a harder test when rare items are poorly placed;
        neighbors without a label count as misses.
    """
    require_int(k, "k", minimum=1)
    require_choice(search, "search", ("ids", "all"))
    unit, values = _aligned(embeddings, labels, ids)
    if len(values) < 2:
        return float("nan")
    if search == "ids":
        codes = pd.factorize(values)[0]
        return float((codes[knn_indices(unit, k)] == codes[:, None]).mean())
    everything = labels.reindex(pd.Index(embeddings.keys)).to_numpy()
    codes, _ = pd.factorize(np.concatenate([values, everything]), use_na_sentinel=True)
    query_codes, all_codes = codes[: len(values)], codes[len(values) :]
    judged = _aligned_rows(embeddings, labels, ids)
    neighbors = knn_indices(unit, k, candidates=embeddings.unit_vectors, self_rows=judged)
    return float((all_codes[neighbors] == query_codes[:, None]).mean())


def silhouette_by(
    embeddings: Embeddings,
    labels: pd.Series,
    *,
    ids: Iterable[Hashable] | None = None,
    sample_size: int = 5000,
    random_state: int = 0,
) -> float:
    """Cosine silhouette of the grouping given by ``labels`` (on a sample, for speed)."""
    from sklearn.metrics import silhouette_score

    unit, values = _aligned(embeddings, labels, ids)
    if len(np.unique(values)) < 2:
        return float("nan")
    return float(
        silhouette_score(
            unit,
            values,
            metric="cosine",
            sample_size=min(sample_size, len(values)),
            random_state=random_state,
        )
    )


def neighbor_recall(
    embeddings: Embeddings,
    pairs: pd.DataFrame,
    *,
    k: int = 10,
    item_col: str = "item_id",
    other_col: str = "other_item_id",
) -> float:
    """Share of listed (item, other item) pairs where the other is among item's ``k`` neighbors.

    ``pairs`` is a co-purchase list table; pairs whose items have no vector are left out.
    """
    require_int(k, "k", minimum=1)
    id_map = embeddings.id_map
    rows = id_map.to_internal(pairs[item_col].to_numpy(), on_unknown="missing")
    others = id_map.to_internal(pairs[other_col].to_numpy(), on_unknown="missing")
    keep = (rows >= 0) & (others >= 0)
    rows, others = rows[keep], others[keep]
    if len(rows) == 0:
        return float("nan")
    queries = np.unique(rows)
    unit = embeddings.unit_vectors
    hits = np.zeros(len(rows), dtype=bool)
    position = {q: i for i, q in enumerate(queries)}
    top = np.empty((len(queries), k), dtype=np.int64)
    for start in range(0, len(queries), _BLOCK):
        block = queries[start : start + _BLOCK]
        scores = unit[block] @ unit.T
        scores[np.arange(len(block)), block] = -np.inf
        top[start : start + len(block)] = top_rows(scores, k)
    slot = np.fromiter((position[r] for r in rows), dtype=np.int64, count=len(rows))
    hits = (top[slot] == others[:, None]).any(axis=1)
    return float(hits.mean())


def item_quality(
    embeddings: Embeddings,
    items: pd.DataFrame,
    *,
    attributes: Iterable[str] | None = None,
    k: int = 10,
    ids: Iterable[Hashable] | None = None,
    pairs: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Purity@k and silhouette for each item attribute, plus co-purchase recall@k.

    Parameters
    ----------
    embeddings
        Item vectors.
    items
        Catalogue with ``item_id`` and attribute columns.
    attributes
        Attributes to judge; by default every text column with 2 to 1,000 distinct values
        (names and near-unique columns say nothing about neighbors).
    k
        Neighbors per item.
    ids
        Population (e.g. items bought at least 20 times); default all items with vectors.
    pairs
        Co-purchase lists (``item_id``, ``other_item_id``) for recall@k, optional.

    Returns
    -------
    pandas.DataFrame
        Columns ``metric``, ``attribute``, ``value``, ``n_items``.
    """
    table = items.drop_duplicates("item_id").set_index("item_id")
    if attributes is None:
        attributes = [
            c
            for c in table.columns
            if c != "name"
            and (table[c].dtype == object or pd.api.types.is_string_dtype(table[c]))
            and 2 <= table[c].nunique() <= 1000
        ]
    population = list(ids) if ids is not None else None
    rows = []
    for attribute in attributes:
        if attribute not in table.columns:
            raise DataValidationError(
                f"no item attribute {attribute!r}; the catalogue has "
                f"{', '.join(map(str, table.columns))}."
            )
        labels = table[attribute]
        unit, _ = _aligned(embeddings, labels, population)
        rows.append(
            {
                "metric": f"purity@{k}",
                "attribute": attribute,
                "value": neighbor_purity(embeddings, labels, k=k, ids=population),
                "n_items": len(unit),
            }
        )
        rows.append(
            {
                "metric": "silhouette",
                "attribute": attribute,
                "value": silhouette_by(embeddings, labels, ids=population),
                "n_items": len(unit),
            }
        )
    if pairs is not None and len(pairs):
        rows.append(
            {
                "metric": f"copurchase_recall@{k}",
                "attribute": "lists",
                "value": neighbor_recall(embeddings, pairs, k=k),
                "n_items": int(pairs["item_id"].nunique()),
            }
        )
    return pd.DataFrame(rows, columns=["metric", "attribute", "value", "n_items"])


def evaluate_model_items(
    model_dir: str | Path,
    *,
    attributes: Iterable[str] | None = None,
    k: int = 10,
    min_count: int = 20,
    dataset: str | Path | None = None,
) -> pd.DataFrame:
    """:func:`item_quality` for a saved model, judged on its training dataset.

    Items bought fewer than ``min_count`` times are left out (their neighbors are noise for
    every method). Co-purchase recall uses the dataset's lists, or lists derived from its
    baskets (each item's 10 most co-bought items) when it has none.
    """
    from customer2vec.corpus.copurchase import build_copurchase
    from customer2vec.recommend.saved import SavedModel

    require_int(min_count, "min_count", minimum=1)
    saved = SavedModel.open(model_dir, dataset=dataset)
    if not saved.model.has_item_vectors:
        raise DataValidationError(f"model {saved.model.name!r} has no item vectors to judge.")
    vectors = saved.model.item_vectors_
    data = saved.dataset
    if saved.catalog.table.empty:
        raise DataValidationError(
            f"no item attributes for {model_dir}: ingest the dataset with --items to judge "
            "neighbors by department or category."
        )
    items = saved.catalog.table.reset_index()
    ids = data.item_counts(min_count=min_count)["item_id"] if data.has("transactions") else None
    pairs = build_copurchase(data).to_pairs()
    return item_quality(vectors, items, attributes=attributes, k=k, ids=ids, pairs=pairs)
