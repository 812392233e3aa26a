"""The numba steps every SGNS training loop shares: random stream, sampling, updates.

Pure numerical code, inlined (``inline="always"``) into the compiled loops of
:mod:`~customer2vec.models.sgns.baskets`, :mod:`~customer2vec.models.sgns.doc2vec` and
:mod:`~customer2vec.models.sgns.attributes`, so each loop compiles to one function.

Random numbers come from one xorshift64* stream per shard (``state`` in, ``state`` out):
:func:`xorshift` advances it and ``state * MULT`` is the output, mapped to an index by
:func:`bounded` or to [0, 1) by :func:`uniform`.

Speed: SGNS on a 60K+ vocabulary is bound by memory latency (each negative is a random 256-byte
row). A loop first draws all targets of an input row (:func:`add_targets`), then walks them
while software-prefetching the output rows a few steps ahead (:func:`apply_targets`), which
roughly halves the time per update.

Caching: numba keys a cached loop (``cache=True``) on its own file only, so a loop compiled
with an older version of these steps is reused after they change; delete the ``__pycache__``
folder of this package after editing this module.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "MULT",
    "add_targets",
    "apply_targets",
    "bounded",
    "draw_alias",
    "mix64",
    "next_context",
    "prefetch_row",
    "sgns_step",
    "train_row",
    "uniform",
    "xorshift",
]

#: xorshift64* output multiplier: ``state * MULT`` is the stream's output.
MULT = np.uint64(2685821657736338717)
_INV_2_53 = 1.0 / 9007199254740992.0
_PREFETCH_DIST = 4  # targets ahead; 2..8 are all close, 0 is ~2x slower on 68K items
_MAX_EXP = 6.0


@intrinsic
def prefetch_row(typingctx, arr, row):
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
def xorshift(state):
    """Advance the xorshift64* state."""
    state ^= state >> np.uint64(12)
    state ^= state << np.uint64(25)
    state ^= state >> np.uint64(27)
    return state


@njit(inline="always")
def bounded(r, n):
    """Map the high 32 bits of ``r`` to [0, n) (Lemire's multiply-shift)."""
    return np.int64(((r >> np.uint64(32)) * np.uint64(n)) >> np.uint64(32))


@njit(inline="always")
def uniform(r):
    """Map ``r`` to a float in [0, 1) (its high 53 bits)."""
    return np.float64(r >> np.uint64(11)) * _INV_2_53


@njit(inline="always")
def mix64(x):
    """splitmix64 finalizer: a well-mixed 64-bit hash of ``x``."""
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(inline="always")
def sgns_step(v, neu1e, syn1, t, label, lr, dim, update_out=True):
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
def draw_alias(prob, alias, state):
    """One draw from an alias table; returns (index, state)."""
    state = xorshift(state)
    r = state * MULT
    slot = bounded(r, prob.shape[0])
    return (slot if np.uint32(r) < prob[slot] else alias[slot]), state


@njit(inline="always")
def next_context(kept, m, p, q, sample, state):
    """The next context of position ``p`` among ``kept[:m]``: with ``sample``, a random
    other position; else position ``q`` (skipping ``p``). Returns (item, next q, state)."""
    if sample:
        state = xorshift(state)
        o = bounded(state * MULT, m - 1)
        if o >= p:
            o += 1
        return kept[o], q, state
    if q == p:
        q += 1
    return kept[q], q + 1, state


@njit(inline="always")
def add_targets(positive, avoid, negative, alias_prob, alias_idx, tgt, lab, nt, state):
    """Append ``positive`` and its negatives (never ``positive`` or ``avoid``) to ``tgt``."""
    tgt[nt] = positive
    lab[nt] = 1.0
    nt += 1
    for _ in range(negative):
        neg, state = draw_alias(alias_prob, alias_idx, state)
        if neg == positive or neg == avoid:  # noqa: SIM109 (plain compares for numba)
            continue
        tgt[nt] = neg
        lab[nt] = 0.0
        nt += 1
    return nt, state


@njit(inline="always")
def apply_targets(v, neu1e, syn1, tgt, lab, nt, lr, dim, update_out):
    """Run the SGNS steps of ``tgt[:nt]``, prefetching output rows a few steps ahead."""
    for j in range(dim):
        neu1e[j] = 0.0
    for t in range(min(_PREFETCH_DIST, nt)):
        prefetch_row(syn1, tgt[t])
    for t in range(nt):
        if t + _PREFETCH_DIST < nt:
            prefetch_row(syn1, tgt[t + _PREFETCH_DIST])
        sgns_step(v, neu1e, syn1, tgt[t], lab[t], lr, dim, update_out)


@njit(inline="always")
def train_row(syn0, row, v, neu1e, syn1, tgt, lab, nt, lr, dim, next_row):
    """SGNS steps of input row ``syn0[row]`` against ``tgt[:nt]``; the row moves after.

    ``next_row`` (-1 for none) is the input row the caller trains next, prefetched now.
    """
    if next_row >= 0:
        prefetch_row(syn0, next_row)
    for j in range(dim):
        v[j] = syn0[row, j]
    apply_targets(v, neu1e, syn1, tgt, lab, nt, lr, dim, True)
    for j in range(dim):
        syn0[row, j] += neu1e[j]
