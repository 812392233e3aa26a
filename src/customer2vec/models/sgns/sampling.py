"""Python-side tables and seeds of the SGNS loops: alias tables, subsampling, start vectors."""

from __future__ import annotations

import numpy as np

__all__ = [
    "build_alias",
    "init_vectors",
    "keep_prob",
    "noise_table",
    "shard_seeds",
    "splitmix64",
]


def splitmix64(x: int) -> int:
    """splitmix64 of ``x``, never 0 (a valid xorshift64* state)."""
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) or 1


def shard_seeds(rng: np.random.Generator, n_shards: int) -> list[int]:
    """One xorshift64* state per shard, drawn from ``rng``."""
    return [splitmix64(int(s)) for s in rng.integers(0, 2**63 - 1, size=n_shards)]


def init_vectors(rng: np.random.Generator, n_rows: int, n_factors: int) -> np.ndarray:
    """word2vec's start: ``float32`` uniform in [-0.5, 0.5) / ``n_factors``."""
    return (rng.random((n_rows, n_factors), dtype=np.float32) - np.float32(0.5)) / np.float32(
        n_factors
    )


def build_alias(weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vose alias table: draw ``i`` with probability ``weights[i] / weights.sum()``.

    Returns ``(threshold, alias)``: pick a slot ``s`` uniformly, keep it when a uniform 32-bit
    integer is below ``threshold[s]`` (uint32), else take ``alias[s]``.
    """
    w = np.asarray(weights, dtype=np.float64)
    n = w.shape[0]
    if n == 0 or not np.isfinite(w).all() or (w < 0).any() or w.sum() <= 0:
        raise ValueError("alias weights must be finite, non-negative and not all zero")
    p = w * (n / w.sum())
    prob = np.ones(n, dtype=np.float64)
    alias = np.arange(n, dtype=np.int32)
    small = np.flatnonzero(p < 1.0).tolist()
    large = np.flatnonzero(p >= 1.0).tolist()
    while small and large:
        s = small.pop()
        g = large[-1]
        prob[s] = p[s]
        alias[s] = g
        p[g] -= 1.0 - p[s]
        if p[g] < 1.0:
            large.pop()
            small.append(g)
    threshold = np.minimum(np.floor(prob * 2.0**32), 2.0**32 - 1).astype(np.uint32)
    threshold[prob >= 1.0] = np.uint32(2**32 - 1)
    alias[prob >= 1.0] = np.flatnonzero(prob >= 1.0)  # never used, keep self-alias
    return threshold, alias


def noise_table(item_counts: np.ndarray, ns_exponent: float) -> tuple[np.ndarray, np.ndarray]:
    """Alias table of the negatives: ``count ** ns_exponent`` over items seen at least once.

    Uniform when no item has a count.
    """
    counts = np.asarray(item_counts, dtype=np.float64)
    weights = np.where(counts > 0, np.power(np.maximum(counts, 1.0), ns_exponent), 0.0)
    if weights.sum() <= 0:
        weights = np.ones(len(counts))
    return build_alias(weights)


def keep_prob(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec (C tool) subsampling: keep with prob (sqrt(f/t) + 1) * t/f, f = relative freq."""
    if not sample or sample <= 0:
        return np.ones(counts.shape[0], dtype=np.float32)
    f = counts / max(counts.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.sqrt(sample / f) + sample / f
    return np.where(counts > 0, np.minimum(kp, 1.0), 1.0).astype(np.float32)
