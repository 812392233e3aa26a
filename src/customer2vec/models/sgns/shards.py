"""Hogwild threads: a compiled loop run over token-balanced shards of rows.

The loops release the GIL (``nogil=True``), so Python threads run them in parallel on shared
weight arrays, lock-free (Recht et al. 2011). Updates then race, so results are not
bit-reproducible; one shard is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["run_sharded"]


def run_sharded(
    kernel: Callable[..., Any],
    rows: np.ndarray,
    weights: np.ndarray,
    n_threads: int,
    make_args: Callable[[np.ndarray, int], tuple],
) -> list[Any]:
    """Call ``kernel(*make_args(shard, i))`` over ``n_threads`` token-balanced shards.

    ``weights[rows]`` (tokens per row) balance the shards; returns the kernel's results, one
    per shard, in shard order.
    """
    if n_threads <= 1 or len(rows) < 2:
        return [kernel(*make_args(rows, 0))]
    cum = np.cumsum(weights[rows])
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, n_threads) / n_threads)
    shards = np.split(rows, cuts)
    results: list[Any] = [None] * len(shards)

    def work(i: int) -> None:
        results[i] = kernel(*make_args(shards[i], i))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(shards))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return results
