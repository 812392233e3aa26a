"""The customer sample: about the asked share, deterministic, the same on DuckDB and in Python."""

from __future__ import annotations

import numpy as np
import pytest

from conftest import ingest_tribes
from customer2vec.corpus.baskets import build_baskets
from customer2vec.corpus.sample import CustomerSample
from customer2vec.data.engine import DuckDBEngine
from customer2vec.errors import ConfigError


def test_sample_selects_about_the_share_and_is_deterministic() -> None:
    ids = np.arange(20_000)
    for fraction in (0.05, 0.1, 0.5):
        chosen = CustomerSample(fraction, seed=3).contains(ids)
        assert abs(chosen.mean() - fraction) < 0.015
        assert np.array_equal(chosen, CustomerSample(fraction, seed=3).contains(ids[::-1])[::-1])
    other = CustomerSample(0.5, seed=4).contains(ids)
    assert not np.array_equal(other, CustomerSample(0.5, seed=3).contains(ids))
    small = CustomerSample(0.1, seed=3).contains(ids)
    assert not (small & ~CustomerSample(0.5, seed=3).contains(ids)).any()  # nested by share
    assert CustomerSample(1.0).contains(["a", "b"]).all()


@pytest.mark.parametrize("ids", [np.arange(3000), np.array([f"C-{i:05d}" for i in range(3000)])])
def test_sql_and_python_choose_the_same_customers(ids) -> None:
    sample = CustomerSample(0.3, seed=7)
    engine = DuckDBEngine(memory_limit=None, threads=1)
    try:
        kind = "BIGINT" if ids.dtype.kind == "i" else "VARCHAR"
        values = ", ".join(f"({i})" if kind == "BIGINT" else f"('{i}')" for i in ids)
        engine.execute(
            f"CREATE TABLE t AS SELECT CAST(v AS {kind}) AS customer_id "
            f"FROM (VALUES {values}) AS x(v)"
        )
        table = engine.arrow(f"SELECT customer_id, {sample.sql('customer_id')} AS chosen FROM t")
    finally:
        engine.close()
    by_sql = dict(zip(table["customer_id"].to_pylist(), table["chosen"].to_pylist(), strict=True))
    by_python = sample.contains(ids)
    assert [by_sql[i.item() if hasattr(i, "item") else i] for i in ids] == by_python.tolist()


def test_sampled_corpus_keeps_the_full_vocabulary(tmp_path) -> None:
    dataset = ingest_tribes(tmp_path, customers_per_group=40)
    full = build_baskets(dataset)
    sample = CustomerSample(0.25, seed=1)
    part = build_baskets(dataset, sample=sample)
    expected = full.customer_ids.external[sample.contains(full.customer_ids.external)]
    assert part.customer_ids.external.tolist() == expected.tolist()
    assert 5 < part.n_customers < 35
    assert np.array_equal(part.item_ids.external, full.item_ids.external)
    assert np.array_equal(part.item_counts, full.item_counts)
    assert part.dropped["duplicates"] == 0 and part.dropped["customers"] == 0
    rows = full.customer_ids.to_internal(part.customer_ids.external)
    assert part.n_baskets == int(np.diff(full.customer_indptr)[rows].sum())


@pytest.mark.parametrize("fraction", [0, -0.1, 1.5, float("nan")])
def test_bad_fractions_are_refused(fraction) -> None:
    with pytest.raises(ConfigError, match="--sample"):
        CustomerSample(fraction)
