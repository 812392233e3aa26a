"""Latency and throughput of the HTTP recommendation endpoints under bounded concurrent load.

    python bench/serve.py                          # item2vec and next-basket, 1/4/16 clients
    python bench/serve.py --models item2vec --requests 200 --concurrency 1,8

For each model (trained on The Complete Journey once, then reused from bench/out/serve-*),
`customer2vec serve` runs in a subprocess on loopback. A client with `n` concurrent
connections (httpx, asyncio) sends a fixed number of requests to

- `GET /customers/{id}/recommendations?n=10` for random households, and
- `POST /recommendations` with a real basket (a random household's last one) as session,

after a warm-up (and once the background map projection is done), and reports p50/p99
latency and requests per second. The first row of each model is the same
`Recommender.recommend` call made in-process (no HTTP), so the difference is what the HTTP
layer costs. Client and server share the machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from common import OUT, completejourney, print_table

COLUMNS = ["model", "endpoint", "clients", "requests", "errors", "p50_ms", "p99_ms", "req_per_s"]


def model_dir(dataset, name: str) -> Path:
    """A model trained on ``dataset`` under bench/out/serve-NAME (reused if it still fits)."""
    from customer2vec.errors import Customer2VecError
    from customer2vec.models import load_model
    from customer2vec.models.base import read_model_file
    from customer2vec.workflow.training import resolve_config, train_to_directory

    out = OUT / f"serve-{name}"
    try:
        document = read_model_file(out)
        if document["dataset"]["fingerprint"] == dataset.meta.get("fingerprint"):
            load_model(out)  # saved by an older version of the model's code: train again
            return out
    except (Customer2VecError, KeyError) as err:  # nothing reusable there: train again
        print(f"  training {name} ({err.__class__.__name__}: no reusable model)", file=sys.stderr)
    started = time.perf_counter()
    train_to_directory(dataset.path, out, resolve_config(name), overwrite=True)
    print(f"  trained {name} in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    return out


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(directory: Path) -> tuple[subprocess.Popen, str, float]:
    """`customer2vec serve` in a subprocess; (process, base URL, seconds until /health)."""
    import httpx

    port = free_port()
    command = [sys.executable, "-m", "customer2vec", "-q", "serve", str(directory)]
    command += ["--port", str(port)]
    started = time.perf_counter()
    process = subprocess.Popen(
        command, stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"}
    )
    base = f"http://127.0.0.1:{port}"
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited:\n{process.stderr.read()}")
        try:
            if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                return process, base, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.2)


async def load(
    base: str, requests: list[tuple[str, str, dict | None]], clients: int
) -> dict[str, float]:
    """Send ``requests`` (method, path, JSON body) with ``clients`` concurrent connections."""
    import httpx

    latencies: list[float] = []
    errors = 0
    queue = iter(requests)
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as client:

        async def worker() -> None:
            nonlocal errors
            for method, path, body in queue:
                started = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": float(np.median(ms)),
        "p99_ms": float(np.quantile(ms, 0.99)),
        "req_per_s": len(latencies) / elapsed,
    }


def in_process(directory: Path, customers: list, n_requests: int) -> dict[str, float]:
    """The same recommend calls without HTTP: what the endpoint costs at the least."""
    from threadpoolctl import threadpool_limits

    from customer2vec.recommend.recommender import Recommender

    threadpool_limits(limits=1, user_api="blas")  # as `customer2vec serve` does
    recommender = Recommender.load(directory)
    recommender.recommend(customers[0], n=10)  # warm-up (JIT)
    times = []
    for customer in customers[:n_requests]:
        started = time.perf_counter()
        recommender.recommend(customer, n=10)
        times.append(time.perf_counter() - started)
    ms = np.array(times) * 1000
    return {
        "requests": len(times),
        "errors": 0,
        "p50_ms": float(np.median(ms)),
        "p99_ms": float(np.quantile(ms, 0.99)),
        "req_per_s": len(times) / (ms.sum() / 1000),
    }


def bench_model(dataset, name: str, n_requests: int, concurrency: list[int]) -> list[dict]:
    import httpx

    directory = model_dir(dataset, name)
    process, base, ready_s = start_server(directory)
    rows = []
    try:
        health = httpx.get(f"{base}/health").json()
        print(
            f"  {name}: server answering {ready_s:.1f} s after start (model and history "
            f"load {health['load_seconds']:.1f} s), {health['n_items']:,} items",
            file=sys.stderr,
        )
        # The map is projected in the background at start; measure once it is done.
        started = time.perf_counter()
        while httpx.get(f"{base}/map", timeout=30).json()["pending"]:
            time.sleep(1)
        print(f"  map ready {time.perf_counter() - started:.1f} s later", file=sys.stderr)
        rng = np.random.default_rng(0)
        listed = httpx.get(f"{base}/customers", params={"n": 1000}).json()["customers"]
        customers = [c["customer_id"] for c in listed]
        chosen = [customers[i] for i in rng.integers(0, len(customers), n_requests)]
        sessions = []
        for customer in chosen[:100]:
            detail = httpx.get(f"{base}/customers/{customer}", params={"baskets": 1}).json()
            sessions.append([item["item_id"] for item in detail["baskets"][0]["items"]])
        workloads = {
            "GET /customers/{id}/recommendations": [
                ("GET", f"/customers/{c}/recommendations?n=10", None) for c in chosen
            ],
            "POST /recommendations": [
                ("POST", "/recommendations", {"items": sessions[i % len(sessions)], "n": 10})
                for i in range(n_requests)
            ],
        }
        for endpoint, requests in workloads.items():
            asyncio.run(load(base, requests[:20], 1))  # warm-up: JIT, connection, caches
            for clients in concurrency:
                stats = asyncio.run(load(base, requests, clients))
                rows.append({"model": name, "endpoint": endpoint, "clients": clients, **stats})
                print(f"    {endpoint} x{clients}: p50 {stats['p50_ms']:.1f} ms", file=sys.stderr)
    finally:
        process.terminate()
        process.wait(timeout=30)
    direct = in_process(directory, chosen, n_requests)
    rows.insert(0, {"model": name, "endpoint": "Recommender.recommend (no HTTP)", "clients": 1})
    rows[0].update(direct)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="item2vec,next-basket", help="Comma-separated.")
    parser.add_argument("--requests", type=int, default=400, help="Requests per measurement.")
    parser.add_argument("--concurrency", default="1,4,16", help="Concurrent clients to try.")
    args = parser.parse_args()
    concurrency = [int(c) for c in re.split(r"[, ]+", args.concurrency) if c]
    dataset = completejourney()
    print(
        f"== HTTP API on loopback, The Complete Journey ({dataset.path}), {args.requests} "
        f"requests per row, {os.cpu_count()} CPUs shared by client and server"
    )
    rows, failed = [], []
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        try:
            rows += bench_model(dataset, name, args.requests, concurrency)
        except RuntimeError as err:  # one model failing to serve must not hide the others
            print(f"  {name}: {err}", file=sys.stderr)
            failed.append(name)
    if rows:
        print_table(rows, COLUMNS)
    for name in failed:
        print(f"{name}: the server did not start (see above)")


if __name__ == "__main__":
    main()
