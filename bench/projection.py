"""2-D maps of item vectors on The Complete Journey: which projection, how fast, how faithful.

    python bench/projection.py                      # ours + openTSNE defaults + UMAP + PCA
    python bench/projection.py --methods ours --n-items 50000
    python bench/projection.py --methods sklearn --n-items 10000   # slow: Barnes-Hut

Input: the item2vec vectors of the `n_items` most bought items (trained once with the
defaults into bench/out/item2vec_default). Timed: wall and CPU seconds of the projection
alone, on `--threads` threads. Faithfulness: share of each item's 10 nearest neighbors on
the map with the same department / product_category (compare with the same share in the
64-d space, printed as "original"), and the 2-D silhouette by department.
UMAP needs `pip install umap-learn` (not a dependency); without it that row is skipped.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np
import pandas as pd

from common import OUT, completejourney, print_table


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _map_purity(xy: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    from sklearn.neighbors import NearestNeighbors

    known = pd.notna(labels)
    points, codes = xy[known], pd.factorize(labels[known])[0]
    nearest = NearestNeighbors(n_neighbors=k + 1).fit(points).kneighbors(points)[1][:, 1:]
    return float((codes[nearest] == codes[:, None]).mean())


def _original_purity(unit: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    from customer2vec.evaluation.intrinsic import knn_indices

    known = pd.notna(labels)
    codes = pd.factorize(labels[known])[0]
    return float((codes[knn_indices(unit[known], k)] == codes[:, None]).mean())


def _project(method: str, unit: np.ndarray, threads: int) -> np.ndarray:
    if method == "ours":
        from customer2vec.analysis.projection import project_2d

        return project_2d(unit, random_state=0, n_jobs=threads)
    if method == "opentsne-defaults":
        from openTSNE import TSNE

        return np.asarray(TSNE(metric="cosine", n_jobs=threads, random_state=0).fit(unit))
    if method == "umap":
        import umap

        return umap.UMAP(metric="cosine", n_jobs=threads).fit_transform(unit)
    if method == "sklearn":
        from sklearn.manifold import TSNE

        return TSNE(metric="cosine", init="pca", random_state=0).fit_transform(unit)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(2, random_state=0).fit_transform(unit)
    raise SystemExit(f"unknown method {method!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default="ours,opentsne-defaults,umap,pca")
    parser.add_argument("--n-items", type=int, default=50_000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    args = parser.parse_args()

    dataset = completejourney()
    model_dir = OUT / "item2vec_default"
    if not (model_dir / "model.json").exists():
        subprocess.run(
            [
                "customer2vec",
                "train",
                str(dataset.path),
                "--model",
                "item2vec",
                "--out",
                str(model_dir),
                "--overwrite",
            ],
            check=True,
        )
    vectors = np.load(model_dir / "item_vectors.npy")
    ids = np.load(model_dir / "item_ids.npy", allow_pickle=False)
    counts = dataset.item_counts().set_index("item_id")["n"]
    top = np.argsort(-counts.reindex(ids).fillna(0).to_numpy(), kind="stable")[: args.n_items]
    unit = vectors[top] / np.maximum(np.linalg.norm(vectors[top], axis=1, keepdims=True), 1e-12)
    unit = unit.astype(np.float32)
    items = dataset.read("items").drop_duplicates("item_id").set_index("item_id")
    department = items["department"].reindex(ids[top]).to_numpy()
    category = items["product_category"].reindex(ids[top]).to_numpy()

    if args.one:
        # One method per child process, so CPU seconds and JIT warm-up are its own.
        started, cpu = time.perf_counter(), _cpu()
        xy = np.asarray(_project(args.one, unit, args.threads), dtype=np.float32)
        seconds, cpu_seconds = time.perf_counter() - started, _cpu() - cpu
        from sklearn.metrics import silhouette_score

        known = pd.notna(department)
        row = {
            "method": args.one,
            "seconds": seconds,
            "cpu_s": cpu_seconds,
            "department@10": _map_purity(xy, department),
            "category@10": _map_purity(xy, category),
            "silhouette_dept": float(
                silhouette_score(xy[known], department[known], sample_size=5000, random_state=0)
            ),
        }
        print(pd.Series(row).to_json())
        return

    rows = [
        {
            "method": "original (64-d cosine)",
            "department@10": _original_purity(unit, department),
            "category@10": _original_purity(unit, category),
        }
    ]
    for method in args.methods.split(","):
        if method == "umap" and importlib.util.find_spec("umap") is None:
            print("  umap skipped: pip install umap-learn", file=sys.stderr)
            continue
        print(f"  {method} on {len(unit):,} items ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [
                sys.executable,
                __file__,
                "--one",
                method,
                "--n-items",
                str(args.n_items),
                "--threads",
                str(args.threads),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"  {rows[-1]}", file=sys.stderr, flush=True)
    print(f"{len(unit):,} items, {args.threads} threads, load average {os.getloadavg()[0]:.1f}")
    columns = ["method", "seconds", "cpu_s", "department@10", "category@10", "silhouette_dept"]
    print_table(rows, [c for c in columns if any(c in r for r in rows)])


if __name__ == "__main__":
    main()
