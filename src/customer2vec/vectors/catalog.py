"""Look up what a model's ids are: names and attributes kept with the model."""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from pathlib import Path

import pandas as pd

from customer2vec.columns import Columns
from customer2vec.errors import DataValidationError
from customer2vec.vectors.embeddings import Embeddings, Neighbors

#: Attributes shown beside names, when present, in this order.
PREFERRED = ("department", "category", "product_category", "aisle", "brand", "color")


class ItemCatalog:
    """Item names and attributes (from the ``items.parquet`` saved with a model)."""

    def __init__(self, items: pd.DataFrame | None) -> None:
        if items is None or items.empty:
            self.table = pd.DataFrame(index=pd.Index([], name=Columns.ITEM))
        else:
            self.table = items.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)

    @classmethod
    def load(cls, model_dir: str | Path) -> ItemCatalog:
        """The ``items.parquet`` saved with a model (an empty catalogue when there is none).

        Raises
        ------
        DataValidationError
            If the file is corrupt or has no ``item_id`` column.
        """
        path = Path(model_dir) / "items.parquet"
        if not path.is_file():
            return cls(None)
        try:
            items = pd.read_parquet(path)
        except (ValueError, OSError) as err:  # ArrowInvalid is a ValueError
            raise DataValidationError(
                f"{path} is corrupt or unreadable ({err}). Train the model again."
            ) from err
        if Columns.ITEM not in items.columns:
            raise DataValidationError(
                f"{path} is corrupt (no {Columns.ITEM} column). Train the model again."
            )
        return cls(items)

    @property
    def display_columns(self) -> list[str]:
        """Name plus up to three informative attributes."""
        columns = [Columns.NAME] if Columns.NAME in self.table.columns else []
        attrs = [c for c in PREFERRED if c in self.table.columns]
        return columns + attrs[:3]

    def describe(self, ids: Iterable[Hashable]) -> pd.DataFrame:
        """One row per id (in order) with the display columns; unknown ids get blanks."""
        frame = self.table.reindex(pd.Index(list(ids), name=Columns.ITEM))
        return frame[self.display_columns].reset_index()


def similar_items(
    embeddings: Embeddings, catalog: ItemCatalog, item: Hashable, *, n: int = 10
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The query item's description and its ``n`` neighbors with scores, ranks and names."""
    hits: Neighbors = embeddings.similar(item, n=n)
    query = catalog.describe([embeddings.id_map.to_external([embeddings.id_map.index(item)])[0]])
    table = hits.to_frame().merge(catalog.describe(hits.ids), on=Columns.ITEM, how="left")
    return query, table[[Columns.RANK, Columns.ITEM, Columns.SCORE, *catalog.display_columns]]
