"""Event-log command: ingest-events (a customer event log as a dataset of event tokens)."""

from __future__ import annotations

from pathlib import Path

import click

from customer2vec.cli._base import OVERWRITE_HELP, cli, emit_info, translate_errors


@cli.command("ingest-events")
@click.argument("log", type=click.Path(path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Dataset directory to write."
)
@click.option("--customer-col", default="customer_id", show_default=True, help="Customer id.")
@click.option("--time-col", default="timestamp", show_default=True, help="Event time.")
@click.option("--event-col", default="event_type", show_default=True, help="Event type.")
@click.option(
    "--attributes", help="Comma-separated attribute columns (default: every other column)."
)
@click.option("--session-col", help="Column holding a session/visit id (default: by time gap).")
@click.option(
    "--session-gap",
    default="30min",
    show_default=True,
    help="Silence that starts a new session, e.g. 30min, 1D; 0s: one per timestamp.",
)
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the dataset summary as JSON.")
@translate_errors
def ingest_events(
    log: Path,
    out: Path,
    customer_col: str,
    time_col: str,
    event_col: str,
    attributes: str | None,
    session_col: str | None,
    session_gap: str,
    overwrite: bool,
    as_json: bool,
) -> None:
    """Turn an event log (CSV/Parquet) into a dataset of `event=value` tokens.

    Each event gives one token per attribute (`store=330`, `coupon=GROCERY`); a
    customer's sessions, oldest first, form its document. Train customer vectors on it
    with any basket model.

    Example:

    \b
      customer2vec ingest-events events.parquet --out data/events --session-gap 1h
      customer2vec train data/events --model customer2vec --out models/events
    """
    from customer2vec.corpus.events import ingest_events as run

    dataset = run(
        log,
        out,
        overwrite=overwrite,
        customer_col=customer_col,
        time_col=time_col,
        event_col=event_col,
        attributes=attributes,
        session_col=session_col,
        session_gap=session_gap,
    )
    emit_info(dataset.info, as_json=as_json)
