"""Shared fixtures: tiny raw retail files with planted answers, and the real datasets."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    """The real public datasets beside the checkout (CI has them; users may not)."""
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


def make_raw_transactions(
    n_groups: int = 2,
    customers_per_group: int = 10,
    items_per_group: int = 8,
    baskets_per_customer: int = 4,
    basket_size: int = 3,
    seed: int = 0,
) -> pd.DataFrame:
    """Customers of group g buy only items of group g (``a*`` items, ``b*`` items, ...).

    Columns use foreign names (``client``, ``ticket``, ``sku``, ``sold_at``, ``units``) so
    that tests exercise the mapping flags.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = []
    ticket = 1000
    for g in range(n_groups):
        letter = "abcdefgh"[g]
        for c in range(customers_per_group):
            client = f"c{g * customers_per_group + c}"
            for b in range(baskets_per_customer):
                ticket += 1
                day = pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * b + c)
                for item in rng.choice(items_per_group, size=basket_size, replace=False):
                    rows.append((client, ticket, f"{letter}{item}", day.isoformat(), 1))
    return pd.DataFrame(rows, columns=["client", "ticket", "sku", "sold_at", "units"])


def ingest_tribes(directory: Path, **sizes: int):
    """Ingest ``make_raw_transactions(**sizes)`` into a dataset under ``directory``."""
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    raw = make_raw_transactions(**sizes)
    raw.to_csv(directory / "sales.csv", index=False)
    mapping = ColumnMapping(customer="client", basket="ticket", item="sku", time="sold_at")
    return ingest([directory / "sales.csv"], directory / "tribes", mapping=mapping)


@pytest.fixture
def two_tribes() -> pd.DataFrame:
    """Customers c0-c9 buy only a* items; c10-c19 buy only b* items."""
    return make_raw_transactions()


@pytest.fixture
def two_tribes_csv(tmp_path: Path, two_tribes: pd.DataFrame) -> Path:
    path = tmp_path / "sales.csv"
    two_tribes.to_csv(path, index=False)
    return path


MAPPING_FLAGS = [
    "--customer-col",
    "client",
    "--basket-col",
    "ticket",
    "--item-col",
    "sku",
    "--time-col",
    "sold_at",
    "--quantity-col",
    "units",
]


@pytest.fixture
def mapping_flags() -> list[str]:
    """CLI flags mapping the foreign column names of ``two_tribes``."""
    return list(MAPPING_FLAGS)
