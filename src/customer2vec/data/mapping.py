"""Map source columns onto canonical roles, and decide how ids are typed.

Each role can be named explicitly (``--customer-col``...). A role left unset is looked up
among common names (case- and punctuation-insensitive), never taking a column named for
another role; the resolved mapping and the roles found this way are written to
``dataset.json`` (and logged) so nothing is guessed silently.

Ids keep their exact text. An id column becomes ``int64`` only when that loses nothing:
every value is a canonical integer (``0``, ``42``, ``-7``; no sign ``+``, leading zero or
blank) within int64, or a whole-number float (``17850.0``, as pandas writes ids with gaps).
Anything else is kept as text, byte for byte. Empty or all-whitespace values, NaN and
infinity are missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import TYPE_CHECKING, Literal

from customer2vec.data.engine import quote_ident
from customer2vec.errors import DataValidationError

if TYPE_CHECKING:
    from customer2vec.data.engine import Connection

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
        """Check explicit names against ``columns`` and fill unset roles from ``ALIASES``.

        Explicit names win: a role found by its common name never takes a column that was
        named for another role or already found for one. One column may be both the basket
        id and the sequence (per-customer order numbers are both); naming one column for any
        other two roles is an error. A basket column whose name is a sequence name
        (``order_number``) also serves as the sequence when no other sequence column is found.
        """
        by_key: dict[str, str] = {}
        for column in columns:
            by_key.setdefault(_key(column), column)
        explicit: dict[str, str] = {}
        for role in ROLES:
            given = getattr(self, role)
            if given is None:
                continue
            if given not in columns:
                match = by_key.get(_key(given))
                if match is None:
                    raise DataValidationError(
                        f"column {given!r} ({FLAGS[role]}) is not in the data; available "
                        f"columns: {', '.join(columns)}."
                    )
                given = match
            explicit[role] = given
        _check_shared(explicit)
        resolved = dict(explicit)
        if auto:
            taken = set(explicit.values())
            for role in ROLES:
                if role in explicit:
                    continue
                hit = next(
                    (
                        by_key[_key(alias)]
                        for alias in ALIASES[role]
                        if _key(alias) in by_key and by_key[_key(alias)] not in taken
                    ),
                    None,
                )
                basket = resolved.get("basket")
                if hit is None and role == "sequence" and basket and _is_alias(basket, role):
                    hit = basket  # --basket-col order_number: per-customer order numbers
                if hit is not None:
                    resolved[role] = hit
                    taken.add(hit)
        mapping = replace(self, **{role: resolved.get(role) for role in ROLES})
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

    def detected(self, resolved: ColumnMapping) -> dict[str, str]:
        """Roles that ``resolved`` (from :meth:`resolve`) filled in by common names."""
        return {
            role: column
            for role, column in resolved.as_dict().items()
            if column is not None and getattr(self, role) is None
        }


ROLES = tuple(f.name for f in fields(ColumnMapping))
#: Roles one column may serve together (an order number per customer is both).
SHARED_ROLES = frozenset({"basket", "sequence"})


def describe_detected(detected: dict[str, str]) -> str:
    """One log line naming the roles found by common names and the flags that override them."""
    found = ", ".join(f"{role}={column}" for role, column in detected.items())
    flags = ", ".join(FLAGS[role] for role in detected)
    return f"auto-detected columns: {found} (override with {flags})"


def _check_shared(explicit: dict[str, str]) -> None:
    roles_of: dict[str, list[str]] = {}
    for role, column in explicit.items():
        roles_of.setdefault(column, []).append(role)
    for column, roles in roles_of.items():
        if len(roles) > 1 and set(roles) != SHARED_ROLES:
            flags = " and ".join(FLAGS[role] for role in roles)
            raise DataValidationError(
                f"column {column!r} is named for two roles ({flags}); only a basket id may "
                "also be the sequence. Name each role's column once."
            )


def _is_alias(column: str, role: str) -> bool:
    return _key(column) in {_key(alias) for alias in ALIASES[role]}


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


#: Integer types that always fit in int64.
_SMALL_INTS = frozenset(
    {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER"}
)
_FLOATS = frozenset({"FLOAT", "DOUBLE", "REAL"})
#: Text that is missing: empty or only whitespace (what Python's ``str.isspace`` calls
#: whitespace: ASCII blanks, separators U+001C..U+001F and U+0085, and Unicode spaces ``\p{Z}``).
BLANK = r"[\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}]*"
#: Canonical decimal integer text of at most 19 digits (int64 range is checked separately).
CANONICAL_INT = r"(0|-?[1-9][0-9]{0,18})"
_EXACT_FLOAT = 2**53  # floats are exact whole numbers below this


def source_type(con: Connection, relation: str, column: str) -> str:
    """DuckDB type name of ``column`` in ``relation`` (upper case, e.g. ``"DECIMAL(38,0)"``);
    the Spark engine answers ``DESCRIBE`` with DuckDB's names too."""
    row = con.execute(f"DESCRIBE SELECT {quote_ident(column)} FROM {relation}").fetchone()
    return str(row[1]).upper()


def id_type_of(con: Connection, relation: str, column: str, kind: str | None = None) -> IdType:
    """Decide whether an id column is kept as int64 or as string (see the module docstring).

    ``kind`` is the column's DuckDB type (looked up when not given).
    """
    kind = kind or source_type(con, relation, column)
    if kind in _SMALL_INTS:
        return "int64"
    col = quote_ident(column)
    if kind in _FLOATS:
        not_whole = f"isfinite({col}) AND ({col} <> floor({col}) OR abs({col}) >= {_EXACT_FLOAT})"
        bad = con.execute(f"SELECT 1 FROM {relation} WHERE {not_whole} LIMIT 1").fetchone()
        present = con.execute(f"SELECT 1 FROM {relation} WHERE isfinite({col}) LIMIT 1").fetchone()
        return "int64" if bad is None and present is not None else "string"
    text = id_text_sql(column, kind)
    bad = con.execute(
        f"SELECT 1 FROM (SELECT {text} AS t FROM {relation}) WHERE t IS NOT NULL AND NOT "
        f"(regexp_full_match(t, '{CANONICAL_INT}') AND TRY_CAST(t AS BIGINT) IS NOT NULL) LIMIT 1"
    ).fetchone()
    present = con.execute(
        f"SELECT 1 FROM (SELECT {text} AS t FROM {relation}) WHERE t IS NOT NULL LIMIT 1"
    ).fetchone()
    return "int64" if bad is None and present is not None else "string"


def id_text_sql(column: str, kind: str) -> str:
    """SQL for an id's exact text (``NULL`` when missing), given the column's DuckDB type.

    Text is kept byte for byte (a blank-only value is missing); whole-number floats and
    decimals give their integer text (``17850.0`` -> ``"17850"``); NaN and infinity are missing.
    """
    col = quote_ident(column)
    if kind in _FLOATS:
        return (
            f"CASE WHEN NOT isfinite({col}) THEN NULL "
            f"WHEN {col} = floor({col}) AND abs({col}) < {_EXACT_FLOAT} "
            f"THEN CAST(CAST({col} AS BIGINT) AS STRING) ELSE CAST({col} AS STRING) END"
        )
    if kind.startswith("DECIMAL"):
        return (
            f"CASE WHEN {col} = floor({col}) THEN CAST(CAST({col} AS DECIMAL(38,0)) AS STRING) "
            f"ELSE CAST({col} AS STRING) END"
        )
    text = col if kind == "VARCHAR" else f"CAST({col} AS STRING)"
    return f"CASE WHEN regexp_full_match({text}, '{BLANK}') THEN NULL ELSE {text} END"


def id_expr(column: str, id_type: IdType, kind: str | None = None) -> str:
    """SQL casting a source id column of DuckDB type ``kind`` to ``id_type``.

    The result is ``NULL`` where the id is missing or (for ``int64``) not a canonical
    integer: text equal ids give equal keys whatever the source types. Without ``kind``
    (callers that did not look it up) the SQL works for any type, where :func:`id_type_of`
    chose ``id_type`` for this column.
    """
    col = quote_ident(column)
    if kind is None:
        if id_type == "int64":
            return f"TRY_CAST({col} AS BIGINT)"
        text = f"CAST({col} AS STRING)"
        return f"CASE WHEN regexp_full_match({text}, '{BLANK}') THEN NULL ELSE {text} END"
    if id_type == "string":
        return id_text_sql(column, kind)
    if kind in _SMALL_INTS:
        return f"CAST({col} AS BIGINT)"
    if kind in _FLOATS:
        return (
            f"CASE WHEN isfinite({col}) AND {col} = floor({col}) AND abs({col}) < {_EXACT_FLOAT} "
            f"THEN CAST({col} AS BIGINT) END"
        )
    text = col if kind == "VARCHAR" else id_text_sql(column, kind)
    return (
        f"CASE WHEN regexp_full_match({text}, '{CANONICAL_INT}') "
        f"THEN TRY_CAST({text} AS BIGINT) END"
    )
