"""Plots as self-contained Plotly HTML files (they open offline; plotly.js is embedded).

Plotly is the ``viz`` extra: ``pip install 'customer2vec[viz]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from customer2vec.errors import MissingDependencyError


def _plotly() -> Any:
    try:
        import plotly.graph_objects as go
    except ImportError as err:
        raise MissingDependencyError("plots need plotly: pip install 'customer2vec[viz]'.") from err
    return go


def silhouette_figure(
    curve: pd.DataFrame,
    chosen_k: int,
    *,
    label: str = "embeddings",
    baseline_curve: pd.DataFrame | None = None,
    baseline_label: str = "baseline",
) -> Any:
    """Silhouette against k (the chosen k marked), with the baseline's curve beside it."""
    go = _plotly()
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=curve["k"], y=curve["silhouette"], mode="lines+markers", name=label)
    )
    if baseline_curve is not None and not baseline_curve.empty:
        figure.add_trace(
            go.Scatter(
                x=baseline_curve["k"],
                y=baseline_curve["silhouette"],
                mode="lines+markers",
                name=baseline_label,
                line={"dash": "dash"},
            )
        )
    chosen = curve.loc[curve["k"] == chosen_k, "silhouette"]
    if len(chosen):
        figure.add_trace(
            go.Scatter(
                x=[chosen_k],
                y=[float(chosen.iloc[0])],
                mode="markers",
                marker={"size": 14, "symbol": "star"},
                name=f"chosen k = {chosen_k}",
            )
        )
    figure.update_layout(
        title="Silhouette by number of segments (higher is better separated)",
        xaxis_title="k (segments)",
        yaxis_title="silhouette (cosine geometry, sample)",
        template="plotly_white",
    )
    return figure


def write_html(figure: Any, path: str | Path) -> Path:
    """Write ``figure`` as one HTML file that works offline."""
    path = Path(path)
    figure.write_html(path, include_plotlyjs=True, full_html=True)
    return path
