"""`customer2vec search`: find items by id, name or attribute."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd

from customer2vec.cli._base import cli, translate_errors


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("text", nargs=-1, required=True)
@click.option("-n", default=10, show_default=True, help="Items to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@translate_errors
def search(model_dir: Path, text: tuple[str, ...], n: int, as_json: bool) -> None:
    """Find items whose id, name or attributes contain every word of TEXT.

    An exact id comes first, then the best sellers. Use the ids it prints with `similar`.

    \b
    Examples:
      customer2vec search models/i2v milk
      customer2vec search models/i2v Vollmilch 3,5% -n 5 --json
    """
    from customer2vec.config import require_int
    from customer2vec.workflow.opened import open_model

    require_int(n, "n", minimum=1)
    query = " ".join(text)
    found = open_model(model_dir).search_items(query, n)
    if as_json:
        click.echo(json.dumps(found, indent=2, default=str))
        return
    click.echo(
        f"{found['total']:,} items match {query!r}"
        + (" (first shown)" if found["total"] > n else "")
    )
    if not found["items"]:
        return
    rows = []
    for card in found["items"]:
        row = {"item_id": card["item_id"], "name": card.get("name")}
        row.update(card.get("attributes") or {})
        row["baskets"] = card.get("count")
        rows.append(row)
    click.echo(pd.DataFrame(rows).to_string(index=False))
