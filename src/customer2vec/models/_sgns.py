"""Skip-gram with negative sampling (SGNS) kernels for basket corpora.

Pure numerical code: no dataset or IO. The corpus is a CSR matrix of baskets (``indptr`` into
``indices``); item ids are ``0..n_items-1``, by convention in descending frequency order.

Algorithm (``context="basket"``, item2vec of Barkan & Koenigstein 2016 with set semantics):

* every epoch each basket is first subsampled (word2vec rule, ``sample``);
* for each kept item (the "center") ``n_pairs_per_item`` basket-mates are drawn uniformly with
  replacement (or all of them when the basket is small), so the cost of an epoch is linear in
  the basket size rather than quadratic as with a whole-basket window;
* every (center, context) pair is an SGNS update with ``negative`` negatives drawn from
  ``count ** ns_exponent`` through an alias table (O(1) per draw);
* the learning rate decays linearly from ``learning_rate`` to ``min_learning_rate``.

``context="window"`` is the classic word2vec window for ordered sessions (each row of the CSR is
a session; the effective window is shrunk at random as in word2vec).

Speed: SGNS on a 60K+ vocabulary is bound by memory latency (each negative is a random 256-byte
row). The kernel first draws all targets of a center, then walks them while software-prefetching
the output rows a few steps ahead, which roughly halves the time per update.

Threads: ``n_threads > 1`` runs lock-free Hogwild (Recht et al. 2011) over disjoint basket shards
in Python threads that release the GIL. Updates then race, so results are not bit-reproducible;
with ``n_threads=1`` the same ``random_state`` gives identical vectors.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = ["DEFAULTS", "build_alias", "item_embeddings", "train_sgns", "warmup"]

# Defaults, see train_sgns for the reasoning behind each one.
DEFAULTS = dict(
    n_factors=64,
    n_epochs=10,
    negative=5,
    ns_exponent=0.75,
    sample=1e-3,
    learning_rate=0.1,
    min_learning_rate=1e-4,
    context="basket",
    window=5,
    n_pairs_per_item=5,
)

_MULT = np.uint64(2685821657736338717)  # xorshift64* output multiplier
_INV_2_53 = 1.0 / 9007199254740992.0
_PREFETCH_DIST = 4  # targets ahead; 2..8 are all close, 0 is ~2x slower on 68K items
_MAX_EXP = 6.0


# ----------------------------------------------------------------------------- helpers


@intrinsic
def _prefetch_row(typingctx, arr, row):
    """Software prefetch of the first 256 bytes of ``arr[row]`` (llvm.prefetch, read, L1)."""

    def codegen(context, builder, signature, args):
        aryty, rowty = signature.args
        ary = context.make_array(aryty)(context, builder, args[0])
        r = context.cast(builder, args[1], rowty, types.intp)
        zero = context.get_constant(types.intp, 0)
        ptr = cgutils.get_item_pointer2(
            context,
            builder,
            data=ary.data,
            shape=cgutils.unpack_tuple(builder, ary.shape),
            strides=cgutils.unpack_tuple(builder, ary.strides),
            layout=aryty.layout,
            inds=[r, zero],
        )
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0i8")
        base = builder.bitcast(ptr, i8p)
        for off in (0, 64, 128, 192):
            p = builder.gep(base, [ir.Constant(ir.IntType(64), off)])
            builder.call(fn, [p, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return types.void(arr, row), codegen


@njit(inline="always")
def _xorshift(state):
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


@njit(inline="always")
def _bounded(r, n):
    """Map the high 32 bits of ``r`` to [0, n) (Lemire's multiply-shift)."""
    return np.int64(((r >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always")
def _uniform(r):
    return np.float64(r >> np.uint64(11)) * _INV_2_53


@njit(inline="always")
def _step(v, neu1e, syn1, t, label, lr, dim, update_out=True):
    """One logistic SGNS update of output row ``syn1[t]`` against input vector ``v``.

    ``neu1e`` accumulates the input's gradient. ``update_out=False`` leaves the output row
    frozen (inference of new vectors against a trained model); callers pass a constant, which
    numba folds away after inlining.
    """
    f = np.float32(0.0)
    for j in range(dim):
        f += v[j] * syn1[t, j]
    if f > _MAX_EXP:
        g = (label - 1.0) * lr
    elif f < -_MAX_EXP:
        g = label * lr
    else:
        g = (label - 1.0 / (1.0 + math.exp(-f))) * lr
    g = np.float32(g)
    if g != 0.0:
        if update_out:
            for j in range(dim):
                neu1e[j] += g * syn1[t, j]
                syn1[t, j] += g * v[j]
        else:
            for j in range(dim):
                neu1e[j] += g * syn1[t, j]


@njit(inline="always")
def _draw(prob, alias, state):
    """One draw from an alias table; returns (index, state)."""
    state = _xorshift(state)
    r = state * _MULT
    slot = _bounded(r, prob.shape[0])
    return (slot if np.uint32(r) < prob[slot] else alias[slot]), state


@njit(inline="always")
def _context(kept, m, p, q, sample, state):
    """The next context of position ``p`` among ``kept[:m]``: with ``sample``, a random
    other position; else position ``q`` (skipping ``p``). Returns (item, next q, state)."""
    if sample:
        state = _xorshift(state)
        o = _bounded(state * _MULT, m - 1)
        if o >= p:
            o += 1
        return kept[o], q, state
    if q == p:
        q += 1
    return kept[q], q + 1, state


@njit(inline="always")
def _targets(positive, avoid, negative, alias_prob, alias_idx, tgt, lab, nt, state):
    """Append ``positive`` and its negatives (never ``positive`` or ``avoid``) to ``tgt``."""
    tgt[nt] = positive
    lab[nt] = 1.0
    nt += 1
    for _ in range(negative):
        neg, state = _draw(alias_prob, alias_idx, state)
        if neg == positive or neg == avoid:  # noqa: SIM109 (plain compares for numba)
            continue
        tgt[nt] = neg
        lab[nt] = 0.0
        nt += 1
    return nt, state


@njit(inline="always")
def _apply(v, neu1e, syn1, tgt, lab, nt, lr, dim, update_out):
    """Run the SGNS steps of ``tgt[:nt]``, prefetching output rows a few steps ahead."""
    for j in range(dim):
        neu1e[j] = 0.0
    for t in range(min(_PREFETCH_DIST, nt)):
        _prefetch_row(syn1, tgt[t])
    for t in range(nt):
        if t + _PREFETCH_DIST < nt:
            _prefetch_row(syn1, tgt[t + _PREFETCH_DIST])
        _step(v, neu1e, syn1, tgt[t], lab[t], lr, dim, update_out)


@njit(inline="always")
def _train_row(syn0, row, v, neu1e, syn1, tgt, lab, nt, lr, dim, next_row):
    """SGNS steps of input row ``syn0[row]`` against ``tgt[:nt]``; the row moves after.

    ``next_row`` (-1 for none) is the input row the caller trains next, prefetched now.
    """
    if next_row >= 0:
        _prefetch_row(syn0, next_row)
    for j in range(dim):
        v[j] = syn0[row, j]
    _apply(v, neu1e, syn1, tgt, lab, nt, lr, dim, True)
    for j in range(dim):
        syn0[row, j] += neu1e[j]


@njit(nogil=True, fastmath=True, cache=True)
def _train_shard(
    indptr,
    indices,
    baskets,
    syn0,
    syn1,
    keep_prob,
    alias_prob,
    alias_idx,
    n_pairs,
    negative,
    use_window,
    window,
    lr0,
    lr1,
    progress0,
    progress_scale,
    state,
):
    """Train over ``baskets`` (row ids of the CSR) once; returns the number of tokens seen.

    ``progress0 + progress_scale * tokens_seen`` is the global training progress in [0, 1]
    that drives the linear learning-rate decay.
    """
    dim = syn0.shape[1]
    state = np.uint64(state)
    max_len = 1
    for b in range(baskets.shape[0]):
        bi = baskets[b]
        max_len = max(max_len, indptr[bi + 1] - indptr[bi])
    max_ctx = 2 * window if use_window else n_pairs
    kept = np.empty(max_len, dtype=np.int32)
    neu1e = np.empty(dim, dtype=np.float32)
    v = np.empty(dim, dtype=np.float32)
    tgt = np.empty(max_ctx * (negative + 1), dtype=np.int32)
    lab = np.empty(max_ctx * (negative + 1), dtype=np.float32)
    tokens = 0
    for b in range(baskets.shape[0]):
        bi = baskets[b]
        start = indptr[bi]
        stop = indptr[bi + 1]
        lr = max(lr1, lr0 - (lr0 - lr1) * (progress0 + progress_scale * tokens))
        tokens += stop - start
        # subsample frequent items
        m = 0
        for p in range(start, stop):
            it = indices[p]
            kp = keep_prob[it]
            if kp < 1.0:
                state = _xorshift(state)
                if _uniform(state * _MULT) >= kp:
                    continue
            kept[m] = it
            m += 1
        if m < 2:
            continue
        for p in range(m):
            center = kept[p]
            # contexts: [lo, hi) minus p, all of them or n_pairs sampled with replacement
            if use_window:
                state = _xorshift(state)
                red = _bounded(state * _MULT, window)
                lo = max(0, p - window + red)
                hi = min(m, p + window + 1 - red)
                n_ctx = hi - lo - 1
                sample_ctx = False
            else:
                lo = 0
                hi = m
                n_ctx = m - 1
                sample_ctx = n_ctx > n_pairs
                if sample_ctx:
                    n_ctx = n_pairs
            if n_ctx <= 0:
                continue
            nt = 0
            q = lo
            for _ in range(n_ctx):
                ctx, q, state = _context(kept, m, p, q, sample_ctx, state)
                nt, state = _targets(
                    ctx, center, negative, alias_prob, alias_idx, tgt, lab, nt, state
                )
            next_row = kept[p + 1] if p + 1 < m else -1
            _train_row(syn0, center, v, neu1e, syn1, tgt, lab, nt, lr, dim, next_row)
    return tokens


# ----------------------------------------------------------------------------- python side


def _splitmix64(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
    z = x
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) or 1


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


def _keep_prob(counts: np.ndarray, sample: float) -> np.ndarray:
    """word2vec (C tool) subsampling: keep with prob (sqrt(f/t) + 1) * t/f, f = relative freq."""
    if not sample or sample <= 0:
        return np.ones(counts.shape[0], dtype=np.float32)
    f = counts / max(counts.sum(), 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        kp = np.sqrt(sample / f) + sample / f
    return np.where(counts > 0, np.minimum(kp, 1.0), 1.0).astype(np.float32)


def train_sgns(
    indptr: np.ndarray,
    indices: np.ndarray,
    n_items: int,
    item_counts: np.ndarray,
    *,
    n_factors: int = DEFAULTS["n_factors"],
    n_epochs: int = DEFAULTS["n_epochs"],
    negative: int = DEFAULTS["negative"],
    ns_exponent: float = DEFAULTS["ns_exponent"],
    sample: float = DEFAULTS["sample"],
    learning_rate: float = DEFAULTS["learning_rate"],
    min_learning_rate: float = DEFAULTS["min_learning_rate"],
    context: str = DEFAULTS["context"],
    window: int = DEFAULTS["window"],
    n_pairs_per_item: int = DEFAULTS["n_pairs_per_item"],
    n_threads: int = 1,
    random_state: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Train skip-gram negative-sampling item vectors on a CSR basket corpus.

    Returns ``(input_vectors, output_vectors)``, both ``float32`` of shape
    ``(n_items, n_factors)``. For item similarity use :func:`item_embeddings` (normalised
    input + output vectors).

    Defaults and why:

    * ``context="basket"``, ``n_pairs_per_item=5``: a basket is a set, so every basket-mate is
      a context (item2vec). Drawing 5 mates per item per epoch instead of all of them keeps the
      cost linear in basket size and stops the few huge baskets from dominating the gradient;
      over epochs every mate is still seen. 5 matches word2vec's average window (2 x 5 shrunk).
    * ``negative=5``, ``ns_exponent=0.75``: word2vec defaults; 0.75 is "context distribution
      smoothing" (Levy, Goldberg & Dagan 2015). Caselles-Dupré et al. (2018) found other
      exponents better on some recsys data, but with a long-tailed catalogue and no min_count,
      exponents <= 0 spend almost every negative on items seen once or twice and the frequent
      items never get separated (measured: much worse); 0.5..1.0 are all close.
    * ``sample=1e-3``: word2vec/gensim default; it only thins items above 0.1% of line items
      (staples like milk, bananas, bags), which are weak evidence of similarity. Same quality as
      no subsampling at lower cost; 1e-4 and below remove too much and hurt.
    * ``learning_rate=0.1`` decaying linearly to ``min_learning_rate=1e-4``: word2vec's 0.025
      was tuned for text corpora of billions of tokens where every word gets millions of updates.
      A catalogue item is seen tens to hundreds of times, so SGD with 0.025 is far from converged
      after a few epochs (Caselles-Dupré et al.: learning rate and epochs matter a lot for recsys
      data). On Complete Journey 0.05..0.2 are within 0.01 purity of each other at 10 epochs and
      0.4 diverges; 0.1 sits in the middle of that flat region, 4x below the divergence point.
      Divergence is detected (non-finite vectors) and raised as FloatingPointError.
    * ``n_epochs=10``: epochs are cheap (sampled contexts), and more epochs rather than more pairs
      per epoch gives a longer annealing schedule. Purity rises clearly from 5 to 10 epochs and
      is flat from 10 to 20 on both Complete Journey and Instacart.
    * ``n_factors=64``.

    ``context="window"``: classic sliding window (word2vec shrink) of width ``window`` over each
    row, for ordered sessions; ``n_pairs_per_item`` is ignored.

    ``n_threads > 1``: Hogwild training over basket shards; not bit-reproducible.
    ``n_threads == 1``: deterministic for a given ``random_state``.
    """
    indptr = np.ascontiguousarray(indptr, dtype=np.int64)
    indices = np.ascontiguousarray(indices, dtype=np.int32)
    counts = np.asarray(item_counts, dtype=np.float64)
    n_items = int(n_items)
    if indptr.ndim != 1 or indptr.shape[0] < 1 or indptr[0] != 0 or indptr[-1] != len(indices):
        raise ValueError("indptr must be 1-d, start at 0 and end at len(indices)")
    if np.any(np.diff(indptr) < 0):
        raise ValueError("indptr must be non-decreasing")
    if counts.shape != (n_items,):
        raise ValueError(f"item_counts must have shape ({n_items},), got {counts.shape}")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_items):
        raise ValueError("indices must lie in [0, n_items)")
    if context not in ("basket", "window"):
        raise ValueError(f"context must be 'basket' or 'window', got {context!r}")
    if n_factors < 1 or n_epochs < 0 or negative < 0 or n_pairs_per_item < 1 or window < 1:
        raise ValueError("n_factors, n_pairs_per_item, window >= 1 and n_epochs, negative >= 0")
    if n_threads < 1:
        raise ValueError("n_threads must be >= 1")

    rng = np.random.default_rng(random_state)
    syn0 = (rng.random((n_items, n_factors), dtype=np.float32) - np.float32(0.5)) / np.float32(
        n_factors
    )
    syn1 = np.zeros((n_items, n_factors), dtype=np.float32)
    if n_items == 0 or len(indices) == 0 or n_epochs == 0:
        return syn0, syn1

    keep = _keep_prob(counts, sample)
    neg_w = np.where(counts > 0, np.power(np.maximum(counts, 1.0), ns_exponent), 0.0)
    if neg_w.sum() <= 0:
        neg_w = np.ones(n_items)
    alias_prob, alias_idx = build_alias(neg_w)
    use_window = context == "window"
    n_baskets = indptr.shape[0] - 1
    sizes = np.diff(indptr)
    tokens_total = float(indptr[-1]) * n_epochs
    all_baskets = np.arange(n_baskets, dtype=np.int64)
    if n_threads > 1:
        cum = np.cumsum(sizes)
        cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_threads) / n_threads)
        shards = np.split(all_baskets, cuts)
    else:
        shards = [all_baskets]

    for epoch in range(n_epochs):
        seeds = [_splitmix64(int(s)) for s in rng.integers(0, 2**63 - 1, size=len(shards))]
        progress0 = epoch / n_epochs
        args = [
            (
                indptr,
                indices,
                shard,
                syn0,
                syn1,
                keep,
                alias_prob,
                alias_idx,
                int(n_pairs_per_item),
                int(negative),
                use_window,
                int(window),
                float(learning_rate),
                float(min_learning_rate),
                progress0,
                len(shards) / tokens_total,
                np.uint64(seeds[i]),
            )
            for i, shard in enumerate(shards)
        ]
        if len(shards) == 1:
            _train_shard(*args[0])
        else:
            threads = [threading.Thread(target=_train_shard, args=a) for a in args]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
    if not (np.isfinite(syn0).all() and np.isfinite(syn1).all()):
        raise FloatingPointError("SGNS diverged (non-finite vectors); lower learning_rate")
    return syn0, syn1


def item_embeddings(w_in: np.ndarray, w_out: np.ndarray) -> np.ndarray:
    """Item vectors for similarity: L2-normalised input plus L2-normalised output vector.

    Adding the context (output) vectors to the word (input) vectors is the "w + c" trick of
    Levy, Goldberg & Dagan (2015); it mixes first-order (bought together) and second-order
    (bought in the same kinds of baskets) similarity and is consistently better on our data.
    """

    def _norm(x):
        x = np.asarray(x, dtype=np.float32)
        n = np.linalg.norm(x, axis=1, keepdims=True)
        return x / np.maximum(n, np.float32(1e-12))

    return _norm(w_in) + _norm(w_out)


def warmup() -> None:
    """Compile (or load from the numba cache) the kernels on a tiny corpus."""
    indptr = np.array([0, 3, 5, 8], dtype=np.int64)
    indices = np.array([0, 1, 2, 0, 3, 1, 2, 3], dtype=np.int32)
    counts = np.bincount(indices, minlength=4).astype(np.int64)
    for ctx in ("basket", "window"):
        train_sgns(indptr, indices, 4, counts, n_factors=8, n_epochs=1, context=ctx)
