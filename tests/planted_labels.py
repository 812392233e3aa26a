"""Planted-label baskets for the label-guided models (autoencoder, guided)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.ids import IdMap


def planted(
    n_customers: int = 200, *, p_label: float = 0.8, p_favorite: float = 0.0, seed: int = 0
) -> tuple[BasketCorpus, pd.DataFrame, pd.DataFrame]:
    """Baskets where the label hides below stronger structure.

    Two tribes (``a*``/``b*`` items); each tribe has 4 aisles of 6 items, and a basket is a
    one-aisle mission of 3 draws (with probability ``p_favorite`` from the customer's favorite
    aisle). The label (``customers.vip``, half the customers) shows only as a taste: a
    positive draws an item of even number with probability ``p_label``, a negative with
    ``1 - p_label``. Items carry their aisle (``items.aisle``).
    """
    rng = np.random.default_rng(seed)
    label = rng.random(n_customers) < 0.5
    baskets, owners = [], []
    for c in range(n_customers):
        tribe, favorite = "ab"[c % 2], rng.integers(4)
        p_even = p_label if label[c] else 1.0 - p_label
        for _ in range(8):
            aisle = favorite if rng.random() < p_favorite else rng.integers(4)
            numbers = 2 * rng.integers(3, size=3) + (rng.random(3) >= p_even)
            baskets.append(sorted({f"{tribe}{aisle}{k}" for k in numbers}))
            owners.append(c)
    flat = np.array([item for basket in baskets for item in basket], dtype=object)
    values, counts = np.unique(flat, return_counts=True)
    order = np.lexsort((values, -counts))
    vocabulary = IdMap(values[order], kind="item")
    names = [f"c{c:03d}" for c in range(n_customers)]
    corpus = BasketCorpus(
        item_ids=vocabulary,
        indptr=np.cumsum([0] + [len(b) for b in baskets]).astype(np.int64),
        indices=vocabulary.to_internal(flat).astype(np.int32),
        customer_ids=IdMap(names, kind="customer"),
        basket_customer=np.array(owners, dtype=np.int32),
        basket_sequence=np.tile(np.arange(1, 9, dtype=np.int32), n_customers),
        basket_time=None,
        item_counts=counts[order].astype(np.int64),
    )
    customers = pd.DataFrame({"customer_id": names, "vip": label})
    items = pd.DataFrame({"item_id": values, "aisle": [v[:2] for v in values]})
    return corpus, items, customers


def hide_half(customers: pd.DataFrame, column: str = "vip") -> tuple[pd.DataFrame, pd.Series]:
    """The table with every other pair of customers' labels emptied, and those hidden labels."""
    hidden = np.arange(len(customers)) % 4 < 2
    table = customers.copy()
    table[column] = table[column].astype("boolean")
    table.loc[hidden, column] = pd.NA
    truth = customers.set_index("customer_id")[column].astype(int)[hidden]
    return table, truth.rename(column)
