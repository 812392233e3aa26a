"""`customer2vec report`: one self-contained HTML file about a trained model.

This module gathers what the report shows (maps, quality by attribute, segments,
neighbors, the evaluation table); :mod:`customer2vec.analysis.report_html` renders it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.analysis.projection import project_2d
from customer2vec.analysis.segments import (
    PROFILE_ATTRIBUTES,
    SegmentFolder,
    _customer_vectors,
    read_segments,
    segment_model,
)
from customer2vec.columns import Columns
from customer2vec.config import require_int
from customer2vec.corpus import BasketCorpus, customer_item_matrix
from customer2vec.corpus.matrix import share_matrix
from customer2vec.data.dataset import Dataset
from customer2vec.data.outputs import check_file_output
from customer2vec.errors import DataValidationError
from customer2vec.evaluation.intrinsic import item_quality
from customer2vec.models import Model
from customer2vec.recommend.saved import SavedModel
from customer2vec.vectors.catalog import ItemCatalog, similar_items
from customer2vec.vectors.embeddings import Embeddings

log = logging.getLogger(__name__)

#: Items bought at least this often are judged in the quality table (as in the benchmarks).
MIN_COUNT = 20
#: Attributes with more distinct values get their own colors for the most common ones only.
MAX_COLORS = 40


@dataclass
class PointMap:
    """Points on a 2-D map with hover labels and categorical attributes to color by."""

    ids: np.ndarray
    xy: np.ndarray
    labels: list[str]
    attributes: dict[str, pd.Series] = field(default_factory=dict)
    note: str = ""


@dataclass
class SegmentSection:
    """A customer segmentation (a ``customer2vec segment`` folder) and its profile matrix."""

    source: str
    folder: SegmentFolder
    lift: pd.DataFrame | None = None
    share: pd.DataFrame | None = None
    attribute: str | None = None

    @property
    def summary(self) -> dict[str, Any]:
        return self.folder.summary

    @property
    def labels(self) -> pd.Series:
        """Segment of each customer, indexed by customer id."""
        return self.folder.labels


@dataclass
class ReportData:
    """Everything the HTML report shows; sections absent from the model stay ``None``."""

    title: str
    summary: list[tuple[str, str]]
    item_map: PointMap | None = None
    quality: pd.DataFrame | None = None
    quality_note: str = ""
    segments: SegmentSection | None = None
    customer_map: PointMap | None = None
    neighbors: list[tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=list)
    evaluation: pd.DataFrame | None = None
    evaluation_source: str = ""
    notes: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


def build_report(
    model_dir: str | Path,
    out: str | Path,
    *,
    segments: str | Path | None = None,
    evaluation: str | Path | None = None,
    max_items: int = 50_000,
    max_customers: int = 20_000,
    n_top_items: int = 10,
    n_neighbors: int = 5,
    random_state: int = 0,
    n_jobs: int = -1,
    progress: bool = True,
) -> Path:
    """Write the HTML report about the model in ``model_dir`` to ``out`` (atomically).

    Parameters
    ----------
    model_dir
        A trained model directory.
    out
        The ``.html`` file to write; it works offline (plotly.js is embedded once).
    segments
        A ``customer2vec segment`` output folder (customers). Without it, customers are
        segmented here when the model's dataset is at hand.
    evaluation
        The CSV written by ``customer2vec evaluate DATASET --out FILE``.
    max_items, max_customers
        Most points on the item and customer maps (best sellers first; customers sampled).
    n_top_items, n_neighbors
        Best sellers whose nearest neighbors are listed, and how many neighbors.
    random_state
        Seed of the projections, the segmentation and the samples.
    n_jobs
        Threads for the projections (-1: all cores).
    progress
        Progress bar on stderr.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from customer2vec.analysis.report_html import render

    for value, name in ((max_items, "max_items"), (max_customers, "max_customers")):
        require_int(value, name, minimum=0)
    require_int(n_top_items, "n_top_items", minimum=0)
    require_int(n_neighbors, "n_neighbors", minimum=1)
    saved = SavedModel.open(model_dir)  # "not a model" before "--out is inside the input"
    out = check_file_output(out, inputs=[model_dir])
    data = gather(
        saved,
        segments=segments,
        evaluation=evaluation,
        max_items=max_items,
        max_customers=max_customers,
        n_top_items=n_top_items,
        n_neighbors=n_neighbors,
        random_state=random_state,
        n_jobs=n_jobs,
        progress=progress,
    )
    _write_atomically(out, render(data))
    return out


def gather(
    model: str | Path | SavedModel,
    *,
    segments: str | Path | None = None,
    evaluation: str | Path | None = None,
    max_items: int = 50_000,
    max_customers: int = 20_000,
    n_top_items: int = 10,
    n_neighbors: int = 5,
    random_state: int = 0,
    n_jobs: int = -1,
    progress: bool = True,
) -> ReportData:
    """Compute every section of the report (see :func:`build_report`); ``model`` is a model
    directory or an opened one."""
    from tqdm.auto import tqdm

    saved = model if isinstance(model, SavedModel) else SavedModel.open(model)
    fitted, model_dir = saved.model, saved.model_dir
    items_vectors: Embeddings | None = fitted.item_vectors_ if fitted.has_item_vectors else None
    if not (fitted.has_item_vectors or fitted.has_customer_vectors):
        raise DataValidationError(
            f"model {fitted.name!r} in {model_dir} has no item or customer vectors to report "
            "on; report on an embedding model (item2vec, als, customer2vec, ...)."
        )
    evaluation_table = _read_evaluation(evaluation) if evaluation is not None else None
    folder = _customer_segments(read_segments(segments)) if segments is not None else None
    dataset = saved.find_dataset()
    catalog = saved.catalog
    counts = dataset.item_counts().set_index(Columns.ITEM)["n"] if dataset is not None else None
    data = ReportData(
        title=f"customer2vec report: {fitted.name} ({Path(model_dir).name})",
        summary=_summary(fitted, model_dir, dataset),
        evaluation=evaluation_table,
        evaluation_source=str(evaluation or ""),
    )
    if dataset is None:
        data.notes.append(
            "The model's dataset was not found, so items are not ordered by sales and "
            "customers are not segmented."
        )
    steps = ["item map", "quality by attribute", "neighbors", "segments", "customer map"]
    bar = tqdm(steps, desc="report", unit="step", disable=None if progress else True)
    with bar:
        for step in bar:
            bar.set_postfix_str(step)
            if step == "item map" and items_vectors is not None:
                data.item_map = _item_map(
                    items_vectors, catalog, counts, max_items, random_state, n_jobs
                )
            elif step == "quality by attribute" and data.item_map is not None:
                data.quality, data.quality_note = _quality(
                    items_vectors, catalog, data.item_map, counts, random_state
                )
            elif step == "neighbors" and items_vectors is not None and n_top_items:
                data.neighbors = _neighbors(
                    items_vectors, catalog, data.item_map, n_top_items, n_neighbors
                )
            elif step == "segments":
                data.segments = _segments(
                    saved, folder, str(segments or ""), catalog, random_state, data.notes
                )
            elif step == "customer map" and data.segments is not None and dataset is not None:
                data.customer_map = _customer_map(
                    saved, data.segments, max_customers, random_state, n_jobs
                )
    return data


def _summary(model: Model, model_dir: str | Path, dataset: Dataset | None) -> list[tuple[str, str]]:
    rows = [("model", model.name), ("directory", str(Path(model_dir).resolve()))]
    if model.has_item_vectors:
        vectors = model.item_vectors_
        rows.append(("item vectors", f"{len(vectors):,} x {vectors.dim}"))
    if model.has_customer_vectors:
        vectors = model.customer_vectors_
        rows.append(("customer vectors", f"{len(vectors):,} x {vectors.dim}"))
    if dataset is not None:
        info = dataset.info
        rows.append(("dataset", str(dataset.path)))
        for key in ("line_items", "customers", "baskets", "items"):
            if info.get(key) is not None:
                rows.append((key.replace("_", " "), f"{info[key]:,}"))
    fit = model.meta_.get("timings", {}).get("fit_seconds")
    if fit is not None:
        rows.append(("fit seconds", f"{fit:.1f}"))
    rows.append(("parameters", json.dumps(model.get_params(), default=str)))
    return rows


def _attributes(catalog: ItemCatalog) -> list[str]:
    """Categorical item attributes worth coloring by: coarse ones first, then the others."""
    table = catalog.table
    usable = [
        c
        for c in table.columns
        if c != Columns.NAME
        and (table[c].dtype == object or pd.api.types.is_string_dtype(table[c]))
        and 2 <= table[c].nunique() <= 1000
    ]
    first = [c for c in PROFILE_ATTRIBUTES if c in usable]
    return first + [c for c in usable if c not in first]


def _item_order(vectors: Embeddings, counts: pd.Series | None) -> np.ndarray:
    """Rows of ``vectors``, best sellers first (model order when sales are unknown)."""
    if counts is None:
        return np.arange(len(vectors))
    sold = counts.reindex(pd.Index(vectors.keys)).fillna(0).to_numpy()
    return np.argsort(-sold, kind="stable")


def _labels(ids: np.ndarray, catalog: ItemCatalog) -> list[str]:
    if Columns.NAME not in catalog.table.columns:
        return [str(i) for i in ids]
    names = catalog.table[Columns.NAME].reindex(pd.Index(ids))
    return [f"{n} ({i})" if pd.notna(n) else str(i) for i, n in zip(ids, names, strict=True)]


def _item_map(
    vectors: Embeddings,
    catalog: ItemCatalog,
    counts: pd.Series | None,
    max_items: int,
    random_state: int,
    n_jobs: int,
) -> PointMap | None:
    rows = _item_order(vectors, counts)[:max_items]
    if len(rows) == 0:
        return None
    ids = vectors.id_map.to_external(rows)
    log.info("projecting %d item vectors to 2-D ...", len(rows))
    xy = project_2d(np.asarray(vectors.vectors[rows]), random_state=random_state, n_jobs=n_jobs)
    attributes = {
        a: catalog.table[a].reindex(pd.Index(ids)).reset_index(drop=True)
        for a in _attributes(catalog)
    }
    note = (
        f"the {len(rows):,} best-selling of {len(vectors):,} items"
        if len(rows) < len(vectors)
        else f"all {len(rows):,} items"
    )
    return PointMap(ids, xy, _labels(ids, catalog), attributes, note)


def _quality(
    vectors: Embeddings,
    catalog: ItemCatalog,
    item_map: PointMap,
    counts: pd.Series | None,
    random_state: int,
) -> tuple[pd.DataFrame | None, str]:
    """Purity@10 and silhouette by attribute, in the vector space and on the map."""
    from sklearn.metrics import silhouette_score
    from sklearn.neighbors import NearestNeighbors

    if not item_map.attributes:
        return None, ""
    judged = np.ones(len(item_map.ids), dtype=bool)
    note = f"the {len(item_map.ids):,} items on the map"
    if counts is not None:
        frequent = counts.reindex(pd.Index(item_map.ids)).fillna(0).to_numpy() >= MIN_COUNT
        if frequent.sum() >= 50:
            judged = frequent
            note = f"the {int(frequent.sum()):,} items on the map bought at least {MIN_COUNT} times"
    ids = item_map.ids[judged]
    original = item_quality(
        vectors, catalog.table.reset_index(), attributes=list(item_map.attributes), ids=ids
    )
    original = original.pivot_table(index="attribute", columns="metric", values="value")
    rows = []
    for attribute, values in item_map.attributes.items():
        labels = values.to_numpy()[judged]
        known = pd.notna(labels)
        codes = pd.factorize(labels[known])[0]
        xy = item_map.xy[judged][known]
        row = {"attribute": attribute, "values": int(values.nunique()), "items": int(known.sum())}
        row["purity@10"] = float(original.loc[attribute, "purity@10"])
        row["purity@10 (map)"] = float("nan")
        row["silhouette"] = float(original.loc[attribute, "silhouette"])
        row["silhouette (map)"] = float("nan")
        if known.sum() > 11 and len(np.unique(codes)) > 1:
            nearest = NearestNeighbors(n_neighbors=11).fit(xy).kneighbors(xy)[1][:, 1:]
            row["purity@10 (map)"] = float((codes[nearest] == codes[:, None]).mean())
            row["silhouette (map)"] = float(
                silhouette_score(
                    xy, codes, sample_size=min(5000, len(codes)), random_state=random_state
                )
            )
        rows.append(row)
    return pd.DataFrame(rows), note


def _neighbors(
    vectors: Embeddings,
    catalog: ItemCatalog,
    item_map: PointMap | None,
    n_top_items: int,
    n_neighbors: int,
) -> list[tuple[pd.DataFrame, pd.DataFrame]]:
    top: list[Hashable] = (
        list(item_map.ids[:n_top_items])
        if item_map is not None
        else list(vectors.keys[:n_top_items])
    )
    return [similar_items(vectors, catalog, item, n=n_neighbors) for item in top]


def _segments(
    saved: SavedModel,
    folder: SegmentFolder | None,
    source: str,
    catalog: ItemCatalog,
    random_state: int,
    notes: list[str],
) -> SegmentSection | None:
    """The given segmentation, or one computed here when the model's dataset is at hand."""
    dataset = saved.find_dataset()
    if folder is None:
        if dataset is None:
            return None
        with tempfile.TemporaryDirectory(prefix="customer2vec-report-") as tmp:
            log.info("segmenting customers (pass --segments to reuse a `segment` folder) ...")
            segment_model(saved, Path(tmp) / "segments", random_state=random_state)
            folder, source = read_segments(Path(tmp) / "segments"), "computed for this report"
    section = SegmentSection(source, folder)
    if dataset is not None:
        _profile_matrix(section, saved.history, catalog)
    else:
        notes.append("Segment profiles by attribute need the model's dataset.")
    return section


def _customer_segments(folder: SegmentFolder) -> SegmentFolder:
    if folder.what != "customers":
        raise DataValidationError(
            f"{folder.directory} holds item clusters; pass the folder of a customer segmentation "
            "(`customer2vec segment MODEL --out DIR`, without --what items)."
        )
    return folder


def _profile_matrix(section: SegmentSection, baskets: BasketCorpus, catalog: ItemCatalog) -> None:
    """Each segment's share of purchases per group of the coarsest attribute, and the lift."""
    attribute = next((a for a in _attributes(catalog) if a in PROFILE_ATTRIBUTES), None)
    if attribute is None:
        return
    rows = baskets.customer_ids.to_internal(section.labels.index.to_numpy(), on_unknown="missing")
    known = rows >= 0
    if not known.any():
        return
    counts = customer_item_matrix(baskets)[rows[known]]
    groups = catalog.table[attribute].reindex(pd.Index(baskets.item_ids.external)).to_numpy()
    shares, names = share_matrix(counts, groups)
    labels = section.labels.to_numpy()[known]
    segments = np.unique(labels)
    within = np.vstack([np.asarray(shares[labels == s].mean(axis=0)).ravel() for s in segments])
    overall = np.asarray(shares.mean(axis=0)).ravel()
    share = pd.DataFrame(within, index=segments, columns=names)
    # The most bought groups plus every group a segment over-buys, at most 25 columns.
    lift = share / np.maximum(overall, 1e-12)
    keep = (
        pd.Series(overall, index=names)
        .drop("(unknown)", errors="ignore")
        .sort_values(ascending=False)
    )
    over = lift.where(share >= 0.01).max(axis=0).reindex(keep.index)
    columns = list(dict.fromkeys([*over.sort_values(ascending=False).index[:15], *keep.index[:10]]))
    section.attribute = attribute
    section.share = share[columns]
    section.lift = lift[columns]


def _customer_map(
    saved: SavedModel,
    section: SegmentSection,
    max_customers: int,
    random_state: int,
    n_jobs: int,
) -> PointMap | None:
    if max_customers == 0:
        return None
    vectors, origin = _customer_vectors(saved.model, saved.history)
    wanted = section.labels.index.to_numpy()
    rows = vectors.id_map.to_internal(wanted, on_unknown="missing")
    wanted, rows = wanted[rows >= 0], rows[rows >= 0]
    note = f"{len(rows):,} customers, {origin}"
    if len(rows) > max_customers:
        pick = np.sort(
            np.random.default_rng(random_state).choice(len(rows), max_customers, replace=False)
        )
        wanted, rows = wanted[pick], rows[pick]
        note = f"a random {max_customers:,} of {note}"
    if len(rows) == 0:
        return None
    log.info("projecting %d customer vectors to 2-D ...", len(rows))
    xy = project_2d(np.asarray(vectors.vectors[rows]), random_state=random_state, n_jobs=n_jobs)
    segment = section.labels.reindex(pd.Index(wanted)).astype(str).reset_index(drop=True)
    return PointMap(
        wanted, xy, [f"customer {c}" for c in wanted], {"segment": "segment " + segment}, note
    )


def _read_evaluation(path: str | Path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataValidationError(
            f"no evaluation table at {path}; write one with "
            f"`customer2vec evaluate DATASET --out {path}`."
        )
    table = pd.read_csv(path)
    if "model" not in table.columns:
        raise DataValidationError(
            f"{path} has no 'model' column (columns: {', '.join(map(str, table.columns))}); "
            "pass the CSV written by `customer2vec evaluate DATASET --out FILE`."
        )
    return table


def _write_atomically(out: Path, text: str) -> None:
    """Write ``text`` to a temporary file beside ``out``, then rename it into place."""
    out.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(text)
        # mkstemp makes the file private; a report is for sharing, like any file we write.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
