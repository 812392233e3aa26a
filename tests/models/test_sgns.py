"""Tests for the numba SGNS engine (customer2vec.models.sgns)."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.models.sgns import build_alias, item_embeddings, train_sgns

N_PER_GROUP = 12


def _planted_corpus(n_baskets: int = 600, seed: int = 0):
    """Two groups of items (0..11 and 12..23) that never share a basket."""
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_baskets):
        group = b % 2
        size = int(rng.integers(2, 7))
        items = rng.choice(N_PER_GROUP, size=size, replace=False) + group * N_PER_GROUP
        rows.append(np.sort(items))
    counts = np.bincount(np.concatenate(rows), minlength=2 * N_PER_GROUP)
    # relabel by descending frequency, as the corpus builder does
    order = np.argsort(-counts, kind="stable")
    relabel = np.empty_like(order)
    relabel[order] = np.arange(len(order))
    indices = relabel[np.concatenate(rows)].astype(np.int32)
    indptr = np.r_[0, np.cumsum([len(r) for r in rows])].astype(np.int64)
    group_of = (order >= N_PER_GROUP).astype(int)  # group of each new id
    return indptr, indices, counts[order].astype(np.int64), group_of


def _nn_in_group_share(emb: np.ndarray, group_of: np.ndarray, k: int = 5) -> float:
    x = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    nn = np.argsort(-sims, axis=1)[:, :k]
    return float((group_of[nn] == group_of[:, None]).mean())


@pytest.mark.parametrize("context", ["basket", "window"])
def test_planted_groups_stay_separate(context):
    indptr, indices, counts, group_of = _planted_corpus()
    w_in, w_out = train_sgns(
        indptr, indices, len(counts), counts, n_factors=16, n_epochs=10, context=context
    )
    assert _nn_in_group_share(item_embeddings(w_in, w_out), group_of) == 1.0
    assert _nn_in_group_share(w_in, group_of) >= 0.95


def test_shapes_and_dtypes():
    indptr, indices, counts, _ = _planted_corpus(50)
    w_in, w_out = train_sgns(indptr, indices, len(counts), counts, n_factors=8, n_epochs=1)
    assert w_in.shape == w_out.shape == (len(counts), 8)
    assert w_in.dtype == w_out.dtype == np.float32
    assert np.isfinite(w_in).all()
    assert np.isfinite(w_out).all()
    emb = item_embeddings(w_in, w_out)
    assert emb.shape == (len(counts), 8)
    assert emb.dtype == np.float32


def test_deterministic_with_one_thread():
    indptr, indices, counts, _ = _planted_corpus(200)
    kw = dict(n_factors=8, n_epochs=2, n_threads=1)
    a = train_sgns(indptr, indices, len(counts), counts, random_state=7, **kw)
    b = train_sgns(indptr, indices, len(counts), counts, random_state=7, **kw)
    c = train_sgns(indptr, indices, len(counts), counts, random_state=8, **kw)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_hogwild_threads_run():
    indptr, indices, counts, group_of = _planted_corpus()
    w_in, w_out = train_sgns(
        indptr, indices, len(counts), counts, n_factors=16, n_epochs=10, n_threads=2
    )
    assert np.isfinite(w_in).all()
    assert _nn_in_group_share(item_embeddings(w_in, w_out), group_of) >= 0.95


def test_items_never_seen_and_empty_corpus():
    indptr = np.array([0, 2, 3], dtype=np.int64)
    indices = np.array([0, 1, 0], dtype=np.int32)
    counts = np.array([2, 1, 0, 0], dtype=np.int64)
    w_in, w_out = train_sgns(indptr, indices, 4, counts, n_factors=4, n_epochs=2)
    assert w_in.shape == (4, 4)
    assert not w_out[2:].any()  # items 2, 3 never occur: output rows untouched
    empty = train_sgns(np.zeros(1, np.int64), np.zeros(0, np.int32), 3, np.zeros(3, np.int64))
    assert empty[0].shape == (3, 64)


def test_invalid_input_raises():
    indptr = np.array([0, 2], dtype=np.int64)
    indices = np.array([0, 5], dtype=np.int32)
    with pytest.raises(ValueError, match="indices"):
        train_sgns(indptr, indices, 2, np.array([1, 1]))
    with pytest.raises(ValueError, match="context"):
        train_sgns(indptr, np.array([0, 1], np.int32), 2, np.array([1, 1]), context="bag")


def test_alias_table_matches_weights():
    w = np.array([1.0, 2.0, 3.0, 0.0, 4.0])
    thr, alias = build_alias(w)
    rng = np.random.default_rng(0)
    n = 200_000
    slot = rng.integers(0, len(w), n)
    u = rng.integers(0, 2**32, n, dtype=np.uint64)
    draw = np.where(u < thr[slot].astype(np.uint64), slot, alias[slot])
    freq = np.bincount(draw, minlength=len(w)) / n
    np.testing.assert_allclose(freq, w / w.sum(), atol=0.01)


def test_training_reports_one_progress_line_per_epoch_in_logs(capsys) -> None:
    from customer2vec.models.sgns import train_sgns

    indptr = np.array([0, 3, 5, 8], dtype=np.int64)
    indices = np.array([0, 1, 2, 0, 3, 1, 2, 3], dtype=np.int32)
    counts = np.bincount(indices, minlength=4)
    train_sgns(indptr, indices, 4, counts, n_factors=4, n_epochs=4, label="item2vec")
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("item2vec:")]
    assert [x.split(" (")[0] for x in lines] == [
        "item2vec: 25%", "item2vec: 50%", "item2vec: 75%", "item2vec: 100%"
    ]  # fmt: skip
