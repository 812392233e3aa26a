"""The report command: one self-contained HTML file about a trained model."""

from __future__ import annotations

from pathlib import Path

import click

from customer2vec.cli._base import cli, translate_errors


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="HTML file to write.")
@click.option(
    "--segments",
    type=click.Path(path_type=Path),
    help="Folder written by `customer2vec segment` (default: segment customers here).",
)
@click.option(
    "--evaluation",
    type=click.Path(path_type=Path),
    help="CSV written by `customer2vec evaluate DATASET --out FILE`.",
)
@click.option(
    "--max-items",
    default=50_000,
    show_default=True,
    help="Most items on the map (best sellers first).",
)
@click.option(
    "--max-customers",
    default=20_000,
    show_default=True,
    help="Most customers on the segment map (a random sample beyond).",
)
@click.option("--seed", "random_state", default=0, show_default=True, help="Random seed.")
@translate_errors
def report(
    model_dir: Path,
    out: Path,
    segments: Path | None,
    evaluation: Path | None,
    max_items: int,
    max_customers: int,
    random_state: int,
) -> None:
    """Write an HTML report (one file, works offline) about a trained model.

    It holds a 2-D map of the items colored by department or category (hover for names),
    purity and silhouette by attribute in the vector space and on the map, the customer
    segment map, the silhouette-vs-k curve, segment profiles, the nearest neighbors of the
    best sellers and, with --evaluation, the next-basket evaluation table.

    \b
    Examples:
      customer2vec report models/i2v --out report.html
      customer2vec segment models/c2v --out segments/c2v
      customer2vec evaluate data/cj --out eval.csv
      customer2vec report models/c2v --out report.html --segments segments/c2v \\
          --evaluation eval.csv
    """
    from customer2vec.analysis.report import build_report

    path = build_report(
        model_dir,
        out,
        segments=segments,
        evaluation=evaluation,
        max_items=max_items,
        max_customers=max_customers,
        random_state=random_state,
    )
    size = path.stat().st_size / 1e6
    click.echo(f"wrote {path} ({size:.1f} MB); open it in a browser (works offline)")
