"""Corpus builders: turn canonical tables into what models consume."""

from __future__ import annotations

from customer2vec.corpus.baskets import (
    BasketCorpus,
    BasketsWithTables,
    TokenRows,
    build_baskets,
    build_baskets_with_tables,
)
from customer2vec.corpus.documents import CustomerDocuments, build_documents
from customer2vec.corpus.matrix import basket_item_matrix, customer_item_matrix

__all__ = [
    "BasketCorpus",
    "BasketsWithTables",
    "CustomerDocuments",
    "TokenRows",
    "basket_item_matrix",
    "build_baskets",
    "build_baskets_with_tables",
    "build_documents",
    "customer_item_matrix",
]
