// customer2vec explorer: plain JavaScript over the JSON API of the same app (no build step,
// no CDN). Views are chosen by the URL hash: #item/ID, #customer/ID, or the start page.
"use strict";

const state = {
  health: null,
  map: null,
  plotly: null, // a promise, once plotly.js is being loaded
  basket: [], // [{item_id, name}]
  focus: { item: null, neighbors: [] },
};

// -- helpers ------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function api(path, options) {
  const response = await fetch(path, options);
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null;
  }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `${response.status} ${response.statusText}`;
    throw new ApiError(message, response.status);
  }
  return body;
}

// el("a", {href: "#", class: "x"}, "text", child) -> element; text is never parsed as HTML.
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function $(id) {
  return document.getElementById(id);
}

const idPath = (id) => encodeURIComponent(String(id));
const itemHash = (id) => `#item/${idPath(id)}`;
const customerHash = (id) => `#customer/${idPath(id)}`;
const fmt = (x, digits = 3) => (typeof x === "number" ? x.toFixed(digits) : "");
const count = (x) => (typeof x === "number" ? x.toLocaleString("en-US") : "");

function showStatus(message, isError) {
  const box = $("status");
  box.hidden = !message;
  box.textContent = message || "";
  box.className = isError ? "error" : "";
}

// "id 123 · department · category": the id tells apart products that share a name.
function attrText(item) {
  const values = Object.values(item.attributes || {}).filter((v) => v !== null && v !== "");
  return [`id ${item.item_id}`, ...values].join(" · ");
}

function itemLink(item) {
  return el(
    "a",
    { href: itemHash(item.item_id), class: "item-link", dataset: { itemId: String(item.item_id) } },
    item.name || String(item.item_id),
  );
}

function customerLink(id, label) {
  return el(
    "a",
    { href: customerHash(id), class: "customer-link", dataset: { customerId: String(id) } },
    label || `customer ${id}`,
  );
}

function itemLine(item, extra) {
  return el("li", {}, itemLink(item), " ", el("span", { class: "attrs" }, attrText(item)), extra || null);
}

function scoredTable(items, { id, countLabel = "baskets" } = {}) {
  if (!items.length) return el("p", { class: "muted" }, "nothing to show");
  const best = Math.max(...items.map((i) => Math.abs(i.score)), 1e-9);
  return el(
    "table",
    { id },
    el("thead", {}, el("tr", {}, el("th", {}, "#"), el("th", {}, "product"), el("th", {}, countLabel), el("th", {}, "score"))),
    el(
      "tbody",
      {},
      items.map((item) =>
        el(
          "tr",
          {},
          el("td", { class: "num" }, item.rank),
          el("td", {}, itemLink(item), el("div", { class: "attrs" }, attrText(item))),
          el("td", { class: "num" }, count(item.count)),
          el(
            "td",
            { class: "num" },
            fmt(item.score),
            el("span", { class: "bar", style: `width:${Math.round((40 * Math.max(item.score, 0)) / best)}px` }),
          ),
        ),
      ),
    ),
  );
}

function facts(pairs) {
  return el(
    "div",
    { class: "facts" },
    pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => el("div", {}, el("span", {}, k), v)),
  );
}

// -- start --------------------------------------------------------------------------------

async function start() {
  $("search-form").addEventListener("submit", (event) => {
    event.preventDefault();
    search($("search").value);
  });
  let timer = null;
  $("search").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => search($("search").value), 250);
  });
  $("customer-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const id = $("customer-input").value.trim();
    if (id) location.hash = customerHash(id);
  });
  $("basket-clear").addEventListener("click", () => {
    state.basket = [];
    renderBasket();
  });
  window.addEventListener("hashchange", async () => {
    await route();
    $("view").scrollIntoView({ block: "start" });
  });
  try {
    state.health = await api("health");
  } catch (err) {
    showStatus(`The API does not answer: ${err.message}`, true);
    return;
  }
  const h = state.health;
  $("model-info").textContent =
    `${h.model} model · dataset ${h.dataset} · ${count(h.n_items)} items · ${count(h.n_customers)} customers`;
  document.title = `customer2vec explorer: ${h.model}`;
  if (!h.capabilities.recommend) $("basket-section").hidden = true;
  const report = (err) => {
    if (!(err instanceof ApiError)) throw err;
    showStatus(err.message, true);
  };
  await Promise.all([search(""), loadCustomers(), loadSegments(), loadMap(), route()].map((p) => p.catch(report)));
}

async function route() {
  const [kind, ...rest] = location.hash.replace(/^#/, "").split("/");
  const id = decodeURIComponent(rest.join("/"));
  showStatus("");
  try {
    if (kind === "item" && id) await showItem(id);
    else if (kind === "customer" && id) await showCustomer(id);
    else showHome();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    showStatus(err.message, true);
  }
}

// -- search and lists ---------------------------------------------------------------------

async function search(query) {
  try {
    const result = await api(`items?q=${encodeURIComponent(query)}&n=25`);
    $("search-summary").textContent = query.trim()
      ? `${count(result.total)} products match “${query.trim()}”${result.total > result.items.length ? `; the ${result.items.length} best sellers:` : ":"}`
      : "Best sellers:";
    $("search-results").replaceChildren(...result.items.map((item) => itemLine(item, el("span", { class: "attrs" }, ` · ${count(item.count)} baskets`))));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    $("search-summary").textContent = err.message;
  }
}

async function loadCustomers() {
  if (!state.health.capabilities.customers) {
    $("customer-list").replaceChildren(el("li", { class: "muted" }, "no customer histories for this model"));
    return;
  }
  const result = await api("customers?n=15");
  $("customer-list").replaceChildren(
    ...result.customers.map((c) =>
      el(
        "li",
        {},
        customerLink(c.customer_id),
        el("span", { class: "attrs" }, ` · ${c.n_baskets} baskets${c.segment !== null ? ` · segment ${c.segment}` : ""}`),
      ),
    ),
  );
}

// -- views --------------------------------------------------------------------------------

function showHome() {
  focusMap(null, []);
  $("view").replaceChildren(
    el("h2", {}, "Explore the model"),
    el(
      "p",
      {},
      "Search a product to see its nearest neighbors, open a customer to see their history, segment and recommendations, or click a point of the map.",
    ),
  );
}

async function showItem(id) {
  const caps = state.health.capabilities;
  const [item, similar] = await Promise.all([
    api(`items/${idPath(id)}`),
    caps.similar ? api(`items/${idPath(id)}/similar?n=12`) : Promise.resolve(null),
  ]);
  const attributes = Object.entries(item.attributes || {});
  const view = [
    el("h2", { id: "item-title" }, item.name || `item ${item.item_id}`),
    facts([
      ["item id", String(item.item_id)],
      ["bought in", `${count(item.count)} baskets`],
      ["product cluster", item.segment],
      ...attributes.map(([k, v]) => [k, String(v)]),
    ]),
  ];
  if (caps.recommend) {
    view.push(el("button", { type: "button", class: "secondary", id: "add-to-basket", onclick: () => addToBasket(item) }, "+ basket"));
  }
  if (similar) {
    view.push(el("h3", {}, `Most similar products (${similar.model}, cosine)`), scoredTable(similar.neighbors, { id: "neighbors" }));
  } else {
    view.push(el("p", { class: "muted" }, `A ${state.health.model} model has no item vectors: no similar products.`));
  }
  $("view").replaceChildren(...view);
  focusMap(item.item_id, similar ? similar.neighbors.map((n) => n.item_id) : []);
}

async function showCustomer(id) {
  const caps = state.health.capabilities;
  const [customer, recs] = await Promise.all([
    api(`customers/${idPath(id)}?baskets=8`),
    caps.recommend ? api(`customers/${idPath(id)}/recommendations?n=10`) : Promise.resolve(null),
  ]);
  const segment =
    customer.segment === null
      ? caps.segments
        ? "none"
        : null
      : el("a", { href: "#segments-section", class: "badge", id: "customer-segment" }, `segment ${customer.segment}`);
  const view = [
    el("h2", { id: "customer-title" }, `Customer ${customer.customer_id}`),
    facts([
      ["segment", segment],
      ["baskets", count(customer.n_baskets)],
      ["line items", count(customer.n_lines)],
      ["distinct products", count(customer.n_items)],
      ["first basket", customer.first_time ? customer.first_time.slice(0, 10) : null],
      ["last basket", customer.last_time ? customer.last_time.slice(0, 10) : null],
    ]),
  ];
  const attributes = Object.entries(customer.attributes || {});
  if (attributes.length) {
    view.push(el("div", { class: "muted" }, "From the customers table:"), facts(attributes.map(([k, v]) => [k.replace(/_/g, " "), String(v)])));
  }
  const left = [el("h3", {}, recs ? `Recommendations (${recs.model}${recs.exclude_seen ? ", new items only" : ", repeats included"})` : "Recommendations")];
  left.push(recs ? scoredTable(recs.items, { id: "recommendations" }) : el("p", { class: "muted" }, `A ${state.health.model} model does not rank items.`));
  left.push(
    el("h3", {}, "Bought most often"),
    el(
      "ol",
      { class: "list", id: "top-items" },
      customer.top_items.map((item) => itemLine(item, el("span", { class: "attrs" }, ` · ×${item.times_bought}`))),
    ),
  );
  const right = [el("h3", {}, `Most recent baskets (${customer.baskets.length} of ${count(customer.n_baskets)})`)];
  const history = el("div", { id: "history" });
  for (const basket of customer.baskets) {
    history.append(
      el(
        "div",
        { class: "basket" },
        el("div", { class: "when" }, `basket ${basket.sequence}${basket.time ? ` · ${basket.time.replace("T", " ").slice(0, 16)}` : ""} · ${basket.items.length} items`),
        el("div", { class: "chips" }, basket.items.map((item) => el("span", {}, itemLink(item), ";"))),
      ),
    );
  }
  right.push(history);
  view.push(el("div", { class: "columns" }, el("div", {}, left), el("div", {}, right)));
  $("view").replaceChildren(...view);
  focusMap(null, recs ? recs.items.map((i) => i.item_id) : []);
}

// -- session basket -----------------------------------------------------------------------

function addToBasket(item) {
  if (!state.basket.some((b) => String(b.item_id) === String(item.item_id))) state.basket.push(item);
  renderBasket();
}

async function renderBasket() {
  $("basket").replaceChildren(
    ...state.basket.map((item, i) =>
      el(
        "li",
        {},
        itemLink(item),
        " ",
        el(
          "button",
          {
            type: "button",
            class: "secondary small",
            title: "remove",
            onclick: () => {
              state.basket.splice(i, 1);
              renderBasket();
            },
          },
          "×",
        ),
      ),
    ),
  );
  $("basket-clear").hidden = !state.basket.length;
  $("basket-recs-title").hidden = !state.basket.length;
  if (!state.basket.length) {
    $("basket-recs").replaceChildren();
    return;
  }
  try {
    const recs = await api("recommendations", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ items: state.basket.map((b) => b.item_id), n: 8 }),
    });
    $("basket-recs").replaceChildren(...recs.items.map((item) => itemLine(item, el("span", { class: "attrs" }, ` · ${fmt(item.score)}`))));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    $("basket-recs").replaceChildren(el("li", { class: "muted" }, err.message));
  }
}

// -- segments -----------------------------------------------------------------------------

async function loadSegments() {
  const result = await api("segments");
  const box = $("segments");
  if (!result.available) {
    box.replaceChildren(el("p", { class: "muted", id: "segments-hint" }, result.hint));
    return;
  }
  const intro = el(
    "p",
    { class: "muted" },
    `${result.k} ${result.what} segments${result.silhouette !== null ? `, silhouette ${fmt(result.silhouette)}` : ""}${result.vectors_from ? ` (${result.vectors_from})` : ""}. Lift: share in the segment / share overall.`,
  );
  const blocks = result.segments.map((s) =>
    el(
      "div",
      { class: "segment", id: `segment-${s.segment}` },
      el("strong", {}, `Segment ${s.segment}`),
      ` · ${count(s.size)} ${result.what} (${Math.round(100 * s.share)}%)`,
      el(
        "div",
        { class: "chips" },
        s.profile.map((p) => el("span", { class: "badge", title: `${p.attribute}: ${fmt(100 * p.share, 1)}% of purchases` }, `${p.group} ×${fmt(p.lift, 1)}`)),
      ),
      s.distinctive_items.length
        ? el("div", { class: "attrs" }, "distinctive: ", s.distinctive_items.map((item, i) => el("span", {}, i ? "; " : "", itemLink(item))))
        : null,
      s.sample_customers.length
        ? el("div", { class: "attrs" }, "customers: ", s.sample_customers.map((c) => el("span", { title: c.top_items || "" }, customerLink(c.customer_id, String(c.customer_id)), " ")))
        : null,
    ),
  );
  box.replaceChildren(intro, ...blocks);
}

// -- map ----------------------------------------------------------------------------------

function loadPlotly() {
  if (!state.plotly) {
    state.plotly = new Promise((resolve, reject) => {
      const script = el("script", { src: "vendor/plotly.min.js" });
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new ApiError("plotly.js could not be loaded", 0));
      document.head.append(script);
    });
  }
  return state.plotly;
}

async function loadMap() {
  const hint = $("map-hint");
  const result = await api("map");
  if (result.pending) {
    // Projected in the background at start: ask again shortly.
    hint.textContent = `${result.hint} It appears here when ready.`;
    $("map").hidden = true;
    setTimeout(() => loadMap().catch(() => null), 2000);
    return;
  }
  if (!result.available) {
    hint.textContent = result.hint || "no map for this model";
    $("map").hidden = true;
    return;
  }
  const Plotly = await loadPlotly().catch(() => null);
  if (!Plotly) {
    hint.textContent = "The map needs plotly: pip install 'customer2vec[viz]'.";
    $("map").hidden = true;
    return;
  }
  $("map").hidden = false;
  state.map = result;
  hint.textContent = `${count(result.points.length)} best-selling products; nearby points are bought alike${result.color_by ? `; colored by ${result.color_by}` : ""}. Click a point to open the product.`;
  const groups = new Map();
  for (const point of result.points) {
    const key = point.group === null || point.group === undefined ? "(none)" : String(point.group);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(point);
  }
  // The largest groups get their own color; the rest share one, so the legend stays short.
  const ordered = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  const traces = [];
  const other = [];
  ordered.forEach(([key, points], i) => {
    if (i < PALETTE.length) traces.push(mapTrace(key, points, PALETTE[i]));
    else other.push(...points);
  });
  if (other.length) traces.push(mapTrace("other", other, "#b0b0b0"));
  traces.push({ ...mapTrace("neighbors", []), marker: { size: 13, symbol: "circle-open", line: { width: 2 }, color: "#111" } });
  traces.push({ ...mapTrace("this product", []), marker: { size: 18, symbol: "star", color: "#111" } });
  const layout = {
    margin: { l: 10, r: 10, t: 10, b: 10 },
    xaxis: { visible: false },
    yaxis: { visible: false },
    hovermode: "closest",
    legend: { itemsizing: "constant" },
    plot_bgcolor: "#fff",
  };
  await Plotly.newPlot("map", traces, layout, { responsive: true, displaylogo: false });
  $("map").on("plotly_click", (event) => {
    const point = event.points && event.points[0];
    if (point && point.customdata !== undefined) location.hash = itemHash(point.customdata);
  });
  focusMap(state.focus.item, state.focus.neighbors);
}

// 14 distinct colors (Plotly's default cycle repeats after 10).
const PALETTE = [
  "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#17becf", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173", "#5254a3",
];

function mapTrace(name, points, color) {
  return {
    type: "scatter",
    mode: "markers",
    name,
    x: points.map((p) => p.x),
    y: points.map((p) => p.y),
    text: points.map((p) => p.name || String(p.item_id)),
    customdata: points.map((p) => p.item_id),
    hovertemplate: "%{text}<extra>%{fullData.name}</extra>",
    marker: { size: 6, opacity: 0.75, color },
  };
}

// Star the open item and circle its neighbors (or a customer's recommendations) on the map.
function focusMap(item, neighbors) {
  state.focus = { item, neighbors };
  if (!state.map || !window.Plotly) return;
  const byId = new Map(state.map.points.map((p) => [String(p.item_id), p]));
  const pick = (ids) => ids.map((id) => byId.get(String(id))).filter((p) => p !== undefined);
  const sets = [pick(neighbors), pick(item === null ? [] : [item])];
  const div = $("map");
  const n = div.data.length;
  window.Plotly.restyle(
    div,
    {
      x: sets.map((s) => s.map((p) => p.x)),
      y: sets.map((s) => s.map((p) => p.y)),
      text: sets.map((s) => s.map((p) => p.name || String(p.item_id))),
      customdata: sets.map((s) => s.map((p) => p.item_id)),
    },
    [n - 2, n - 1],
  );
}

start();
