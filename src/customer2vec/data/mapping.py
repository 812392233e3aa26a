"""Map source columns onto canonical roles, and decide how ids are typed.

Each role can be named explicitly (``--customer-col``...). A role left unset is looked up
among common names (case- and punctuation-insensitive); the resolved mapping is written to
``dataset.json`` so nothing is guessed silently.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Literal

import duckdb

from customer2vec.data.engine import quote_ident
from customer2vec.errors import DataValidationError

IdType = Literal["int64", "string"]

#: CLI flag for each role, used in messages.
FLAGS = {
    "customer": "--customer-col",
    "basket": "--basket-col",
    "item": "--item-col",
    "time": "--time-col",
    "sequence": "--sequence-col",
    "quantity": "--quantity-col",
    "price": "--price-col",
}

ALIASES: dict[str, tuple[str, ...]] = {
    "customer": (
        "customer_id",
        "customer",
        "user_id",
        "user",
        "household_id",
        "household",
        "client_id",
        "member_id",
        "card_id",
        "cust_id",
        "shopper_id",
        "account_id",
    ),
    "basket": (
        "basket_id",
        "basket",
        "order_id",
        "invoice_no",
        "invoice",
        "invoice_id",
        "transaction_id",
        "receipt_id",
        "ticket_id",
        "trans_id",
        "order",
    ),
    "item": (
        "item_id",
        "item",
        "product_id",
        "product",
        "sku",
        "stock_code",
        "article_id",
        "article",
        "upc",
        "prod_id",
    ),
    "time": (
        "timestamp",
        "transaction_timestamp",
        "datetime",
        "date",
        "time",
        "invoice_date",
        "order_date",
        "transaction_date",
        "transaction_time",
        "purchase_date",
        "t_dat",
    ),
    "sequence": ("sequence", "order_number", "basket_number", "visit_number"),
    "quantity": ("quantity", "qty", "units"),
    "price": ("price", "unit_price", "sales_value", "amount", "sales", "revenue"),
}


@dataclass(frozen=True)
class ColumnMapping:
    """Source column for each canonical role; ``None`` means absent or not yet resolved."""

    customer: str | None = None
    basket: str | None = None
    item: str | None = None
    time: str | None = None
    sequence: str | None = None
    quantity: str | None = None
    price: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return asdict(self)

    def resolve(self, columns: list[str], *, auto: bool = True) -> ColumnMapping:
        """Check explicit names against ``columns`` and fill unset roles from ``ALIASES``."""
        by_key = {_key(c): c for c in columns}
        resolved = {}
        for role in (f.name for f in fields(self)):
            given = getattr(self, role)
            if given is not None:
                if given not in columns:
                    match = by_key.get(_key(given))
                    if match is None:
                        raise DataValidationError(
                            f"column {given!r} ({FLAGS[role]}) is not in the data; available "
                            f"columns: {', '.join(columns)}."
                        )
                    given = match
                resolved[role] = given
            elif auto:
                resolved[role] = next(
                    (by_key[_key(a)] for a in ALIASES[role] if _key(a) in by_key), None
                )
        mapping = replace(self, **resolved)
        used = [c for c in mapping.as_dict().values() if c is not None]
        if len(used) != len(set(used)):
            twice = sorted({c for c in used if used.count(c) > 1})
            raise DataValidationError(
                f"column {twice[0]!r} is mapped to two roles. Name each role's column with "
                f"{', '.join(FLAGS.values())}."
            )
        for role in ("customer", "item"):
            if getattr(mapping, role) is None:
                raise DataValidationError(
                    f"no {role} column found among: {', '.join(columns)}. Pass {FLAGS[role]} NAME."
                )
        if mapping.basket is None and mapping.time is None and mapping.sequence is None:
            raise DataValidationError(
                "cannot tell baskets apart: no basket, time or sequence column found. Pass "
                "--basket-col (an order id), --time-col or --sequence-col."
            )
        return mapping


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def id_type_of(con: duckdb.DuckDBPyConnection, relation: str, column: str) -> IdType:
    """Decide whether an id column is kept as int64 or as string.

    Integers stay integers. Floats whose values are all whole numbers (``17850.0``, as
    pandas writes ids with gaps) become integers. Everything else is kept as text.
    """
    col = quote_ident(column)
    dtype = con.execute(
        f"SELECT typeof({col}) FROM {relation} WHERE {col} IS NOT NULL LIMIT 1"
    ).fetchone()
    if dtype is None:
        return "string"
    kind = dtype[0].upper()
    if kind in {
        "TINYINT",
        "SMALLINT",
        "INTEGER",
        "BIGINT",
        "UTINYINT",
        "USMALLINT",
        "UINTEGER",
        "UBIGINT",
        "HUGEINT",
    }:
        return "int64"
    if kind in {"FLOAT", "DOUBLE"} or kind.startswith("DECIMAL"):
        fractional = con.execute(
            f"SELECT count(*) FROM {relation} WHERE {col} IS NOT NULL "
            f"AND ({col} <> floor({col}) OR abs({col}) > 9e15)"
        ).fetchone()[0]
        return "int64" if fractional == 0 else "string"
    return "string"


def id_expr(column: str, id_type: IdType) -> str:
    """SQL that casts a source id column to its canonical type; blanks become NULL."""
    col = quote_ident(column)
    if id_type == "int64":
        return f"TRY_CAST({col} AS BIGINT)"
    return f"NULLIF(trim(CAST({col} AS VARCHAR)), '')"
