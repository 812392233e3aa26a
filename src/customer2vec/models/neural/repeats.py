"""The repeat term of the sequence models: what a customer bought before, and how recently."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.sparse import csr_matrix

from customer2vec.models.neural.runtime import import_torch

__all__ = ["add_repeat_gate", "add_repeat_scores", "decayed_counts", "repeat_extra"]


def decayed_counts(
    rows: np.ndarray, items: np.ndarray, ages: np.ndarray, decay: float, shape: tuple[int, int]
) -> csr_matrix:
    """Rows x items ``float32``: the sum of ``decay ** age`` over each row's history lines."""
    matrix = csr_matrix(
        (np.power(decay, ages, dtype=np.float64), (rows, items)), shape=shape, dtype=np.float64
    )
    matrix.sum_duplicates()
    return matrix.astype(np.float32)


def add_repeat_gate(torch: Any, module: Any, dim: int, n_items: int) -> None:
    """Give ``module`` the parameters of the repeat term (see :func:`repeat_extra`).

    ``repeat_gate`` reads the gate from a ``dim``-wide row vector (softplus of a linear map,
    1 at the start, so training starts from "bought before: more likely again");
    ``repeat_bias`` is the per-item repeat bias (0 at the start).
    """
    module.repeat_gate = torch.nn.Linear(dim, 1)
    torch.nn.init.zeros_(module.repeat_gate.weight)
    torch.nn.init.constant_(module.repeat_gate.bias, float(np.log(np.e - 1.0)))
    module.repeat_bias = torch.nn.Parameter(torch.zeros(n_items))


def repeat_extra(
    module: Any, users: Any, counts: csr_matrix, owners: Any, items: Any, candidates: Any
) -> tuple[Any, Any]:
    """Repeat logits ``g(user) * log1p(r) + beta_j * [r > 0]`` for ``SampledSoftmax.loss``.

    ``counts`` (rows x items, e.g. from :func:`decayed_counts`) holds ``r``, what each row of
    ``users`` bought before; the gate ``g`` and ``beta`` are the parameters that
    :func:`add_repeat_gate` gave ``module``. Returns the extra logits of the positives
    ``(owners[k], items[k])`` and of every row and candidate.
    """
    torch = import_torch()
    gate = torch.nn.functional.softplus(module.repeat_gate(users)).squeeze(1)
    pairs = counts[np.array(owners.numpy()), np.array(items.numpy())]
    mine = torch.from_numpy(np.log1p(np.asarray(pairs, dtype=np.float32).ravel()))
    positive = gate[owners] * mine + module.repeat_bias[items] * (mine > 0)
    table = torch.from_numpy(np.log1p(counts[:, np.array(candidates.numpy())].toarray()))
    candidate = gate[:, None] * table + module.repeat_bias[candidates][None, :] * (table > 0)
    return positive, candidate


def add_repeat_scores(
    scores: np.ndarray, module: Any, users: np.ndarray, counts: csr_matrix
) -> np.ndarray:
    """Add the repeat logits of :func:`repeat_extra` to dense ``scores`` (in place)."""
    weight = module.repeat_gate.weight.detach().numpy()[0].astype(np.float64)
    bias = float(module.repeat_gate.bias.detach().numpy()[0])
    gate = np.logaddexp(0.0, users @ weight + bias)  # softplus
    item_bias = module.repeat_bias.detach().numpy()
    rows = np.repeat(np.arange(counts.shape[0]), np.diff(counts.indptr))
    scores[rows, counts.indices] += (
        gate[rows] * np.log1p(counts.data) + item_bias[counts.indices]
    ).astype(scores.dtype)
    return scores
