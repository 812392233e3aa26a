"""Event-log tokens: a generic customer event log as documents of ``event=value`` tokens.

A log has one row per event: ``timestamp, customer_id, event_type`` and attribute columns
(``store``, ``department``, ``page``...). Each event becomes one token per non-missing
attribute, ``event_type=value`` (``visit=330``, ``coupon=GROCERY``); an event type that fills
several attribute columns names the column too, ``event_type.column=value``, so equal values
of different columns stay apart. An event without attributes is the bare ``event_type``
token.

Events group into sessions (a column, or a new session after ``session_gap`` of silence),
sessions into one chronological document per customer. The result is a
:class:`~customer2vec.corpus.baskets.BasketCorpus` whose "items" are tokens and whose
"baskets" are sessions, built by the same SQL as item baskets, so customer2vec (and any basket
model) trains on it unchanged::

    corpus = build_event_corpus("events.parquet")
    vectors = Customer2Vec().fit(corpus).customer_vectors_

From the command line, ``customer2vec ingest-events LOG --out DATASET`` writes the tokens as a
dataset (``item_id`` = token, ``basket_id`` = session), which ``customer2vec train DATASET
--model customer2vec`` reads like any other.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.attributes import parse_attributes, token_text
from customer2vec.corpus.baskets import BasketCorpus, build_baskets
from customer2vec.data.dataset import Dataset
from customer2vec.data.engine import DuckDBEngine
from customer2vec.errors import ConfigError, DataValidationError

__all__ = ["build_event_corpus", "event_tokens", "ingest_events", "read_events"]

#: Columns of the token catalogue written beside an events dataset.
TOKEN_COLUMNS = (Columns.ITEM, "event_type", "attribute", "value")


def read_events(source: pd.DataFrame | str | Path) -> pd.DataFrame:
    """An event log from a DataFrame or a CSV/Parquet file (or a directory of Parquet)."""
    if isinstance(source, pd.DataFrame):
        return source
    path = Path(source)
    if not path.exists():
        raise DataValidationError(f"event log not found: {path}.")
    if path.is_dir() or path.suffix.lower() in (".parquet", ".pq"):
        return pd.read_parquet(path)
    if path.suffix.lower() in (".csv", ".tsv", ".txt", ".gz"):
        return pd.read_csv(path, sep="\t" if path.suffix.lower() == ".tsv" else ",")
    raise DataValidationError(
        f"cannot read {path.name}: pass a .csv or .parquet file (or a DataFrame)."
    )


def event_tokens(
    log: pd.DataFrame | str | Path,
    *,
    customer_col: str = Columns.CUSTOMER,
    time_col: str = Columns.TIMESTAMP,
    event_col: str = "event_type",
    attributes: str | Sequence[str] | None = None,
    session_col: str | None = None,
    session_gap: str | pd.Timedelta = "30min",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Turn an event log into token rows and a token catalogue.

    Parameters
    ----------
    log
        DataFrame or CSV/Parquet path, one row per event.
    customer_col, time_col, event_col
        Columns holding the customer id, the event time and the event type.
    attributes
        Attribute columns (a list or a comma-separated string); default every other column
        except ``session_col``.
    session_col
        Column holding a session (visit, basket) id; sessions are then the distinct values
        per customer. Default: a customer's new session starts after ``session_gap``.
    session_gap
        Silence that starts a new session (a pandas Timedelta string: ``"30min"``, ``"1D"``);
        ``"0s"`` makes every distinct timestamp a session.

    Returns
    -------
    (tokens, catalogue)
        ``tokens``: canonical transactions (``customer_id, basket_id, item_id, sequence,
        timestamp``), ``item_id`` the token, ``basket_id`` a global session number, one row
        per distinct token of a session, ordered by customer and time. ``catalogue``: one
        row per token with ``item_id, event_type, attribute, value``.

    Raises
    ------
    DataValidationError
        If a column is missing, or ids or times are missing or unreadable.
    """
    frame = read_events(log)
    gap = _gap(session_gap)
    if frame.empty:
        raise DataValidationError("the event log has no rows.")
    names = parse_attributes(attributes)
    required = [customer_col, time_col, event_col] + ([session_col] if session_col else [])
    for column in required + (names or []):
        if column not in frame.columns:
            raise DataValidationError(
                f"column {column!r} is not in the event log; its columns are "
                f"{', '.join(map(str, frame.columns))}. Pass the matching *_col / attributes."
            )
    if names is None:
        names = [c for c in frame.columns if c not in required]
    for column in (customer_col, event_col):
        missing = int(frame[column].isna().sum())
        if missing:
            raise DataValidationError(
                f"{missing} events have no {column!r} (first at row "
                f"{int(np.argmax(frame[column].isna().to_numpy()))}); drop or fill them."
            )
    times = _times(frame[time_col], time_col)
    events = pd.DataFrame(
        {
            Columns.CUSTOMER: frame[customer_col].to_numpy(),
            Columns.TIMESTAMP: times,
            "_event": frame[event_col].astype(str).to_numpy(),
            "_row": np.arange(len(frame)),
        }
    )
    if session_col:
        events["_session"] = frame[session_col].astype(str).to_numpy()
    events = events.sort_values([Columns.CUSTOMER, Columns.TIMESTAMP, "_row"], kind="stable")
    events[Columns.BASKET] = _sessions(events, gap, session_col is not None)

    long = _long_tokens(events, frame, names)
    long = long.drop_duplicates([Columns.BASKET, Columns.ITEM], keep="first")
    long = long.sort_values([Columns.BASKET, "_row"], kind="stable")
    first = long.groupby(Columns.BASKET, sort=False)[Columns.TIMESTAMP].transform("min")
    long[Columns.TIMESTAMP] = first
    long[Columns.SEQUENCE] = (
        long.groupby(Columns.CUSTOMER, sort=False)[Columns.BASKET].rank(method="dense")
    ).astype(np.int64)
    tokens = long[
        [Columns.CUSTOMER, Columns.BASKET, Columns.ITEM, Columns.SEQUENCE, Columns.TIMESTAMP]
    ].reset_index(drop=True)
    catalogue = (
        long.drop_duplicates(Columns.ITEM)[[Columns.ITEM, "_event", "_attribute", "_value"]]
        .set_axis(list(TOKEN_COLUMNS), axis=1)
        .sort_values(Columns.ITEM)
        .reset_index(drop=True)
    )
    return tokens, catalogue


def build_event_corpus(
    log: pd.DataFrame | str | Path, *, min_token_count: int = 1, **options: Any
) -> BasketCorpus:
    """Customers' sessions of event tokens as a :class:`BasketCorpus` (tokens are its items).

    ``options`` are those of :func:`event_tokens`; tokens found in fewer than
    ``min_token_count`` sessions are dropped (and counted in ``dropped``).
    """
    require_int(min_token_count, "min_token_count", minimum=1)
    tokens, _ = event_tokens(log, **options)
    engine = DuckDBEngine()
    try:
        engine.con.register("event_tokens", tokens)
        engine.execute("CREATE VIEW transactions AS SELECT * FROM event_tokens")
        return build_baskets(engine, min_item_count=min_token_count)
    finally:
        engine.close()


def ingest_events(
    log: pd.DataFrame | str | Path, out: str | Path, *, overwrite: bool = False, **options: Any
) -> Dataset:
    """Write an event log's tokens as a dataset that every basket model can train on.

    ``transactions`` hold one row per distinct token of a session (``item_id`` = token,
    ``basket_id`` = session); ``items`` is the token catalogue (``event_type, attribute,
    value``), so neighbors read well. ``options`` are those of :func:`event_tokens`.
    Returns the :class:`~customer2vec.data.dataset.Dataset`.
    """
    from customer2vec.data.ingest import ingest
    from customer2vec.data.mapping import ColumnMapping

    tokens, catalogue = event_tokens(log, **options)
    with tempfile.TemporaryDirectory(prefix="customer2vec-events-") as tmp:
        tokens_file, catalogue_file = Path(tmp) / "tokens.parquet", Path(tmp) / "catalogue.parquet"
        tokens.to_parquet(tokens_file, index=False)
        catalogue.to_parquet(catalogue_file, index=False)
        mapping = ColumnMapping(
            customer=Columns.CUSTOMER,
            basket=Columns.BASKET,
            item=Columns.ITEM,
            time=Columns.TIMESTAMP,
        )
        return ingest(
            [tokens_file],
            out,
            mapping=mapping,
            items=[catalogue_file],
            item_id_col=Columns.ITEM,
            max_basket_size=0,
            overwrite=overwrite,
        )


# ----------------------------------------------------------------------------- helpers


def _gap(session_gap: str | pd.Timedelta) -> pd.Timedelta:
    try:
        gap = pd.Timedelta(session_gap)
    except (TypeError, ValueError) as err:
        raise ConfigError(
            f"`session_gap` must be a duration such as '30min' or '1D'; got {session_gap!r}."
        ) from err
    if pd.isna(gap) or gap < pd.Timedelta(0):
        raise ConfigError(f"`session_gap` must be a duration >= 0; got {session_gap!r}.")
    return gap


def _times(values: pd.Series, column: str) -> np.ndarray:
    try:
        times = pd.to_datetime(values)
    except (TypeError, ValueError) as err:
        raise DataValidationError(
            f"column {column!r} holds values that are not times ({err}); pass the time column "
            "as ISO text or a datetime."
        ) from err
    missing = int(times.isna().sum())
    if missing:
        raise DataValidationError(
            f"{missing} events have no time in {column!r} (first at row "
            f"{int(np.argmax(times.isna().to_numpy()))}); drop or fill them."
        )
    return times.to_numpy(dtype="datetime64[us]")


def _sessions(events: pd.DataFrame, gap: pd.Timedelta, by_column: bool) -> np.ndarray:
    """Global session number of each (sorted) event."""
    customer = events[Columns.CUSTOMER].to_numpy()
    new_customer = np.ones(len(events), dtype=bool)
    new_customer[1:] = customer[1:] != customer[:-1]
    if by_column:
        keys = pd.MultiIndex.from_arrays([customer, events["_session"].to_numpy()])
        return pd.factorize(keys)[0].astype(np.int64)
    times = events[Columns.TIMESTAMP].to_numpy()
    starts = new_customer.copy()
    starts[1:] |= (times[1:] - times[:-1]) > gap.to_timedelta64()
    return np.cumsum(starts).astype(np.int64) - 1


def _long_tokens(events: pd.DataFrame, frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """One row per (event, non-missing attribute): the token and where it came from."""
    parts = []
    rows = events["_row"].to_numpy()
    kinds = events["_event"].to_numpy()
    present = {
        column: pd.notna(pd.Series(frame[column].to_numpy(dtype=object)[rows])).to_numpy()
        for column in names
    }
    # Name the column only for event types that fill several attribute columns.
    used = pd.DataFrame({c: p for c, p in present.items()}, index=kinds).groupby(level=0).any()
    several = set(used.index[used.sum(axis=1) > 1]) if len(names) else set()
    has_any = np.zeros(len(events), dtype=bool)
    for column in names:
        mask = present[column]
        has_any |= mask
        if not mask.any():
            continue
        part = events.loc[mask].copy()
        values = frame[column].to_numpy(dtype=object)[rows[mask]]
        texts = pd.Series(values, dtype=object).map(token_text).to_numpy()
        prefix = part["_event"].to_numpy().astype(object)
        named = np.isin(prefix, list(several))
        prefix[named] = prefix[named] + f".{column}"
        part[Columns.ITEM] = prefix + "=" + texts
        part["_attribute"], part["_value"] = column, texts
        parts.append(part)
    bare = events.loc[~has_any].copy()
    if len(bare):
        bare[Columns.ITEM] = bare["_event"].to_numpy()
        bare["_attribute"], bare["_value"] = None, None
        parts.append(bare)
    return pd.concat(parts, ignore_index=True)
