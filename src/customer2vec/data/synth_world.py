"""The generator behind :mod:`customer2vec.data.synth`: the world and its baskets.

:func:`make_world` draws everything that is drawn once (catalogue, segment tastes,
customers); :func:`iter_chunks` then simulates the baskets of a chunk of customers at a
time, all vectorized, as transactions tables. The model itself is described in
:mod:`customer2vec.data.synth`. Both draw from one ``numpy`` generator in a fixed order, so
a seed gives the same data; changing the order of draws changes every synthetic dataset.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from customer2vec.columns import Columns

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


# ----------------------------------------------------------------------------- world


@dataclass(frozen=True)
class World:
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
class Chunk:
    """The transactions of one chunk of customers, and what ``write_synth`` counts."""

    table: pa.Table
    items: np.ndarray  # distinct item indices sold in the chunk
    n_baskets: int
    first_us: int
    last_us: int


def make_world(rng: np.random.Generator, params: dict[str, Any]) -> World:
    """Draw the catalogue, the segments' tastes and the customers (``params``: validated)."""
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
    return World(
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


def iter_chunks(world: World, rng: np.random.Generator, chunk_customers: int) -> Iterator[Chunk]:
    """Simulate the customers ``chunk_customers`` at a time, with basket ids running on."""
    basket_offset = 0
    n_customers = len(world.segments)
    for begin in range(0, n_customers, chunk_customers):
        chunk = _make_chunk(
            world, rng, begin, min(begin + chunk_customers, n_customers), basket_offset
        )
        basket_offset += chunk.n_baskets
        yield chunk


def _make_chunk(
    world: World, rng: np.random.Generator, begin: int, end: int, basket_offset: int
) -> Chunk:
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
    return Chunk(
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
