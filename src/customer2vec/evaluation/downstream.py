"""Do customer vectors help a downstream model? Cross-validated label prediction.

Each feature set (customer vectors, hand-made category shares, ALS user factors...) goes
through the same pipeline: standardize, then an L2 logistic regression whose strength is
chosen by an inner cross-validation on the training folds only, so no feature set gets a
hand-tuned advantage and no test fold leaks into the choice. Scores are the mean and
standard deviation of ROC AUC and accuracy over stratified outer folds.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy.sparse import issparse

from customer2vec.config import require_int
from customer2vec.errors import DataValidationError
from customer2vec.vectors.embeddings import Embeddings

#: A feature set: an ``Embeddings`` or a DataFrame indexed by customer id.
Features = Embeddings | pd.DataFrame


def _as_frame(features: Features) -> pd.DataFrame:
    if isinstance(features, Embeddings):
        return pd.DataFrame(np.asarray(features.vectors), index=pd.Index(features.keys))
    if isinstance(features, pd.DataFrame):
        return features
    raise DataValidationError(
        f"features must be Embeddings or a DataFrame indexed by id; got {type(features)}."
    )


def label_score(
    features: Features,
    labels: pd.Series,
    *,
    n_splits: int = 5,
    random_state: int = 0,
) -> dict[str, float]:
    """Cross-validated AUC and accuracy of predicting binary ``labels`` from ``features``.

    Only ids present in both are used; their count is returned as ``n``. Raises
    ``DataValidationError`` when the label is not binary or a class has too few members.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    require_int(n_splits, "n_splits", minimum=2)
    frame = _as_frame(features)
    labels = labels.dropna()
    common = frame.index.intersection(labels.index)
    y = labels.loc[common].astype(int).to_numpy()
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) != 2:
        raise DataValidationError(
            f"label {labels.name!r} must have two classes among the {len(common)} customers "
            f"with features; got {len(classes)}."
        )
    if counts.min() < n_splits:
        raise DataValidationError(
            f"label {labels.name!r} has only {counts.min()} customers in its smaller class; "
            f"need at least {n_splits} for {n_splits}-fold cross-validation."
        )
    x = frame.loc[common].to_numpy(dtype=np.float64)
    model = GridSearchCV(
        make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)),
        {"logisticregression__C": np.logspace(-4, 2, 10)},
        cv=3,
        scoring="roc_auc",
    )
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=random_state)
    scores = cross_validate(model, x, y, cv=folds, scoring=("roc_auc", "accuracy"))
    return {
        "n": len(y),
        "positive_rate": float(y.mean()),
        "auc": float(np.mean(scores["test_roc_auc"])),
        "auc_std": float(np.std(scores["test_roc_auc"])),
        "accuracy": float(np.mean(scores["test_accuracy"])),
    }


def compare_features(
    feature_sets: Mapping[str, Features],
    labels: Mapping[str, pd.Series],
    *,
    n_splits: int = 5,
    random_state: int = 0,
) -> pd.DataFrame:
    """:func:`label_score` for every feature set and label: one row per pair."""
    rows = []
    for label_name, label in labels.items():
        for feature_name, features in feature_sets.items():
            score = label_score(
                features, label.rename(label_name), n_splits=n_splits, random_state=random_state
            )
            rows.append({"label": label_name, "features": feature_name, **score})
    return pd.DataFrame(rows)


def share_features(
    customer_items, customer_ids: np.ndarray, item_groups: np.ndarray, *, prefix: str = ""
) -> pd.DataFrame:
    """Hand-made features: each customer's share of purchases per item group (rows sum to 1).

    ``customer_items`` is a customers x items count matrix (rows in ``customer_ids`` order)
    and ``item_groups`` the group (department, category...) of each item column.
    """
    from customer2vec.corpus.matrix import share_matrix

    shares, names = share_matrix(customer_items, item_groups)
    dense = shares.toarray() if issparse(shares) else np.asarray(shares)
    keep = dense.sum(axis=0) > 0
    columns = [f"{prefix}{name}" for name, k in zip(names, keep, strict=True) if k]
    return pd.DataFrame(dense[:, keep], index=pd.Index(customer_ids), columns=columns)
