"""One Spark session (local[2]) for every Spark test of a test process, and parity checks.

Spark needs PySpark and Java 17+. Without them these tests skip, unless
``CUSTOMER2VEC_REQUIRE_SPARK=1`` (CI installs Java with scripts/ci-java.sh) makes a missing
runtime fail them.
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
import pytest

from customer2vec.errors import MissingDependencyError

MASTER = "local[2]"


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    """The shared session; stopped when the test process ends."""
    from customer2vec.data.spark import spark_session, stop_spark

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    try:
        session = spark_session(
            MASTER,
            config={"spark.sql.shuffle.partitions": "4", "spark.ui.showConsoleProgress": "false"},
        )
    except MissingDependencyError as err:
        if os.environ.get("CUSTOMER2VEC_REQUIRE_SPARK"):
            raise
        pytest.skip(str(err))
    # Small Arrow batches: customers are split across the batches a task receives.
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
    yield session
    stop_spark()


def assert_same_dataset(a: Any, b: Any) -> None:
    """Same dataset.json (but the creation time and the file-byte fingerprint) and tables
    with the same rows, in the same order, with the same types."""
    skip = {"created", "fingerprint", "customer2vec_version"}
    assert {k: v for k, v in a.meta.items() if k not in skip} == {
        k: v for k, v in b.meta.items() if k not in skip
    }
    for table in a.meta["tables"]:
        pd.testing.assert_frame_equal(a.read(table), b.read(table), check_exact=True)


def assert_same_corpus(a: Any, b: Any) -> None:
    """Two basket corpora are identical: vocabulary, customers, CSR, per-basket arrays."""
    for name in ("indptr", "indices", "basket_customer", "basket_sequence", "item_counts"):
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert (a.basket_time is None) == (b.basket_time is None)
    if a.basket_time is not None:
        assert np.array_equal(a.basket_time, b.basket_time)
    assert np.array_equal(a.item_ids.external, b.item_ids.external)
    assert a.item_ids.external.dtype == b.item_ids.external.dtype
    assert np.array_equal(a.customer_ids.external, b.customer_ids.external)
    assert a.dropped == b.dropped
