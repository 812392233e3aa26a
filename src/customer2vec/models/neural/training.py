"""Training plumbing of the PyTorch models: checks, batches, optimizers, sparse products."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from customer2vec.config import require_float, require_int
from customer2vec.corpus.baskets import concat_ranges
from customer2vec.errors import ConfigError
from customer2vec.models.neural.runtime import import_torch
from customer2vec.progress import progress

__all__ = [
    "SparseAwareAdam",
    "add_label_loss",
    "basket_targets",
    "check_softmax_training",
    "sparse_mm",
    "train_batches",
]


def check_softmax_training(model: Any) -> None:
    """Validate the training parameters the sampled-softmax sequence models share."""
    require_int(model.n_epochs, "n_epochs", minimum=1)
    require_int(model.batch_size, "batch_size", minimum=1)
    require_int(model.n_negatives, "n_negatives", minimum=1)
    require_float(model.ns_exponent, "ns_exponent", minimum=0.0, maximum=1.0)
    require_float(model.learning_rate, "learning_rate", minimum=1e-6, maximum=1.0)
    if not isinstance(model.repeat_aware, bool):
        raise ConfigError(f"`repeat_aware` must be a bool; got {model.repeat_aware!r}.")
    require_float(model.repeat_decay, "repeat_decay", minimum=0.0, maximum=1.0)
    require_int(model.n_threads, "n_threads", minimum=0)
    if model.random_state is not None:
        require_int(model.random_state, "random_state", minimum=0)


def basket_targets(torch: Any, corpus: Any, targets: np.ndarray) -> tuple[Any, Any]:
    """The items of baskets ``targets`` and, for each, its position in ``targets``."""
    lo, hi = corpus.indptr[targets], corpus.indptr[targets + 1]
    items = torch.from_numpy(corpus.indices[concat_ranges(lo, hi)].astype(np.int64))
    owners = torch.from_numpy(np.repeat(np.arange(len(targets)), hi - lo))
    return items, owners


def add_label_loss(
    torch: Any, loss: Any, head: Any, vectors: Any, labels: Any | None, weight: float
) -> Any:
    """``loss`` plus ``weight`` times the mean logistic loss of ``head(vectors)`` on the rows
    whose label is known (not NaN); ``loss`` alone without labels, weight or known rows."""
    if labels is None or weight <= 0:
        return loss
    known = ~torch.isnan(labels)
    if not bool(known.any()):
        return loss
    logit = head(vectors[known]).squeeze(1)
    return loss + weight * torch.nn.functional.binary_cross_entropy_with_logits(
        logit, labels[known]
    )


def train_batches(
    torch: Any,
    optimizer: Any,
    n_rows: int,
    batch_size: int,
    n_epochs: int,
    generator: Any,
    batch_loss: Callable[[np.ndarray], Any],
    *,
    desc: str,
) -> None:
    """Adam-style epochs: rows shuffled each epoch, ``batch_loss(rows)`` per batch, one step.

    The bar shows each epoch's mean loss per row.
    """
    bar = progress(range(n_epochs), desc=desc, unit="epoch")
    for _ in bar:
        order = torch.randperm(n_rows, generator=generator).numpy()
        total = 0.0
        for start in range(0, n_rows, batch_size):
            rows = order[start : start + batch_size]
            loss = batch_loss(rows)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            total += float(loss.detach()) * len(rows)
        bar.set_postfix(loss=f"{total / n_rows:.4f}")


class SparseAwareAdam:
    """Adam for a module's dense parameters, lazy Adam for its sparse embedding tables.

    Embedding tables (``Embedding``/``EmbeddingBag`` built with ``sparse=True``) get
    ``torch.optim.SparseAdam``, which updates only the rows a batch touched: on a catalogue of
    tens of thousands of items, dense Adam would spend most of a step on untouched rows. The
    learning rate decays linearly to zero over ``n_steps``.
    """

    def __init__(self, module: Any, learning_rate: float, n_steps: int) -> None:
        torch = import_torch()
        tables = (torch.nn.Embedding, torch.nn.EmbeddingBag)
        sparse = [m.weight for m in module.modules() if isinstance(m, tables) and m.sparse]
        sparse_ids = {id(p) for p in sparse}
        dense = [p for p in module.parameters() if id(p) not in sparse_ids]
        self.optimizers = []
        if sparse:
            self.optimizers.append(torch.optim.SparseAdam(sparse, lr=learning_rate))
        if dense:
            self.optimizers.append(torch.optim.Adam(dense, lr=learning_rate))
        total = max(n_steps, 1)
        self.schedules = [
            torch.optim.lr_scheduler.LambdaLR(o, lambda step: max(1.0 - step / total, 0.0))
            for o in self.optimizers
        ]

    def step(self, loss: Any) -> None:
        """Back-propagate ``loss`` and take one step (gradients are cleared first)."""
        for optimizer in self.optimizers:
            optimizer.zero_grad()
        loss.backward()
        for optimizer, schedule in zip(self.optimizers, self.schedules, strict=True):
            optimizer.step()
            schedule.step()


def sparse_mm(matrix: Any, weight: Any) -> Any:
    """``matrix @ weight`` for a SciPy sparse ``matrix`` and a float32 torch ``weight``.

    Differentiable in ``weight`` (its gradient is ``matrix.T @ grad``). SciPy does both
    products, so a batch of sparse rows (customers' bags of items) meets an item table
    without the sort and coalesce that ``EmbeddingBag``'s backward pays on every step.
    """
    return _sparse_mm_function().apply(weight, matrix)


@functools.cache
def _sparse_mm_function() -> Any:
    torch = import_torch()

    class SparseMM(torch.autograd.Function):
        @staticmethod
        def forward(ctx: Any, weight: Any, matrix: Any) -> Any:
            ctx.matrix = matrix
            product = matrix @ weight.detach().numpy()
            return torch.from_numpy(np.ascontiguousarray(product, dtype=np.float32))

        @staticmethod
        def backward(ctx: Any, grad: Any) -> tuple[Any, None]:
            product = ctx.matrix.T @ grad.detach().numpy()
            return torch.from_numpy(np.ascontiguousarray(product, dtype=np.float32)), None

    return SparseMM
