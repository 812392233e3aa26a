"""What the HTTP API serves, loaded once: model, customers' history, catalogue, segments, map.

:class:`Explorer` answers with plain dicts and lists (external ids, Python scalars, no NaN),
ready for the response models in :mod:`customer2vec.api.schemas`. Scoring goes through
:class:`~customer2vec.recommend.recommender.Recommender`; nothing here ranks items itself.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import json
import logging
import math
import re
import threading
import time
import warnings
from collections.abc import Hashable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus.baskets import BasketCorpus, build_baskets
from customer2vec.data.dataset import Dataset
from customer2vec.data.ids import IdMap
from customer2vec.errors import Customer2VecError, DataValidationError, DataWarning, UnknownIdError
from customer2vec.models import get_model_class, load_model, resolve_model_dataset
from customer2vec.models.base import Model, read_model_file
from customer2vec.models.ranking import RankingModel
from customer2vec.recommend.recommender import Recommender
from customer2vec.vectors.catalog import ItemCatalog
from customer2vec.vectors.embeddings import Embeddings, Neighbors

log = logging.getLogger(__name__)

_INTEGER = re.compile(r"[+-]?[0-9]{1,18}")
#: What :func:`_clean` returns: the JSON scalars of the response models.
Scalar = str | int | float | bool | None
#: Most items or customers one request may ask for.
MAX_N = 1000
SEGMENT_HINT = (
    "no segments loaded: run `customer2vec segment MODEL --out DIR`, then "
    "`customer2vec serve MODEL --segments DIR`."
)


class NotSupportedError(Customer2VecError):
    """The loaded model cannot answer this kind of request (HTTP 501)."""


class Explorer:
    """A model with everything needed to answer API requests, loaded once.

    Parameters
    ----------
    model_dir
        A model directory written by ``customer2vec train``; its dataset must still exist.
    segments_dir
        A folder written by ``customer2vec segment`` (optional).
    map_items
        How many best-selling items the 2-D map shows (0: no map).
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
        self.recommender, self.model, self.history, self.catalog, dataset = _load(self.model_dir)
        self.dataset_path = str(dataset.path)
        self.vectors: Embeddings | None = getattr(self.model, "item_vectors_", None)
        self.item_ids: IdMap = (
            self.vectors.id_map if self.vectors is not None else (self.history.item_ids)
        )
        self.item_counts = _counts_on(self.item_ids, self.history)
        # Per-item display records and search lines, built once: a request then costs one
        # vectorized id lookup instead of pandas work per call.
        self._cards = _cards(self.item_ids, self.catalog, self.item_counts)
        self._search_text = _search_text(self._cards)
        self._by_count = np.argsort(-self.item_counts, kind="stable")
        self.search_items = functools.lru_cache(maxsize=512)(self._search_items)
        self.customer_table = _customer_table(dataset)
        # Model.score is not promised to be thread-safe; the API serves from a thread pool.
        self._lock = threading.Lock()
        self._customer_text: pd.Series | None = None
        self.segments = Segments.load(segments_dir, self) if segments_dir else None
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
    def _search_items(self, query: str, n: int) -> dict[str, Any]:
        """Items whose id, name or attributes contain every word of ``query``, best sellers
        first (an exact id first of all); the best sellers when ``query`` is blank."""
        words = query.lower().split()
        order = self._by_count
        if words:
            mask = np.ones(len(self._search_text), dtype=bool)
            for word in words:
                mask &= self._search_text.str.contains(word, regex=False).to_numpy()
            order = order[mask[order]]
            exact = _lookup(self.item_ids, query.strip())
            if exact >= 0:
                order = np.concatenate([[exact], order[order != exact]])
        return {
            "query": query,
            "total": len(order),
            "items": self.describe(self.item_ids.to_external(order[:n])),
        }

    def item(self, item: Hashable) -> dict[str, Any]:
        """One item with every catalogue attribute and its basket count."""
        row = self._item_index(item)
        summary = self._card(row)
        summary["attributes"] = _record(
            self.catalog.table, summary["item_id"], drop=(Columns.NAME,)
        )
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
        row = self._item_index(item)
        query = self._card(row)
        hits = self.vectors.similar(query["item_id"], n=n)
        return {
            "item": query,
            "model": self.model.name,
            "neighbors": self.describe(hits.ids, hits.scores),
        }

    def describe(self, ids: Sequence[Hashable] | np.ndarray, scores: Any = None) -> list[dict]:
        """Id, name, display attributes and basket count of each item (rank/score if given)."""
        rows = self.item_ids.to_internal(np.asarray(ids), on_unknown="missing")
        out = []
        for i, row in enumerate(rows):
            record = self._card(row) if row >= 0 else self._foreign_card(ids[i])
            if scores is not None:
                record["rank"] = i + 1
                record["score"] = float(scores[i])
            out.append(record)
        return out

    def _card(self, row: int) -> dict[str, Any]:
        card = self._cards[row]
        return {**card, "attributes": dict(card["attributes"])}

    def _foreign_card(self, item: Hashable) -> dict[str, Any]:
        """An item outside the model's vocabulary (in the history of a copurchase model)."""
        return _cards(IdMap([item], kind="item"), self.catalog, np.zeros(1, dtype=np.int64))[0]

    # -- customers -------------------------------------------------------------------------
    def list_customers(self, query: str, n: int, segment: int | None) -> dict[str, Any]:
        """Customers whose id contains ``query`` (and in ``segment``), most baskets first."""
        history = self._require_history()
        bounds = history.customer_indptr
        n_baskets = np.diff(bounds)
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
        return {
            "query": query,
            "total": len(chosen),
            "customers": [
                {
                    "customer_id": _py(history.customer_ids.external[c]),
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
        top_items = self.describe(history.item_ids.to_external(top))
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
                    "time": _time(history.basket_time, b),
                    "items": self.describe(items),
                }
            )
        external = _py(history.customer_ids.external[c])
        segment = None
        if self.segments is not None:
            label = self.segments.customer_labels[c]
            segment = None if label < 0 else int(label)
        return {
            "customer_id": external,
            "n_baskets": int(last - first),
            "n_lines": len(lines),
            "n_items": len(bought),
            "first_time": _time(history.basket_time, first),
            "last_time": _time(history.basket_time, last - 1),
            "segment": segment,
            "attributes": _record(self.customer_table, external),
            "top_items": top_items,
            "baskets": baskets,
        }

    def recommend(self, customer: Hashable, n: int, exclude_seen: bool | None) -> dict[str, Any]:
        recommender = self._require_recommender()
        canonical = _py(self.history.customer_ids.external[self._customer_index(customer)])
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            hits = recommender.recommend(canonical, n=n, exclude_seen=exclude_seen)
        return self._recommendations(hits, caught, canonical, exclude_seen)

    def recommend_session(self, items: list[Hashable], n: int, exclude_seen: bool) -> dict:
        recommender = self._require_recommender()
        with self._lock, warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", DataWarning)
            hits = recommender.recommend_session(items, n=n, exclude_seen=exclude_seen)
        return self._recommendations(hits, caught, None, exclude_seen)

    # -- segments and map ------------------------------------------------------------------
    def segment_overview(self) -> dict[str, Any]:
        if self.segments is None:
            return {"available": False, "hint": SEGMENT_HINT, "segments": []}
        return self.segments.overview()

    # -- internals -------------------------------------------------------------------------
    def _recommendations(
        self, hits: Neighbors, caught: list, customer: Hashable, exclude_seen: bool | None
    ) -> dict[str, Any]:
        return {
            "customer_id": _py(customer),
            "model": self.model.name,
            "exclude_seen": (exclude_seen if exclude_seen is not None else not self.model.repeats),
            "items": self.describe(hits.ids, hits.scores),
            "warnings": [str(w.message) for w in caught if issubclass(w.category, DataWarning)],
        }

    def _item_index(self, item: Hashable) -> int:
        row = _lookup(self.item_ids, item)
        if row < 0:
            raise UnknownIdError(
                f"unknown item id {item!r}: not among the model's {len(self.item_ids):,} items. "
                "Find items with GET /items?q=NAME."
            )
        return int(row)

    def _customer_index(self, customer: Hashable) -> int:
        c = _lookup(self.history.customer_ids, customer)
        if c < 0:
            raise UnknownIdError(
                f"unknown customer id {customer!r}: no baskets among the "
                f"{self.history.n_customers:,} customers of the model's dataset. "
                "List customers with GET /customers?q=ID; recommend for a new customer from "
                "a list of items with POST /recommendations."
            )
        return int(c)

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
            first = _py(self.history.customer_ids.external[0])
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DataWarning)
                self.recommender.recommend(first, n=1)

    def _start_map(self, map_items: int) -> None:
        """Answer ``/map`` at once; project the best sellers in a background thread.

        t-SNE on 2,000 items takes seconds to a minute on a busy machine: the API answers
        meanwhile, and ``/map`` says the map is pending until it is ready.
        """
        self.map_ready = threading.Event()
        empty = {"available": False, "pending": False, "color_by": None, "points": []}
        top = self._by_count[: min(map_items, len(self.item_ids))]
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
            self.map = {**empty, "hint": hint}
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
            points = self.describe(self.item_ids.to_external(top))
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


class Segments:
    """The output of ``customer2vec segment`` lined up with the explorer's customers or items."""

    def __init__(
        self,
        directory: Path,
        summary: dict[str, Any],
        labels: np.ndarray,
        tables: dict[str, pd.DataFrame],
        explorer: Explorer,
    ) -> None:
        self.directory = directory
        self.explorer = explorer
        self.summary = summary
        self.what = summary.get("what", "customers")
        self.labels = labels
        self.tables = tables

    @property
    def customer_labels(self) -> np.ndarray | None:
        return self.labels if self.what == "customers" else None

    def item_segment(self, row: int) -> int | None:
        if self.what != "items" or self.labels[row] < 0:
            return None
        return int(self.labels[row])

    @classmethod
    def load(cls, directory: str | Path, explorer: Explorer) -> Segments:
        """Read a segment folder; raise ``DataValidationError`` if it does not fit the model."""
        directory = Path(directory)
        summary_file = directory / "summary.json"
        if not summary_file.is_file() or not (directory / "segments.parquet").is_file():
            raise DataValidationError(
                f"{directory} is not a segment folder (no summary.json or segments.parquet); "
                "make one with `customer2vec segment MODEL --out DIR`."
            )
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
        what = summary.get("what", "customers")
        frame = pd.read_parquet(directory / "segments.parquet")
        if what == "customers":
            ids = explorer._require_history().customer_ids
            column = Columns.CUSTOMER
        else:
            ids, column = explorer.item_ids, Columns.ITEM
        if column not in frame.columns or Columns.SEGMENT not in frame.columns:
            raise DataValidationError(
                f"{directory}/segments.parquet needs columns {column!r} and 'segment'; "
                "make it again with `customer2vec segment`."
            )
        rows = ids.to_internal(frame[column].to_numpy(), on_unknown="missing")
        known = rows >= 0
        if not known.any():
            raise DataValidationError(
                f"none of the {len(frame):,} {what} in {directory} belongs to this model's "
                f"dataset; segment this model: `customer2vec segment MODEL --out DIR`."
            )
        if not known.all():
            log.warning(
                "%d of %d %s in %s are not in the model's dataset and were ignored",
                int((~known).sum()),
                len(frame),
                what,
                directory,
            )
        labels = np.full(len(ids), -1, dtype=np.int64)
        labels[rows[known]] = frame[Columns.SEGMENT].to_numpy()[known]
        tables = {}
        for name in ("profiles", "distinctive", "samples"):
            path = directory / f"{name}.csv"
            tables[name] = pd.read_csv(path) if path.is_file() else pd.DataFrame()
        log.info("loaded %d %s segments from %s", summary.get("k", 0), what, directory)
        return cls(directory, summary, labels, tables, explorer)

    def overview(self) -> dict[str, Any]:
        labels = self.labels[self.labels >= 0]
        sizes = np.bincount(labels) if len(labels) else np.zeros(0, dtype=np.int64)
        explorer = self.explorer
        out = []
        for segment in np.flatnonzero(sizes):
            out.append(
                {
                    "segment": int(segment),
                    "size": int(sizes[segment]),
                    "share": float(sizes[segment] / max(len(labels), 1)),
                    "profile": self._profile(segment),
                    "distinctive_items": self._distinctive(segment, explorer),
                    "sample_customers": self._samples(segment, explorer),
                }
            )
        return {
            "available": True,
            "hint": None,
            "what": self.what,
            "k": int(self.summary.get("k", len(out))),
            "silhouette": _clean(self.summary.get("silhouette")),
            "vectors_from": self.summary.get("vectors_from") or None,
            "segments": out,
        }

    def _rows(self, name: str, segment: int) -> pd.DataFrame:
        table = self.tables[name]
        if table.empty or "segment" not in table.columns:
            return table
        return table[table["segment"] == segment]

    def _profile(self, segment: int) -> list[dict[str, Any]]:
        rows = self._rows("profiles", segment)
        return [
            {
                "attribute": _clean(row.get("attribute")),
                "group": str(row.get("group")),
                "share": float(row.get("share", 0.0)),
                "lift": float(row.get("lift", 0.0)),
            }
            for row in rows.to_dict(orient="records")
        ]

    def _distinctive(self, segment: int, explorer: Explorer) -> list[dict[str, Any]]:
        rows = self._rows("distinctive", segment)
        if rows.empty:
            return []
        internal = explorer.item_ids.to_internal(
            rows[Columns.ITEM].to_numpy(), on_unknown="missing"
        )
        items = explorer.describe(explorer.item_ids.to_external(internal[internal >= 0]))
        lifts = rows["lift"].to_numpy()[internal >= 0]
        for item, lift in zip(items, lifts, strict=True):
            item["lift"] = float(lift)
        return items

    def _samples(self, segment: int, explorer: Explorer) -> list[dict[str, Any]]:
        rows = self._rows("samples", segment)
        if rows.empty or explorer.history is None:
            return []
        ids = explorer.history.customer_ids
        internal = ids.to_internal(rows[Columns.CUSTOMER].to_numpy(), on_unknown="missing")
        return [
            {"customer_id": _py(ids.external[c]), "top_items": _clean(text)}
            for c, text in zip(internal, rows.get("top_items", [None] * len(rows)), strict=True)
            if c >= 0
        ]


def _load(
    model_dir: Path,
) -> tuple[Recommender | None, Model, BasketCorpus | None, ItemCatalog, Dataset]:
    """The recommender (ranking models), model, history, catalogue and dataset of a model."""
    document = read_model_file(model_dir)
    dataset = resolve_model_dataset(model_dir, document)
    if issubclass(get_model_class(document["model"]), RankingModel):
        recommender = Recommender.load(model_dir)
        return recommender, recommender.model, recommender.history, recommender.catalog, dataset
    # Embedding-only models (copurchase): similar items and customer histories, no ranking.
    model = load_model(model_dir)
    history = None
    if dataset.has("transactions"):
        min_item_count = (document.get("config") or {}).get("min_item_count", 1)
        history = build_baskets(dataset, min_item_count=min_item_count)
    catalog = ItemCatalog.load(model_dir)
    if catalog.table.empty and dataset.has("items"):
        catalog = ItemCatalog(dataset.read("items"))
    return None, model, history, catalog, dataset


def _counts_on(item_ids: IdMap, history: BasketCorpus | None) -> np.ndarray:
    """Baskets containing each item of ``item_ids`` (0 for items outside the history)."""
    if history is None:
        return np.zeros(len(item_ids), dtype=np.int64)
    rows = history.item_ids.to_internal(item_ids.external, on_unknown="missing")
    return np.where(rows >= 0, history.item_counts[np.maximum(rows, 0)], 0).astype(np.int64)


def _cards(item_ids: IdMap, catalog: ItemCatalog, counts: np.ndarray) -> list[dict[str, Any]]:
    """One display record per item: id, name, display attributes, basket count."""
    frame = catalog.describe(item_ids.external)
    attrs = [c for c in catalog.display_columns if c != Columns.NAME]
    n = len(item_ids)
    names = (
        [_name(v) for v in frame[Columns.NAME].tolist()]
        if Columns.NAME in frame.columns
        else [None] * n
    )
    columns = {a: _column(frame, a) for a in attrs}
    ids = item_ids.external.tolist()
    return [
        {
            "item_id": ids[i],
            "name": names[i],
            "attributes": {a: columns[a][i] for a in attrs},
            "count": int(counts[i]),
        }
        for i in range(n)
    ]


def _column(frame: pd.DataFrame, name: str) -> list[Any]:
    return [_clean(value) for value in frame[name].tolist()]


def _search_text(cards: list[dict[str, Any]]) -> pd.Series:
    """One lowercase line per item: id, name and display attributes."""
    lines = [
        " ".join(
            str(v) for v in (c["item_id"], c["name"], *c["attributes"].values()) if v is not None
        ).lower()
        for c in cards
    ]
    return pd.Series(lines, dtype=object)


def _lookup(ids: IdMap, value: Hashable) -> int:
    """Internal id of one external id, -1 if unknown (``"123"`` finds integer id 123)."""
    if ids.is_integer and isinstance(value, str) and _INTEGER.fullmatch(value):
        value = int(value)  # the fast path of IdMap for the ids of URL paths
    return int(ids.to_internal([value], on_unknown="missing")[0])


def _customer_table(dataset: Dataset) -> pd.DataFrame:
    """The dataset's customer attributes indexed by id (empty without a customers table)."""
    if not dataset.has("customers"):
        return pd.DataFrame(index=pd.Index([], name=Columns.CUSTOMER))
    table = dataset.read("customers")
    if Columns.CUSTOMER not in table.columns:
        return pd.DataFrame(index=pd.Index([], name=Columns.CUSTOMER))
    return table.drop_duplicates(Columns.CUSTOMER).set_index(Columns.CUSTOMER)


def _record(table: pd.DataFrame, key: Hashable, *, drop: tuple[str, ...] = ()) -> dict[str, Any]:
    """One row of ``table`` as JSON-safe scalars (missing values left out); {} if absent."""
    if table.empty or key not in table.index:
        return {}
    row = table.loc[key]
    if isinstance(row, pd.DataFrame):
        row = row.iloc[0]
    values = {str(k): _clean(v) for k, v in row.items() if k not in drop}
    return {k: v for k, v in values.items() if v is not None}


def _clean(value: Any) -> Scalar:
    """Any catalogue or table value as a JSON-safe scalar: the one conversion of the API.

    Missing values (None, NaN, NaT, ``pd.NA``, infinities) -> None; numpy scalars -> Python;
    dates, times and durations -> ISO strings; decimals -> strings; bytes -> text; lists,
    arrays and dicts (Parquet list/struct columns) -> one display string; anything else ->
    ``str(value)``. A column of any type can then serve every endpoint.
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, np.generic) and not isinstance(value, np.datetime64 | np.timedelta64):
        value = value.item()
    if isinstance(value, int | str):  # bool is an int
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, np.datetime64 | datetime.datetime | datetime.date | datetime.time):
        if isinstance(value, np.datetime64):
            if np.isnat(value):
                return None
            value = pd.Timestamp(value)
        return value.isoformat()
    if isinstance(value, np.timedelta64 | datetime.timedelta):
        return None if pd.isna(value) else pd.Timedelta(value).isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="backslashreplace")
    if isinstance(value, Mapping):
        return json.dumps(
            {str(k): _clean(v) for k, v in value.items()}, ensure_ascii=False, allow_nan=False
        )
    if isinstance(value, list | tuple | set | frozenset | np.ndarray | pd.Series):
        parts = (_clean(v) for v in (value.tolist() if hasattr(value, "tolist") else value))
        return ", ".join(str(part) for part in parts if part is not None)
    return str(value)


def _name(value: Any) -> str | None:
    """A display name as text: numeric names too (``1000.0`` from a column with NA -> "1000")."""
    value = _clean(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return None if value is None else str(value)


def _py(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _time(times: np.ndarray | None, basket: int) -> str | None:
    if times is None:
        return None
    value = times[basket]
    if np.isnat(value):
        return None
    return pd.Timestamp(value).isoformat()
