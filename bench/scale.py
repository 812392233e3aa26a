"""The main job at Instacart scale, one real command per step: time and peak memory.

Issue 15. Synthetic Instacart-shaped data (``customer2vec synth``: 200K customers, 50K items,
16 baskets of 10.2 items on average, about 32M line items at ``--scale 1``; ``--scale``
scales the customers, so the line items, and keeps the catalogue). Each step runs the
``customer2vec`` command line in its own process; the table gives its wall time, CPU time
(user + sys of the process tree, steadier than wall time on a shared machine), peak
resident memory (of the process tree: the sum over its live processes, polled, or the
largest process's own peak, whichever is higher) and the load average before it.

    python bench/scale.py --scale 0.25 0.5             # two sizes, growth per line item
    python bench/scale.py --scale 1 --json scale.json  # the targets at full size
    python bench/scale.py --scale 0.1 --steps ingest train-item2vec recommend-item2vec
    python bench/scale.py --scale 0.25 --engine spark  # steps that take --engine get Spark

Targets (2 idle cores, full size): ingest + train item2vec + train customer2vec + both
segment steps <= 8 min at <= 8 GB peak; recommend-batch (item2vec) for every customer <= 2
min. Below full size the time targets are scaled by the line items (checked as "scaled").
Synth is cached in the work folder and not counted; later steps need the earlier ones'
outputs (run them once, then time single steps with ``--steps``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out" / "scale"
FULL_CUSTOMERS = 200_000
ITEMS = 50_000
MEAN_BASKETS = 16.0
MEAN_BASKET_SIZE = 10.2
GB = 1024**3

#: Step name -> (the arguments after ``customer2vec``, as a template on the scale folder).
STEPS: dict[str, list[str]] = {
    "ingest": [
        "ingest", "{synth}/transactions.parquet", "--items", "{synth}/items.parquet",
        "--customers", "{synth}/customers.parquet", "--out", "{data}", "--overwrite",
    ],
    "train-item2vec": [
        "train", "{data}", "--model", "item2vec", "--out", "{models}/item2vec", "--overwrite",
    ],
    "train-customer2vec": [
        "train", "{data}", "--model", "customer2vec", "--out", "{models}/customer2vec",
        "--overwrite",
    ],
    "segment": [
        "segment", "{models}/customer2vec", "--out", "{work}/segments/customers", "--overwrite",
    ],
    "segment-items": [
        "segment", "{models}/item2vec", "--what", "items", "--out", "{work}/segments/items",
        "--overwrite",
    ],
    "recommend-item2vec": [
        "recommend-batch", "{models}/item2vec", "--out", "{work}/recs/item2vec.parquet",
    ],
    "train-next-basket": [
        "train", "{data}", "--model", "next-basket", "--out", "{models}/next-basket",
        "--overwrite",
    ],
    "recommend-next-basket": [
        "recommend-batch", "{models}/next-basket", "--out", "{work}/recs/next-basket.parquet",
    ],
    "train-tifu-knn": [
        "train", "{data}", "--model", "tifu-knn", "--out", "{models}/tifu-knn", "--overwrite",
    ],
    "recommend-tifu-knn": [
        "recommend-batch", "{models}/tifu-knn", "--out", "{work}/recs/tifu-knn.parquet",
    ],
    "report": [
        "report", "{models}/customer2vec", "--out", "{work}/report.html", "--segments",
        "{work}/segments/customers",
    ],
}  # fmt: skip
#: (name, steps, seconds at full size, peak GB): time scaled by line items below full size.
TARGETS = [
    (
        "ingest + item2vec + customer2vec + segments",
        ("ingest", "train-item2vec", "train-customer2vec", "segment", "segment-items"),
        480.0,
        8.0,
    ),
    ("recommend-batch item2vec, every customer", ("recommend-item2vec",), 120.0, 8.0),
]
#: Every step's peak memory must stay under this (GB).
MEMORY_CEILING_GB = 8.0

#: Runs one step's command and writes its process tree's rusage (waited-for descendants).
_WRAPPER = """
import json, resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = usage.ru_utime + usage.ru_stime
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "maxrss_kb": usage.ru_maxrss, "cpu": cpu}, out)
sys.exit(code)
"""


@dataclass
class StepResult:
    step: str
    seconds: float
    cpu_seconds: float
    peak_gb: float
    load_before: float
    returncode: int


def main() -> None:
    args = _parse()
    steps = args.steps or list(STEPS)
    work_root = Path(args.work).resolve()
    runs = []
    print(f"# customer2vec scale bench: {_machine()}", flush=True)
    for scale in args.scale:
        run = _run_scale(scale, steps, work_root, args)
        runs.append(run)
    print()
    print(markdown(runs, steps))
    verdicts = check_targets(runs)
    if len(runs) > 1:
        print()
        print(growth_table(runs, steps))
    print()
    for line in verdicts:
        print(line)
    if args.json:
        document = {"machine": _machine(), "engine": args.engine, "runs": runs}
        document["targets"] = verdicts
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    if any(s["returncode"] for run in runs for s in run["steps"]):
        sys.exit(1)


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, nargs="+", default=[0.25], help="x 200K customers")
    parser.add_argument("--steps", nargs="+", choices=list(STEPS), help="default: every step")
    parser.add_argument("--work", default=str(OUT), help="folder for data, models, outputs")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--spark-master", default="local[2]")
    parser.add_argument("--json", help="write the table (and the target checks) here")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--fresh", action="store_true", help="delete the scale's outputs (not the synth) first"
    )
    args = parser.parse_args()
    for scale in args.scale:
        if not 0 < scale <= 4:
            parser.error(f"--scale must be in (0, 4]; got {scale}")
    return args


def _run_scale(scale: float, steps: list[str], work_root: Path, args) -> dict:
    customers = max(round(FULL_CUSTOMERS * scale), 100)
    work = work_root / f"scale_{scale:g}"
    folders = {
        "work": work,
        "synth": work / "synth",
        "data": work / "data",
        "models": work / "models",
    }
    if args.fresh:
        for name in ("data", "models"):
            shutil.rmtree(folders[name], ignore_errors=True)
        shutil.rmtree(work / "segments", ignore_errors=True)
        shutil.rmtree(work / "recs", ignore_errors=True)
    for name in ("models", "recs", "logs"):
        (work / name).mkdir(parents=True, exist_ok=True)
    print(f"\n## scale {scale:g}: {customers:,} customers, {ITEMS:,} items ({work})", flush=True)
    synth = _synth(folders["synth"], customers, args.seed)
    results = []
    for step in steps:
        command = [sys.executable, "-m", "customer2vec", "-q"]
        command += [part.format(**folders) for part in STEPS[step]]
        command += _engine_flags(STEPS[step][0], args.engine, args.spark_master)
        result = run_step(step, command, work / "logs" / f"{step}.log")
        results.append(asdict(result))
        status = "" if result.returncode == 0 else f"  FAILED (exit {result.returncode})"
        print(
            f"{step:<22} {result.seconds:8.1f} s wall {result.cpu_seconds:8.1f} s cpu "
            f"{result.peak_gb:6.2f} GB peak  load {result.load_before:.1f}{status}",
            flush=True,
        )
        if result.returncode:
            log = (work / "logs" / f"{step}.log").read_text(errors="replace")
            print("\n".join(log.splitlines()[-15:]), flush=True)
            break
    return {
        "scale": scale,
        "customers": customers,
        "line_items": synth["line_items"],
        "synth_seconds": synth["seconds"],
        "steps": results,
    }


def _synth(folder: Path, customers: int, seed: int) -> dict:
    """Write the synthetic dataset once (cached in the work folder; not counted)."""
    described = folder / "dataset.json"
    seconds = None
    if not described.exists():
        started = time.perf_counter()
        command = [sys.executable, "-m", "customer2vec", "-q", "synth", "--out", str(folder)]
        command += ["--customers", str(customers), "--items", str(ITEMS)]
        command += ["--mean-baskets", str(MEAN_BASKETS), "--mean-basket-size"]
        command += [str(MEAN_BASKET_SIZE), "--seed", str(seed), "--overwrite"]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode:
            sys.exit(f"synth failed:\n{done.stderr}")
        seconds = time.perf_counter() - started
    line_items = json.loads(described.read_text())["counts"]["line_items"]
    took = "cached" if seconds is None else f"{seconds:.0f} s"
    print(f"synth: {line_items:,} line items ({took}, not counted)", flush=True)
    return {"line_items": line_items, "seconds": seconds}


_HELP: dict[str, str] = {}


def _engine_flags(command: str, engine: str, master: str) -> list[str]:
    """``--engine spark --spark-master M`` for the commands whose help lists them."""
    if engine != "spark":
        return []
    if command not in _HELP:
        done = subprocess.run(
            [sys.executable, "-m", "customer2vec", command, "--help"],
            capture_output=True,
            text=True,
            check=False,
        )
        _HELP[command] = done.stdout
    text = _HELP[command]
    flags = ["--engine", "spark"] if "--engine" in text else []
    return flags + (["--spark-master", master] if flags and "--spark-master" in text else [])


def run_step(step: str, command: list[str], log: Path) -> StepResult:
    """Run ``command`` in its own process tree; wall and CPU time, peak RSS (GB)."""
    load = os.getloadavg()[0]
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        usage_file = Path(handle.name)
    started = time.perf_counter()
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(usage_file), *command],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        poller = _TreeMemory(process.pid)
        poller.start()
        returncode = process.wait()
        poller.stop()
    seconds = time.perf_counter() - started
    try:
        usage = json.loads(usage_file.read_text())
    except (OSError, ValueError):
        usage = {"maxrss_kb": 0, "cpu": float("nan")}
    finally:
        usage_file.unlink(missing_ok=True)
    peak = max(poller.peak_bytes, usage["maxrss_kb"] * 1024) / GB
    return StepResult(step, seconds, usage["cpu"], peak, load, returncode)


class _TreeMemory(threading.Thread):
    """Poll the summed resident memory of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_bytes = pid, interval, 0
        self._done = threading.Event()
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def run(self) -> None:
        while not self._done.wait(self.interval):
            self.peak_bytes = max(self.peak_bytes, self._tree_rss())

    def stop(self) -> None:
        self._done.set()
        self.join()

    def _tree_rss(self) -> int:
        parents: dict[int, int] = {}
        rss: dict[int, int] = {}
        for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
            if not entry.name.isdigit():
                continue
            try:
                stat = (entry / "stat").read_text()
                pages = int((entry / "statm").read_text().split()[1])
            except (OSError, ValueError, IndexError):
                continue
            fields = stat[stat.rfind(")") + 2 :].split()
            parents[int(entry.name)] = int(fields[1])
            rss[int(entry.name)] = pages * self._page
        tree, frontier = {self.pid}, [self.pid]
        while frontier:
            parent = frontier.pop()
            children = [p for p, pp in parents.items() if pp == parent and p not in tree]
            tree.update(children)
            frontier.extend(children)
        return sum(rss.get(p, 0) for p in tree)


def _machine() -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GB
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return f"{platform.node()}, {cores} cores, {memory:.0f} GB RAM, load {load}"


def _lines_m(run: dict) -> float:
    return run["line_items"] / 1e6


def markdown(runs: list[dict], steps: list[str]) -> str:
    """Rows: steps; columns per scale: wall s, CPU s, peak GB, wall s per M line items."""
    header = "| step |"
    rule = "| --- |"
    for run in runs:
        label = f"{run['customers'] // 1000}K cust, {_lines_m(run):.1f}M lines"
        header += f" {label}: wall s | CPU s | peak GB | s / M lines |"
        rule += " ---: | ---: | ---: | ---: |"
    lines = [header, rule]
    for step in steps:
        row = f"| {step} |"
        for run in runs:
            found = _step(run, step)
            if found is None:
                row += " - | - | - | - |"
                continue
            mark = "" if found["returncode"] == 0 else " (failed)"
            row += (
                f" {found['seconds']:.1f}{mark} | {found['cpu_seconds']:.1f} | "
                f"{found['peak_gb']:.2f} | {found['seconds'] / _lines_m(run):.2f} |"
            )
        lines.append(row)
    loads = ", ".join(
        f"{run['scale']:g}: {min(s['load_before'] for s in run['steps']):.1f}-"
        f"{max(s['load_before'] for s in run['steps']):.1f}"
        for run in runs
        if run["steps"]
    )
    lines.append("")
    lines.append(f"Load average (1 min) before the steps, by scale: {loads}.")
    return "\n".join(lines)


def growth_table(runs: list[dict], steps: list[str]) -> str:
    """Per step: wall and CPU seconds per M line items at each scale, relative to the first."""
    base = runs[0]
    lines = [
        "growth: (seconds per M line items) / (the same at scale "
        f"{base['scale']:g}); 1.0 = linear in line items",
        "| step | " + " | ".join(f"x{run['scale']:g} wall | CPU" for run in runs[1:]) + " |",
        "| --- |" + " ---: | ---: |" * (len(runs) - 1),
    ]
    for step in steps:
        first = _step(base, step)
        cells = []
        for run in runs[1:]:
            found = _step(run, step)
            if first is None or found is None or first["seconds"] <= 0:
                cells += ["-", "-"]
                continue
            for key in ("seconds", "cpu_seconds"):
                ratio = (found[key] / _lines_m(run)) / max(first[key] / _lines_m(base), 1e-9)
                cells.append(f"{ratio:.2f}")
        lines.append(f"| {step} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def check_targets(runs: list[dict]) -> list[str]:
    """PASS/FAIL per target and scale (time scaled by line items below full size)."""
    verdicts = []
    for run in runs:
        share = run["scale"]
        for name, needed, seconds, memory in TARGETS:
            found = [_step(run, s) for s in needed]
            if any(f is None or f["returncode"] for f in found):
                continue
            took = sum(f["seconds"] for f in found)
            peak = max(f["peak_gb"] for f in found)
            limit = seconds * share
            kind = "" if share == 1 else f" (scaled x{share:g})"
            ok = took <= limit and peak <= memory
            verdicts.append(
                f"{'PASS' if ok else 'FAIL'} scale {share:g}: {name}: {took:.0f} s <= "
                f"{limit:.0f} s{kind}, peak {peak:.2f} GB <= {memory:g} GB"
            )
        peaks = [s for s in run["steps"] if s["returncode"] == 0]
        if peaks:
            worst = max(peaks, key=lambda s: s["peak_gb"])
            ok = worst["peak_gb"] <= MEMORY_CEILING_GB
            verdicts.append(
                f"{'PASS' if ok else 'FAIL'} scale {share:g}: every step's peak <= "
                f"{MEMORY_CEILING_GB:g} GB (highest: {worst['step']}, {worst['peak_gb']:.2f} GB)"
            )
    return verdicts


def _step(run: dict, step: str) -> dict | None:
    return next((s for s in run["steps"] if s["step"] == step), None)


if __name__ == "__main__":
    main()
