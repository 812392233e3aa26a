"""Model commands: train, similar, export, evaluate-items."""

from __future__ import annotations

import json
from pathlib import Path

import click

from customer2vec.cli._base import (
    OVERWRITE_HELP,
    CliUsageError,
    check_engine,
    cli,
    emit_rows,
    engine_options,
    frame_records,
    log,
    pd_notna,
    translate_errors,
)
from customer2vec.errors import UnknownIdError


@cli.command()
@click.argument("dataset", type=click.Path(path_type=Path))
@click.option("--model", "model_name", help="Model: item2vec, als, copurchase, ...")
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="Model directory to write."
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="TOML file: model, min_item_count, [params].",
)
@click.option(
    "--param",
    "params",
    multiple=True,
    metavar="KEY=VALUE",
    help="Model parameter, overriding --config (repeatable), e.g. n_factors=64.",
)
@click.option(
    "--tune",
    is_flag=True,
    default=None,
    help="Search parameters on a sample first (held-out last baskets), then refit.",
)
@click.option("--tune-trials", type=int, help="Parameter settings to try with --tune [12].")
@click.option("--tune-sample", type=float, help="Share of customers to tune on [0.1].")
@click.option(
    "--sample",
    type=float,
    help="Train on this share of customers, in (0, 1] (chosen by a hash of the customer id; "
    "the model still recommends and exports for every customer) [1].",
)
@click.option("--sample-seed", type=int, help="Salt of the --sample hash: another sample [0].")
@click.option("--overwrite", is_flag=True, help=OVERWRITE_HELP)
@engine_options
@click.option("--json", "as_json", is_flag=True, help="Print the model summary as JSON.")
@translate_errors
def train(
    dataset: Path,
    model_name: str | None,
    out: Path,
    config_file: Path | None,
    params: tuple[str, ...],
    tune: bool | None,
    tune_trials: int | None,
    tune_sample: float | None,
    sample: float | None,
    sample_seed: int | None,
    overwrite: bool,
    engine: str,
    spark_master: str | None,
    as_json: bool,
) -> None:
    """Train a model on a dataset and save it to a model directory.

    --sample 0.1 pulls only a tenth of the customers' baskets into memory (the item
    vocabulary stays everyone's), so a model trains on one machine when the data does not
    fit; the sample is recorded in model.json.

    \b
    Examples:
      customer2vec train data/cj --model item2vec --out models/i2v
      customer2vec train data/cj --model als --out models/als --param n_factors=128
      customer2vec train data/cj --config item2vec.toml --out models/i2v
      customer2vec train data/cj --model item2vec --tune --out models/i2v-tuned
      customer2vec train data/big --model customer2vec --sample 0.1 --out models/c2v
      customer2vec train data/big --model als --out models/als --engine spark

    --engine spark builds the corpus (baskets, documents, co-purchase counts) with Spark
    SQL; the model itself trains on this machine (--sample pulls only a share of customers).
    """
    from customer2vec.data.dataset import use_engine
    from customer2vec.models import model_names
    from customer2vec.workflow.training import parse_param, resolve_config, train_to_directory

    config = resolve_config(
        model_name,
        config_file,
        dict(parse_param(p) for p in params),
        tune=tune,
        tune_trials=tune_trials,
        tune_sample=tune_sample,
        sample=sample,
        sample_seed=sample_seed,
    )
    if config["model"] not in model_names():
        raise CliUsageError(
            f"unknown model {config['model']!r}; choose one of {', '.join(model_names())}."
        )
    check_engine(engine, spark_master)
    with use_engine(engine, spark_master):
        model = train_to_directory(dataset, out, config, overwrite=overwrite)
    summary = {
        "model": model.name,
        "out": str(out),
        "params": model.get_params(),
        **model.meta_["timings"],
    }
    if model.meta_.get("sample"):
        summary["sample"] = model.meta_["sample"]
    if model.has_item_vectors:
        summary["item_vectors"] = [len(model.item_vectors_), model.item_vectors_.dim]
    if model.has_customer_vectors:
        summary["customer_vectors"] = [len(model.customer_vectors_), model.customer_vectors_.dim]
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    emit_rows([(k, _show_value(v)) for k, v in summary.items() if k != "params"])
    hint = "similar {} ITEM" if model.has_item_vectors else "recommend {} CUSTOMER"
    log.info("\nNext: customer2vec %s", hint.format(out))


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("item")
@click.option("-n", default=10, show_default=True, help="Neighbors to return.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@translate_errors
def similar(model_dir: Path, item: str, n: int, as_json: bool) -> None:
    """Show the N items most similar to ITEM, with names and attributes.

    Example: customer2vec similar models/i2v 1082185 -n 5
    """
    from customer2vec.vectors.catalog import similar_items
    from customer2vec.workflow.opened import open_model

    opened = open_model(model_dir)
    model = opened.model
    if not model.has_item_vectors:
        raise CliUsageError(
            f"model {model.name!r} has no item vectors; use a model that learns them "
            "(item2vec, als, customer2vec, ...)."
        )
    try:
        query, table = similar_items(model.item_vectors_, opened.catalog, item, n=n)
    except UnknownIdError as err:
        raise UnknownIdError(
            f"{err}. To find an item by its name: customer2vec search {model_dir} TEXT"
        ) from err
    if as_json:
        click.echo(
            json.dumps(
                {"item": frame_records(query)[0], "neighbors": frame_records(table)},
                indent=2,
                default=str,
            )
        )
        return
    described = ", ".join(str(v) for v in query.iloc[0].tolist()[1:] if pd_notna(v))
    click.echo(f"items like {query.iloc[0, 0]}" + (f" ({described})" if described else ""))
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option("--out", required=True, type=click.Path(path_type=Path), help="File to write.")
@click.option(
    "--what",
    type=click.Choice(["items", "customers"]),
    default="items",
    show_default=True,
    help="Which vectors.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["parquet", "word2vec"]),
    default="parquet",
    show_default=True,
    help="parquet: id + list<float32> `vector`; word2vec: text.",
)
@engine_options
@translate_errors
def export(
    model_dir: Path, out: Path, what: str, fmt: str, engine: str, spark_master: str | None
) -> None:
    """Export item or customer vectors to Parquet or word2vec text format.

    Customers: every customer of the model's dataset. A model's own vector where it learned
    one, inferred for the others where it can (customer2vec); for a model with item vectors
    only, the mean of the unit vectors of the items each customer bought. With --engine
    spark, Spark computes them by partition of customers into a folder of Parquet parts.

    \b
    Examples:
      customer2vec export models/i2v --out item_vectors.parquet
      customer2vec export models/i2v --out vectors.txt --format word2vec
      customer2vec export models/als --what customers --out customers.parquet
      customer2vec export models/c2v --what customers --out customers --engine spark
    """
    from customer2vec.recommend.customers import saved_customer_embeddings
    from customer2vec.vectors.export import export_embeddings
    from customer2vec.workflow.opened import open_model

    check_engine(engine, spark_master)
    if engine == "spark":
        if what != "customers" or fmt != "parquet":
            raise CliUsageError(
                "--engine spark exports customer vectors to Parquet (--what customers "
                "--format parquet); item vectors are small: export them without --engine."
            )
        from customer2vec.workflow.distributed import export_customers_on_spark

        written = export_customers_on_spark(model_dir, out, master=spark_master)
        click.echo(f"wrote {written.rows:,} customers to {written.path}/ (Spark)")
        return
    opened = open_model(model_dir)
    model = opened.model
    if what == "items" and not model.has_item_vectors:
        raise CliUsageError(
            f"model {model.name!r} has no item vectors; train one that does (e.g. als, "
            "item2vec, customer2vec)."
        )
    vectors = model.item_vectors_ if what == "items" else saved_customer_embeddings(opened)
    path = export_embeddings(vectors, out, fmt=fmt)
    click.echo(f"wrote {len(vectors):,} {what} x {vectors.dim} dims to {path}")


@cli.command("evaluate-items")
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.option(
    "--by",
    "attributes",
    multiple=True,
    help="Item attribute to judge (repeatable); default: every categorical one.",
)
@click.option("-k", default=10, show_default=True, help="Neighbors per item.")
@click.option(
    "--min-count",
    default=20,
    show_default=True,
    help="Judge items bought at least this often (line items in the dataset).",
)
@click.option(
    "--dataset",
    type=click.Path(path_type=Path),
    help="Dataset for counts and co-purchase lists; default: the training dataset.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@translate_errors
def evaluate_items(
    model_dir: Path,
    attributes: tuple[str, ...],
    k: int,
    min_count: int,
    dataset: Path | None,
    as_json: bool,
) -> None:
    """Judge item vectors: neighbor purity and silhouette by attribute, co-purchase recall.

    \b
    Examples:
      customer2vec evaluate-items models/i2v
      customer2vec evaluate-items models/i2v --by department --by product_category -k 10
    """
    from customer2vec.evaluation.intrinsic import evaluate_model_items

    table = evaluate_model_items(
        model_dir, attributes=attributes or None, k=k, min_count=min_count, dataset=dataset
    )
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
    else:
        click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


def _show_value(value: object) -> object:
    """A summary value as one line: ``64 x 32`` for a shape, ``key value, ...`` for a dict."""
    if isinstance(value, list):
        return " x ".join(map(str, value))
    if isinstance(value, dict):
        return ", ".join(f"{key} {item}" for key, item in value.items())
    return value
