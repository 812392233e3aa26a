"""doc2vec over customers' baskets (PV-DBOW and PV-DM): the customer2vec training loop.

A document is a customer: its baskets (``basket_indptr`` into ``bounds``, each basket a
range of ``indices``), oldest first. Contexts are basket-mates, never a window across
baskets; each epoch visits the customers, and each customer's baskets, in a fresh random
order. The same compiled step trains (items and output layer updated) and infers (both
frozen), so inference fits a new customer by the training objective.
:class:`~customer2vec.models.customer2vec.Customer2Vec` explains the choices and their
measurements.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit

from customer2vec.corpus.documents import CustomerDocuments
from customer2vec.models.sgns.kernels import (
    MULT,
    add_targets,
    apply_targets,
    bounded,
    mix64,
    uniform,
    xorshift,
)
from customer2vec.models.sgns.sampling import (
    init_vectors,
    keep_prob,
    noise_table,
    shard_seeds,
    splitmix64,
)
from customer2vec.models.sgns.shards import run_sharded
from customer2vec.progress import progress as progress_bar

__all__ = ["FrozenDoc2Vec", "freeze_doc2vec", "infer_doc2vec", "train_doc2vec"]


@njit(fastmath=True, cache=True)
def _basket(
    indices,
    start,
    stop,
    d,
    docs,
    syn0,
    syn1,
    keep_prob,
    alias_prob,
    alias_idx,
    dm,
    update_shared,
    window,
    negative,
    lr,
    state,
    kept,
    pos,
    ctx,
    tgt,
    lab,
    neu1e,
    h,
):
    """Train customer vector ``docs[d]`` (and, if ``update_shared``, items) on one basket."""
    dim = syn0.shape[1]
    m = 0
    for p in range(start, stop):  # word2vec subsampling of frequent items
        it = indices[p]
        kp = keep_prob[it]
        if kp < 1.0:
            state = xorshift(state)
            if uniform(state * MULT) >= kp:
                continue
        kept[m] = it
        m += 1
    for p in range(m):
        target = kept[p]
        # Context: up to `window` distinct basket-mates (partial Fisher-Yates draw).
        n_ctx = min(m - 1, window)
        if n_ctx < m - 1:
            for o in range(m - 1):
                pos[o] = o if o < p else o + 1
            for k in range(n_ctx):
                state = xorshift(state)
                r = k + bounded(state * MULT, m - 1 - k)
                chosen = pos[r]
                pos[r] = pos[k]
                pos[k] = chosen
                ctx[k] = kept[chosen]
        else:
            k = 0
            for o in range(m):
                if o != p:
                    ctx[k] = kept[o]
                    k += 1
        if dm:
            # PV-DM: mean of the customer vector and the basket-mates predicts the item;
            # every input gets the full error (word2vec's cbow_mean convention).
            inv = np.float32(1.0 / (n_ctx + 1))
            for j in range(dim):
                h[j] = docs[d, j]
            for k in range(n_ctx):
                c = ctx[k]
                for j in range(dim):
                    h[j] += syn0[c, j]
            for j in range(dim):
                h[j] *= inv
            nt, state = add_targets(target, -1, negative, alias_prob, alias_idx, tgt, lab, 0, state)
            apply_targets(h, neu1e, syn1, tgt, lab, nt, lr, dim, update_shared)
            for j in range(dim):
                docs[d, j] += neu1e[j]
            if update_shared:
                for k in range(n_ctx):
                    c = ctx[k]
                    for j in range(dim):
                        syn0[c, j] += neu1e[j]
        else:
            # PV-DBOW: the customer vector predicts the item ...
            nt, state = add_targets(target, -1, negative, alias_prob, alias_idx, tgt, lab, 0, state)
            apply_targets(docs[d], neu1e, syn1, tgt, lab, nt, lr, dim, update_shared)
            for j in range(dim):
                docs[d, j] += neu1e[j]
            # ... and, in training, the item predicts its basket-mates (skip-gram).
            if update_shared and n_ctx > 0:
                nt = 0
                for k in range(n_ctx):
                    nt, state = add_targets(
                        ctx[k], target, negative, alias_prob, alias_idx, tgt, lab, nt, state
                    )
                for j in range(dim):
                    h[j] = syn0[target, j]
                apply_targets(h, neu1e, syn1, tgt, lab, nt, lr, dim, True)
                for j in range(dim):
                    syn0[target, j] += neu1e[j]
    return state


@njit(cache=True)
def _buffers(max_len, window, negative, dim):
    n_ctx = max(min(max_len, window), 1)
    return (
        np.empty(max_len, dtype=np.int32),  # kept
        np.empty(max_len, dtype=np.int64),  # pos
        np.empty(n_ctx, dtype=np.int32),  # ctx
        np.empty(n_ctx * (negative + 1), dtype=np.int32),  # tgt
        np.empty(n_ctx * (negative + 1), dtype=np.float32),  # lab
        np.empty(dim, dtype=np.float32),  # neu1e
        np.empty(dim, dtype=np.float32),  # h
    )


@njit(nogil=True, fastmath=True, cache=True)
def _longest(bounds, basket_indptr, rows):
    """(Most items in a basket, most baskets of a document) among documents ``rows``."""
    items = baskets = 1
    for i in range(rows.shape[0]):
        d = rows[i]
        baskets = max(baskets, basket_indptr[d + 1] - basket_indptr[d])
        for b in range(basket_indptr[d], basket_indptr[d + 1]):
            items = max(items, bounds[b + 1] - bounds[b])
    return items, baskets


@njit(inline="always")
def _basket_order(order, first, n, state):
    """Fill ``order[:n]`` with baskets ``first .. first + n - 1`` in random order.

    A customer vector is one SGD variable updated token after token: walked oldest basket
    first, a long history's vector drifts toward its last few hundred items (a 12,000-token
    history whose last 1,800 items were all new ended up with its first 10,200 forgotten).
    Shuffling the baskets each epoch weighs the whole history evenly; contexts never cross
    baskets, so nothing else changes (measured on The Complete Journey: equal or better).
    """
    for k in range(n):
        order[k] = first + k
    for k in range(n - 1, 0, -1):  # Fisher-Yates
        state = xorshift(state)
        r = bounded(state * MULT, k + 1)
        tmp = order[k]
        order[k] = order[r]
        order[r] = tmp
    return state


@njit(nogil=True, fastmath=True, cache=True)
def _train_epoch(
    bounds,
    basket_indptr,
    indices,
    rows,
    docs,
    syn0,
    syn1,
    keep_prob,
    alias_prob,
    alias_idx,
    dm,
    window,
    negative,
    lr0,
    lr1,
    progress0,
    progress_scale,
    state,
):
    """One pass over customers ``rows``; returns the number of tokens walked.

    ``progress0 + progress_scale * tokens`` is the global progress in [0, 1] that drives the
    linear learning-rate decay.
    """
    state = np.uint64(state)
    max_items, max_baskets = _longest(bounds, basket_indptr, rows)
    kept, pos, ctx, tgt, lab, neu1e, h = _buffers(max_items, window, negative, syn0.shape[1])
    order = np.empty(max_baskets, dtype=np.int64)
    tokens = 0
    for i in range(rows.shape[0]):
        d = rows[i]
        n = basket_indptr[d + 1] - basket_indptr[d]
        state = _basket_order(order, basket_indptr[d], n, state)
        for k in range(n):
            b = order[k]
            start, stop = bounds[b], bounds[b + 1]
            lr = max(lr1, lr0 - (lr0 - lr1) * (progress0 + progress_scale * tokens))
            tokens += stop - start
            state = _basket(
                indices, start, stop, d, docs, syn0, syn1, keep_prob, alias_prob, alias_idx,
                dm, True, window, negative, lr, state, kept, pos, ctx, tgt, lab, neu1e, h,
            )  # fmt: skip
    return tokens


@njit(nogil=True, fastmath=True, cache=True)
def _infer_rows(
    bounds,
    basket_indptr,
    indices,
    rows,
    docs,
    syn0,
    syn1,
    keep_prob,
    alias_prob,
    alias_idx,
    dm,
    window,
    negative,
    lr0,
    lr1,
    n_epochs,
    seed,
):
    """Fit ``docs[d]`` for each ``d`` in ``rows`` against frozen item and output vectors.

    Each document draws its random numbers from a stream seeded by ``seed`` and its own
    tokens, so its vector does not depend on the other documents of the batch.
    """
    dim = syn0.shape[1]
    max_items, max_baskets = _longest(bounds, basket_indptr, rows)
    kept, pos, ctx, tgt, lab, neu1e, h = _buffers(max_items, window, negative, dim)
    order = np.empty(max_baskets, dtype=np.int64)
    for i in range(rows.shape[0]):
        d = rows[i]
        state = np.uint64(seed)
        for p in range(bounds[basket_indptr[d]], bounds[basket_indptr[d + 1]]):
            state = mix64(state ^ np.uint64(indices[p]))
        for b in range(basket_indptr[d], basket_indptr[d + 1] + 1):
            state = mix64(state ^ np.uint64(bounds[b] - bounds[basket_indptr[d]]))
        if state == 0:
            state = np.uint64(1)
        for j in range(dim):
            state = xorshift(state)
            docs[d, j] = np.float32((uniform(state * MULT) - 0.5) / dim)
        for epoch in range(n_epochs):
            lr = lr0 - (lr0 - lr1) * epoch / n_epochs
            n = basket_indptr[d + 1] - basket_indptr[d]
            state = _basket_order(order, basket_indptr[d], n, state)
            for k in range(n):
                b = order[k]
                state = _basket(
                    indices, bounds[b], bounds[b + 1], d, docs, syn0, syn1, keep_prob,
                    alias_prob, alias_idx, dm, False, window, negative, lr, state, kept, pos,
                    ctx, tgt, lab, neu1e, h,
                )  # fmt: skip


def train_doc2vec(
    documents: CustomerDocuments,
    item_counts: np.ndarray,
    *,
    mode: str,
    n_factors: int,
    n_epochs: int,
    window: int,
    negative: int,
    ns_exponent: float,
    sample: float,
    learning_rate: float,
    min_learning_rate: float,
    n_threads: int,
    random_state: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """Train customer, item (input) and output vectors on ``documents``.

    Returns ``(customer_vectors, item_vectors, output_vectors, n_tokens)``, where
    ``n_tokens`` counts the tokens walked over all epochs (before subsampling):
    ``n_epochs * documents.n_lines`` since no document is ever cut.
    Each epoch visits the customers, and each customer's baskets, in a fresh random order.
    With ``n_threads > 1`` customers are split into token-balanced shards trained Hogwild
    (not bit-reproducible).
    """
    rng = np.random.default_rng(random_state)
    n_items, n_docs = documents.n_items, documents.n_customers
    syn0 = init_vectors(rng, n_items, n_factors)
    docs = init_vectors(rng, n_docs, n_factors)
    syn1 = np.zeros((n_items, n_factors), dtype=np.float32)
    bounds = np.ascontiguousarray(documents.basket_bounds, dtype=np.int64)
    basket_indptr = np.ascontiguousarray(documents.basket_indptr, dtype=np.int64)
    indices = np.ascontiguousarray(documents.indices, dtype=np.int32)
    keep = keep_prob(np.asarray(item_counts, dtype=np.float64), sample)
    alias_prob, alias_idx = noise_table(item_counts, ns_exponent)
    lengths = documents.row_lengths()
    n_shards = max(1, min(n_threads, n_docs))
    progress_scale = n_shards / max(float(documents.n_lines) * n_epochs, 1.0)
    n_tokens = 0
    for epoch in progress_bar(range(n_epochs), desc="customer2vec", unit="epoch"):
        order = rng.permutation(n_docs).astype(np.int64)
        seeds = shard_seeds(rng, n_shards)

        def args(shard: np.ndarray, i: int, epoch: int = epoch, seeds: list = seeds) -> tuple:
            return (
                bounds, basket_indptr, indices, shard, docs, syn0, syn1, keep, alias_prob,
                alias_idx, mode == "dm", window, negative, learning_rate, min_learning_rate,
                epoch / n_epochs, progress_scale, np.uint64(seeds[i]),
            )  # fmt: skip

        n_tokens += sum(run_sharded(_train_epoch, order, lengths, n_shards, args))
    if not (np.isfinite(docs).all() and np.isfinite(syn0).all() and np.isfinite(syn1).all()):
        raise FloatingPointError("customer2vec diverged (non-finite vectors); lower learning_rate.")
    return docs, syn0, syn1, n_tokens


class FrozenDoc2Vec(NamedTuple):
    """What inference reads: writable copies of the trained arrays and the sampling tables."""

    item_vectors: np.ndarray
    output_vectors: np.ndarray
    keep: np.ndarray
    alias_prob: np.ndarray
    alias_idx: np.ndarray


def freeze_doc2vec(
    item_vectors: np.ndarray,
    output_vectors: np.ndarray,
    item_counts: np.ndarray,
    *,
    sample: float,
    ns_exponent: float,
) -> FrozenDoc2Vec:
    """The state :func:`infer_doc2vec` needs from a trained model (built once per model)."""
    syn0 = np.array(item_vectors, dtype=np.float32, order="C")
    syn1 = np.array(output_vectors, dtype=np.float32, order="C")
    counts = np.asarray(item_counts, dtype=np.float64)
    keep = keep_prob(counts, sample)
    alias_prob, alias_idx = noise_table(counts, ns_exponent)
    return FrozenDoc2Vec(syn0, syn1, keep, alias_prob, alias_idx)


def infer_doc2vec(
    frozen: FrozenDoc2Vec,
    bounds: np.ndarray,
    basket_indptr: np.ndarray,
    indices: np.ndarray,
    *,
    mode: str,
    window: int,
    negative: int,
    learning_rate: float,
    min_learning_rate: float,
    n_epochs: int,
    n_threads: int,
    random_state: int,
) -> np.ndarray:
    """Fit one vector per document against the frozen item and output vectors.

    Documents are given like the training corpus (``basket_indptr`` into ``bounds`` into
    ``indices``). Each document's vector depends only on its tokens and ``random_state``,
    never on the batch or ``n_threads``. Returns ``float32`` of shape
    ``(n_documents, n_factors)``.
    """
    syn0, syn1, keep, alias_prob, alias_idx = frozen
    out = np.zeros((len(basket_indptr) - 1, syn0.shape[1]), dtype=np.float32)
    if len(out) == 0:
        return out
    rows = np.arange(len(out), dtype=np.int64)
    lengths = np.diff(bounds[basket_indptr])
    seed = np.uint64(splitmix64(random_state))

    def args(shard: np.ndarray, i: int) -> tuple:
        return (
            bounds, basket_indptr, indices, shard, out, syn0, syn1, keep, alias_prob, alias_idx,
            mode == "dm", window, negative, learning_rate, min_learning_rate, n_epochs, seed,
        )  # fmt: skip

    run_sharded(_infer_rows, rows, lengths, n_threads, args)
    return out
