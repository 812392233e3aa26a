"""What the explorer (the HTTP API and its page) serves, loaded once from :func:`open_model`.

:class:`Explorer` answers with plain dicts and lists (external ids, Python scalars, no NaN),
ready to serialize. Scoring goes through the model's
:class:`~customer2vec.recommend.recommender.Recommender`; nothing here ranks items itself.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import warnings
from collections.abc import Hashable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.analysis.segments import SegmentFolder
from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.baskets import BasketCorpus
from customer2vec.data.dataset import Dataset
from customer2vec.data.ids import IdMap
from customer2vec.errors import Customer2VecError, DataValidationError, DataWarning, UnknownIdError
from customer2vec.recommend.recommender import Recommender
from customer2vec.vectors.embeddings import Embeddings, Neighbors
from customer2vec.workflow.cards import ItemCards, lookup, plain, row_record, time_text
from customer2vec.workflow.opened import open_model
from customer2vec.workflow.segment_view import SegmentView

__all__ = ["SEGMENT_HINT", "Explorer", "NotSupportedError"]

log = logging.getLogger(__name__)

SEGMENT_HINT = (
    "no segments loaded: run `customer2vec segment MODEL --out DIR`, then "
    "`customer2vec serve MODEL --segments DIR`."
)


class NotSupportedError(Customer2VecError):
    """The loaded model cannot answer this kind of request (HTTP 501)."""


class Explorer:
    """A model with everything needed to answer explorer requests, loaded once.

    Parameters
    ----------
    model_dir
        A model directory written by ``customer2vec train``; its dataset must still exist.
    segments_dir
        A folder written by ``customer2vec segment`` (optional).
    map_items
        How many best-selling items the 2-D map shows (0: no map).

    Raises
    ------
    DataValidationError
        If ``model_dir`` is not a model, its dataset is gone, or the segments do not fit.
    """

    def __init__(
        self,
        model_dir: str | Path,
        *,
        segments_dir: str | Path | None = None,
        map_items: int = 2000,
    ) -> None:
        require_int(map_items, "map_items", minimum=0)
        started = time.perf_counter()
        # Absolute once, at start: nothing later depends on the server's working directory.
        self.model_dir = Path(model_dir).absolute()
        opened = open_model(self.model_dir, segments=segments_dir)
        dataset = opened.dataset
        self.dataset_path = str(dataset.path)
        self.model = opened.model
        # Embedding-only models (copurchase): similar items and customer histories, no ranking.
        self.recommender: Recommender | None = opened.recommender if opened.can_rank else None
        self.history: BasketCorpus | None = (
            opened.history if opened.can_rank or dataset.has("transactions") else None
        )
        self.catalog = opened.catalog
        self.vectors: Embeddings | None = (
            self.model.item_vectors_ if self.model.has_item_vectors else None
        )
        self.item_ids: IdMap = (
            self.vectors.id_map if self.vectors is not None else self._require_history().item_ids
        )
        self.cards = ItemCards(self.item_ids, self.catalog, self.history)
        self.search_items = functools.lru_cache(maxsize=512)(self.cards.search)
        self.customer_table = _customer_table(dataset)
        # Model.score is not promised to be thread-safe; the API serves from a thread pool.
        self._lock = threading.Lock()
        self._customer_text: pd.Series | None = None
        self.segments = self._segments(opened.segments) if opened.segments else None
        self._warm_up()
        self._start_map(map_items)
        self.load_seconds = time.perf_counter() - started
        log.info(
            "explorer ready in %.1f s: %s, %d items, %d customers",
            self.load_seconds,
            self.model.name,
            len(self.item_ids),
            self.history.n_customers if self.history is not None else 0,
        )

    # -- what the model can do -------------------------------------------------------------
    @property
    def capabilities(self) -> dict[str, bool]:
        return {
            "similar": self.vectors is not None,
            "recommend": self.recommender is not None,
            "customers": self.history is not None,
            "segments": self.segments is not None,
            "map": bool(self.map["points"]),
        }

    def health(self) -> dict[str, Any]:
        from customer2vec.config import __version__

        return {
            "status": "ok",
            "version": __version__,
            "model": self.model.name,
            "model_dir": str(self.model_dir),
            "dataset": self.dataset_path,
            "n_items": len(self.item_ids),
            "n_customers": self.history.n_customers if self.history is not None else 0,
            "capabilities": self.capabilities,
            "load_seconds": round(self.load_seconds, 3),
        }

    # -- items -----------------------------------------------------------------------------
    def item(self, item: Hashable) -> dict[str, Any]:
        """One item with every catalogue attribute and its basket count."""
        row = self._item_index(item)
        summary = self.cards.card(row)
        summary["attributes"] = self.cards.attributes(summary["item_id"])
        summary["has_vector"] = self.vectors is not None
        if self.segments is not None:
            summary["segment"] = self.segments.item_segment(row)
        return summary

    def similar_items(self, item: Hashable, n: int) -> dict[str, Any]:
        if self.vectors is None:
            raise NotSupportedError(
                f"a {self.model.name} model has no item vectors, so it cannot find similar "
                "items; serve an embedding model (item2vec, als, customer2vec, copurchase)."
            )
        query = self.cards.card(self._item_index(item))
        hits = self.vectors.similar(query["item_id"], n=n)
        return {
            "item": query,
            "model": self.model.name,
            "neighbors": self.cards.describe(hits.ids, hits.scores),
        }

    def describe(self, ids: Any, scores: Any = None) -> list[dict]:
        """Id, name, display attributes and basket count of each item (rank/score if given)."""
        return self.cards.describe(ids, scores)

    # -- customers -------------------------------------------------------------------------
    def list_customers(self, query: str, n: int, segment: int | None) -> dict[str, Any]:
        """Customers whose id contains ``query`` (and in ``segment``): an exact id first, then
        most baskets first."""
        history = self._require_history()
        n_baskets = np.diff(history.customer_indptr)
        mask = np.ones(history.n_customers, dtype=bool)
        if query.strip():
            if self._customer_text is None:
                ids = pd.Series(history.customer_ids.external, dtype=object)
                self._customer_text = ids.astype(str).str.lower()
            found = self._customer_text.str.contains(query.strip().lower(), regex=False)
            mask &= found.to_numpy(dtype=bool)
        labels = self.segments.customer_labels if self.segments is not None else None
        if segment is not None:
            if labels is None:
                raise DataValidationError(f"`segment` needs segments; {SEGMENT_HINT}")
            mask &= labels == segment
        chosen = np.flatnonzero(mask)
        chosen = chosen[np.argsort(-n_baskets[chosen], kind="stable")]
        if query.strip():  # the customer whose id is exactly the query comes first
            exact = np.flatnonzero(self._customer_text.to_numpy()[chosen] == query.strip().lower())
            if len(exact):
                chosen = np.concatenate([chosen[exact], np.delete(chosen, exact)])
        return {
            "query": query,
            "total": len(chosen),
            "customers": [
                {
                    "customer_id": plain(history.customer_ids.external[c]),
                    "n_baskets": int(n_baskets[c]),
                    "segment": None if labels is None or labels[c] < 0 else int(labels[c]),
                }
                for c in chosen[:n]
            ],
        }

    def customer(self, customer: Hashable, n_baskets: int) -> dict[str, Any]:
        """A customer's history (most recent baskets first), top items, segment, attributes."""
        history = self._require_history()
        c = self._customer_index(customer)
        first, last = history.customer_indptr[c], history.customer_indptr[c + 1]
        lines = history.indices[history.indptr[first] : history.indptr[last]]
        counts = np.bincount(lines, minlength=history.n_items)
        bought = np.flatnonzero(counts)
        top = bought[np.argsort(-counts[bought], kind="stable")][:10]
        top_items = self.cards.describe(history.item_ids.to_external(top))
        for record, row in zip(top_items, top, strict=True):
            record["times_bought"] = int(counts[row])
        baskets = []
        for b in range(last - 1, max(first, last - n_baskets) - 1, -1):
            items = history.item_ids.to_external(
                history.indices[history.indptr[b] : history.indptr[b + 1]]
            )
            baskets.append(
                {
                    "sequence": int(history.basket_sequence[b]),
                    "time": time_text(history.basket_time, b),
                    "items": self.cards.describe(items),
                }
            )
        external = plain(history.customer_ids.external[c])
        return {
            "customer_id": external,
            "n_baskets": int(last - first),
            "n_lines": len(lines),
            "n_items": len(bought),
            "first_time": time_text(history.basket_time, first),
            "last_time": time_text(history.basket_time, last - 1),
            "segment": self.segments.customer_segment(c) if self.segments is not None else None,
            "attributes": row_record(self.customer_table, external),
            "top_items": top_items,
            "baskets": baskets,
        }

    def recommend(self, customer: Hashable, n: int, exclude_seen: bool | None) -> dict[str, Any]:
        recommender = self._require_recommender()
        canonical = plain(self.history.customer_ids.external[self._customer_index(customer)])
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            hits = recommender.recommend(canonical, n=n, exclude_seen=exclude_seen)
        return self._recommendations(hits, caught, canonical, exclude_seen)

    def recommend_session(self, items: list[Hashable], n: int, exclude_seen: bool) -> dict:
        recommender = self._require_recommender()
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            hits = recommender.recommend_session(items, n=n, exclude_seen=exclude_seen)
        result = self._recommendations(hits, caught, None, exclude_seen)
        rows = self.history.item_ids.to_internal(list(items), on_unknown="missing")
        result["unknown_items"] = [plain(items[i]) for i in np.flatnonzero(rows < 0)]
        return result

    # -- segments --------------------------------------------------------------------------
    def segment_overview(self) -> dict[str, Any]:
        if self.segments is None:
            return {"available": False, "hint": SEGMENT_HINT, "segments": []}
        return self.segments.overview()

    # -- internals -------------------------------------------------------------------------
    def _segments(self, folder: SegmentFolder) -> SegmentView:
        """Line the folder's labels up with the history's customers or the model's items."""
        if folder.what == "customers":
            return SegmentView(
                folder, self._require_history().customer_ids, self.cards, self.history
            )
        return SegmentView(folder, self.item_ids, self.cards, self.history)

    def _recommendations(
        self, hits: Neighbors, caught: list, customer: Hashable, exclude_seen: bool | None
    ) -> dict[str, Any]:
        return {
            "customer_id": plain(customer),
            "model": self.model.name,
            "exclude_seen": (exclude_seen if exclude_seen is not None else not self.model.repeats),
            "items": self.cards.describe(hits.ids, hits.scores),
            "warnings": [str(w.message) for w in caught if issubclass(w.category, DataWarning)],
        }

    def _item_index(self, item: Hashable) -> int:
        row = self.cards.index(item)
        if row < 0:
            raise UnknownIdError(
                f"unknown item id {item!r}: not among the model's {len(self.item_ids):,} items. "
                "Find items with GET /items?q=NAME."
            )
        return row

    def _customer_index(self, customer: Hashable) -> int:
        c = lookup(self._require_history().customer_ids, customer)
        if c < 0:
            raise UnknownIdError(
                f"unknown customer id {customer!r}: no baskets among the "
                f"{self.history.n_customers:,} customers of the model's dataset. "
                "List customers with GET /customers?q=ID; recommend for a new customer from "
                "a list of items with POST /recommendations."
            )
        return c

    def _require_history(self) -> BasketCorpus:
        if self.history is None:
            raise NotSupportedError(
                f"the dataset {self.dataset_path} has no transactions, so there are no "
                "customers to show."
            )
        return self.history

    def _require_recommender(self) -> Recommender:
        if self.recommender is None:
            raise NotSupportedError(
                f"a {self.model.name} model cannot rank items for customers; serve a ranking "
                "model (item2vec, als, customer2vec, next-basket, tifu-knn, ...)."
            )
        return self.recommender

    def _warm_up(self) -> None:
        """Compile and cache what the first request would otherwise wait for (JIT, norms)."""
        if self.vectors is not None:
            self.vectors.unit_vectors  # noqa: B018  (computed once, on first access)
        if self.recommender is not None and self.history.n_customers:
            first = plain(self.history.customer_ids.external[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                self.recommender.recommend(first, n=1)
                # A session takes another path (a new customer: inference for customer2vec).
                top = self.history.item_ids.external[int(np.argmax(self.history.item_counts))]
                self.recommender.recommend_session([top], n=1)

    def _start_map(self, map_items: int) -> None:
        """Answer ``map`` at once; project the best sellers in a background thread.

        t-SNE on 2,000 items takes seconds to a minute on a busy machine: the explorer
        answers meanwhile, and ``map`` says the map is pending until it is ready.
        """
        self.map_ready = threading.Event()
        empty = {"available": False, "pending": False, "color_by": None, "points": []}
        top = self.cards.by_count[: min(map_items, len(self.item_ids))]
        hint = None
        if self.vectors is None:
            hint = f"a {self.model.name} model has no item vectors to map."
        elif map_items == 0:
            hint = "the map is off (map_items=0)."
        elif len(top) < 3:
            hint = "too few items to draw a map."
        else:
            try:
                from customer2vec.analysis.projection import project_2d
            except ImportError as err:
                hint = f"no map: {err}"
        if hint is not None:
            self.map: dict[str, Any] = {**empty, "hint": hint}
            self.map_ready.set()
            return
        self.map = {
            **empty,
            "pending": True,
            "hint": f"the map of the {len(top):,} best sellers is being computed.",
        }
        thread = threading.Thread(
            target=self._project_map, args=(project_2d, top), name="map", daemon=True
        )
        thread.start()

    def _project_map(self, project_2d: Any, top: np.ndarray) -> None:
        """Project ``top`` items' vectors to 2-D, colored by a coarse attribute."""
        started = time.perf_counter()
        try:
            # One thread: the map must not starve the requests served meanwhile.
            vectors = np.asarray(self.vectors.vectors[top])
            xy = np.asarray(project_2d(vectors, random_state=0, n_jobs=1))
            attrs = [c for c in self.catalog.display_columns if c != Columns.NAME]
            color_by = attrs[0] if attrs else None
            points = self.cards.describe(self.item_ids.to_external(top))
            for point, (x, y) in zip(points, xy.tolist(), strict=True):
                point["x"], point["y"] = float(x), float(y)
                point["group"] = point["attributes"].get(color_by) if color_by else None
            self.map = {
                "available": True,
                "pending": False,
                "hint": None,
                "color_by": color_by,
                "points": points,
            }
            log.info("map of %d items ready in %.1f s", len(top), time.perf_counter() - started)
        except (Customer2VecError, ValueError) as err:  # the map is optional: serve without
            log.warning("no map: %s", err)
            self.map = {
                "available": False,
                "pending": False,
                "hint": f"no map: {err}",
                "color_by": None,
                "points": [],
            }
        finally:
            self.map_ready.set()


def _customer_table(dataset: Dataset) -> pd.DataFrame:
    """The dataset's customer attributes indexed by id (empty without a customers table)."""
    if not dataset.has("customers"):
        return pd.DataFrame(index=pd.Index([], name=Columns.CUSTOMER))
    table = dataset.read("customers")
    if Columns.CUSTOMER not in table.columns:
        return pd.DataFrame(index=pd.Index([], name=Columns.CUSTOMER))
    return table.drop_duplicates(Columns.CUSTOMER).set_index(Columns.CUSTOMER)
