"""Intrinsic quality of embeddings: do neighbors share a category, do lists come back?"""

from __future__ import annotations

from collections.abc import Hashable, Iterable

import numpy as np
import pandas as pd

from customer2vec.config import require_int
from customer2vec.index.embeddings import Embeddings

_BLOCK = 2048


def knn_indices(unit: np.ndarray, k: int) -> np.ndarray:
    """Row indices of each row's ``k`` nearest other rows by dot product (blocked, exact)."""
    n = unit.shape[0]
    k = min(k, n - 1)
    out = np.empty((n, k), dtype=np.int64)
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        scores = unit[start:stop] @ unit.T
        scores[np.arange(stop - start), np.arange(start, stop)] = -np.inf
        part = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
        out[start:stop] = np.take_along_axis(part, order, axis=1)
    return out


def _aligned(
    embeddings: Embeddings, labels: pd.Series, ids: Iterable[Hashable] | None
) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors and labels of the ids that have both a vector and a label."""
    wanted = embeddings.keys if ids is None else np.asarray(list(ids), dtype=object)
    rows = embeddings.id_map.to_internal(wanted, on_unknown="missing")
    keep = rows >= 0
    rows, wanted = rows[keep], wanted[keep]
    values = labels.reindex(pd.Index(embeddings.id_map.to_external(rows)))
    has = values.notna().to_numpy()
    return embeddings.unit_vectors[rows[has]], values.to_numpy()[has]


def neighbor_purity(
    embeddings: Embeddings, labels: pd.Series, *, k: int = 10, ids: Iterable[Hashable] | None = None
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
        Restrict to these ids (e.g. items bought at least 20 times); neighbors are searched
        among the same ids. Ids without a vector or a label are left out.
    """
    require_int(k, "k", minimum=1)
    unit, values = _aligned(embeddings, labels, ids)
    if len(values) < 2:
        return float("nan")
    codes = pd.factorize(values)[0]
    neighbors = knn_indices(unit, k)
    return float((codes[neighbors] == codes[:, None]).mean())


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
        top[start : start + len(block)] = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    slot = np.fromiter((position[r] for r in rows), dtype=np.int64, count=len(rows))
    hits = (top[slot] == others[:, None]).any(axis=1)
    return float(hits.mean())
