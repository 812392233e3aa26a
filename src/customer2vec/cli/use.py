"""Using models: recommend, recommend-batch, evaluate, segment."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import click

from customer2vec.cli._base import (
    OVERWRITE_HELP,
    CliUsageError,
    check_engine,
    cli,
    emit_evaluation,
    emit_rows,
    engine_options,
    frame_records,
    read_id_list,
    translate_errors,
)
from customer2vec.errors import DataWarning

EXCLUDE_SEEN_HELP = (
    "Leave out (or keep) items the customer bought before; default: the model's choice "
    "(kept by next-basket models and baselines, left out by als, item2vec, customer2vec)."
)


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("customer", required=False)
@click.option(
    "--items",
    "session",
    help="A new customer's items so far, comma-separated (instead of CUSTOMER).",
)
@click.option("-n", default=10, show_default=True, help="Items to return.")
@click.option("--exclude-seen/--include-seen", "exclude_seen", default=None, help=EXCLUDE_SEEN_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@translate_errors
def recommend(
    model_dir: Path,
    customer: str | None,
    session: str | None,
    n: int,
    exclude_seen: bool | None,
    as_json: bool,
) -> None:
    """Show the top N items for CUSTOMER (or a session's --items), with names and attributes.

    The model must rank items (als, item2vec, customer2vec, next-basket, tifu-knn, ...); the
    customer's history is rebuilt from the dataset the model was trained on. A session (a
    customer the model has never seen) is given by its items; items the model does not know
    are reported and left out.

    \b
    Examples:
      customer2vec recommend models/als 1364 -n 5
      customer2vec recommend models/tifu 1364 --include-seen --json
      customer2vec recommend models/i2v --items 1082185,995242 -n 5
    """
    from customer2vec.recommend.recommender import Recommender

    if (customer is None) == (session is None):
        raise CliUsageError("give either CUSTOMER or --items A,B,C (a session), not both.")
    recommender = Recommender.load(model_dir)
    unknown: list[str] = []
    if session is not None:
        items = [item.strip() for item in session.split(",") if item.strip()]
        if not items:
            raise CliUsageError("--items needs item ids separated by commas, e.g. --items 12,34.")
        known = recommender.history.item_ids.to_internal(items, on_unknown="missing")
        unknown = [item for item, row in zip(items, known, strict=True) if row < 0]
        with warnings.catch_warnings():  # the unknown items are reported below
            warnings.simplefilter("ignore", DataWarning)
            hits = recommender.recommend_session(
                items, n=n, exclude_seen=True if exclude_seen is None else exclude_seen
            )
        customer_id = None
    else:
        hits = recommender.recommend(customer, n=n, exclude_seen=exclude_seen)
        customer_id = recommender.customer_id(customer)
    table = recommender.describe(hits)
    if as_json:
        document = {
            "customer": customer_id,
            "model": recommender.model.name,
            "recommendations": frame_records(table),
        }
        if session is not None:
            document["unknown_items"] = unknown
        click.echo(json.dumps(document, indent=2, default=str))
        return
    if unknown:
        shown = ", ".join(unknown[:5]) + (" ..." if len(unknown) > 5 else "")
        click.echo(
            f"warning: {len(unknown)} of the session's items are unknown to the model and were "
            f"left out: {shown}",
            err=True,
        )
    whom = "the session" if session is not None else f"customer {customer_id}"
    click.echo(f"top {n} items for {whom} ({recommender.model.name})")
    if table.empty:
        click.echo("(no items left to recommend)")
        return
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


@cli.command("recommend-batch")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Parquet file to write: customer_id, item_id, score, rank (1 = best); with "
    "--engine spark, a folder of Parquet parts.",
)
@click.option("-n", default=10, show_default=True, help="Items per customer.")
@click.option(
    "--customers",
    "customers_file",
    type=click.Path(path_type=Path),
    help="Text file with one customer id per line; default: every customer of the dataset.",
)
@click.option("--exclude-seen/--include-seen", "exclude_seen", default=None, help=EXCLUDE_SEEN_HELP)
@engine_options
@translate_errors
def recommend_batch(
    model_dir: Path,
    out: Path,
    n: int,
    customers_file: Path | None,
    exclude_seen: bool | None,
    engine: str,
    spark_master: str | None,
) -> None:
    """Write the top N items of many customers to a Parquet file.

    With --engine spark, Spark reads the dataset's transactions, groups them by customer and
    ranks each partition of customers with the same ranker (the same rows as on one machine),
    writing a folder of Parquet parts.

    \b
    Examples:
      customer2vec recommend-batch models/als --out recs.parquet -n 20
      customer2vec recommend-batch models/tifu --out recs.parquet --customers ids.txt
      customer2vec recommend-batch models/i2v --out recs --engine spark --spark-master local[4]
    """
    from customer2vec.recommend.recommender import Recommender, save_recommendations

    check_engine(engine, spark_master)
    customers = None if customers_file is None else read_id_list(customers_file)
    if engine == "spark":
        from customer2vec.workflow.distributed import recommend_on_spark

        written = recommend_on_spark(
            model_dir,
            out,
            n=n,
            customers=customers,
            exclude_seen=exclude_seen,
            master=spark_master,
        )
        click.echo(
            f"wrote {written.rows:,} recommendations for {written.customers:,} customers "
            f"(top {n}, Spark) to {written.path}/",
            err=True,
        )
        return
    recommender = Recommender.load(model_dir)
    table = recommender.recommend_many(customers, n=n, exclude_seen=exclude_seen)
    save_recommendations(table, out)
    click.echo(
        f"wrote {len(table):,} recommendations for "
        f"{table['customer_id'].nunique():,} customers (top {n}, {recommender.model.name}) "
        f"to {out}",
        err=True,
    )


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option(
    "--protocol",
    type=click.Choice(["last-basket", "time-split"]),
    default="last-basket",
    show_default=True,
    help="Hold out each customer's last basket, or everything after a cutoff date.",
)
@click.option(
    "--models",
    "models",
    default="popularity,top-frequency,tifu-knn,item-knn,als,next-basket",
    show_default=True,
    help="Comma-separated ranking models (default parameters).",
)
@click.option("-k", "ks", default="10,20", show_default=True, help="Comma-separated cut-offs.")
@click.option(
    "--min-baskets",
    default=3,
    show_default=True,
    help="last-basket: evaluate customers with at least this many baskets.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    help="Score at most N evaluated customers (random, seeded); all customers still train.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Also write the table as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one record per model).")
@click.option("--exclude-seen/--include-seen", "exclude_seen", default=None, help=EXCLUDE_SEEN_HELP)
@translate_errors
def evaluate(
    dataset: Path,
    protocol: str,
    models: str,
    ks: str,
    min_baskets: int,
    sample: int | None,
    out: Path | None,
    as_json: bool,
    exclude_seen: bool | None,
) -> None:
    """Compare ranking models on held-out next baskets (recall, ndcg, hit rate, ...).

    Each model is fitted on the training part; metrics at each k: recall, ndcg, hit,
    precision, recall of repeat and of new items, catalogue coverage; fit and score seconds.
    Items are ranked exactly as `recommend` ranks them: discovery models (als, item2vec,
    customer2vec) hide what the customer bought unless --include-seen is given.

    \b
    Examples:
      customer2vec evaluate data/cj
      customer2vec evaluate data/cj --models tifu-knn,als -k 10 --protocol time-split --json
      customer2vec evaluate data/big --sample 5000
      customer2vec evaluate data/cj --models als,item2vec --include-seen
    """
    from customer2vec.data.outputs import check_file_output
    from customer2vec.evaluation.runner import evaluate_dataset

    names = [name.strip() for name in models.split(",") if name.strip()]
    try:
        cutoffs = [int(k) for k in ks.split(",") if k.strip()]
    except ValueError as err:
        raise click.BadParameter("use whole numbers separated by commas", param_hint="-k") from err
    if not cutoffs or min(cutoffs) < 1:
        raise click.BadParameter("give one or more cut-offs >= 1, e.g. -k 10,20", param_hint="-k")
    if not names:
        raise click.BadParameter(
            "name one or more models, e.g. tifu-knn,als", param_hint="--models"
        )
    if out is not None:
        check_file_output(out, inputs=[dataset])
    table = evaluate_dataset(
        dataset, protocol, names, cutoffs, min_baskets, sample=sample, exclude_seen=exclude_seen
    )
    if out is not None:
        table.to_csv(out, index=False)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    emit_evaluation(table, cutoffs)


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    help="Folder for segments.parquet, profiles, curve and samples.",
)
@click.option(
    "--k",
    "k",
    default="auto",
    show_default=True,
    help="Number of segments, or 'auto' (best silhouette over 2..12).",
)
@click.option(
    "--what",
    type=click.Choice(["customers", "items"]),
    default="customers",
    show_default=True,
    help="Segment customers, or cluster products.",
)
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@translate_errors
def segment(model_dir: Path, out: Path, k: str, what: str, overwrite: bool, as_json: bool) -> None:
    """Find customer segments (or product clusters) with k-means on the model's vectors.

    k is chosen by silhouette; each segment is profiled by what it buys more than everyone
    else (lift by department/category), its most distinctive items and sample customers.
    A baseline segmentation on hand-made category shares is shown beside it.

    \b
    Examples:
      customer2vec segment models/als --out segments/als
      customer2vec segment models/i2v --out clusters --what items --k 20
    """
    from customer2vec.analysis.segments import segment_model

    if k != "auto" and not k.isdigit():
        raise click.BadParameter("use 'auto' or a whole number", param_hint="--k")
    report = segment_model(
        model_dir, out, k=k if k == "auto" else int(k), what=what, overwrite=overwrite
    )
    seg = report.segmentation
    if as_json:
        click.echo((out / "summary.json").read_text())
        return
    rows = [("segments", f"{seg.k} {what} segments, silhouette {seg.silhouette:.3f}")]
    if report.vectors_from:
        rows.append(("vectors", report.vectors_from))
    if report.baseline:
        rows.append(
            (
                "baseline",
                f"k-means on {report.baseline['features']}: k="
                f"{report.baseline['k']}, silhouette "
                f"{report.baseline['silhouette']:.3f}",
            )
        )
    rows.append(("written to", str(out)))
    if report.plot:
        rows.append(("plot", f"{report.plot} (silhouette by k; open in a browser)"))
    emit_rows(rows)
    click.echo("\nsilhouette by k")
    best = max(seg.curve["silhouette"].max(), 1e-9)
    for _, row in seg.curve.iterrows():
        bar = "#" * max(round(40 * max(row["silhouette"], 0) / best), 0)
        mark = "  <- chosen" if row["k"] == seg.k else ""
        click.echo(f"  k={int(row['k']):>3} {row['silhouette']:6.3f} {bar}{mark}")
    if not report.profiles.empty:
        click.echo("\nwhat each segment buys more than everyone else (lift)")
        click.echo(report.profiles.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    if not report.samples.empty:
        click.echo("\nsample customers")
        click.echo(report.samples.to_string(index=False, max_colwidth=90))
