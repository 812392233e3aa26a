"""Canonical column names used in every table the package reads or writes."""

from __future__ import annotations

from typing import Final


class Columns:
    """Canonical column names (``Columns.CUSTOMER == "customer_id"``)."""

    CUSTOMER: Final = "customer_id"
    BASKET: Final = "basket_id"
    ITEM: Final = "item_id"
    TIMESTAMP: Final = "timestamp"
    SEQUENCE: Final = "sequence"
    QUANTITY: Final = "quantity"
    PRICE: Final = "price"
    NAME: Final = "name"
    OTHER_ITEM: Final = "other_item_id"
    RANK: Final = "rank"
    SCORE: Final = "score"
    VECTOR: Final = "vector"
    SEGMENT: Final = "segment"

    #: Columns of the canonical transactions table, in file order.
    TRANSACTIONS: Final = (CUSTOMER, BASKET, ITEM, SEQUENCE, TIMESTAMP, QUANTITY, PRICE)
