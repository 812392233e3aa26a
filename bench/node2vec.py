"""node2vec on The Complete Journey: walk speed against PecanPy, item quality, next baskets.

    python bench/node2vec.py                                   # everything
    python bench/node2vec.py --quick                           # walks + purity only
    python bench/node2vec.py --pecanpy-python PATH/bin/python  # with PecanPy in the table

PecanPy (``pip install pecanpy``) pins ``nptyping``, which needs NumPy < 2, so it cannot
share our environment; give it its own and pass its interpreter::

    python -m venv bench/out/pecanpy-venv
    bench/out/pecanpy-venv/bin/pip install pecanpy==2.0.9

1. Walk generation (``corpus.walks.node2vec_walks``) on two graphs: the Complete Journey
   item graph of the model's defaults, and a dense synthetic graph of 20,000 nodes (20
   communities, 7.4M edges: mean degree about 750). Each is walked first order (``p = q = 1``) and
   second order; PecanPy walks the same CSR arrays with its mode for each case
   (``PreCompFirstOrder`` for first order, ``SparseOTF`` for second order: the modes its
   authors recommend for sparse graphs), timed once cold (its kernels compile per graph:
   alias preprocessing, compilation and walks) and once warm (the walks alone: no
   preprocessing and no conversion to lists of strings, in its favor; ours always includes
   building its alias tables, and its kernels come compiled from numba's cache). The
   original Python implementation (Grover & Leskovec's ``node2vec.py``: an alias table per
   edge, built before walking) is timed on a random sample of edges with dicts and sets
   (faster than its networkx calls) and extrapolated to all edges.
2. Item quality: ``customer2vec train --model node2vec`` and ``--model item2vec`` (whole
   commands, wall time) and the share of each frequent item's 10 nearest neighbors in its
   product_category / department, as in ``bench/item_embeddings.py``.
3. Next baskets (not with ``--quick``): recall@10 on the last basket of each household
   (``evaluation.runner``'s protocol) for node2vec, item2vec, top-frequency and TIFU-KNN.

Timings are wall seconds; ``cpu_s`` is the process CPU time (all threads), which is less
inflated than wall time on a machine shared with other jobs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from common import OUT, completejourney, frequent_items, print_table
from customer2vec.corpus import build_baskets
from customer2vec.corpus.graph import Graph, _assemble, item_graph
from customer2vec.corpus.walks import node2vec_walks, walk_kernels_warmup
from customer2vec.data.ids import IdMap
from customer2vec.evaluation.intrinsic import neighbor_purity
from customer2vec.models import create_model, load_model

PECANPY_SCRIPT = """
import json, sys, time
import numpy as np
from numba_progress import ProgressBar
from pecanpy import pecanpy

path, mode = sys.argv[1:3]
p, q = float(sys.argv[3]), float(sys.argv[4])
n_walks, walk_length, workers = (int(value) for value in sys.argv[5:8])
graph = getattr(pecanpy, mode)(p=p, q=q, workers=workers, verbose=False, random_state=0)
graph.read_npz(path, weighted=True, implicit_ids=True)
result = {}
started, cpu = time.perf_counter(), time.process_time()
graph._preprocess_transition_probs()
has_nbrs, move_forward = graph.get_has_nbrs(), graph.get_move_forward()
prepared = time.perf_counter() - started
for attempt in ("cold", "warm"):
    if attempt == "warm":
        started, cpu, prepared = time.perf_counter(), time.process_time(), 0.0
    starts = np.concatenate([np.arange(graph.num_nodes, dtype=np.uint32)] * n_walks)
    np.random.default_rng(0).shuffle(starts)
    # simulate_walks without its conversion of every walk to a list of strings; the
    # kernels compile on the first call for each graph (cold), not on the second (warm).
    with ProgressBar(total=len(starts), disable=True) as progress:
        walks = graph._random_walks(
            len(starts), walk_length - 1, 0, starts, has_nbrs, move_forward, progress
        )
    result[attempt] = {"seconds": time.perf_counter() - started,
                       "cpu_s": time.process_time() - cpu,
                       "prepare_s": prepared,
                       "steps": int(walks[:, -1].astype(np.int64).sum())}
print(json.dumps(result))
"""


def dense_graph(n_nodes: int = 20_000, degree: int = 1_000, seed: int = 0) -> Graph:
    """20 communities; each node draws ``degree / 2`` partners, 80% inside its community."""
    rng = np.random.default_rng(seed)
    size = n_nodes // 20
    rows = np.repeat(np.arange(n_nodes), degree // 2)
    inside = rng.random(len(rows)) < 0.8
    cols = np.where(
        inside,
        (rows // size) * size + rng.integers(0, size, len(rows)),
        rng.integers(0, n_nodes, len(rows)),
    )
    adjacency = _assemble(n_nodes, rows, cols, rng.random(len(rows)) + 0.1, symmetrize=True)
    return Graph(IdMap(np.arange(n_nodes)), adjacency, source="synthetic")


def time_ours(graph: Graph, *, p: float, q: float, n_walks: int, walk_length: int, threads: int):
    started, cpu = time.perf_counter(), time.process_time()
    walks = node2vec_walks(
        graph, walk_length=walk_length, n_walks=n_walks, p=p, q=q, n_threads=threads
    )
    return time.perf_counter() - started, time.process_time() - cpu, walks.n_lines


def time_pecanpy(python: str, npz: Path, *, p, q, n_walks, walk_length, threads):
    mode = "PreCompFirstOrder" if p == q == 1.0 else "SparseOTF"
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(PECANPY_SCRIPT)
    args = [python, handle.name, str(npz), mode, str(p), str(q), str(n_walks), str(walk_length)]
    # PecanPy ignores `workers` (its own TODO); numba's thread count is what applies.
    env = {**os.environ, "NUMBA_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [*args, str(threads)], capture_output=True, text=True, check=False, env=env
    )
    if done.returncode:
        print(done.stderr[-2000:], file=sys.stderr)
        return mode, None
    return mode, json.loads(done.stdout.strip().splitlines()[-1])


def reference_python(graph: Graph, *, p: float, q: float, n_sample: int = 300) -> float:
    """Seconds the original node2vec preprocessing would take (sampled edges, extrapolated).

    Mirrors ``get_alias_edge`` of the reference implementation for each directed edge
    (``src -> dst``: normalized biased weights of dst's neighbors, then ``alias_setup``).
    """
    adjacency = graph.adjacency
    indptr, indices, data = adjacency.indptr, adjacency.indices, adjacency.data
    neighbors = {}

    def nbrs(node: int) -> dict[int, float]:
        if node not in neighbors:
            row = slice(indptr[node], indptr[node + 1])
            neighbors[node] = dict(zip(indices[row].tolist(), data[row].tolist(), strict=True))
        return neighbors[node]

    def alias_setup(probs: list[float]) -> tuple[list[float], list[int]]:
        k = len(probs)
        prob, alias = [0.0] * k, [0] * k
        smaller, larger = [], []
        for kk, value in enumerate(probs):
            prob[kk] = k * value
            (smaller if prob[kk] < 1.0 else larger).append(kk)
        while smaller and larger:
            small, large = smaller.pop(), larger.pop()
            alias[small] = large
            prob[large] = prob[large] + prob[small] - 1.0
            (smaller if prob[large] < 1.0 else larger).append(large)
        return prob, alias

    rng = random.Random(0)
    sample = [rng.randrange(adjacency.nnz) for _ in range(n_sample)]
    owners = np.searchsorted(indptr, sample, side="right") - 1
    for row in range(len(sample)):  # fill the neighbor cache outside the timing
        nbrs(int(owners[row]))
        nbrs(int(indices[sample[row]]))
    started = time.perf_counter()
    for position, src in zip(sample, owners.tolist(), strict=True):
        dst = int(indices[position])
        source_neighbors = nbrs(src)
        unnormalized = []
        for dst_nbr, weight in sorted(nbrs(dst).items()):
            if dst_nbr == src:
                unnormalized.append(weight / p)
            elif dst_nbr in source_neighbors:
                unnormalized.append(weight)
            else:
                unnormalized.append(weight / q)
        norm = sum(unnormalized)
        alias_setup([u / norm for u in unnormalized])
    return (time.perf_counter() - started) / n_sample * adjacency.nnz


def walk_table(graphs, settings, *, pecanpy: str | None, threads: int) -> list[dict]:
    rows = []
    for label, graph, n_walks, walk_length in graphs:
        npz = None
        if pecanpy:
            npz = OUT / f"node2vec_{graph.source}.npz"
            adjacency = graph.adjacency
            np.savez(npz, data=adjacency.data, indptr=adjacency.indptr, indices=adjacency.indices)
        for p, q in settings:
            base = {
                "graph": label,
                "nodes": int((graph.degrees() > 0).sum()),
                "edges": graph.n_edges,
                "p": p,
                "q": q,
                "walks x length": f"{n_walks} x {walk_length}",
            }
            seconds, cpu, steps = time_ours(
                graph, p=p, q=q, n_walks=n_walks, walk_length=walk_length, threads=threads
            )
            rows.append({**base, "method": "ours", "seconds": seconds, "cpu_s": cpu})
            rows[-1]["Msteps/s"] = steps / seconds / 1e6
            print(f"  {label} p={p} q={q} ours {seconds:.1f} s", file=sys.stderr)
            if npz is not None:
                mode, result = time_pecanpy(
                    pecanpy,
                    npz,
                    p=p,
                    q=q,
                    n_walks=n_walks,
                    walk_length=walk_length,
                    threads=threads,
                )
                for attempt in ("cold", "warm"):
                    if result is None:
                        continue
                    timing = result[attempt]
                    rows.append(
                        {
                            **base,
                            "method": f"PecanPy {mode} ({attempt})",
                            "seconds": timing["seconds"],
                            "cpu_s": timing["cpu_s"],
                            "Msteps/s": timing["steps"] / timing["seconds"] / 1e6,
                        }
                    )
                    print(f"  {label} PecanPy {attempt} {timing['seconds']:.1f} s", file=sys.stderr)
            if label.startswith("dense") and not (p == q == 1.0):
                estimate = reference_python(graph, p=p, q=q)
                rows.append(
                    {
                        **base,
                        "method": "original node2vec.py preprocessing (extrapolated)",
                        "seconds": estimate,
                        "cpu_s": float("nan"),
                        "Msteps/s": float("nan"),
                    }
                )
    return rows


def train_cli(dataset, model: str, out: Path, params: list[str]) -> float:
    started = time.perf_counter()
    command = [sys.executable, "-m", "customer2vec", "-q", "train", str(dataset.path)]
    command += ["--model", model, "--out", str(out), "--overwrite"]
    for param in params:
        command += ["--param", param]
    subprocess.run(command, check=True)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip the next-basket table.")
    parser.add_argument("--threads", type=int, default=2, help="Threads for every method.")
    parser.add_argument("--pecanpy-python", help="Interpreter of an environment with pecanpy.")
    args = parser.parse_args()
    threads = args.threads
    dataset = completejourney()
    baskets = build_baskets(dataset)
    defaults = create_model("node2vec").get_params()

    walk_kernels_warmup()
    started = time.perf_counter()
    cj_graph = item_graph(
        baskets,
        weight=defaults["weight"],
        min_count=defaults["min_count"],
        max_degree=defaults["max_degree"],
    )
    cj_seconds = time.perf_counter() - started
    started = time.perf_counter()
    dense = dense_graph()
    dense_seconds = time.perf_counter() - started
    print(
        f"CJ item graph ({defaults['weight']}, min_count {defaults['min_count']}): "
        f"{cj_graph!r}, built in {cj_seconds:.1f} s; dense synthetic: {dense!r} "
        f"({dense_seconds:.1f} s)\n",
        flush=True,
    )
    walks = walk_table(
        [
            ("CJ items", cj_graph, defaults["n_walks"], defaults["walk_length"]),
            ("dense 20K", dense, 2, defaults["walk_length"]),
        ],
        [(1.0, 1.0), (1.0, 0.5), (0.5, 2.0)],
        pecanpy=args.pecanpy_python,
        threads=threads,
    )
    print_table(
        walks,
        [
            "graph",
            "nodes",
            "edges",
            "p",
            "q",
            "walks x length",
            "method",
            "seconds",
            "cpu_s",
            "Msteps/s",
        ],
    )

    items = dataset.read("items").set_index("item_id")
    frequent = frequent_items(dataset)
    quality = []
    runs = [
        ("node2vec (defaults)", "node2vec", []),
        ("node2vec max_degree=0 (every pair)", "node2vec", ["max_degree=0"]),
        ("node2vec q=0.5", "node2vec", ["q=0.5"]),
        ("node2vec graph=copurchase", "node2vec", ["graph='copurchase'"]),
        ("item2vec (defaults)", "item2vec", []),
    ]
    for label, model, params in runs:
        out = OUT / f"node2vec_bench_{len(quality)}"
        seconds = train_cli(dataset, model, out, [f"n_threads={threads}", *params])
        vectors = load_model(out).item_vectors_
        quality.append(
            {
                "model": label,
                "train_s (CLI)": seconds,
                "items": len(vectors),
                "category@10": neighbor_purity(vectors, items["product_category"], ids=frequent),
                "category/all@10": neighbor_purity(
                    vectors, items["product_category"], ids=frequent, search="all"
                ),
                "department@10": neighbor_purity(vectors, items["department"], ids=frequent),
            }
        )
        print(f"  {label}: {seconds:.1f} s", file=sys.stderr)
    print(f"\nItem neighbors ({len(frequent):,} items bought >= 20 times), {threads} threads:\n")
    print_table(
        quality,
        ["model", "train_s (CLI)", "items", "category@10", "category/all@10", "department@10"],
    )

    if not args.quick:
        from customer2vec.evaluation.runner import evaluate_dataset

        table = evaluate_dataset(
            dataset.path,
            models=["top-frequency", "tifu-knn", "item2vec", "node2vec"],
            ks=(10,),
            exclude_seen=False,  # bought items ranked for every model (--include-seen)
            progress=False,
        )
        print("\nNext basket, last basket per household (>= 3 baskets), defaults:\n")
        print(
            table[["model", "fit_s", "recall@10", "ndcg@10", "hit@10", "recall_new@10"]].to_string(
                index=False, float_format=lambda x: f"{x:.3f}"
            )
        )


if __name__ == "__main__":
    main()
