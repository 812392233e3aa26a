"""The output layer of the item-predicting models: sampled softmax, output vectors, biases."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from customer2vec.models.neural.repeats import add_repeat_gate
from customer2vec.models.neural.runtime import import_torch

__all__ = [
    "SampledSoftmax",
    "add_item_output",
    "bag_rows",
    "gather_rows",
    "log_prior",
    "output_scores",
]


class SampledSoftmax:
    """Softmax over the item vocabulary for many positives at once, sampled when it is large.

    Each positive ``(row, item)`` is scored against candidates ``user . w_j + b_j``. With at
    least as many ``n_negatives`` as items the softmax is exact (every item competes).
    Otherwise ``n_negatives`` items drawn from ``Q ~ count ** exponent`` are shared by every
    row of a batch, and every logit, the positive's included, is corrected by
    ``-log(n_negatives * Q_j)`` (Jean et al. 2015; Yi et al. 2019, "logQ correction"), so the
    loss estimates the full softmax and ``w_j`` and ``b_j`` keep the popularity that uniform
    negatives would teach them to ignore (the issue #5 lesson: without it, the nearest
    vectors recommend rare items).

    Parameters
    ----------
    item_counts
        Baskets holding each item (the sampling weights).
    n_negatives
        Shared negatives per batch.
    exponent
        Exponent of the sampling distribution.
    generator
        ``torch.Generator`` the negatives are drawn from (seeded by the model).
    """

    def __init__(
        self,
        item_counts: np.ndarray,
        n_negatives: int,
        exponent: float,
        generator: Any,
        *,
        sparse: bool = False,
    ) -> None:
        torch = import_torch()
        counts = np.maximum(np.asarray(item_counts, dtype=np.float64), 1.0)
        self.n_items = len(counts)
        self.exact = n_negatives >= self.n_items
        self.n_negatives = n_negatives
        self.generator = generator
        self.sparse = sparse
        q = counts**exponent
        q /= q.sum()
        self.probabilities = torch.from_numpy(q.astype(np.float32))
        self.log_q = torch.from_numpy(np.log(n_negatives * q).astype(np.float32))

    def loss(
        self,
        users: Any,
        owners: Any,
        items: Any,
        weight: Any,
        bias: Any,
        *,
        extra: Callable[[Any], tuple[Any, Any]] | None = None,
    ) -> Any:
        """Mean cross-entropy of each positive ``items[k]`` for row ``users[owners[k]]``.

        ``users`` is ``(rows, dim)``; ``owners`` and ``items`` are ``int64`` of one length;
        ``weight`` is ``(n_items, dim)`` and ``bias`` ``(n_items,)``. With ``sparse=True``
        the gradient of ``weight`` is sparse (only the rows in the batch): optimize it with
        :class:`SparseAwareAdam`. ``extra(candidates)``, given the candidate items of this
        step, returns logits to add to the positives' ``(len(items),)`` and to the
        candidates' ``(rows, len(candidates))`` (e.g. a term from the row's history).
        """
        torch = import_torch()
        candidates = (
            torch.arange(self.n_items)
            if self.exact
            else torch.multinomial(
                self.probabilities, self.n_negatives, replacement=True, generator=self.generator
            )
        )
        if self.sparse:
            positive_rows, candidate_rows = gather_rows(weight, items, candidates)
        else:
            positive_rows, candidate_rows = weight[items], weight[candidates]
        positive = (users[owners] * positive_rows).sum(1) + bias[items]
        logits = users @ candidate_rows.T + bias[candidates]
        if extra is not None:
            positive_extra, candidate_extra = extra(candidates)
            positive = positive + positive_extra
            logits = logits + candidate_extra
        if self.exact:
            return (torch.logsumexp(logits, dim=1)[owners] - positive).mean()
        positive = positive - self.log_q[items]
        partition = torch.logsumexp(logits - self.log_q[candidates], dim=1)[owners]
        return (torch.logaddexp(positive, partition) - positive).mean()


def log_prior(item_counts: np.ndarray) -> np.ndarray:
    """``log`` of each item's share of the counts (``float32``): a start for output biases."""
    counts = np.maximum(np.asarray(item_counts, dtype=np.float64), 0.5)
    return np.log(counts / counts.sum()).astype(np.float32)


def gather_rows(weight: Any, *indices: Any) -> list[Any]:
    """``weight[i]`` for each index tensor, with one sparse gradient over the distinct rows.

    Index tensors of a batch repeat rows many times (an item in many baskets); gathering
    each distinct row once keeps the sparse gradient that ``SparseAdam`` must coalesce as
    small as the set of rows touched, instead of one row per lookup.
    """
    torch = import_torch()
    every = torch.cat(indices)
    unique, inverse = torch.unique(every, return_inverse=True)
    table = torch.nn.functional.embedding(unique, weight, sparse=True)
    return [table[part] for part in torch.split(inverse, [len(i) for i in indices])]


def bag_rows(
    weight: Any, items: Any, offsets: Any, *, mode: str, per_sample_weights: Any = None
) -> Any:
    """``EmbeddingBag`` of ``weight`` over bags of ``items`` via :func:`gather_rows`."""
    torch = import_torch()
    unique, inverse = torch.unique(items, return_inverse=True)
    table = torch.nn.functional.embedding(unique, weight, sparse=True)
    return torch.nn.functional.embedding_bag(
        inverse, table, offsets, mode=mode, per_sample_weights=per_sample_weights
    )


def add_item_output(
    torch: Any,
    module: Any,
    n_items: int,
    dim: int,
    item_counts: np.ndarray | None,
    *,
    repeat_aware: bool,
) -> None:
    """Give ``module`` the softmax's output item vectors (``item_out``, small at the start),
    biases at the items' log popularity (``item_bias``) and, with ``repeat_aware``, the
    repeat term (:func:`add_repeat_gate`)."""
    module.item_out = torch.nn.Embedding(n_items, dim, sparse=True)
    torch.nn.init.normal_(module.item_out.weight, std=0.01)
    prior = np.zeros(n_items, np.float32) if item_counts is None else log_prior(item_counts)
    module.item_bias = torch.nn.Parameter(torch.from_numpy(prior))
    if repeat_aware:
        add_repeat_gate(torch, module, dim, n_items)


def output_scores(module: Any, users: np.ndarray) -> np.ndarray:
    """``users . w_j + b_j`` for every item (``float32``) from ``module.item_out`` (an
    ``Embedding`` of output vectors) and ``module.item_bias``."""
    weight = module.item_out.weight.detach().numpy()
    bias = module.item_bias.detach().numpy()
    return np.asarray(users, dtype=np.float32) @ weight.T + bias
