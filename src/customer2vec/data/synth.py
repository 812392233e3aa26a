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
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from tqdm import tqdm

from customer2vec.columns import Columns
from customer2vec.config import require_float, require_int
from customer2vec.data.dataset import atomic_directory, write_meta
from customer2vec.errors import ConfigError

#: Customers simulated at once; ``generate`` uses the same chunks as ``write_synth``'s default.
DEFAULT_CHUNK_CUSTOMERS = 50_000

_MAX_BASKET_SIZE = 100
_N_FAVORITES = 3  # personal favorite categories per customer
_N_STAPLES = 6  # personal staple items per customer
_STAPLE_DECAY = 0.5  # weight of staple k is proportional to decay**k: a clear top item
_FAVORITE_SHARE = 0.5  # share of category draws that pick a personal favorite
_MISSION_SHARE = 0.85  # share of non-repeat lines drawn from the basket's missions
_TWO_MISSION_SHARE = 0.5
_SINGLE_QUANTITY_SHARE = 0.8  # quantity is geometric: 1 with this probability
_FAVORED_WEIGHT = 1.0
_OTHER_WEIGHT = 0.05
_KIDS_PROBABILITY = 0.85  # P(has_kids) for even segments; 1 - this for odd ones
_OPEN_SECONDS = 8 * 3600
_OPEN_HOURS_SECONDS = 13 * 3600
_COLORS = ("black", "white", "red", "blue", "green", "yellow")
_BRANDS_PER_DEPARTMENT = 5
_REGIONS = ("north", "south", "east", "west", "central")

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
TRANSACTIONS_SCHEMA = pa.schema(
    [
        (Columns.CUSTOMER, pa.int64()),
        (Columns.BASKET, pa.int64()),
        (Columns.ITEM, pa.string()),
        (Columns.SEQUENCE, pa.int64()),
        (Columns.TIMESTAMP, pa.timestamp("us")),
        (Columns.QUANTITY, pa.int64()),
        (Columns.PRICE, pa.float64()),
    ]
)
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
    world = _make_world(rng, params)
    chunks = [chunk.table for chunk in _chunks(world, rng, DEFAULT_CHUNK_CUSTOMERS)]
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
    world = _make_world(rng, params)
    n_chunks = -(-params["n_customers"] // chunk_customers)
    n_lines = n_baskets = 0
    sold = np.zeros(params["n_items"], dtype=bool)
    first = last = None
    out = Path(out)
    with atomic_directory(out, overwrite=overwrite) as tmp:
        with pq.ParquetWriter(
            tmp / "transactions.parquet", TRANSACTIONS_SCHEMA, compression="zstd"
        ) as writer:
            chunks = tqdm(
                _chunks(world, rng, chunk_customers),
                total=n_chunks,
                unit="chunk",
                desc="synth",
                disable=not progress,
                file=sys.stderr,
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


# ----------------------------------------------------------------------------- world


@dataclass(frozen=True)
class _World:
    """Everything drawn once, before the baskets: catalogue, tastes, customers."""

    items: pd.DataFrame
    customers: pd.DataFrame
    item_ids: pa.Array  # item_id strings, indexed by item index
    prices: np.ndarray  # float64 per item index
    zipf_items: np.ndarray  # item indices sorted by (category, rank)
    zipf_keys: np.ndarray  # category + cumulative Zipf probability, aligned with zipf_items
    segment_keys: np.ndarray  # segment + cumulative category preference, flattened (S * C)
    segments: np.ndarray  # segment per customer
    n_categories: int
    mean_baskets: float
    mean_basket_size: float
    repeat_share: float
    start_us: int
    days: int


@dataclass(frozen=True)
class _Chunk:
    table: pa.Table
    items: np.ndarray  # distinct item indices sold in the chunk
    n_baskets: int
    first_us: int
    last_us: int


def _make_world(rng: np.random.Generator, params: dict[str, Any]) -> _World:
    n_items, n_categories = params["n_items"], params["n_categories"]
    n_departments, n_segments = params["n_departments"], params["n_segments"]

    # Catalogue: categories spread evenly over a shuffled item index, so ids carry no category.
    category = rng.permutation(np.arange(n_items) % n_categories)
    department = category * n_departments // n_categories
    order = np.lexsort((rng.random(n_items), category))  # random order within each category
    sorted_category = category[order]
    category_start = np.searchsorted(sorted_category, np.arange(n_categories))
    rank = np.empty(n_items, dtype=np.int64)
    rank[order] = np.arange(n_items) - category_start[sorted_category] + 1
    weight = rank[order].astype(np.float64) ** -params["zipf_exponent"]
    zipf_keys = _cumulative_keys(weight, sorted_category)

    base_price = rng.lognormal(np.log(4.0), 0.6, size=n_categories)
    prices = np.maximum(np.round(base_price[category] * rng.lognormal(0.0, 0.3, n_items), 2), 0.1)
    brand = department * _BRANDS_PER_DEPARTMENT + rng.integers(_BRANDS_PER_DEPARTMENT, size=n_items)
    color = rng.integers(len(_COLORS), size=n_items)

    item_ids = _labels("i", np.arange(n_items), n_items, width=5)
    category_names = _labels("cat", category, n_categories, width=3)
    items = pd.DataFrame(
        {
            Columns.ITEM: item_ids,
            Columns.NAME: [f"{c} item {r}" for c, r in zip(category_names, rank, strict=True)],
            "department": _labels("dept", department, n_departments, width=2),
            "category": category_names,
            "color": np.asarray(_COLORS)[color],
            "brand": _labels("brand", brand, n_departments * _BRANDS_PER_DEPARTMENT, width=3),
            "popularity_rank": rank,
        }
    )

    # Segment tastes: heavy weight on the segment's own departments (disjoint across segments
    # while there are enough departments), or on its own block of categories otherwise.
    category_department = np.arange(n_categories) * n_departments // n_categories
    if n_segments <= n_departments:
        owner = category_department % n_segments
    else:
        owner = np.arange(n_categories) * n_segments // n_categories
    is_favored = owner[None, :] == np.arange(n_segments)[:, None]
    preference = np.where(is_favored, _FAVORED_WEIGHT, _OTHER_WEIGHT)
    preference = preference * rng.gamma(2.0, size=(n_segments, n_categories))
    segment_keys = _cumulative_keys(
        preference.ravel(), np.repeat(np.arange(n_segments), n_categories)
    )

    n_customers = params["n_customers"]
    segments = rng.integers(n_segments, size=n_customers)
    p_kids = np.where(segments % 2 == 0, _KIDS_PROBABILITY, 1.0 - _KIDS_PROBABILITY)
    customers = pd.DataFrame(
        {
            Columns.CUSTOMER: np.arange(n_customers, dtype=np.int64),
            Columns.SEGMENT: segments.astype(np.int64),
            "has_kids": rng.random(n_customers) < p_kids,
            "region": np.asarray(_REGIONS)[rng.integers(len(_REGIONS), size=n_customers)],
        }
    )
    return _World(
        items=items,
        customers=customers,
        item_ids=pa.array(item_ids, type=pa.string()),
        prices=prices,
        zipf_items=order,
        zipf_keys=zipf_keys,
        segment_keys=segment_keys,
        segments=segments,
        n_categories=n_categories,
        mean_baskets=params["mean_baskets"],
        mean_basket_size=params["mean_basket_size"],
        repeat_share=params["repeat_share"],
        start_us=pd.Timestamp(params["start"]).value // 1_000,
        days=params["days"],
    )


def _cumulative_keys(weight: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Return ``group + cumulative share of weight within group`` for rows sorted by group.

    The keys increase over the whole array, so one ``searchsorted`` of ``group + u`` draws
    from many categorical distributions at once (one per group).
    """
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    cumulative = np.cumsum(weight)
    before = np.r_[0.0, cumulative][starts]
    totals = np.add.reduceat(weight, starts)
    sizes = np.diff(np.r_[starts, len(weight)])
    share = (cumulative - np.repeat(before, sizes)) / np.repeat(totals, sizes)
    share[np.r_[starts[1:], len(weight)] - 1] = 1.0  # exact ends keep groups apart
    return group + share


def _draw(keys: np.ndarray, group: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Draw one position per entry of ``group`` from that group's distribution in ``keys``."""
    # The shrink keeps ``group + u`` from rounding up to ``group + 1`` (the next group).
    u = rng.random(len(group)) * (1.0 - 1e-9)
    return np.searchsorted(keys, group + u, side="right")


def _labels(prefix: str, values: np.ndarray, n_values: int, *, width: int) -> np.ndarray:
    width = max(width, len(str(n_values - 1)))
    return np.char.add(prefix, np.char.zfill(values.astype(str), width)).astype(object)


# ----------------------------------------------------------------------------- baskets


def _chunks(world: _World, rng: np.random.Generator, chunk_customers: int) -> Iterator[_Chunk]:
    basket_offset = 0
    n_customers = len(world.segments)
    for begin in range(0, n_customers, chunk_customers):
        chunk = _make_chunk(
            world, rng, begin, min(begin + chunk_customers, n_customers), basket_offset
        )
        basket_offset += chunk.n_baskets
        yield chunk


def _make_chunk(
    world: _World, rng: np.random.Generator, begin: int, end: int, basket_offset: int
) -> _Chunk:
    """Simulate the baskets of customers ``begin..end-1`` as a transactions table."""
    n_customers = end - begin
    segments = world.segments[begin:end]

    def categories(customer: np.ndarray) -> np.ndarray:
        """Draw a category per entry from the customer's taste (favorites or segment)."""
        drawn = _draw(world.segment_keys, segments[customer], rng) % world.n_categories
        personal = rng.random(len(customer)) < _FAVORITE_SHARE
        slot = rng.integers(_N_FAVORITES, size=int(personal.sum()))
        drawn[personal] = favorites[customer[personal], slot]
        return drawn

    def items_in(category: np.ndarray) -> np.ndarray:
        return world.zipf_items[_draw(world.zipf_keys, category, rng)]

    favorites = (
        _draw(world.segment_keys, np.repeat(segments, _N_FAVORITES), rng) % world.n_categories
    ).reshape(n_customers, _N_FAVORITES)
    every = np.repeat(np.arange(n_customers), _N_STAPLES)
    staples = items_in(categories(every)).reshape(n_customers, _N_STAPLES)

    # Baskets, in chronological order within each customer.
    activity = rng.gamma(2.0, 0.5, size=n_customers)
    n_baskets = 1 + rng.poisson(activity * (world.mean_baskets - 1.0))
    basket_customer = np.repeat(np.arange(n_customers), n_baskets)
    n_total = len(basket_customer)
    seconds = (
        rng.integers(world.days, size=n_total) * 86_400
        + _OPEN_SECONDS
        + rng.integers(_OPEN_HOURS_SECONDS, size=n_total)
    )
    span = world.days * 86_400
    seconds = np.sort(basket_customer * span + seconds) - basket_customer * span
    first_basket = np.cumsum(n_baskets) - n_baskets
    sequence = np.arange(n_total) - np.repeat(first_basket, n_baskets) + 1
    timestamp_us = world.start_us + seconds * 1_000_000

    missions = categories(np.repeat(basket_customer, 2)).reshape(n_total, 2)
    single = rng.random(n_total) >= _TWO_MISSION_SHARE
    missions[single, 1] = missions[single, 0]

    # Lines: staples, mission items and a few other items the customer likes. Draw half as many
    # again as needed, then keep each basket's first `size` distinct items in draw order.
    size = np.minimum(1 + rng.poisson(world.mean_basket_size - 1.0, size=n_total), _MAX_BASKET_SIZE)
    n_draws = size + size // 2 + 2
    line_basket = np.repeat(np.arange(n_total), n_draws)
    line_customer = basket_customer[line_basket]
    kind = rng.random(len(line_basket))
    is_repeat = kind < world.repeat_share
    mission_end = world.repeat_share + (1.0 - world.repeat_share) * _MISSION_SHARE
    is_mission = ~is_repeat & (kind < mission_end)
    is_other = ~is_repeat & ~is_mission

    staple_keys = np.cumsum(_STAPLE_DECAY ** np.arange(_N_STAPLES))
    staple_keys /= staple_keys[-1]
    slot = np.minimum(
        np.searchsorted(staple_keys, rng.random(int(is_repeat.sum())), side="right"),
        _N_STAPLES - 1,
    )
    category = np.empty(len(line_basket), dtype=np.int64)
    category[is_mission] = missions[
        line_basket[is_mission], rng.integers(2, size=int(is_mission.sum()))
    ]
    category[is_other] = categories(line_customer[is_other])
    item = np.empty(len(line_basket), dtype=np.int64)
    item[is_repeat] = staples[line_customer[is_repeat], slot]
    drawn = ~is_repeat
    item[drawn] = items_in(category[drawn])
    del category, line_customer, kind, is_repeat, is_mission, is_other, drawn, slot

    position = np.arange(len(line_basket)) - np.repeat(np.cumsum(n_draws) - n_draws, n_draws)
    line_basket, item = _first_distinct(
        line_basket, item, position, size, n_items=len(world.prices), n_positions=int(n_draws.max())
    )
    quantity = rng.geometric(_SINGLE_QUANTITY_SHARE, size=len(item))

    table = pa.table(
        [
            pa.array(begin + basket_customer[line_basket], type=pa.int64()),
            pa.array(basket_offset + line_basket, type=pa.int64()),
            world.item_ids.take(pa.array(item)),
            pa.array(sequence[line_basket], type=pa.int64()),
            pa.array(timestamp_us[line_basket], type=pa.int64()).cast(pa.timestamp("us")),
            pa.array(quantity, type=pa.int64()),
            pa.array(world.prices[item], type=pa.float64()),
        ],
        schema=TRANSACTIONS_SCHEMA,
    )
    return _Chunk(
        table=table,
        items=np.unique(item),
        n_baskets=n_total,
        first_us=int(timestamp_us.min()),
        last_us=int(timestamp_us.max()),
    )


def _first_distinct(
    basket: np.ndarray,
    item: np.ndarray,
    position: np.ndarray,
    size: np.ndarray,
    *,
    n_items: int,
    n_positions: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Keep the first ``size[b]`` distinct items of each basket ``b``, in draw order.

    Two sorts of packed int64 keys (basket, item, position) replace a per-basket loop.
    """
    key = (basket * n_items + item) * n_positions + position
    key.sort()
    pair = key // n_positions
    key = key[np.r_[True, pair[1:] != pair[:-1]]]  # first draw of each (basket, item)
    del pair
    pair, position = np.divmod(key, n_positions)
    basket, item = np.divmod(pair, n_items)
    key = (basket * n_positions + position) * n_items + item
    key.sort()
    basket, rest = np.divmod(key, n_positions * n_items)
    item = rest % n_items
    start = np.flatnonzero(np.r_[True, basket[1:] != basket[:-1]])
    rank = np.arange(len(basket)) - np.repeat(start, np.diff(np.r_[start, len(basket)]))
    keep = rank < size[basket]
    return basket[keep], item[keep]


# ----------------------------------------------------------------------------- output


def _write_frame(frame: pd.DataFrame, path: Path) -> None:
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path, compression="zstd")


def _isoformat(us: int | None) -> str | None:
    return None if us is None else pd.Timestamp(us, unit="us").isoformat()
