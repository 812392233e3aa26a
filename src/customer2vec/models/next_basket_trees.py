"""Fitted gradient-boosted trees as plain arrays, and the numba kernel that evaluates them.

Keeps the next-basket model pickle-free: scikit-learn's trees are flattened into arrays
(feature, threshold, children, leaf value) that ``save`` writes as ``.npy`` files.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

NODE_FIELDS = ("feature", "threshold", "left", "right", "value", "is_leaf")
TREE_FIELDS = (*NODE_FIELDS, "roots")


def export_trees(model) -> dict[str, np.ndarray]:
    """Flatten scikit-learn's fitted trees into arrays (node offsets made global)."""
    parts: dict[str, list] = {f: [] for f in NODE_FIELDS}
    roots, offset = [], 0
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        roots.append(offset)
        parts["feature"].append(nodes["feature_idx"].astype(np.int32))
        parts["threshold"].append(nodes["num_threshold"].astype(np.float64))
        parts["left"].append(nodes["left"].astype(np.int64) + offset)
        parts["right"].append(nodes["right"].astype(np.int64) + offset)
        parts["value"].append(nodes["value"].astype(np.float64))
        parts["is_leaf"].append(nodes["is_leaf"].astype(np.bool_))
        offset += len(nodes)
    trees = {f: np.concatenate(v) for f, v in parts.items()}
    trees["roots"] = np.asarray(roots, dtype=np.int64)
    return trees


@njit(parallel=True, cache=True)
def predict_trees(
    features, feature, threshold, left, right, value, is_leaf, roots
):  # pragma: no cover
    out = np.zeros(features.shape[0], dtype=np.float64)
    for i in prange(features.shape[0]):
        total = 0.0
        for root in roots:
            node = root
            while not is_leaf[node]:
                go_left = features[i, feature[node]] <= threshold[node]
                node = left[node] if go_left else right[node]
            total += value[node]
        out[i] = total
    return out
