"""Segments of customers (or clusters of items) by k-means, with k chosen by silhouette.

Vectors are L2-normalized first, so k-means groups by direction (cosine), the geometry
the embeddings are trained in. Profiles say what each segment buys more than everyone
else (share and lift by department/category) and show sample customers' purchases.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from customer2vec.config import require_int
from customer2vec.errors import ConfigError
from customer2vec.vectors.embeddings import Embeddings


@dataclass
class Segmentation:
    """Labels per id, the silhouette-vs-k curve, and the chosen k."""

    labels: pd.Series
    k: int
    silhouette: float
    curve: pd.DataFrame
    centers: np.ndarray


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def kmeans_by_silhouette(
    vectors: np.ndarray,
    ids: Iterable,
    *,
    k: int | str = "auto",
    k_range: Iterable[int] = range(2, 13),
    sample_size: int = 5000,
    random_state: int = 0,
    normalize: bool = True,
) -> Segmentation:
    """k-means for each k in ``k_range`` (or the given ``k``); keep the best silhouette.

    The silhouette is computed on a sample of ``sample_size`` rows (the same sample for
    every k), so the search stays fast at 200K customers.
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    data = _unit(vectors) if normalize else np.asarray(vectors, dtype=np.float32)
    n = data.shape[0]
    if k == "auto":
        # No more clusters than distinct rows (k-means would warn and repeat points).
        distinct = len(np.unique(np.ascontiguousarray(data).view(f"V{4 * data.shape[1]}")))
        candidates = [c for c in k_range if 2 <= c < n and c <= distinct]
    elif isinstance(k, int) and not isinstance(k, bool):
        candidates = [require_int(k, "k", minimum=2, maximum=max(n - 1, 2))]
    else:
        raise ConfigError(f"`k` must be 'auto' or an int >= 2; got {k!r}.")
    if not candidates:
        if k == "auto" and n >= 3:
            raise ConfigError(
                f"the {n} vectors hold {distinct} distinct value(s); segmenting needs at "
                "least 2. Train the model on more varied data."
            )
        raise ConfigError(f"need at least 3 rows to segment; got {n}.")
    rng = np.random.default_rng(random_state)
    sample = rng.choice(n, size=min(sample_size, n), replace=False)
    rows, fits = [], {}
    for c in candidates:
        model = KMeans(n_clusters=c, n_init=4, random_state=random_state).fit(data)
        score = (
            float(silhouette_score(data[sample], model.labels_[sample]))
            if len(np.unique(model.labels_[sample])) > 1
            else float("nan")
        )
        rows.append({"k": c, "silhouette": score, "inertia": float(model.inertia_)})
        fits[c] = model
    curve = pd.DataFrame(rows)
    best = (
        int(curve.loc[curve["silhouette"].idxmax(), "k"])
        if curve["silhouette"].notna().any()
        else candidates[0]
    )
    model = fits[best]
    labels = pd.Series(model.labels_.astype(np.int32), index=pd.Index(list(ids)), name="segment")
    return Segmentation(
        labels,
        best,
        float(curve.set_index("k").loc[best, "silhouette"]),
        curve,
        model.cluster_centers_,
    )


def segment_embeddings(embeddings: Embeddings, **kwargs) -> Segmentation:
    """:func:`kmeans_by_silhouette` on an :class:`Embeddings` (labels keyed by its ids)."""
    return kmeans_by_silhouette(embeddings.vectors, embeddings.keys, **kwargs)


def profile(labels: np.ndarray, shares: csr_matrix, groups: list, *, top: int = 3) -> pd.DataFrame:
    """Per segment: size, and the groups with the highest lift (share in segment / overall).

    Lift says what a segment buys *more than everyone else*, which is what a marketer
    needs; raw shares would show milk and bread for every segment.
    """
    overall = np.asarray(shares.mean(axis=0)).ravel()
    rows = []
    for segment in np.unique(labels):
        mask = labels == segment
        within = np.asarray(shares[mask].mean(axis=0)).ravel()
        lift = within / np.maximum(overall, 1e-12)
        # A group describes a segment when it is bought more than overall and is not tiny.
        relevant = (within >= 0.01) & (lift > 1.0)
        order = np.argsort(-np.where(relevant, lift, -np.inf))[:top]
        for rank, g in enumerate(order, start=1):
            if not relevant[g]:
                continue
            rows.append(
                {
                    "segment": int(segment),
                    "size": int(mask.sum()),
                    "share_of_customers": float(mask.mean()),
                    "rank": rank,
                    "group": groups[g],
                    "share": float(within[g]),
                    "overall_share": float(overall[g]),
                    "lift": float(lift[g]),
                }
            )
    return pd.DataFrame(rows)
