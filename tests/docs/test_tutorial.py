"""docs/tutorial.ipynb runs top to bottom on the Instacart sample and finds what its text says.

The notebook is executed with nbclient in a kernel of this interpreter (the project's venv);
a last cell, added here and not saved, prints the figures the notebook computed as JSON.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import SHARED_DATA

NOTEBOOK = Path(__file__).resolve().parents[2] / "docs" / "tutorial.ipynb"
INSTACART = SHARED_DATA / "instacart"

PROBE = """
import json, sys
print(json.dumps({
    "prefix": sys.prefix,
    "n_items": len(item_vectors),
    "n_customers": len(customer_vectors),
    "neighbours": {str(p): f[["item_id", "name", "department", "score"]].to_dict("list")
                   for p, f in neighbours.items()},
    "purity": purity.set_index("attribute").to_dict("index"),
    "silhouettes": silhouettes.to_dict("index"),
    "shape": pd.DataFrame(shape).set_index("orders").to_dict("index"),
    "k": segmentation.k,
    "curve_k": segmentation.curve["k"].tolist(),
    "baseline": report.baseline,
    "profiles": len(report.profiles),
    "samples": report.samples["top_items"].tolist(),
}, default=float))
"""


@pytest.fixture(scope="module")
def figures() -> dict:
    """Execute the notebook (with the probe cell) and return what the probe printed."""
    if not INSTACART.is_dir():
        pytest.skip("../shared/data/instacart is not present")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(PROBE))
    before = os.environ.get("INSTACART_DIR")
    os.environ["INSTACART_DIR"] = str(INSTACART)
    try:
        client = NotebookClient(
            notebook,
            timeout=600,
            kernel_name="python3",
            resources={"metadata": {"path": str(NOTEBOOK.parent)}},
        )
        client.execute()
    finally:
        if before is None:
            os.environ.pop("INSTACART_DIR", None)
        else:
            os.environ["INSTACART_DIR"] = before
    printed = "".join(
        output.get("text", "")
        for output in notebook.cells[-1].outputs
        if output.get("output_type") == "stream" and output.get("name") == "stdout"
    )
    return json.loads(printed)


def test_the_committed_notebook_is_executed_with_its_outputs() -> None:
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(code) >= 10 and sum(c.cell_type == "markdown" for c in notebook.cells) >= 10
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    assert all(o.output_type != "error" for cell in code for o in cell.outputs)
    # Every cell but the setup shows something (a table, a figure or printed figures).
    assert all(cell.outputs for cell in code[1:])


def test_it_runs_in_this_venv_on_the_instacart_sample(figures) -> None:
    assert figures["prefix"] == sys.prefix
    assert 1000 < figures["n_items"] < 14190  # products in 10+ orders of the 593 customers
    assert figures["n_customers"] == 593


def test_named_products_have_named_neighbours_and_they_share_labels_beyond_chance(
    figures,
) -> None:
    for product, near in figures["neighbours"].items():
        assert len(near["item_id"]) == 10 and int(product) not in near["item_id"]
        assert all(near["name"]) and all(near["department"])  # catalogue columns joined
        assert near["score"] == sorted(near["score"], reverse=True)
    purity = figures["purity"]
    department, aisle = purity["department"], purity["aisle"]
    # Learnt from orders only, the neighbours share a department and an aisle beyond chance.
    assert department["same label among 10 nearest"] > 1.5 * department["with labels shuffled"]
    assert aisle["same label among 10 nearest"] > 2.5 * aisle["with labels shuffled"]


def test_the_original_space_separates_groups_better_than_the_map(figures) -> None:
    silhouettes = figures["silhouettes"]
    for grouping in ("department", "aisle"):
        scores = silhouettes[grouping]
        assert -1 <= scores["2-D map (Euclidean)"] < scores["original space (cosine)"] < 0.2


def test_the_map_takes_shape_once_orders_hold_two_products(figures) -> None:
    shape = figures["shape"]
    chance = {name: row["with labels shuffled"] for name, row in shape.items()}
    same = {name: row["same department among 10 nearest"] for name, row in shape.items()}
    # One product per order: nothing to learn from, neighbours at the chance rate.
    assert abs(same["first 1"] - chance["first 1"]) < 0.05
    for longer in ("first 2", "first 3", "first 5", "whole orders"):
        assert same[longer] > chance[longer] + 0.05
        assert same[longer] > same["first 1"] + 0.05
    assert shape["whole orders"]["line items"] == 150_000


def test_segments_with_k_by_silhouette_against_the_baseline_profiles_and_samples(
    figures,
) -> None:
    assert figures["curve_k"] == list(range(2, 13))
    assert 2 <= figures["k"] <= 12
    baseline = figures["baseline"]
    assert baseline["features"] == "department shares" and 2 <= baseline["k"] <= 12
    assert figures["profiles"] > 0
    samples = figures["samples"]
    assert len(samples) >= 2 * min(figures["k"], 2)
    # Sample customers are shown by product name ("Banana x8; ..."), not by id.
    assert all(re.search(r"[A-Za-z]{3,}.* x\d+", text) for text in samples)
