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
    fit_size: int = 20_000,
    random_state: int = 0,
    normalize: bool = True,
) -> Segmentation:
    """k-means for each k in ``k_range`` (or the given ``k``); keep the best silhouette.

    With more than ``fit_size`` rows, k is searched on a random ``fit_size`` of them and the
    chosen k-means is then refined on every row from the sample's centers (issue 15: 11 full
    fits of 200K customers took a minute; the sample's centers are where the full fit
    converges). The silhouette is computed on ``sample_size`` of the fitted rows (the same
    rows for every k) from one distance matrix, and the chosen k's silhouette is that of the
    labels returned. The curve's inertia is over every row.
    """
    from sklearn.cluster import KMeans

    data = _unit(vectors) if normalize else np.asarray(vectors, dtype=np.float32)
    n = data.shape[0]
    require_int(fit_size, "fit_size", minimum=2)
    rng = np.random.default_rng(random_state)
    fitted = np.sort(rng.choice(n, size=fit_size, replace=False)) if n > fit_size else None
    search = data if fitted is None else data[fitted]
    if k == "auto":
        # No more clusters than distinct rows (k-means would warn and repeat points).
        distinct = _n_distinct(search)
        candidates = [c for c in k_range if 2 <= c < n and c <= distinct]
    elif isinstance(k, int) and not isinstance(k, bool):
        candidates = [require_int(k, "k", minimum=2, maximum=max(n - 1, 2))]
    else:
        raise ConfigError(f"`k` must be 'auto' or an int >= 2; got {k!r}.")
    if not candidates:
        if k == "auto" and n >= 3:
            raise ConfigError(
                f"the {n} vectors hold {distinct} distinct value(s)"
                + ("" if fitted is None else f" in a sample of {fit_size}")
                + "; segmenting needs at least 2. Train the model on more varied data."
            )
        raise ConfigError(f"need at least 3 rows to segment; got {n}.")
    sample = rng.choice(len(search), size=min(sample_size, len(search)), replace=False)
    distances = _distances(search[sample])
    rows, fits = [], {}
    for c in candidates:
        model = KMeans(n_clusters=c, n_init=4, random_state=random_state).fit(search)
        inertia = model.inertia_ if fitted is None else -model.score(data)
        score = silhouette_from_distances(distances, model.labels_[sample])
        rows.append({"k": c, "silhouette": score, "inertia": float(inertia)})
        fits[c] = model
    curve = pd.DataFrame(rows)
    best = (
        int(curve.loc[curve["silhouette"].idxmax(), "k"])
        if curve["silhouette"].notna().any()
        else candidates[0]
    )
    model = fits[best]
    labels = model.labels_
    if fitted is not None:
        model = KMeans(
            n_clusters=best, init=model.cluster_centers_, n_init=1, random_state=random_state
        ).fit(data)
        labels = model.labels_
        at_best = curve["k"] == best
        curve.loc[at_best, "silhouette"] = silhouette_from_distances(
            distances, labels[fitted[sample]]
        )
        curve.loc[at_best, "inertia"] = float(model.inertia_)
    return Segmentation(
        pd.Series(labels.astype(np.int32), index=pd.Index(list(ids)), name="segment"),
        best,
        float(curve.set_index("k").loc[best, "silhouette"]),
        curve,
        model.cluster_centers_,
    )


def silhouette_from_distances(distances: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette of ``labels`` given the rows' pairwise distances (NaN: one cluster).

    As ``sklearn.metrics.silhouette_score``: a row alone in its cluster scores 0.
    """
    codes, labels = np.unique(labels, return_inverse=True)
    if len(codes) < 2 or len(codes) >= len(labels):
        return float("nan")
    onehot = np.zeros((len(labels), len(codes)))
    onehot[np.arange(len(labels)), labels] = 1.0
    sums = distances @ onehot
    sizes = onehot.sum(axis=0)
    rows = np.arange(len(labels))
    own = sizes[labels]
    intra = sums[rows, labels] / np.maximum(own - 1, 1)
    means = sums / sizes
    means[rows, labels] = np.inf
    inter = means.min(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        scores = np.nan_to_num((inter - intra) / np.maximum(intra, inter))
    scores[own == 1] = 0.0
    return float(scores.mean())


def _distances(rows: np.ndarray) -> np.ndarray:
    """Pairwise Euclidean distances of ``rows``, in float64 (one matrix for every k)."""
    rows = rows.astype(np.float64)
    squares = np.einsum("ij,ij->i", rows, rows)
    gram = rows @ rows.T
    gram *= -2.0
    gram += squares[:, None]
    gram += squares[None, :]
    np.maximum(gram, 0.0, out=gram)
    np.fill_diagonal(gram, 0.0)
    return np.sqrt(gram, out=gram)


def _n_distinct(rows: np.ndarray) -> int:
    return len(np.unique(np.ascontiguousarray(rows).view(f"V{rows.itemsize * rows.shape[1]}")))


def segment_embeddings(embeddings: Embeddings, **kwargs) -> Segmentation:
    """:func:`kmeans_by_silhouette` on an :class:`Embeddings` (labels keyed by its ids)."""
    return kmeans_by_silhouette(embeddings.vectors, embeddings.keys, **kwargs)


def profile(labels: np.ndarray, shares: csr_matrix, groups: list, *, top: int = 3) -> pd.DataFrame:
    """Per segment: size, and the groups with the highest lift (share in segment / overall).

    Lift says what a segment buys *more than everyone else*, which is what a marketer
    needs; raw shares would show milk and bread for every segment.
    """
    overall = np.asarray(shares.mean(axis=0)).ravel()
    segments, sizes, sums = segment_sums(labels, shares)
    rows = []
    for segment, size, total in zip(segments, sizes, sums, strict=True):
        within = total / size
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
                    "size": int(size),
                    "share_of_customers": float(size / len(labels)),
                    "rank": rank,
                    "group": groups[g],
                    "share": float(within[g]),
                    "overall_share": float(overall[g]),
                    "lift": float(lift[g]),
                }
            )
    return pd.DataFrame(rows)


def segment_sums(
    labels: np.ndarray, matrix: csr_matrix
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Segments in order, their sizes, the column sums of ``matrix`` over each one's rows).

    One sparse product for every segment (boolean row masks cost a pass each).
    """
    segments, codes = np.unique(labels, return_inverse=True)
    member = csr_matrix(
        (np.ones(len(codes), dtype=np.float64), (codes, np.arange(len(codes)))),
        shape=(len(segments), len(codes)),
    )
    sums = np.asarray((member @ matrix).todense()).reshape(len(segments), matrix.shape[1])
    return segments, np.bincount(codes, minlength=len(segments)), sums
