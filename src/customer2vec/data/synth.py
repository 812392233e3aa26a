"""Synthetic retail transactions with a planted answer.

The generator draws a catalogue, customers and their baskets from a small hierarchical model
whose hidden structure is stored next to the data, so that tests and benchmarks can check
what an embedding recovers:

- **Items** belong to one ``category`` each; categories nest in contiguous blocks of
  ``department``. Within a category, item popularity follows Zipf(``zipf_exponent``)
  (``items.popularity_rank`` is the item's rank in its category, 1 = most popular).
- **Segments** are hidden shopper types (``customers.segment``). With ``S <= D`` segments,
  segment ``s`` owns the departments ``d`` with ``d mod S == s``; with more segments than
  departments it owns the ``s``-th of ``S`` contiguous blocks of categories (possibly empty:
  a generalist). Its preference over categories puts twenty times more weight on what it owns,
  times gamma noise. ``customers.has_kids`` is a label that follows the segment's parity with
  probability 0.85 (even segments: kids).
- **Customers** have three personal favorite categories drawn from their segment's preference
  and a handful of "staples" (items drawn the same way) that they buy again and again.
  Their number of baskets is ``1 + Poisson(activity * (mean_baskets - 1))`` with a
  gamma-distributed ``activity`` of mean 1, which gives a heavy tail.
- **Baskets** have one or two "missions" (categories drawn from the customer's taste) and
  ``1 + Poisson(mean_basket_size - 1)`` distinct items (at most 100). Each draw is a staple
  with probability ``repeat_share``, otherwise a Zipf draw from a mission category (85%) or
  from another category the customer likes (15%); draws that repeat an item already in the
  basket are skipped. ``quantity`` is geometric (1 with probability 0.8), ``price`` is fixed
  per item.
- **Time**: a customer's baskets fall on uniformly drawn days within ``[start, start + days)``,
  between 08:00 and 21:00; ``sequence`` is a basket's chronological rank within its customer.

Everything is vectorized over a chunk of customers; ``write_synth`` streams chunks to Parquet
so that memory stays bounded however many customers are asked for.

Examples
--------
>>> tables = generate(n_customers=100, n_items=200, random_state=0)   # doctest: +SKIP
>>> write_synth("data/synth", n_customers=200_000, n_items=50_000)     # doctest: +SKIP
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from customer2vec.columns import Columns
from customer2vec.config import require_float, require_int
from customer2vec.data.dataset import write_meta
from customer2vec.data.outputs import atomic_directory
from customer2vec.data.synth_world import TRANSACTIONS_SCHEMA, iter_chunks, make_world
from customer2vec.errors import ConfigError
from customer2vec.progress import progress as progress_bar

#: Customers simulated at once; ``generate`` uses the same chunks as ``write_synth``'s default.
DEFAULT_CHUNK_CUSTOMERS = 50_000

ITEM_COLUMNS = (
    Columns.ITEM,
    Columns.NAME,
    "department",
    "category",
    "color",
    "brand",
    "popularity_rank",
)
CUSTOMER_COLUMNS = (Columns.CUSTOMER, Columns.SEGMENT, "has_kids", "region")
PLANTED = {
    "customer_segment": "customers.segment",
    "item_category": "items.category",
    "customer_label": "customers.has_kids",
}


@dataclass(frozen=True)
class SynthTables:
    """The three tables of a synthetic dataset.

    Attributes
    ----------
    transactions
        One row per line item, columns ``Columns.TRANSACTIONS``, sorted by customer and
        ``sequence``.
    items
        The catalogue: ``item_id, name, department, category, color, brand, popularity_rank``.
    customers
        ``customer_id, segment, has_kids, region``; ``segment`` is the planted shopper type.
    """

    transactions: pd.DataFrame
    items: pd.DataFrame
    customers: pd.DataFrame


def generate(
    *,
    n_customers: int = 2000,
    n_items: int = 1000,
    n_departments: int = 8,
    n_categories: int = 40,
    n_segments: int = 4,
    mean_baskets: float = 12.0,
    mean_basket_size: float = 8.0,
    repeat_share: float = 0.4,
    zipf_exponent: float = 1.1,
    start: str = "2024-01-01",
    days: int = 365,
    random_state: int | None = 0,
) -> SynthTables:
    """Generate a synthetic retail dataset in memory.

    For tens of millions of lines, use :func:`write_synth`, which streams to Parquet.

    Parameters
    ----------
    n_customers
        Customers; each has at least one basket.
    n_items
        Catalogue size (at least ``n_categories``).
    n_departments
        Departments; categories nest in them in contiguous blocks.
    n_categories
        Categories (at least ``n_departments``).
    n_segments
        Hidden shopper types, stored as ``customers.segment``.
    mean_baskets
        Mean number of baskets per customer (at least 1).
    mean_basket_size
        Mean number of distinct items per basket (at least 1); small catalogues fall a little
        short when a customer's tastes run out of distinct items.
    repeat_share
        Share of lines that re-buy one of the customer's staple items, in [0, 1].
    zipf_exponent
        Exponent of the Zipf law of item popularity within a category (0 = uniform).
    start
        First day of the period, anything ``pandas.Timestamp`` parses.
    days
        Length of the period in days.
    random_state
        Seed; the same seed gives identical tables.

    Returns
    -------
    SynthTables
        Transactions, items and customers as pandas DataFrames.

    Raises
    ------
    ConfigError
        If a parameter is out of range; the message names it.
    """
    params = _validate(locals())
    rng = np.random.default_rng(random_state)
    world = make_world(rng, params)
    chunks = [chunk.table for chunk in iter_chunks(world, rng, DEFAULT_CHUNK_CUSTOMERS)]
    transactions = pa.concat_tables(chunks).to_pandas()
    return SynthTables(transactions=transactions, items=world.items, customers=world.customers)


def write_synth(
    out: str | Path,
    *,
    overwrite: bool = False,
    chunk_customers: int = DEFAULT_CHUNK_CUSTOMERS,
    progress: bool = False,
    **generate_kwargs: Any,
) -> Path:
    """Generate a synthetic dataset and write it as a dataset directory, chunk by chunk.

    Transactions are simulated ``chunk_customers`` customers at a time and streamed to
    ``transactions.parquet``, so peak memory depends on the chunk size, not on
    ``n_customers``. With the default chunk size the tables equal those of ``generate``.

    Parameters
    ----------
    out
        Dataset directory to create.
    overwrite
        Replace ``out`` if it exists.
    chunk_customers
        Customers simulated and written at once.
    progress
        Show a progress bar over chunks on stderr.
    **generate_kwargs
        Parameters of :func:`generate`.

    Returns
    -------
    Path
        The dataset directory.

    Raises
    ------
    ConfigError
        If a parameter is out of range or unknown.
    DataValidationError
        If ``out`` exists and ``overwrite`` is false.
    """
    require_int(chunk_customers, "chunk_customers", minimum=1)
    unknown = sorted(set(generate_kwargs) - set(_DEFAULTS))
    if unknown:
        raise ConfigError(
            f"unknown synth parameter(s): {', '.join(unknown)}. Known: {', '.join(_DEFAULTS)}."
        )
    params = _validate({**_DEFAULTS, **generate_kwargs})
    rng = np.random.default_rng(params["random_state"])
    world = make_world(rng, params)
    n_chunks = -(-params["n_customers"] // chunk_customers)
    n_lines = n_baskets = 0
    sold = np.zeros(params["n_items"], dtype=bool)
    first = last = None
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        with pq.ParquetWriter(
            tmp / "transactions.parquet", TRANSACTIONS_SCHEMA, compression="zstd"
        ) as writer:
            chunks = progress_bar(
                iter_chunks(world, rng, chunk_customers),
                total=n_chunks,
                unit="chunk",
                desc="synth",
                enabled=progress,
            )
            for chunk in chunks:
                writer.write_table(chunk.table)
                n_lines += chunk.table.num_rows
                n_baskets += chunk.n_baskets
                sold[chunk.items] = True
                first = chunk.first_us if first is None else min(first, chunk.first_us)
                last = chunk.last_us if last is None else max(last, chunk.last_us)
        _write_frame(world.items, tmp / "items.parquet")
        _write_frame(world.customers, tmp / "customers.parquet")
        meta = {
            "source": {"synth": params},
            "id_types": {
                Columns.CUSTOMER: "int64",
                Columns.BASKET: "int64",
                Columns.ITEM: "string",
            },
            "basket_scope": "global",
            "order": "timestamp",
            "counts": {
                "line_items": n_lines,
                "customers": params["n_customers"],
                "baskets": n_baskets,
                "items": int(sold.sum()),
                "catalogue_items": params["n_items"],
                "first_timestamp": _isoformat(first),
                "last_timestamp": _isoformat(last),
            },
            "report": {
                "rows_read": n_lines,
                "rows_kept": n_lines,
                "rows_dropped": {},
                "warnings": [],
            },
            "planted": PLANTED,
        }
        write_meta(tmp, meta)
    return out


# ----------------------------------------------------------------------------- parameters

_DEFAULTS: dict[str, Any] = {
    name: parameter.default for name, parameter in inspect.signature(generate).parameters.items()
}


def _validate(params: dict[str, Any]) -> dict[str, Any]:
    """Check every ``generate`` parameter; return them with floats as floats."""
    params = {name: params[name] for name in _DEFAULTS}
    require_int(params["n_customers"], "n_customers", minimum=1)
    require_int(params["n_departments"], "n_departments", minimum=1)
    require_int(params["n_categories"], "n_categories", minimum=params["n_departments"])
    require_int(params["n_items"], "n_items", minimum=params["n_categories"])
    require_int(params["n_segments"], "n_segments", minimum=1)
    require_int(params["days"], "days", minimum=1)
    for name in ("mean_baskets", "mean_basket_size"):
        params[name] = require_float(params[name], name, minimum=1.0)
    params["repeat_share"] = require_float(
        params["repeat_share"], "repeat_share", minimum=0.0, maximum=1.0
    )
    params["zipf_exponent"] = require_float(params["zipf_exponent"], "zipf_exponent", minimum=0.0)
    if params["random_state"] is not None:
        require_int(params["random_state"], "random_state", minimum=0)
    if not isinstance(params["start"], str):
        raise ConfigError(f"`start` must be a date string; got {params['start']!r}.")
    message = f"`start` must be a date such as '2024-01-01'; got {params['start']!r}."
    try:
        start = pd.Timestamp(params["start"])
    except ValueError as err:
        raise ConfigError(message) from err
    if start is pd.NaT:
        raise ConfigError(message)
    return params


# ----------------------------------------------------------------------------- output


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")


def _isoformat(us: int | None) -> str | None:
    return None if us is None else pd.Timestamp(us, unit="us").isoformat()
