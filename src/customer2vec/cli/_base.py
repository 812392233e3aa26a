"""The command group, error translation and output helpers shared by every command.

Results go to stdout; logs, warnings and progress go to stderr. Bad input exits 1 with
``error: <message>``; usage errors exit 2.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from customer2vec.config import __version__
from customer2vec.errors import ConfigError, Customer2VecError, DataWarning
from customer2vec.progress import set_enabled as set_progress

log = logging.getLogger("customer2vec")


class CliError(click.ClickException):
    """Bad input: printed as ``error: <message>``, exit code 1."""

    exit_code = 1

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


class CliUsageError(CliError):
    """A bad parameter or option value: printed as ``error: <message>``, exit code 2."""

    exit_code = 2


#: The one help text of every --overwrite flag.
OVERWRITE_HELP = (
    "Replace OUT if it is an earlier output of the same kind written by customer2vec "
    "(never another folder, the working directory, or an input)."
)
#: The engines ``--engine`` offers (``customer2vec.data.engine.ENGINES``).
ENGINE_CHOICES = ("duckdb", "spark")


def engine_options(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--engine [duckdb|spark]`` and ``--spark-master``, for commands that run dataset SQL.

    The command receives ``engine`` and ``spark_master``; :func:`check_engine` refuses a
    ``--spark-master`` given without ``--engine spark``.
    """
    func = click.option(
        "--spark-master",
        metavar="MASTER",
        help="Spark master for --engine spark: local[*] (default), local[2], spark://HOST:7077, "
        "yarn. Unset, with SPARK_REMOTE=sc://HOST:15002 set, Spark Connect is used.",
    )(func)
    return click.option(
        "--engine",
        type=click.Choice(ENGINE_CHOICES),
        default="duckdb",
        show_default=True,
        help="Where the dataset SQL runs: DuckDB on this machine, or Spark (a cluster, or "
        "local[*]; needs pip install 'customer2vec[spark]' and Java 17+).",
    )(func)


def check_engine(engine: str, spark_master: str | None) -> None:
    """Refuse ``--spark-master`` without ``--engine spark`` (it would be silently ignored)."""
    if spark_master is not None and engine != "spark":
        raise CliUsageError("--spark-master needs --engine spark.")


#: Set to 1 to see the traceback of an unexpected error.
DEBUG_VARIABLE = "CUSTOMER2VEC_DEBUG"


def translate_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """Turn library errors into ``error:`` lines and DataWarnings into ``warning:`` lines."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", DataWarning)
                return func(*args, **kwargs)
        except ConfigError as err:
            raise CliUsageError(str(err)) from err
        except Customer2VecError as err:
            raise CliError(str(err)) from err
        except OSError as err:
            raise CliError(f"{err.strerror or err}: {err.filename or ''}".rstrip(": ")) from err
        except MemoryError as err:
            raise CliError(
                "out of memory. Lower the model's size parameters (n_factors, batch sizes), "
                "train on a sample of customers (--sample), or use a machine with more memory."
            ) from err
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as err:
            # The last line of defense: a user sees one line, never a traceback. Every error
            # a user can cause is raised on purpose (above); reaching here is our bug.
            if os.environ.get(DEBUG_VARIABLE):
                raise
            log.debug("unexpected error", exc_info=True)
            raise CliError(
                f"internal error ({type(err).__name__}: {err}). This is a bug in customer2vec: "
                f"please report it with the command you ran; set {DEBUG_VARIABLE}=1 to see "
                "the traceback."
            ) from err
        finally:
            # Outside the `with`: inside it, showwarning appends to `caught` (endless loop).
            for item in caught:
                if issubclass(item.category, DataWarning):
                    click.echo(f"warning: {item.message}", err=True)
                else:
                    warnings.showwarning(item.message, item.category, item.filename, item.lineno)

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="customer2vec")
@click.option("-q", "--quiet", is_flag=True, help="Only print results and errors.")
def cli(quiet: bool) -> None:
    """Product and customer embeddings from retail transactions.

    Example: customer2vec ingest orders.csv --out data/shop --customer-col client --item-col sku
    """
    set_progress(False if quiet else None)
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(message)s",
        stream=sys.stderr,
        force=True,
    )
    logging.getLogger("numba").setLevel(logging.WARNING)


def read_id_list(path: Path) -> list[str]:
    """Read one id per line from a UTF-8 text file, exactly as written (blank lines skipped).

    Only the line ending is removed, so ids with blanks round-trip; lookups tolerate blanks.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise CliError(
            f"{path} is not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset "
            f"{err.start}). Re-save it as UTF-8, e.g. `iconv -f latin1 -t utf-8 {path}`."
        ) from err
    ids = [line for line in text.splitlines() if line.strip()]
    if not ids:
        raise CliError(f"{path} holds no ids (one per line).")
    return ids


def frame_records(frame: Any) -> list[dict[str, Any]]:
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


#: Engines a command can run on: this machine (DuckDB) or a Spark cluster.
