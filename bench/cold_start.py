"""Cold start on The Complete Journey: products with attributes but no sales (attr2vec).

    python bench/cold_start.py              # everything
    python bench/cold_start.py --quick      # skip the next-basket table

Protocol. 10% of the products sold at least once (seed 0) are hidden from the transactions
but stay in the catalogue, as if they had just been listed. attr2vec and item2vec (defaults,
2 threads) train on the remaining transactions in the same run. Then:

- placed: share of hidden products that get a vector (item2vec cannot place any);
- hidden category@10: share of each hidden product's 10 nearest *sold* products that share
  its product_category; baseline: 10 products drawn at random from its department
  (exact expectation);
- hidden recall@10 / hit@10: for every household that bought hidden products in the real
  data, the hidden products are ranked for it (its history has none of them) and we count
  how many of its hidden purchases reach the top 10. Baselines: random, hidden products by
  the popularity of their category, and by the household's own purchases in their category
  (ties by category popularity);
- category@10 (all frequent): the usual purity of items bought >= 20 times (bench/
  item_embeddings.py), to check that attributes do not spoil the sold items' vectors;
- next-basket recall@10 (last basket per household, seen items included) with top-frequency
  and TIFU-KNN as anchors.

attr2vec is run with its default attributes (department, product_category, product_type,
brand, package_size), and with department, brand and package_size only, where the category
is not an input, so the hidden category@10 measures what was learned from baskets rather
than read from the catalogue.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
import pandas as pd
from scipy.sparse import csr_matrix

from common import completejourney, print_table
from customer2vec.columns import Columns
from customer2vec.corpus import BasketsWithTables, build_baskets
from customer2vec.data.engine import DuckDBEngine, quote_literal
from customer2vec.evaluation.intrinsic import knn_indices, neighbor_purity
from customer2vec.evaluation.nextbasket import evaluate_models, split_last_basket
from customer2vec.models import create_model
from customer2vec.models.attr2vec import Attr2Vec
from customer2vec.models.scoring import customer_counts

HIDDEN_SHARE = 0.10
K = 10
VARIANTS = {
    "attr2vec (default attributes)": {},
    "attr2vec (department, brand, package_size)": {"attributes": "department,brand,package_size"},
}


def hide_products(dataset, share: float, seed: int = 0) -> tuple[np.ndarray, object]:
    """Hidden product ids, and the training baskets without them (same engine seam)."""
    sold = dataset.item_counts()[Columns.ITEM].to_numpy()
    rng = np.random.default_rng(seed)
    hidden = np.sort(rng.choice(sold, size=round(share * len(sold)), replace=False))
    engine = DuckDBEngine()
    try:
        engine.con.register("hidden_items", pd.DataFrame({Columns.ITEM: hidden}))
        path = quote_literal(str(dataset.table_path("transactions")))
        engine.execute(
            "CREATE VIEW transactions AS SELECT * FROM read_parquet("
            f"{path}) WHERE item_id NOT IN (SELECT item_id FROM hidden_items)"
        )
        baskets = build_baskets(engine)
    finally:
        engine.close()
    return hidden, baskets


class _WithCatalogue(Attr2Vec):
    """attr2vec fitted on plain baskets plus a fixed catalogue (for `evaluate_models`)."""

    catalogue: pd.DataFrame | None = None

    def fit(self, corpus):
        return super().fit(BasketsWithTables(corpus, self.catalogue, None))


def hidden_neighbors(vectors, baskets, hidden, category, department) -> dict[str, float]:
    """Placed share and category purity of hidden products' nearest sold products."""
    rows = vectors.id_map.to_internal(hidden, on_unknown="missing")
    placed = rows >= 0
    sold_rows = vectors.id_map.to_internal(baskets.item_ids.external)
    unit = vectors.unit_vectors
    neighbors = knn_indices(unit[rows[placed]], K, candidates=unit[sold_rows])
    sold_category = category.reindex(pd.Index(baskets.item_ids.external)).to_numpy()
    mine = category.reindex(pd.Index(hidden[placed])).to_numpy()
    purity = float((sold_category[neighbors] == mine[:, None]).mean()) if placed.any() else 0.0
    return {"placed": float(placed.mean()), "hidden category@10": purity}


def random_in_department(baskets, hidden, category, department) -> float:
    """Expected category share of K sold products drawn at random from the department."""
    sold = pd.DataFrame(
        {
            "department": department.reindex(pd.Index(baskets.item_ids.external)).to_numpy(),
            "category": category.reindex(pd.Index(baskets.item_ids.external)).to_numpy(),
        }
    )
    per_department = sold.groupby("department").size()
    per_pair = sold.groupby(["department", "category"]).size()
    shares = []
    for item in hidden:
        d, c = department.get(item), category.get(item)
        n = per_department.get(d, 0)
        shares.append(per_pair.get((d, c), 0) / n if n else 0.0)
    return float(np.mean(shares))


def hidden_buyers(dataset, hidden: np.ndarray, baskets) -> tuple[np.ndarray, list[np.ndarray]]:
    """History indices of households that bought hidden products, and those products."""
    pairs = dataset.query(
        "SELECT DISTINCT customer_id, item_id FROM transactions "
        f"WHERE item_id IN ({', '.join(str(int(i)) for i in hidden)})"
    )
    pairs = pairs[pairs[Columns.CUSTOMER].isin(baskets.customer_ids.external)]
    position = pd.Series(np.arange(len(hidden)), index=hidden)
    groups = pairs.groupby(Columns.CUSTOMER)[Columns.ITEM]
    customers = baskets.customer_ids.to_internal(np.array(list(groups.groups), dtype=np.int64))
    bought = [position[g.to_numpy()].to_numpy() for _, g in groups]
    return customers, bought


def rank_metrics(scores_of, customers, bought, n_hidden) -> dict[str, float]:
    """recall@K and hit@K of hidden products, scores from ``scores_of(customer batch)``."""
    hits, recalls = [], []
    for start in range(0, len(customers), 256):
        batch = customers[start : start + 256]
        scores = scores_of(batch)
        top = np.argpartition(-scores, K - 1, axis=1)[:, :K]
        for row, items in zip(top, bought[start : start + 256], strict=True):
            found = np.isin(items, row).sum()
            hits.append(found > 0)
            recalls.append(found / len(items))
    return {"hidden recall@10": float(np.mean(recalls)), "hidden hit@10": float(np.mean(hits))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Skip the next-basket table.")
    parser.add_argument("--threads", type=int, default=2, help="Training threads.")
    args = parser.parse_args()

    dataset = completejourney()
    catalogue = dataset.read("items")
    items = catalogue.drop_duplicates(Columns.ITEM).set_index(Columns.ITEM)
    category, department = items["product_category"], items["department"]
    hidden, baskets = hide_products(dataset, HIDDEN_SHARE)
    counts = pd.Series(baskets.item_counts, index=baskets.item_ids.external)
    frequent = counts.index[counts >= 20]
    customers, bought = hidden_buyers(dataset, hidden, baskets)
    print(
        f"{baskets!r}\nhidden {len(hidden):,} products; {len(customers):,} households bought "
        f"{sum(map(len, bought)):,} (household, hidden product) pairs",
        file=sys.stderr,
    )

    rows: list[dict] = []
    started = time.perf_counter()
    item2vec = create_model("item2vec", n_threads=args.threads).fit(baskets)
    rows.append(
        {
            "method": "item2vec",
            "fit_s": time.perf_counter() - started,
            "placed": 0.0,
            "category@10": neighbor_purity(item2vec.item_vectors_, category, ids=frequent),
        }
    )
    print(f"  item2vec: {rows[-1]['fit_s']:.1f} s", file=sys.stderr)

    with_tables = BasketsWithTables(baskets, catalogue, None)
    for label, params in VARIANTS.items():
        started = time.perf_counter()
        model = create_model("attr2vec", n_threads=args.threads, **params).fit(with_tables)
        seconds = time.perf_counter() - started
        extended = model.with_new_items(baskets)
        columns = extended.item_ids.to_internal(hidden, on_unknown="missing")

        def scores_of(batch, model=model, extended=extended, columns=columns):
            scores = model.score(extended, batch)
            out = np.full((len(batch), len(columns)), -np.inf, dtype=np.float32)
            out[:, columns >= 0] = scores[:, columns[columns >= 0]]
            return out

        row = {"method": label, "fit_s": seconds}
        row.update(hidden_neighbors(model.item_vectors_, baskets, hidden, category, department))
        row.update(rank_metrics(scores_of, customers, bought, len(hidden)))
        row["category@10"] = neighbor_purity(model.item_vectors_, category, ids=frequent)
        rows.append(row)
        print(f"  {label}: {seconds:.1f} s, {model.n_new_items_:,} new items", file=sys.stderr)

    # Baselines for hidden products.
    rows.append(
        {
            "method": "random sold product of the same department",
            "hidden category@10": random_in_department(baskets, hidden, category, department),
        }
    )
    rng = np.random.default_rng(0)
    rows.append(
        {
            "method": "random hidden products",
            **rank_metrics(
                lambda batch: rng.random((len(batch), len(hidden))), customers, bought, len(hidden)
            ),
        }
    )
    sold_codes, names = pd.factorize(category.reindex(pd.Index(baskets.item_ids.external)))
    hidden_codes = names.get_indexer(category.reindex(pd.Index(hidden)))
    category_lines = np.bincount(
        sold_codes[sold_codes >= 0],
        weights=baskets.item_counts[sold_codes >= 0],
        minlength=len(names) + 1,
    )
    popularity = np.where(hidden_codes >= 0, category_lines[hidden_codes], 0.0)
    rows.append(
        {
            "method": "hidden products by category popularity",
            **rank_metrics(
                lambda batch: np.broadcast_to(popularity, (len(batch), len(hidden))),
                customers,
                bought,
                len(hidden),
            ),
        }
    )
    known = np.flatnonzero(sold_codes >= 0)
    one_hot = csr_matrix(
        (np.ones(len(known), dtype=np.float32), (known, sold_codes[known])),
        shape=(baskets.n_items, len(names)),
    )

    def by_household_category(batch):
        per_category = (customer_counts(baskets, batch) @ one_hot).toarray()
        scores = np.where(hidden_codes >= 0, per_category[:, np.maximum(hidden_codes, 0)], 0)
        return scores + popularity / (popularity.max() + 1.0)

    rows.append(
        {
            "method": "hidden products by the household's category purchases",
            **rank_metrics(by_household_category, customers, bought, len(hidden)),
        }
    )
    print(
        f"\nThe Complete Journey without {len(hidden):,} hidden products ({HIDDEN_SHARE:.0%} of "
        f"those sold): {baskets.n_lines:,} line items, {baskets.n_items:,} items; "
        f"{len(frequent):,} items bought >= 20 times; {len(customers):,} households with hidden "
        "purchases\n"
    )
    print_table(
        rows,
        [
            "method",
            "fit_s",
            "placed",
            "hidden category@10",
            "hidden recall@10",
            "hidden hit@10",
            "category@10",
        ],
    )
    if args.quick:
        return

    catalogue_model = _WithCatalogue(n_threads=args.threads)
    catalogue_model.catalogue = catalogue
    full = build_baskets(dataset)
    train, targets = split_last_basket(full, min_baskets=3)
    table = evaluate_models(
        train,
        targets,
        {
            "top-frequency": create_model("top-frequency"),
            "tifu-knn": create_model("tifu-knn"),
            "item2vec": create_model("item2vec", n_threads=args.threads),
            "attr2vec": catalogue_model,
        },
        ks=(10,),
        exclude_seen=False,  # bought items ranked for every model (--include-seen)
        progress=False,
    )
    print(f"\nNext basket (last basket of {targets.n_customers:,} households, whole data):\n")
    print_table(
        table.to_dict(orient="records"),
        ["model", "fit_s", "recall@10", "ndcg@10", "hit@10", "recall_repeat@10", "recall_new@10"],
    )


if __name__ == "__main__":
    main()
