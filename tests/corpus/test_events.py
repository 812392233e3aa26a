"""Event-log tokens: `event=value` tokens, sessions, chronological documents, customer2vec."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from customer2vec.cli import cli
from customer2vec.corpus import build_documents
from customer2vec.corpus.events import build_event_corpus, event_tokens, ingest_events
from customer2vec.errors import ConfigError, DataValidationError
from customer2vec.models import load_model
from customer2vec.models.customer2vec import Customer2Vec


def small_log() -> pd.DataFrame:
    """Two customers; rows deliberately out of time order."""
    return pd.DataFrame(
        {
            "timestamp": [
                "2024-01-03 09:00",
                "2024-01-01 10:00",
                "2024-01-01 10:05",
                "2024-01-01 10:05",
                "2024-01-01 10:07",
                "2024-01-01 11:00",
                "2024-01-02 08:00",
            ],
            "customer_id": [1, 1, 1, 1, 1, 2, 2],
            "event_type": ["purchase", "visit", "purchase", "coupon", "purchase", "visit", "login"],
            "store": [None, "s1", None, None, None, "s2", None],
            "department": [
                "MEAT",
                None,
                "PRODUCE",
                "DELI",
                "PRODUCE",
                None,
                None,
            ],
        }
    )


def test_each_attribute_of_an_event_is_one_token():
    tokens, catalogue = event_tokens(small_log())
    assert set(tokens["item_id"]) == {
        "visit=s1",
        "purchase=PRODUCE",
        "coupon=DELI",
        "purchase=MEAT",
        "visit=s2",
        "login",
    }
    row = catalogue.set_index("item_id").loc["coupon=DELI"]
    assert (row["event_type"], row["attribute"], row["value"]) == ("coupon", "department", "DELI")
    assert pd.isna(catalogue.set_index("item_id").loc["login", "attribute"])


def test_an_event_type_with_several_attribute_columns_names_the_column():
    log = small_log()
    log.loc[0, "store"] = "s1"  # purchases now fill both store and department
    tokens, _ = event_tokens(log)
    assert {"purchase.store=s1", "purchase.department=MEAT", "visit=s1"} <= set(tokens["item_id"])


def test_documents_are_sessions_in_time_order_with_distinct_tokens():
    corpus = build_event_corpus(small_log())
    documents = build_documents(corpus)
    first = documents.baskets_of(int(corpus.customer_ids.to_internal([1])[0]))
    # 10:00-10:07 is one session (gaps under 30 minutes), 2024-01-03 another.
    assert [sorted(b) for b in first] == [
        ["coupon=DELI", "purchase=PRODUCE", "visit=s1"],
        ["purchase=MEAT"],
    ]
    second = documents.baskets_of(int(corpus.customer_ids.to_internal([2])[0]))
    assert [list(b) for b in second] == [["visit=s2"], ["login"]]
    assert corpus.customer_ids.is_integer  # ids keep their external form


def test_session_gap_and_session_column_decide_the_sessions():
    log = small_log()
    tight = event_tokens(log, session_gap="0s")[0]
    assert tight[tight["customer_id"] == 1]["basket_id"].nunique() == 4
    log["visit_id"] = ["v2", "v1", "v1", "v1", "v3", "v4", "v4"]
    by_column = event_tokens(log, session_col="visit_id")[0]
    assert by_column.groupby("customer_id")["basket_id"].nunique().to_dict() == {1: 3, 2: 1}
    assert "visit_id" not in "".join(by_column["item_id"])


def test_a_chosen_attribute_column_gives_plain_tokens():
    tokens, _ = event_tokens(small_log(), attributes="department")
    assert set(tokens["item_id"]) == {
        "purchase=PRODUCE",
        "coupon=DELI",
        "purchase=MEAT",
        "visit",
        "login",
    }


@pytest.mark.parametrize(
    ("change", "error", "message"),
    [
        ({"event_col": "kind"}, DataValidationError, "column 'kind' is not in the event log"),
        ({"attributes": "aisle"}, DataValidationError, "column 'aisle' is not in the event log"),
        ({"session_gap": "soon"}, ConfigError, "`session_gap` must be a duration"),
    ],
)
def test_bad_options_are_refused(change, error, message):
    with pytest.raises(error, match=message):
        event_tokens(small_log(), **change)


def test_missing_ids_and_times_are_refused():
    log = small_log()
    log.loc[2, "timestamp"] = None
    with pytest.raises(DataValidationError, match="1 events have no time in 'timestamp'"):
        event_tokens(log)
    log = small_log()
    log.loc[3, "customer_id"] = None
    with pytest.raises(DataValidationError, match="1 events have no 'customer_id'"):
        event_tokens(log)


def planted_log(n_per_group: int = 12, n_sessions: int = 6, seed: int = 0) -> pd.DataFrame:
    """Group A visits stores s0/s1 and buys produce; group B visits s2/s3 and buys meat."""
    rng = np.random.default_rng(seed)
    rows = []
    for g, (stores, departments) in enumerate(
        [(["s0", "s1"], ["PRODUCE", "DAIRY", "BAKERY"]), (["s2", "s3"], ["MEAT", "DELI", "FROZEN"])]
    ):
        for c in range(n_per_group):
            customer = f"{'ab'[g]}{c}"
            for s in range(n_sessions):
                start = pd.Timestamp("2024-01-01") + pd.Timedelta(days=3 * s, hours=c % 5)
                rows.append((start, customer, "visit", rng.choice(stores), None))
                for k, department in enumerate(rng.choice(departments, size=2, replace=False)):
                    when = start + pd.Timedelta(minutes=k + 1)
                    rows.append((when, customer, "buy", None, department))
    return pd.DataFrame(rows, columns=["timestamp", "customer_id", "event_type", "store", "dept"])


def test_customer2vec_on_event_tokens_groups_customers_that_behave_alike():
    corpus = build_event_corpus(planted_log())
    model = Customer2Vec(n_factors=16, sample=0.0, n_threads=1, random_state=0).fit(corpus)
    vectors = model.customer_vectors_
    for customer in ("a0", "a5", "b0", "b7"):
        hits = vectors.similar(customer, n=5)
        assert all(other[0] == customer[0] for other in hits.ids), (customer, hits)
    # Shuffled groups: the same check fails, so the test above can fail.
    log = planted_log()
    log["customer_id"] = log["customer_id"].map(
        dict(
            zip(
                sorted(log["customer_id"].unique()),
                np.random.default_rng(3).permutation(sorted(log["customer_id"].unique())),
                strict=True,
            )
        )
    )
    shuffled = Customer2Vec(n_factors=16, sample=0.0, n_threads=1, random_state=0).fit(
        build_event_corpus(log)
    )
    same = [
        np.mean([o[0] == c[0] for o in shuffled.customer_vectors_.similar(c, n=5).ids])
        for c in ("a0", "a5", "b0", "b7")
    ]
    assert np.mean(same) < 1.0


def test_ingest_events_then_train_from_the_command_line(tmp_path):
    planted_log().to_parquet(tmp_path / "events.parquet", index=False)
    runner = CliRunner()
    result = runner.invoke(
        cli,
        [
            "-q",
            "ingest-events",
            str(tmp_path / "events.parquet"),
            "--out",
            str(tmp_path / "ds"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"customers": 24' in result.stdout
    result = runner.invoke(
        cli,
        [
            "-q",
            "train",
            str(tmp_path / "ds"),
            "--model",
            "customer2vec",
            "--out",
            str(tmp_path / "m"),
            "--param",
            "n_factors=16",
            "--param",
            "sample=0",
            "--param",
            "n_threads=1",
        ],
    )
    assert result.exit_code == 0, result.output
    model = load_model(tmp_path / "m")
    assert "visit=s0" in model.item_vectors_ and "a3" in model.customer_vectors_
    result = runner.invoke(cli, ["ingest-events", str(tmp_path / "missing.csv"), "--out", "x"])
    assert result.exit_code == 1 and "error: event log not found" in result.output


def test_ingest_events_writes_a_token_catalogue(tmp_path):
    dataset = ingest_events(small_log(), tmp_path / "ds")
    items = dataset.read("items")
    assert set(items.columns) >= {"item_id", "event_type", "attribute", "value"}
    assert dataset.info["customers"] == 2 and dataset.info["items"] == 6
