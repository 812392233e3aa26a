"""Next-basket model: planted repeats and explores, trees as arrays, pickle-free round trip."""

from __future__ import annotations

import numpy as np
import pytest

from customer2vec.corpus import build_baskets
from customer2vec.errors import ConfigError, DataValidationError, NotFittedError
from customer2vec.models import load_model
from customer2vec.models.next_basket import NextBasket
from customer2vec.models.next_basket_features import history_stats, lines_of
from customer2vec.models.next_basket_trees import TREE_FIELDS, export_trees, predict_trees


@pytest.fixture
def staples(tmp_path):
    """Customers c0-c9 buy a-milk in every basket plus 2 random a* items; c10-c19 the same
    with b-milk and b* items. 8 weekly baskets each."""
    import pandas as pd

    from customer2vec.data.ingest import ingest

    rng = np.random.default_rng(0)
    rows, basket = [], 0
    for c in range(20):
        tribe = "a" if c < 10 else "b"
        for week in range(8):
            basket += 1
            day = (pd.Timestamp("2024-01-01") + pd.Timedelta(days=7 * week + c)).isoformat()
            rows.append((f"c{c}", basket, f"{tribe}-milk", day))
            for item in rng.choice(12, size=2, replace=False):
                rows.append((f"c{c}", basket, f"{tribe}{item}", day))
    frame = pd.DataFrame(rows, columns=["customer_id", "basket_id", "item_id", "timestamp"])
    frame.to_csv(tmp_path / "staples.csv", index=False)
    return build_baskets(ingest([tmp_path / "staples.csv"], tmp_path / "staples"))


def test_staples_rank_first_and_tribe_items_are_explored(staples):
    model = NextBasket(n_neighbors=5, max_iter=30).fit(staples)
    customers = np.arange(staples.n_customers)
    scores = model.score(staples, customers)
    assert scores.shape == (staples.n_customers, staples.n_items)
    assert scores.dtype == np.float32
    items = staples.item_ids.external
    for c, customer in enumerate(staples.customer_ids.external):
        top = items[np.argsort(-scores[c])[:3]]
        # Everyone in tribe g buys the staple g-milk in every basket: it must rank first.
        staple = "a-milk" if int(customer[1:]) < 10 else "b-milk"
        assert top[0] == staple, (customer, top)
        # Items of the other tribe are never among the candidates' best.
        other = "b" if staple.startswith("a") else "a"
        assert not any(str(item).startswith(other) for item in top)
    assert model.validation_["positive_rate"] > 0


def test_exported_trees_predict_like_scikit_learn():
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(500, 4)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] ** 2 > 0.5).astype(int)
    trees = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(x, y)
    exported = export_trees(trees)
    assert TREE_FIELDS == ("feature", "threshold", "left", "right", "value", "is_leaf", "roots")
    ours = (
        predict_trees(x, *(exported[f] for f in TREE_FIELDS))
        + np.ravel(trees._baseline_prediction)[0]
    )
    np.testing.assert_allclose(ours, trees.decision_function(x), rtol=1e-6, atol=1e-8)


def test_save_load_keeps_scores_and_needs_no_pickle(staples, tmp_path):
    model = NextBasket(n_neighbors=5, max_iter=10).fit(staples)
    model.save(tmp_path / "nb")
    loaded = load_model(tmp_path / "nb", mmap=False)
    customers = np.arange(staples.n_customers)
    np.testing.assert_array_equal(loaded.score(staples, customers), model.score(staples, customers))
    assert not list((tmp_path / "nb").glob("*.pkl"))


def test_refit_is_deterministic_and_checks(staples):
    a = NextBasket(n_neighbors=5, max_iter=10).fit(staples).score(staples, np.arange(3))
    b = NextBasket(n_neighbors=5, max_iter=10).fit(staples).score(staples, np.arange(3))
    np.testing.assert_array_equal(a, b)
    with pytest.raises(NotFittedError):
        NextBasket().score(staples, np.arange(3))
    with pytest.raises(ConfigError, match="n_neighbors"):
        NextBasket(n_neighbors=0).fit(staples)
    with pytest.raises(ConfigError, match="size_power"):
        NextBasket(size_power=-1).fit(staples)


def test_basket_size_features_share_each_basket_over_its_items(tmp_path):
    """One customer: a solo trip for milk, then a 4-item shop. Recall divides hits by the
    basket's size, so each purchase counts 1/size, decayed by basket age."""
    import pandas as pd

    from customer2vec.data.ingest import ingest

    rows = [("c", 1, "milk", "2024-01-01")] + [
        ("c", 2, item, "2024-01-08") for item in ("milk", "eggs", "tea", "jam")
    ]
    frame = pd.DataFrame(rows, columns=["customer_id", "basket_id", "item_id", "timestamp"])
    frame.to_csv(tmp_path / "trips.csv", index=False)
    corpus = build_baskets(ingest([tmp_path / "trips.csv"], tmp_path / "trips"))
    stats = history_stats(lines_of(corpus, np.array([0])), corpus.n_items)
    names = corpus.item_ids.external[stats["item"]]
    by_item = {name: k for k, name in enumerate(names)}
    milk, eggs = by_item["milk"], by_item["eggs"]
    # The solo trip is one basket old (decay 0.9 slow, 0.6 fast), the shop is the last one.
    assert stats["per_size_slow"][milk] == pytest.approx(0.9 / 1 + 1 / 4)
    assert stats["per_size_fast"][milk] == pytest.approx(0.6 / 1 + 1 / 4)
    assert stats["per_size_slow"][eggs] == pytest.approx(1 / 4)
    assert stats["small_baskets"][milk] == 1
    assert stats["small_baskets"][eggs] == 0


def test_a_model_saved_with_other_features_asks_for_retraining(staples, tmp_path):
    import json

    NextBasket(n_neighbors=5, max_iter=5).fit(staples).save(tmp_path / "nb")
    document = json.loads((tmp_path / "nb" / "model.json").read_text())
    document["state"]["features"] = document["state"]["features"][:-4]
    (tmp_path / "nb" / "model.json").write_text(json.dumps(document))
    with pytest.raises(DataValidationError, match="Train it again"):
        load_model(tmp_path / "nb")


def test_single_basket_customers_are_refused(tmp_path):
    from conftest import ingest_tribes

    dataset = ingest_tribes(tmp_path, baskets_per_customer=1)
    with pytest.raises(ConfigError, match="2 or more baskets"):
        NextBasket().fit(build_baskets(dataset))
