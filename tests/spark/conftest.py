"""One local Spark session (local[2]) for every Spark test; skipped without PySpark or Java."""

from __future__ import annotations

import os
import shutil
import sys
import warnings

import pytest


@pytest.fixture(scope="session")
def spark():
    pytest.importorskip("pyspark")
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        pytest.skip("Spark needs a Java runtime (17+)")
    from customer2vec.data.spark import spark_session, stop_spark

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    warnings.filterwarnings("ignore", "PySpark does not yet fully support", FutureWarning)
    session = spark_session("local[2]", config={"spark.ui.showConsoleProgress": "false"})
    # Small Arrow batches: customers are split across the batches a task receives.
    session.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "7")
    yield session
    stop_spark()
