"""Ingest time and peak memory at Instacart scale (about 32M line items, synthetic).

Target (issue 2): under 3 minutes and under 6 GB on 2 cores.

    python bench/ingest.py                 # 200K customers, 50K items, ~32M line items
    python bench/ingest.py --customers 20000 --items 5000   # a quick run

The synthetic transactions are written once (cached under bench/out/), then ingested by
the real command line in a child process, whose peak resident memory is read from the OS.
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--mean-baskets", type=float, default=16.0)
    parser.add_argument("--mean-basket-size", type=float, default=10.2)
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit for ingest.")
    args = parser.parse_args()

    from customer2vec.data.synth import write_synth

    name = f"synth_{args.customers}_{args.items}_{args.mean_baskets}_{args.mean_basket_size}"
    source = OUT / name
    synth_seconds = None
    if not (source / "dataset.json").exists():
        started = time.perf_counter()
        write_synth(
            source,
            overwrite=True,
            progress=True,
            n_customers=args.customers,
            n_items=args.items,
            mean_baskets=args.mean_baskets,
            mean_basket_size=args.mean_basket_size,
            random_state=0,
        )
        synth_seconds = time.perf_counter() - started

    target = OUT / f"{name}_ingested"
    shutil.rmtree(target, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "customer2vec",
        "-q",
        "ingest",
        str(source / "transactions.parquet"),
        "--out",
        str(target),
        "--customer-col",
        "customer_id",
        "--basket-col",
        "basket_id",
        "--item-col",
        "item_id",
        "--time-col",
        "timestamp",
        "--quantity-col",
        "quantity",
        "--price-col",
        "price",
        "--memory-limit",
        args.memory_limit,
        "--json",
    ]
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"ingest failed:\n{done.stderr}")
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2
    info = json.loads(done.stdout)

    rows = [
        ("line items", f"{info['line_items']:,}"),
        (
            "customers / baskets / items",
            f"{info['customers']:,} / {info['baskets']:,} / {info['items']:,}",
        ),
        ("synth time (s)", "cached" if synth_seconds is None else f"{synth_seconds:.1f}"),
        (
            "ingest time (s)",
            f"{seconds:.1f}   target <= 180: {'PASS' if seconds <= 180 else 'FAIL'}",
        ),
        (
            "ingest peak RSS (GB)",
            f"{peak_gb:.2f}   target <= 6: {'PASS' if peak_gb <= 6 else 'FAIL'}",
        ),
        ("ingest throughput", f"{info['line_items'] / seconds / 1e6:.2f} M lines/s"),
    ]
    width = max(len(k) for k, _ in rows)
    print("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))


if __name__ == "__main__":
    main()
