"""`customer2vec segment`: segments from a model's vectors, profiled on its dataset.

A segment folder holds ``segments.parquet`` (id, segment), ``summary.json`` (what, k,
silhouette, vectors_from, baseline, sizes), ``silhouette_curve.csv`` (k, silhouette), the
optional ``profiles.csv``, ``distinctive.csv`` and ``samples.csv``, and ``silhouette.html``.
:func:`write_segments` writes it and :func:`read_segments` reads it; nothing else parses it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from customer2vec.analysis.segmentation import (
    Segmentation,
    kmeans_by_silhouette,
    profile,
    segment_embeddings,
    segment_sums,
)
from customer2vec.columns import Columns
from customer2vec.config import require_choice
from customer2vec.corpus import customer_item_matrix
from customer2vec.corpus.matrix import share_matrix
from customer2vec.data.outputs import SEGMENTS_OUTPUT, atomic_directory, check_output
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.recommend.saved import SavedModel
from customer2vec.vectors.embeddings import Embeddings

log = logging.getLogger(__name__)
PROFILE_ATTRIBUTES = ("department", "product_category", "category", "aisle")
LABELS_FILE = "segments.parquet"
SUMMARY_FILE = "summary.json"
CURVE_FILE = "silhouette_curve.csv"
PLOT_FILE = "silhouette.html"
#: Optional tables, each written as ``<name>.csv`` when not empty.
TABLES = ("profiles", "distinctive", "samples")


@dataclass
class SegmentReport:
    """What ``segment`` found, written to a folder and printed by the CLI."""

    what: str
    segmentation: Segmentation
    profiles: pd.DataFrame
    distinctive: pd.DataFrame
    samples: pd.DataFrame
    baseline: dict[str, float] = field(default_factory=dict)
    vectors_from: str = ""
    baseline_curve: pd.DataFrame | None = None
    plot: Path | None = None


@dataclass(frozen=True)
class SegmentFolder:
    """A segment folder as :func:`read_segments` reads it."""

    directory: Path
    summary: dict[str, Any]
    #: Segment of each customer (``what == "customers"``) or item, indexed by external id.
    labels: pd.Series
    curve: pd.DataFrame
    profiles: pd.DataFrame
    distinctive: pd.DataFrame
    samples: pd.DataFrame

    @property
    def what(self) -> str:
        """``"customers"`` (segments) or ``"items"`` (clusters)."""
        return str(self.summary.get("what", "customers"))

    @property
    def k(self) -> int:
        return int(self.summary.get("k", self.labels.nunique()))


def read_segments(directory: str | Path) -> SegmentFolder:
    """Read a folder written by ``customer2vec segment`` (:func:`write_segments`).

    Raises
    ------
    DataValidationError
        If a required file is missing or unreadable, or ``segments.parquet`` lacks its id or
        segment column.
    """
    directory = Path(directory)
    missing = [f for f in (LABELS_FILE, SUMMARY_FILE, CURVE_FILE) if not (directory / f).is_file()]
    if missing:
        raise DataValidationError(
            f"{directory} is not a segment folder (missing {', '.join(missing)}); make one "
            f"with `customer2vec segment MODEL --out {directory}`."
        )
    try:
        summary = json.loads((directory / SUMMARY_FILE).read_text(encoding="utf-8"))
        frame = pd.read_parquet(directory / LABELS_FILE)
        curve = pd.read_csv(directory / CURVE_FILE)
        tables = {
            name: pd.read_csv(path) if (path := directory / f"{name}.csv").is_file() else None
            for name in TABLES
        }
    except (ValueError, OSError) as err:  # JSONDecodeError and ArrowInvalid are ValueErrors
        raise DataValidationError(
            f"{directory} holds a corrupt segment file ({err}); make it again with "
            "`customer2vec segment`."
        ) from err
    if not isinstance(summary, dict):
        raise DataValidationError(
            f"{directory / SUMMARY_FILE} is corrupt (not a JSON object); make it again with "
            "`customer2vec segment`."
        )
    column = Columns.CUSTOMER if summary.get("what", "customers") == "customers" else Columns.ITEM
    if column not in frame.columns or Columns.SEGMENT not in frame.columns:
        raise DataValidationError(
            f"{directory / LABELS_FILE} needs columns {column!r} and {Columns.SEGMENT!r}; "
            "make it again with `customer2vec segment`."
        )
    labels = pd.Series(
        frame[Columns.SEGMENT].to_numpy(), index=pd.Index(frame[column]), name=Columns.SEGMENT
    )
    return SegmentFolder(
        directory,
        summary,
        labels,
        curve,
        **{name: pd.DataFrame() if table is None else table for name, table in tables.items()},
    )


def segment_model(
    model: str | Path | SavedModel,
    out: str | Path,
    *,
    k: int | str = "auto",
    what: Literal["customers", "items"] = "customers",
    overwrite: bool = False,
    random_state: int = 0,
) -> SegmentReport:
    """Segment a model's customers (or cluster its items) and write the report to ``out``.

    ``model`` is a model directory or an opened :class:`SavedModel` (whose history, built with
    the model's ``min_item_count``, is then reused).
    """
    require_choice(what, "what", ("customers", "items"))
    saved = model if isinstance(model, SavedModel) else SavedModel.open(model)
    fitted = saved.model
    if not fitted.has_item_vectors:
        raise ConfigError(
            f"model {fitted.name!r} has no vectors to segment; segment a model that learns "
            "them (customer2vec, item2vec, als, ...)."
        )
    dataset = saved.dataset
    inputs = (saved.model_dir, dataset.path)
    check_output(out, overwrite=overwrite, kind=SEGMENTS_OUTPUT, inputs=inputs)
    items = dataset.read("items") if dataset.has("items") else None
    if what == "items":
        report = _cluster_items(fitted.item_vectors_, items, k=k, random_state=random_state)
    else:
        baskets = saved.history
        vectors, origin = _customer_vectors(fitted, baskets)
        report = _segment_customers(vectors, baskets, items, k=k, random_state=random_state)
        report.vectors_from = origin
    write_segments(report, out, overwrite=overwrite, inputs=inputs)
    return report


def _customer_vectors(model, baskets) -> tuple[Embeddings, str]:
    if model.has_customer_vectors:
        return model.customer_vectors_, f"{model.name} customer vectors"
    from customer2vec.vectors.rollup import rollup

    return rollup(
        model.item_vectors_, baskets, weighting="tfidf"
    ), f"tf-idf weighted mean of {model.name} item vectors"


def _attributes(items: pd.DataFrame | None) -> list[str]:
    """The item attributes to profile by, coarsest first (the first one feeds the baseline)."""
    if items is None:
        return []
    return [a for a in PROFILE_ATTRIBUTES if a in items.columns]


def _attribute(items: pd.DataFrame | None) -> str | None:
    return next(iter(_attributes(items)), None)


def _segment_customers(
    vectors: Embeddings, baskets, items: pd.DataFrame | None, *, k: int | str, random_state: int
) -> SegmentReport:
    log.info("segmenting %d customers ...", len(vectors))
    segmentation = segment_embeddings(vectors, k=k, random_state=random_state)
    counts = customer_item_matrix(baskets)
    order = baskets.customer_ids.to_internal(segmentation.labels.index.to_numpy())
    counts = counts[order]
    labels = segmentation.labels.to_numpy()
    profiles, baseline, baseline_curve = pd.DataFrame(), {}, None
    attributes = _attributes(items)
    parts = []
    for attribute in attributes:
        table = items.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)[attribute]
        groups = table.reindex(pd.Index(baskets.item_ids.external)).to_numpy()
        shares, names = share_matrix(counts, groups)
        parts.append(profile(labels, shares, names).assign(attribute=attribute))
        if attribute != attributes[0]:
            continue
        # The baseline the Instacart tutorial uses: k-means on hand-made category shares.
        hand = kmeans_by_silhouette(
            shares.toarray(),
            segmentation.labels.index,
            k=k,
            random_state=random_state,
            normalize=False,
        )
        baseline = {"features": f"{attribute} shares", "k": hand.k, "silhouette": hand.silhouette}
        baseline_curve = hand.curve
    if parts:
        profiles = pd.concat(parts, ignore_index=True).sort_values(
            ["segment", "attribute", "rank"], kind="stable", ignore_index=True
        )
    distinctive = _distinctive_items(counts, labels, baskets, items)
    samples = _sample_customers(labels, segmentation.labels.index.to_numpy(), baskets, items)
    return SegmentReport(
        "customers", segmentation, profiles, distinctive, samples, baseline, "", baseline_curve
    )


def _distinctive_items(
    counts, labels: np.ndarray, baskets, items, *, top: int = 5, min_customers: int = 5
) -> pd.DataFrame:
    """Items whose buyers are most over-represented in each segment (lift, with support)."""
    buyers = (counts > 0).astype(np.float32)
    overall = np.asarray(buyers.mean(axis=0)).ravel()
    names = _names(items)
    rows = []
    for segment, size, support in zip(*segment_sums(labels, buyers), strict=True):
        within = support / size
        lift = np.where(
            support >= min(min_customers, size), within / np.maximum(overall, 1e-12), 0.0
        )
        for rank, i in enumerate(np.argsort(-lift)[:top], start=1):
            item = baskets.item_ids.external[i]
            rows.append(
                {
                    "segment": int(segment),
                    "rank": rank,
                    Columns.ITEM: item,
                    Columns.NAME: names.get(item),
                    "buyers_in_segment": float(within[i]),
                    "buyers_overall": float(overall[i]),
                    "lift": float(lift[i]),
                }
            )
    return pd.DataFrame(rows)


def _sample_customers(
    labels: np.ndarray,
    ids: np.ndarray,
    baskets,
    items,
    *,
    per_segment: int = 3,
    n_items: int = 6,
    random_state: int = 0,
) -> pd.DataFrame:
    """A few customers per segment with their most bought items, by name."""
    rng = np.random.default_rng(random_state)
    names = _names(items)
    bounds = baskets.customer_indptr
    rows = []
    for segment in np.unique(labels):
        members = ids[labels == segment]
        for customer in rng.choice(members, size=min(per_segment, len(members)), replace=False):
            c = baskets.customer_ids.index(customer)
            lines = baskets.indices[baskets.indptr[bounds[c]] : baskets.indptr[bounds[c + 1]]]
            top = pd.Series(lines).value_counts().head(n_items)
            bought = [
                f"{names.get(baskets.item_ids.external[i], baskets.item_ids.external[i])} x{n}"
                for i, n in top.items()
            ]
            rows.append(
                {
                    "segment": int(segment),
                    Columns.CUSTOMER: customer,
                    "baskets": int(bounds[c + 1] - bounds[c]),
                    "top_items": "; ".join(bought),
                }
            )
    return pd.DataFrame(rows)


def _cluster_items(
    vectors: Embeddings, items: pd.DataFrame | None, *, k: int | str, random_state: int
) -> SegmentReport:
    log.info("clustering %d items ...", len(vectors))
    segmentation = segment_embeddings(
        vectors, k=k, k_range=range(5, 41, 5), random_state=random_state
    )
    profiles = pd.DataFrame()
    attribute = _attribute(items)
    if attribute:
        table = items.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)[attribute]
        frame = pd.DataFrame(
            {
                "segment": segmentation.labels.to_numpy(),
                "group": table.reindex(segmentation.labels.index).to_numpy(),
            }
        )
        overall = frame["group"].value_counts(normalize=True)
        shares = frame.groupby("segment")["group"].value_counts(normalize=True).rename("share")
        profiles = shares.reset_index().assign(
            lift=lambda f: f["share"] / f["group"].map(overall), attribute=attribute
        )
        profiles = profiles.groupby("segment").head(3).reset_index(drop=True)
        profiles = profiles.merge(frame.groupby("segment").size().rename("size"), on="segment")
    return SegmentReport("items", segmentation, profiles, pd.DataFrame(), pd.DataFrame())


def _names(items: pd.DataFrame | None) -> dict:
    if items is None or Columns.NAME not in items.columns:
        return {}
    return dict(zip(items[Columns.ITEM], items[Columns.NAME], strict=True))


def write_segments(
    report: SegmentReport, out: str | Path, *, overwrite: bool, inputs: tuple[str | Path, ...]
) -> None:
    """Write ``report`` as a segment folder (see :func:`read_segments`), atomically."""
    id_column = Columns.CUSTOMER if report.what == "customers" else Columns.ITEM
    with atomic_directory(out, overwrite=overwrite, kind=SEGMENTS_OUTPUT, inputs=inputs) as tmp:
        labels = report.segmentation.labels
        pd.DataFrame({id_column: labels.index, Columns.SEGMENT: labels.to_numpy()}).to_parquet(
            tmp / LABELS_FILE, index=False
        )
        report.segmentation.curve.to_csv(tmp / CURVE_FILE, index=False)
        for name in TABLES:
            frame = getattr(report, name)
            if not frame.empty:
                frame.to_csv(tmp / f"{name}.csv", index=False)
        summary = {
            "what": report.what,
            "k": report.segmentation.k,
            "silhouette": report.segmentation.silhouette,
            "vectors_from": report.vectors_from,
            "baseline": report.baseline,
            "sizes": labels.value_counts().sort_index().to_dict(),
        }
        (tmp / SUMMARY_FILE).write_text(json.dumps(summary, indent=2, default=str) + "\n")
        if _write_plot(report, tmp):
            report.plot = Path(out) / PLOT_FILE


def _write_plot(report: SegmentReport, directory: Path) -> bool:
    """The silhouette curve as ``silhouette.html``; skipped (logged) without plotly."""
    from customer2vec.analysis.plots import silhouette_figure, write_html
    from customer2vec.errors import MissingDependencyError

    try:
        figure = silhouette_figure(
            report.segmentation.curve,
            report.segmentation.k,
            label=report.vectors_from or f"{report.what} vectors",
            baseline_curve=report.baseline_curve,
            baseline_label=str(report.baseline.get("features", "baseline")),
        )
    except MissingDependencyError as err:
        log.warning("no silhouette plot: %s", err)
        return False
    write_html(figure, directory / PLOT_FILE)
    return True
