"""Shared plumbing for the PyTorch models (autoencoder, guided, gru, candidate-gen).

PyTorch is the optional ``torch`` extra; :func:`import_torch` names it when missing. Weights
are stored as ``.npy`` arrays (no pickle, no ``torch.save``) and loaded back into a module
built from the saved parameters.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from tqdm import tqdm

from customer2vec.config import require_float, require_int
from customer2vec.data.ids import load_array
from customer2vec.errors import ConfigError, MissingDependencyError

WEIGHTS_DIR = "weights"


def import_torch() -> Any:
    """Import torch, or raise ``MissingDependencyError`` naming the extra to install."""
    try:
        import torch
    except ModuleNotFoundError as err:
        raise MissingDependencyError(
            "this model needs PyTorch: pip install 'customer2vec[torch]' "
            "(the CPU build 2.13.0; run bash scripts/setup.sh dev in a checkout)."
        ) from err
    return torch


def seed_and_threads(random_state: int, n_threads: int) -> Any:
    """Seed torch's generators and cap its CPU threads (0 = torch's default); return torch."""
    torch = import_torch()
    torch.manual_seed(random_state)
    if n_threads > 0:
        torch.set_num_threads(n_threads)
    return torch


def save_weights(module: Any, directory: Path) -> list[str]:
    """Write every tensor of ``module.state_dict()`` as ``weights/NAME.npy``; return the names."""
    folder = directory / WEIGHTS_DIR
    folder.mkdir(exist_ok=True)
    names = []
    for name, tensor in module.state_dict().items():
        np.save(folder / f"{name}.npy", tensor.detach().cpu().numpy(), allow_pickle=False)
        names.append(name)
    return names


def load_weights(module: Any, directory: Path, names: list[str]) -> Any:
    """Load ``weights/NAME.npy`` arrays written by :func:`save_weights` into ``module``."""
    torch = import_torch()
    folder = directory / WEIGHTS_DIR
    state = {name: torch.from_numpy(load_array(folder, f"{name}.npy").copy()) for name in names}
    module.load_state_dict(state)
    module.eval()
    return module


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


def decayed_counts(
    rows: np.ndarray, items: np.ndarray, ages: np.ndarray, decay: float, shape: tuple[int, int]
) -> csr_matrix:
    """Rows x items ``float32``: the sum of ``decay ** age`` over each row's history lines."""
    matrix = csr_matrix(
        (np.power(decay, ages, dtype=np.float64), (rows, items)), shape=shape, dtype=np.float64
    )
    matrix.sum_duplicates()
    return matrix.astype(np.float32)


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


def basket_targets(torch: Any, corpus: Any, targets: np.ndarray) -> tuple[Any, Any]:
    """The items of baskets ``targets`` and, for each, its position in ``targets``."""
    from customer2vec.corpus.baskets import concat_ranges

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
    bar = tqdm(range(n_epochs), desc=desc, unit="epoch", file=sys.stderr, disable=None)
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


def output_scores(module: Any, users: np.ndarray) -> np.ndarray:
    """``users . w_j + b_j`` for every item (``float32``) from ``module.item_out`` (an
    ``Embedding`` of output vectors) and ``module.item_bias``."""
    weight = module.item_out.weight.detach().numpy()
    bias = module.item_bias.detach().numpy()
    return np.asarray(users, dtype=np.float32) @ weight.T + bias


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
