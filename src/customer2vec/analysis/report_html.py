"""Render :class:`~customer2vec.analysis.report.ReportData` as one offline HTML file.

plotly.js is inlined exactly once in the page head; every figure is drawn from JSON kept
in the page. The two maps are drawn by a few lines of our own JavaScript so that their
points are stored once whatever the number of attributes to color by.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from customer2vec.analysis.plots import _plotly, silhouette_figure
from customer2vec.columns import Columns

#: Colors for the most common values of the attribute a map is colored by.
PALETTE = [
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#e7ba52",
    "#637939",
    "#ad494a",
    "#7b4173",
    "#3182bd",
    "#e6550d",
    "#31a354",
    "#756bb1",
    "#636363",
    "#6baed6",
    "#fd8d3c",
    "#74c476",
    "#9e9ac8",
    "#843c39",
    "#8c6d31",
    "#d6616b",
    "#ce6dbd",
    "#17a2b8",
    "#a55194",
    "#5254a3",
    "#b5cf6b",
    "#cedb9c",
    "#e7969c",
    "#de9ed6",
    "#9c9ede",
    "#fdae6b",
    "#a1d99b",
    "#bcbddc",
    "#c49c94",
]
#: Values beyond the palette are drawn in grey as one "other values" group.
MAX_COLORS = len(PALETTE)

SECTIONS = {
    "summary": "Model",
    "item-map": "Item map",
    "quality": "Quality by attribute",
    "neighbors": "Nearest neighbors",
    "segment-map": "Customer segment map",
    "silhouette": "Silhouette by k",
    "profiles": "Segment profiles",
    "evaluation": "Evaluation",
}

STYLE = """
body { font-family: system-ui, -apple-system, Segoe UI, Roboto, sans-serif; margin: 0;
       color: #222; background: #fafafa; }
header { background: #1f3b57; color: white; padding: 16px 32px; }
header h1 { margin: 0; font-size: 22px; }
nav { padding: 8px 32px; background: #e9eef3; position: sticky; top: 0; z-index: 10; }
nav a { margin-right: 16px; color: #1f3b57; text-decoration: none; font-size: 14px; }
main { padding: 0 32px 32px; max-width: 1400px; }
section { background: white; margin: 20px 0; padding: 12px 24px 20px; border-radius: 6px;
          box-shadow: 0 1px 3px rgba(0,0,0,.08); }
h2 { font-size: 18px; color: #1f3b57; }
h3 { font-size: 15px; margin: 18px 0 6px; }
p.note { color: #555; font-size: 13px; }
table.data { border-collapse: collapse; font-size: 13px; margin: 6px 0; }
table.data th, table.data td { border-bottom: 1px solid #e3e3e3; padding: 3px 10px;
                               text-align: left; }
table.data td.num { text-align: right; font-variant-numeric: tabular-nums; }
table.data th { background: #f3f5f7; }
.map { width: 100%; height: 720px; }
.scroll { overflow-x: auto; }
.figure { width: 100%; height: 460px; }
.neighbors { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr));
             gap: 8px 24px; }
label { font-size: 14px; }
"""

MAP_SCRIPT = """
(function () {
  const palette = %(palette)s;
  const maxColors = %(max_colors)d;
  function hoverTexts(payload) {
    const names = Object.keys(payload.attributes);
    return payload.labels.map(function (label, i) {
      let text = label;
      for (const name of names) {
        const spec = payload.attributes[name];
        const code = spec.codes[i];
        if (code >= 0) { text += "<br>" + name + ": " + spec.values[code]; }
      }
      return text;
    });
  }
  function draw(divId, payload, attribute) {
    const spec = payload.attributes[attribute];
    const groups = new Map();
    for (let i = 0; i < payload.x.length; i++) {
      const code = spec ? spec.codes[i] : -1;
      const group = code < 0 ? -1 : Math.min(code, maxColors);
      if (!groups.has(group)) { groups.set(group, []); }
      groups.get(group).push(i);
    }
    const order = Array.from(groups.keys()).sort(function (a, b) {
      return (a < 0 ? 1e9 : a) - (b < 0 ? 1e9 : b);
    });
    const traces = order.map(function (group) {
      const rows = groups.get(group);
      let name = "(no " + attribute + ")";
      if (group >= 0 && group < maxColors) { name = spec.values[group]; }
      if (group === maxColors) { name = "other (" + (spec.values.length - maxColors) + " values)"; }
      const grey = group < 0 || group === maxColors;
      return {
        type: "scattergl", mode: "markers", name: name + " (" + rows.length + ")",
        x: rows.map(function (i) { return payload.x[i]; }),
        y: rows.map(function (i) { return payload.y[i]; }),
        text: rows.map(function (i) { return payload.hover[i]; }),
        hoverinfo: "text",
        marker: { size: payload.x.length > 5000 ? 3 : 6, opacity: grey ? 0.35 : 0.8,
                  color: grey ? "#b0b0b0" : palette[group %% palette.length] }
      };
    });
    const layout = {
      template: "plotly_white", margin: { l: 20, r: 20, t: 30, b: 20 },
      xaxis: { showticklabels: false, zeroline: false, showgrid: false },
      yaxis: { showticklabels: false, zeroline: false, showgrid: false },
      legend: { itemsizing: "constant", font: { size: 11 } }, hovermode: "closest",
      title: { text: "colored by " + attribute, font: { size: 14 } }
    };
    Plotly.react(divId, traces, layout, { responsive: true });
  }
  window.customer2vecMap = function (divId, dataId, selectId) {
    const payload = JSON.parse(document.getElementById(dataId).textContent);
    payload.hover = hoverTexts(payload);
    const select = document.getElementById(selectId);
    draw(divId, payload, select.value);
    select.addEventListener("change", function () { draw(divId, payload, select.value); });
  };
})();
"""


def _json_script(element_id: str, payload: Any) -> str:
    """A non-executed ``<script type="application/json">`` block (``</`` escaped)."""
    text = json.dumps(payload, separators=(",", ":"), allow_nan=False, default=_jsonable)
    text = text.replace("</", "<\\/")
    return f'<script type="application/json" id="{element_id}">{text}</script>'


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return str(value)


def _map_payload(point_map: Any) -> dict[str, Any]:
    attributes = {}
    for name, values in point_map.attributes.items():
        counts = values.value_counts()
        codes = pd.Categorical(values, categories=counts.index).codes
        attributes[name] = {
            "values": [str(v) for v in counts.index],
            "codes": codes.astype(int).tolist(),
        }
    xy = np.round(np.asarray(point_map.xy, dtype=np.float64), 3)
    return {
        "x": xy[:, 0].tolist(),
        "y": xy[:, 1].tolist(),
        "labels": list(point_map.labels),
        "attributes": attributes,
    }


def _map_block(key: str, point_map: Any) -> str:
    options = "".join(
        f'<option value="{html.escape(a)}">{html.escape(a)}</option>' for a in point_map.attributes
    )
    picker = (
        f'<label>Color by <select id="{key}-color">{options}</select></label>'
        if len(point_map.attributes) > 1
        else f'<select id="{key}-color" hidden>{options}</select>'
    )
    return (
        f'{picker}<div id="{key}-plot" class="map"></div>'
        f"{_json_script(f'{key}-data', _map_payload(point_map))}"
        f"<script>customer2vecMap('{key}-plot', '{key}-data', '{key}-color');</script>"
    )


def _figure_block(key: str, figure: Any) -> str:
    import plotly.io as pio

    spec = json.loads(pio.to_json(figure, validate=False))
    return (
        f'<div id="{key}-plot" class="figure"></div>{_json_script(f"{key}-data", spec)}'
        f"<script>(function () {{ const f = JSON.parse(document.getElementById('{key}-data')"
        f".textContent); Plotly.newPlot('{key}-plot', f.data, f.layout, "
        "{responsive: true}); })();</script>"
    )


def _cell(value: Any, *, bold: bool = False, is_id: bool = False) -> str:
    if is_id:
        cell = f"<td>{html.escape(str(value))}</td>"
    elif isinstance(value, float | np.floating):
        text = "" if math.isnan(value) else f"{value:.3f}"
        cell = f'<td class="num">{text}</td>'
    elif isinstance(value, int | np.integer) and not isinstance(value, bool):
        cell = f'<td class="num">{value:,}</td>'
    else:
        cell = f"<td>{html.escape('' if value is None or value is pd.NA else str(value))}</td>"
    return cell.replace(">", "><b>", 1).replace("</td>", "</b></td>") if bold else cell


def table_html(frame: pd.DataFrame, *, best: list[str] | tuple[str, ...] = ()) -> str:
    """An HTML table; in the ``best`` columns the highest value is bold."""
    tops = {c: frame[c].max() for c in best if c in frame.columns and frame[c].notna().any()}
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for column, value in zip(frame.columns, row, strict=True):
            is_na = value is None or (isinstance(value, float) and math.isnan(value))
            bold = column in tops and not is_na and value == tops[column]
            cells.append(_cell(value, bold=bold, is_id=str(column).endswith("_id")))
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _section(key: str, body: str) -> str:
    return f'<section id="{key}"><h2>{html.escape(SECTIONS[key])}</h2>{body}</section>'


def _note(text: str) -> str:
    return f'<p class="note">{html.escape(text)}</p>' if text else ""


def _summary(data: Any) -> str:
    rows = "".join(
        f"<tr><th>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>" for k, v in data.summary
    )
    notes = "".join(_note(n) for n in data.notes)
    return _section("summary", f'<table class="data">{rows}</table>{notes}')


def _item_map(data: Any) -> str:
    point_map = data.item_map
    body = _note(
        f"t-SNE map of {point_map.note} (cosine geometry): items close on the map have "
        "similar vectors. Hover for names; pick the attribute to color by."
    )
    return _section("item-map", body + _map_block("item-map", point_map))


def _quality(data: Any) -> str:
    body = _note(
        f"How well each item attribute separates in the vector space and on the 2-D map, "
        f"judged on {data.quality_note}. purity@10: share of an item's 10 nearest "
        "neighbors with the same value (cosine in the vector space, distance on the map). "
        "silhouette: in [-1, 1], higher is better separated (5,000-item sample)."
    )
    return _section("quality", body + table_html(data.quality))


def _neighbors(data: Any) -> str:
    blocks = []
    for query, table in data.neighbors:
        first = query.iloc[0]
        described = ", ".join(str(v) for v in first.tolist()[1:] if pd.notna(v))
        title = f"{first[Columns.ITEM]}" + (f": {described}" if described else "")
        blocks.append(f"<div><h3>{html.escape(title)}</h3>{table_html(table)}</div>")
    body = _note("The best sellers and their nearest neighbors by cosine similarity.")
    return _section("neighbors", body + f'<div class="neighbors">{"".join(blocks)}</div>')


def _segment_map(data: Any) -> str:
    section, point_map = data.segments, data.customer_map
    summary = section.summary
    text = (
        f"{summary.get('k')} segments (k-means on unit vectors, k by silhouette: "
        f"{summary.get('silhouette', float('nan')):.3f}) of {len(section.labels):,} customers; "
        f"vectors: {summary.get('vectors_from') or 'customer vectors'}; segments: "
        f"{section.source}."
    )
    baseline = summary.get("baseline") or {}
    if baseline:
        text += (
            f" Baseline, k-means on {baseline.get('features')}: k={baseline.get('k')}, "
            f"silhouette {baseline.get('silhouette', float('nan')):.3f}."
        )
    body = _note(text)
    if point_map is not None:
        body += _note(f"t-SNE map of {point_map.note}.") + _map_block("segment-map", point_map)
    sizes = section.labels.value_counts().sort_index()
    frame = pd.DataFrame(
        {"segment": sizes.index, "customers": sizes.to_numpy(), "share": sizes / sizes.sum()}
    )
    return _section("segment-map", body + table_html(frame))


def _silhouette(data: Any) -> str:
    section = data.segments
    figure = silhouette_figure(section.folder.curve, int(section.summary.get("k", 0)))
    body = _note("Silhouette of k-means for each k; the chosen k is starred.")
    return _section("silhouette", body + _figure_block("silhouette", figure))


def _profiles(data: Any) -> str:
    section = data.segments
    folder = section.folder
    body = ""
    if section.lift is not None:
        go = _plotly()
        sizes = section.labels.value_counts()
        rows = [f"segment {s} ({sizes.get(s, 0):,})" for s in section.lift.index]
        share = section.share.to_numpy() * 100
        figure = go.Figure(
            go.Heatmap(
                z=np.log2(np.maximum(section.lift.to_numpy(), 1e-3)),
                x=[str(c) for c in section.lift.columns],
                y=rows,
                customdata=np.dstack([share, section.lift.to_numpy()]),
                text=np.vectorize(lambda v: f"{v:.1f}%")(share),
                texttemplate="%{text}",
                hovertemplate="%{y}<br>%{x}<br>share %{customdata[0]:.1f}%"
                "<br>lift %{customdata[1]:.2f}<extra></extra>",
                colorscale="RdBu",
                reversescale=True,
                zmid=0,
                colorbar={"title": "log2 lift"},
            )
        )
        figure.update_layout(
            title=f"Share of each segment's purchases by {section.attribute} "
            "(color: lift over all customers)",
            template="plotly_white",
            xaxis={"tickangle": -40},
            yaxis={"autorange": "reversed"},
            margin={"b": 140},
        )
        body += _figure_block("profiles", figure)
    for name, frame, text in (
        ("profiles", folder.profiles, "What each segment buys more than everyone else."),
        ("distinctive", folder.distinctive, "Items most over-represented among its buyers."),
        ("samples", folder.samples, "Sample customers and their most bought items."),
    ):
        if frame is not None and not frame.empty:
            body += f"<h3>{html.escape(name)}</h3>{_note(text)}{table_html(frame)}"
    return _section("profiles", body)


def _evaluation(data: Any) -> str:
    table = data.evaluation
    metrics = [c for c in table.columns if "@" in c and not c.startswith("coverage")]
    body = _note(
        f"Next-basket evaluation from {data.evaluation_source}: recall, NDCG, hit rate, "
        "precision, and recall of repeat and new items at each k (best in bold)."
    )
    return _section("evaluation", body + table_html(table, best=metrics))


def render(data: Any) -> str:
    """The whole page as a string."""
    from plotly.offline import get_plotlyjs

    parts, present = [], []
    renderers = (
        ("summary", True, _summary),
        ("item-map", data.item_map is not None, _item_map),
        ("quality", data.quality is not None, _quality),
        ("neighbors", bool(data.neighbors), _neighbors),
        ("segment-map", data.segments is not None, _segment_map),
        ("silhouette", data.segments is not None, _silhouette),
        ("profiles", data.segments is not None, _profiles),
        ("evaluation", data.evaluation is not None, _evaluation),
    )
    for key, available, renderer in renderers:
        if available:
            parts.append(renderer(data))
            present.append(key)
    nav = "".join(f'<a href="#{k}">{html.escape(SECTIONS[k])}</a>' for k in present)
    script = MAP_SCRIPT % {"palette": json.dumps(PALETTE), "max_colors": MAX_COLORS}
    title = html.escape(data.title)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{title}</title><style>{STYLE}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        f"<script>{script}</script></head><body>"
        f"<header><h1>{title}</h1></header><nav>{nav}</nav><main>{''.join(parts)}</main>"
        "</body></html>\n"
    )
