"""The attr2vec training loop: item2vec's pairs plus attribute tokens (Meta-Prod2Vec style).

Rows ``0..n_items-1`` of the weights are items, the rest attribute tokens. For each kept item
of a basket (the center) one step trains: the center against sampled basket-mates (as in
:mod:`~customer2vec.models.sgns.baskets`) and against its own attribute tokens (negatives
drawn among tokens); then one of its tokens, drawn at random, against the same basket-mates.
:class:`~customer2vec.models.attr2vec.Attr2Vec` explains the model.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.models.sgns.kernels import (
    MULT,
    add_targets,
    bounded,
    draw_alias,
    next_context,
    train_row,
    uniform,
    xorshift,
)
from customer2vec.models.sgns.sampling import (
    build_alias,
    init_vectors,
    keep_prob,
    noise_table,
    shard_seeds,
)
from customer2vec.models.sgns.shards import run_sharded
from customer2vec.progress import progress as progress_bar

__all__ = ["train_attr2vec"]


@njit(nogil=True, fastmath=True, cache=True)
def _train_shard(
    indptr,
    indices,
    baskets,
    attr_indptr,
    attr_indices,
    syn0,
    syn1,
    keep_prob,
    item_prob,
    item_alias,
    token_prob,
    token_alias,
    n_items,
    n_pairs,
    negative,
    lr0,
    lr1,
    progress0,
    progress_scale,
    state,
):
    """One pass over ``baskets`` (CSR row ids); returns the number of tokens seen.

    Rows ``0..n_items-1`` of ``syn0``/``syn1`` are items, the rest attribute tokens;
    ``attr_indices`` hold token rows (already offset by ``n_items``).
    """
    dim = syn0.shape[1]
    state = np.uint64(state)
    max_len = 1
    for b in range(baskets.shape[0]):
        bi = baskets[b]
        max_len = max(max_len, indptr[bi + 1] - indptr[bi])
    max_attrs = 0
    for i in range(attr_indptr.shape[0] - 1):
        max_attrs = max(max_attrs, attr_indptr[i + 1] - attr_indptr[i])
    has_tokens = token_prob.shape[0] > 0
    kept = np.empty(max_len, dtype=np.int32)
    neu1e = np.empty(dim, dtype=np.float32)
    v = np.empty(dim, dtype=np.float32)
    size = (n_pairs + max_attrs) * (negative + 1)
    tgt = np.empty(size, dtype=np.int32)
    lab = np.empty(size, dtype=np.float32)
    tokens = 0
    for b in range(baskets.shape[0]):
        bi = baskets[b]
        start = indptr[bi]
        stop = indptr[bi + 1]
        lr = max(lr1, lr0 - (lr0 - lr1) * (progress0 + progress_scale * tokens))
        tokens += stop - start
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
        if m < 2:
            continue
        for p in range(m):
            center = kept[p]
            n_ctx = m - 1
            sample_ctx = n_ctx > n_pairs
            if sample_ctx:
                n_ctx = n_pairs
            nt = 0
            q = 0
            for _ in range(n_ctx):  # basket-mates, as in baskets._train_shard
                ctx, q, state = next_context(kept, m, p, q, sample_ctx, state)
                nt, state = add_targets(
                    ctx, center, negative, item_prob, item_alias, tgt, lab, nt, state
                )
            n_item_targets = nt
            a0 = attr_indptr[center]
            a1 = attr_indptr[center + 1]
            if has_tokens:
                for k in range(a0, a1):  # the item predicts its own attributes
                    token = attr_indices[k]
                    tgt[nt] = token
                    lab[nt] = 1.0
                    nt += 1
                    for _k in range(negative):
                        neg, state = draw_alias(token_prob, token_alias, state)
                        neg += n_items
                        if neg == token:
                            continue
                        tgt[nt] = neg
                        lab[nt] = 0.0
                        nt += 1
            train_row(syn0, center, v, neu1e, syn1, tgt, lab, nt, lr, dim, -1)
            if a1 > a0:  # one of its attributes predicts the same basket-mates
                state = xorshift(state)
                token = attr_indices[a0 + bounded(state * MULT, a1 - a0)]
                train_row(syn0, token, v, neu1e, syn1, tgt, lab, n_item_targets, lr, dim, -1)
    return tokens


def train_attr2vec(
    corpus: BasketCorpus,
    attr_indptr: np.ndarray,
    attr_indices: np.ndarray,
    token_weights: np.ndarray,
    *,
    n_factors: int,
    n_epochs: int,
    negative: int,
    ns_exponent: float,
    sample: float,
    learning_rate: float,
    min_learning_rate: float,
    n_pairs_per_item: int,
    n_threads: int,
    random_state: int,
    progress: bool | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Train item and attribute-token vectors; returns ``(input, output)`` vectors.

    Rows are the corpus's items, then the tokens. ``attr_indptr`` (``n_items + 1``) and
    ``attr_indices`` (token ids, ``0..n_tokens-1``) give each item's tokens;
    ``token_weights`` (one per token) set how often a token is drawn as a negative.
    ``n_threads > 1`` is Hogwild over basket shards (not bit-reproducible).
    """
    n_items, n_tokens = corpus.n_items, len(token_weights)
    rng = np.random.default_rng(random_state)
    rows = n_items + n_tokens
    syn0 = init_vectors(rng, rows, n_factors)
    syn1 = np.zeros((rows, n_factors), dtype=np.float32)
    counts = np.asarray(corpus.item_counts, dtype=np.float64)
    keep = keep_prob(counts, sample)
    item_prob, item_alias = noise_table(counts, ns_exponent)
    token_w = np.asarray(token_weights, dtype=np.float64)
    if n_tokens and token_w.sum() > 0:
        token_prob, token_alias = build_alias(np.power(token_w, ns_exponent))
    else:
        token_prob, token_alias = np.zeros(0, np.uint32), np.zeros(0, np.int32)
    indptr = np.ascontiguousarray(corpus.indptr, dtype=np.int64)
    indices = np.ascontiguousarray(corpus.indices, dtype=np.int32)
    attr_ptr = np.ascontiguousarray(attr_indptr, dtype=np.int64)
    attr_rows = (np.asarray(attr_indices, dtype=np.int64) + n_items).astype(np.int32)
    n_baskets = corpus.n_baskets
    sizes = np.diff(indptr).astype(np.float64)
    n_shards = max(1, min(n_threads, n_baskets))
    progress_scale = n_shards / max(float(indptr[-1]) * n_epochs, 1.0)
    for epoch in progress_bar(range(n_epochs), desc="attr2vec", unit="epoch", enabled=progress):
        seeds = shard_seeds(rng, n_shards)

        def args(shard: np.ndarray, i: int, epoch: int = epoch, seeds: list = seeds) -> tuple:
            return (
                indptr, indices, shard, attr_ptr, attr_rows, syn0, syn1, keep, item_prob,
                item_alias, token_prob, token_alias, n_items, int(n_pairs_per_item),
                int(negative), float(learning_rate), float(min_learning_rate), epoch / n_epochs,
                progress_scale, np.uint64(seeds[i]),
            )  # fmt: skip

        run_sharded(_train_shard, np.arange(n_baskets, dtype=np.int64), sizes, n_shards, args)
    if not (np.isfinite(syn0).all() and np.isfinite(syn1).all()):
        raise FloatingPointError("attr2vec diverged (non-finite vectors); lower learning_rate.")
    return syn0, syn1
