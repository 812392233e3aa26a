"""Apply a saved model on Spark: ``recommend-batch`` and ``export --what customers`` by partition.

What runs where
---------------
* **Spark** reads the dataset's ``transactions`` Parquet (never the driver), keeps the lines
  of the model's items (a broadcast join with the item vocabulary, a few MB), numbers lines
  in file order, and shuffles them **once**, hashed by customer: every customer's whole
  history lands in one partition. Within the partition it builds one row per basket, as the
  single-node corpus does (items once each, in order of first appearance; the basket's
  ``MIN(sequence)`` and earliest timestamp), sorted by customer, sequence and basket.
* **Each Python worker** (``mapInPandas``) opens the model directory once (cached per worker
  process, memory-mapped), cuts its rows into chunks of whole customers, makes each chunk a
  :class:`~customer2vec.corpus.baskets.BasketCorpus` on the model's vocabulary and ranks it
  through the same :class:`~customer2vec.recommend.recommender.Recommender` and
  :class:`~customer2vec.recommend.ranker.Ranker` as one machine (or calls the same
  :func:`~customer2vec.recommend.customers.customer_embeddings` for the export).
* **Spark** writes the results as a folder of Parquet part files (same columns and types as
  the single-node file); the driver only counts them.

Why this design: the driver never holds transactions, a history or results (only the item
vocabulary and, for ``--customers``, the given ids), and memory per task is one partition's
baskets, so it scales with workers. Reading the history per worker from its own files would
need the dataset on a shared disk and a customer-sorted layout; Spark's reader and shuffle
need neither. Models score each customer from its own history and the model's state only,
so a partition's output equals the single-node output for its customers.

The model directory must be readable at the same path by every worker (local mode, or a
shared mount on a cluster).
"""

from __future__ import annotations

import functools
import logging
import os
import re
import sys
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

import customer2vec.errors as errors
from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap
from customer2vec.data.spark import DEFAULT_MASTER, REMOTE_VARIABLE, spark_session
from customer2vec.errors import DataValidationError, UnknownIdError
from customer2vec.recommend.customers import customer_embeddings, customer_vectors_origin
from customer2vec.recommend.ranker import Ranker
from customer2vec.recommend.recommender import BATCH_SIZE, Recommender
from customer2vec.recommend.saved import SavedModel, model_items

__all__ = ["SparkOutput", "export_customers_on_spark", "recommend_on_spark"]

log = logging.getLogger(__name__)
CUST, BASKET, ITEM, SEQ, TIME = (
    Columns.CUSTOMER,
    Columns.BASKET,
    Columns.ITEM,
    Columns.SEQUENCE,
    Columns.TIMESTAMP,
)
_ITEMS = "items"  # one basket's model item indices, in line order
#: Files Spark writes into an output folder (a folder holding anything else is not replaced).
_OUR_ERROR = re.compile(r"customer2vec\.errors\.(\w+): ([^\n]+)")
_SPARK_FILES = re.compile(r"(\.?part-.*|\._SUCCESS\.crc|_SUCCESS|\.?_committed_.*|\.?_started_.*)")


@dataclass(frozen=True)
class SparkOutput:
    """What a distributed apply wrote: the folder, its rows and its customers."""

    path: Path
    rows: int
    customers: int


@dataclass(frozen=True)
class _Task:
    """What every Spark task needs, shipped with the pandas function."""

    what: Literal["recommend", "customers"]
    model_dir: str
    items: np.ndarray  # the history's item vocabulary (external ids, internal order)
    has_time: bool
    n: int = 10
    exclude_seen: bool | None = None
    batch_size: int = BATCH_SIZE


def recommend_on_spark(
    model_dir: str | Path,
    out: str | Path,
    *,
    n: int = 10,
    customers: Sequence[Any] | None = None,
    exclude_seen: bool | None = None,
    master: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> SparkOutput:
    """``Recommender.recommend_many`` on Spark, written to the Parquet folder ``out``.

    Rows are ``customer_id, item_id, score, rank`` as on one machine, for every customer of
    the model's dataset (or ``customers``), sorted by customer and rank within each part.
    A task scores ``batch_size`` customers at a time, as one machine does.

    Raises
    ------
    ConfigError
        If the model cannot rank items, or Spark does not start.
    UnknownIdError
        If some of ``customers`` have no baskets in the dataset.
    DataValidationError
        If ``out`` is taken, or the dataset is gone.
    """
    require_int(n, "n", minimum=1)
    require_int(batch_size, "batch_size", minimum=1)
    saved = SavedModel.open(model_dir)
    Ranker(saved.model, exclude_seen=exclude_seen)  # checks the model and the flag here
    task = {"n": n, "exclude_seen": exclude_seen, "batch_size": batch_size}
    return _apply(saved, "recommend", out, task, customers=customers, master=master)


def export_customers_on_spark(
    model_dir: str | Path,
    out: str | Path,
    *,
    master: str | None = None,
    batch_size: int = BATCH_SIZE,
) -> SparkOutput:
    """``export --what customers`` on Spark: ``customer_id, vector`` Parquet parts in ``out``.

    The vectors are those of :func:`~customer2vec.recommend.customers.customer_embeddings`
    for every customer of the model's dataset.

    Raises
    ------
    ConfigError
        If the model has neither customer nor item vectors, or Spark does not start.
    DataValidationError
        If ``out`` is taken, or the dataset is gone.
    """
    require_int(batch_size, "batch_size", minimum=1)
    saved = SavedModel.open(model_dir)
    customer_vectors_origin(saved.model)
    task = {"batch_size": batch_size}
    return _apply(saved, "customers", out, task, customers=None, master=master)


# -- driver ------------------------------------------------------------------------------
def _apply(
    saved: SavedModel,
    what: Literal["recommend", "customers"],
    out: str | Path,
    options: dict[str, Any],
    *,
    customers: Sequence[Any] | None,
    master: str | None,
) -> SparkOutput:
    from pyspark.sql import functions as fn
    from pyspark.sql import types as st

    path = _check_folder_output(out, inputs=(saved.model_dir, saved.dataset_path))
    transactions = saved.dataset.table_path("transactions")
    spark = _session(master)
    lines = spark.read.parquet(str(transactions))
    missing = [name for name in (CUST, BASKET, ITEM, SEQ) if name not in lines.columns]
    if missing:
        raise DataValidationError(
            f"{transactions} lacks column(s) {', '.join(missing)}; ingest the data again."
        )
    has_time = TIME in lines.columns
    # Line numbers in file order, before anything moves rows (items keep their line order).
    lines = lines.select(CUST, BASKET, ITEM, SEQ, *([TIME] if has_time else [])).withColumn(
        "_line", fn.monotonically_increasing_id()
    )
    items = _vocabulary(saved, lines)
    vocabulary = spark.createDataFrame(
        pd.DataFrame({ITEM: items.external, "_item": np.arange(len(items), dtype=np.int32)}),
        schema=st.StructType(
            [lines.schema[ITEM], st.StructField("_item", st.IntegerType(), nullable=False)]
        ),
    )
    lines = lines.join(fn.broadcast(vocabulary), on=ITEM)
    if customers is not None:
        lines = lines.join(fn.broadcast(_given(spark, lines, customers)), on=CUST, how="left_semi")
    task = _Task(what, str(saved.model_dir), items.external, has_time, **options)
    schema = _output_schema(what, lines.schema)
    result = _baskets(lines, has_time).mapInPandas(
        functools.partial(apply_partition, task=task), schema
    )
    log.info("%s on Spark (%s) ...", what, spark.sparkContext.master if _classic(spark) else "")
    try:
        result.write.mode("overwrite").parquet(str(path))
    except Exception as err:  # a task's error comes back wrapped in Spark's
        raise _task_error(err) from err
    written = spark.read.parquet(str(path))
    counts = written.agg(fn.count("*").alias("rows"), fn.countDistinct(CUST).alias("customers"))
    row = counts.collect()[0]
    return SparkOutput(path, int(row["rows"]), int(row["customers"]))


def _task_error(err: Exception) -> Exception:
    """Our error raised in a Spark task, as itself (one line); any other error unchanged."""
    found = _OUR_ERROR.findall(str(err))
    if not found:
        return err
    name, message = found[-1]
    kind = getattr(errors, name, None)
    kind = kind if isinstance(kind, type) and issubclass(kind, Exception) else DataValidationError
    return kind(f"{message.strip()} (in a Spark task)")


def _session(master: str | None) -> Any:
    """The Spark session; a local one runs its Python workers on this interpreter."""
    remote = master is None and os.environ.get(REMOTE_VARIABLE, "").strip()
    if not remote and (master or DEFAULT_MASTER).startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    # PySpark warns about pandas 3 on every conversion; the conversions used here work.
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    config = None if remote else {"spark.ui.showConsoleProgress": "false"}
    return spark_session(master, config=config)


def _classic(spark: Any) -> bool:
    try:
        spark.sparkContext  # noqa: B018  (Spark Connect has none)
    except Exception:
        return False
    return True


def _vocabulary(saved: SavedModel, lines: Any) -> IdMap:
    """The history's items: the model's own, else counted by Spark as the corpus counts them.

    Items in at least ``min_item_count`` baskets, most baskets first, ties by id (what
    :func:`~customer2vec.corpus.baskets.build_baskets` keeps); only the counts reach the
    driver.
    """
    items = None if saved.model.maps_history_items else model_items(saved.model)
    if items is not None:
        return items
    from pyspark.sql import functions as fn

    counts = (
        lines.select(CUST, BASKET, ITEM)
        .distinct()
        .groupBy(ITEM)
        .agg(fn.count("*").alias("n"))
        .where(fn.col("n") >= saved.min_item_count)
        .orderBy(fn.col("n").desc(), fn.col(ITEM))
    )
    ids = counts.select(ITEM).toPandas()[ITEM].to_numpy()
    return IdMap(ids.astype(np.int64) if ids.dtype.kind in "iu" else ids, kind="item")


def _given(spark: Any, lines: Any, customers: Sequence[Any]) -> Any:
    """The given customer ids as a one-column frame of the dataset's id type.

    Raises
    ------
    UnknownIdError
        If some have no kept baskets (counted, the first named), as on one machine.
    """
    from pyspark.sql import types as st

    field = lines.schema[CUST]
    integer = isinstance(field.dataType, st.IntegralType)
    wanted = [_as_id(value, integer) for value in customers]
    known = [value for value in dict.fromkeys(wanted) if value is not None]
    frame = spark.createDataFrame(
        pd.DataFrame({CUST: pd.Series(known, dtype="int64" if integer else object)}),
        schema=st.StructType([st.StructField(CUST, field.dataType, nullable=False)]),
    )
    present = {
        row[CUST]
        for row in lines.join(frame, on=CUST, how="left_semi").select(CUST).distinct().collect()
    }
    unknown = [
        given for given, value in zip(customers, wanted, strict=True) if value not in present
    ]
    if unknown:
        first = ", ".join(repr(value) for value in unknown[:3])
        what = (
            f"unknown customer id {first}"
            if len(unknown) == 1
            else f"{len(unknown)} unknown customer ids (first: {first})"
        )
        raise UnknownIdError(f"{what}: no baskets in the model's dataset.")
    return frame


def _as_id(value: Any, integer: bool) -> Any:
    """A given id as the dataset stores it (``" 12"`` -> 12 for integer ids; None: cannot be)."""
    if not integer:
        return str(value)
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _baskets(lines: Any, has_time: bool) -> Any:
    """One row per basket (customer, sequence, [timestamp], items), each customer's baskets
    together in one partition, sorted by customer, then ``MIN(sequence)``, then basket id."""
    from pyspark.sql import functions as fn

    time_first = [fn.min(TIME).alias(TIME)] if has_time else []
    pairs = (
        lines.repartition(CUST)  # the one shuffle: a customer's lines meet in one partition
        .groupBy(CUST, BASKET, "_item")
        .agg(fn.min(SEQ).alias(SEQ), fn.min("_line").alias("_line"), *time_first)
    )
    baskets = pairs.groupBy(CUST, BASKET).agg(
        fn.min(SEQ).cast("int").alias(SEQ),
        *time_first,
        fn.sort_array(fn.collect_list(fn.struct("_line", "_item"))).alias("_pairs"),
    )
    columns = [CUST, SEQ, *([TIME] if has_time else []), fn.col("_pairs._item").alias(_ITEMS)]
    return baskets.sortWithinPartitions(CUST, SEQ, BASKET).select(*columns)


def _output_schema(what: str, lines: Any) -> Any:
    from pyspark.sql import types as st

    customer = st.StructField(CUST, lines[CUST].dataType, nullable=False)
    if what == "customers":
        return st.StructType(
            [customer, st.StructField("vector", st.ArrayType(st.FloatType(), False), False)]
        )
    return st.StructType(
        [
            customer,
            st.StructField(ITEM, lines[ITEM].dataType, nullable=False),
            st.StructField(Columns.SCORE, st.FloatType(), nullable=False),
            st.StructField(Columns.RANK, st.LongType(), nullable=False),
        ]
    )


def _check_folder_output(out: str | Path, *, inputs: Sequence[Path]) -> Path:
    """``out`` as an absolute path; an existing one must be a folder of Spark's part files.

    Raises
    ------
    DataValidationError
        If ``out`` overlaps an input, or exists and is not a folder Spark wrote.
    """
    path = Path(os.path.abspath(out))
    for source in inputs:
        source = Path(os.path.abspath(source)).resolve()
        real = path.resolve()
        if real == source or source in real.parents or real in source.parents:
            raise DataValidationError(
                f"--out {out} overlaps the input {source}; choose another --out."
            )
    if os.path.lexists(path):
        ours = path.is_dir() and not path.is_symlink()
        ours = ours and all(_SPARK_FILES.fullmatch(p.name) for p in path.iterdir())
        if not ours:
            raise DataValidationError(
                f"{out} exists and is not a folder of Parquet parts written by --engine spark; "
                "choose a new --out (Spark writes a folder there)."
            )
    return path


# -- workers -----------------------------------------------------------------------------
#: Models opened by this Python worker process, by directory (a worker runs many tasks).
_OPENED: dict[tuple[str, int], tuple[SavedModel, IdMap]] = {}


def apply_partition(frames: Iterator[pd.DataFrame], task: _Task) -> Iterator[pd.DataFrame]:
    """The pandas function: one partition's basket rows in, its results out (by chunk)."""
    saved, items = _open(task)
    for chunk in _customer_chunks(frames, task.batch_size):
        history = _history(chunk, items, task.has_time)
        if task.what == "recommend":
            recommender = Recommender(saved.model, history)
            table = recommender.recommend_many(
                None,
                n=task.n,
                exclude_seen=task.exclude_seen,
                batch_size=task.batch_size,
                progress=False,
            )
        else:
            vectors = customer_embeddings(saved.model, history)
            table = pd.DataFrame({CUST: vectors.keys, "vector": list(vectors.vectors)})
        # Arrow-backed text columns concatenated from batches are chunked; Spark wants one.
        yield table.astype({c: object for c in table if isinstance(table[c].dtype, pd.StringDtype)})


def _open(task: _Task) -> tuple[SavedModel, IdMap]:
    """The task's model and item vocabulary, opened once per worker process (and again only
    when the model directory was written since)."""
    key = (task.model_dir, os.stat(Path(task.model_dir, "model.json")).st_mtime_ns)
    opened = _OPENED.get(key)
    if opened is None:
        opened = (SavedModel.open(task.model_dir), IdMap(task.items, kind="item"))
        _OPENED.clear()
        _OPENED[key] = opened
    return opened


def _customer_chunks(frames: Iterator[pd.DataFrame], size: int) -> Iterator[pd.DataFrame]:
    """Rows regrouped into chunks of about ``size`` whole customers.

    Rows arrive sorted by customer in Arrow batches that may split a customer; the last
    customer of what has arrived is held back until its next batch starts another.
    """
    held: pd.DataFrame | None = None
    for frame in frames:
        if frame.empty:
            continue
        held = frame if held is None else pd.concat([held, frame], ignore_index=True)
        ids = held[CUST].to_numpy()
        starts = np.flatnonzero(np.concatenate(([True], ids[1:] != ids[:-1])))
        if len(starts) > size:
            cut = int(starts[-1])
            yield held.iloc[:cut]
            held = held.iloc[cut:].reset_index(drop=True)
    if held is not None and len(held):
        yield held


def _history(chunk: pd.DataFrame, items: IdMap, has_time: bool) -> BasketCorpus:
    """A chunk's basket rows as the corpus ``build_baskets`` would give these customers."""
    ids = chunk[CUST].to_numpy()
    change = np.concatenate(([True], ids[1:] != ids[:-1]))
    baskets = [np.asarray(row, dtype=np.int32) for row in chunk[_ITEMS]]
    indptr = np.zeros(len(baskets) + 1, dtype=np.int64)
    np.cumsum([len(row) for row in baskets], out=indptr[1:])
    indices = np.concatenate(baskets) if baskets else np.zeros(0, dtype=np.int32)
    times = chunk[TIME].to_numpy().astype("datetime64[us]") if has_time else None
    return BasketCorpus(
        item_ids=items,
        indptr=indptr,
        indices=indices,
        customer_ids=IdMap(ids[change], kind="customer"),
        basket_customer=(np.cumsum(change) - 1).astype(np.int32),
        basket_sequence=chunk[SEQ].to_numpy().astype(np.int32),
        basket_time=times,
        item_counts=np.bincount(indices, minlength=len(items)).astype(np.int64),
        dropped={},
    )
