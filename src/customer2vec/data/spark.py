"""The Spark session every Spark path opens: local mode, a cluster master, or Spark Connect.

``--engine spark`` (ingest, corpus queries) and the distributed apply (``recommend-batch``,
``export``, next-basket scoring) all start Spark here, so they agree on the settings:

* ``master`` (``--spark-master``): ``local[*]`` by default, ``local[2]``, ``spark://host:7077``,
  ``yarn``...; when it is not given and ``SPARK_REMOTE`` is set (``sc://host:15002``), the
  session is a Spark Connect client of that server;
* UTC session time zone (dates and timestamps read the same as in DuckDB);
* Arrow transfers between the JVM and pandas (``mapInPandas``, ``toPandas``);
* the web UI off in local mode (tests, laptops).

PySpark is an optional dependency (``pip install 'customer2vec[spark]'``), and Spark needs a
Java runtime (17 or newer); a missing one is a clear error, not a traceback.
"""

from __future__ import annotations

import os
import shutil
from typing import Any

from customer2vec.errors import ConfigError, MissingDependencyError

__all__ = ["DEFAULT_MASTER", "REMOTE_VARIABLE", "spark_session", "stop_spark"]

DEFAULT_MASTER = "local[*]"
#: Spark Connect address (``sc://host:15002``), used when no master is given.
REMOTE_VARIABLE = "SPARK_REMOTE"


def spark_session(
    master: str | None = None,
    *,
    app_name: str = "customer2vec",
    driver_memory: str | None = None,
    config: dict[str, str] | None = None,
) -> Any:
    """Start (or reuse) the Spark session for ``master``; see the module docstring.

    Raises
    ------
    MissingDependencyError
        If PySpark is not installed, or no Java runtime is found for a local session.
    ConfigError
        If ``master`` is empty or Spark refuses to start with it.
    """
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise MissingDependencyError(
            "the Spark engine needs PySpark: pip install 'customer2vec[spark]' "
            "(and a Java 17+ runtime, e.g. apt-get install openjdk-17-jre-headless)."
        ) from err
    remote = os.environ.get(REMOTE_VARIABLE, "").strip()
    if master is not None and not master.strip():
        raise ConfigError("--spark-master is empty; give e.g. local[*], local[2] or yarn.")
    builder = SparkSession.builder.appName(app_name)
    if master is None and remote:
        builder = builder.remote(remote)
    else:
        master = master or DEFAULT_MASTER
        if master.startswith("local") and not _java_found():
            raise MissingDependencyError(
                "Spark needs a Java runtime (17 or newer) and none was found on PATH or in "
                "JAVA_HOME. Install one, e.g. apt-get install openjdk-17-jre-headless."
            )
        builder = builder.master(master)
        if master.startswith("local"):
            builder = builder.config("spark.ui.enabled", "false")
            # Few cores: Spark's default of 200 shuffle partitions is pure overhead.
            builder = builder.config("spark.sql.shuffle.partitions", "8")
        if driver_memory:
            builder = builder.config("spark.driver.memory", driver_memory)
    settings = {
        "spark.sql.session.timeZone": "UTC",
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.ansi.enabled": "false",
        **(config or {}),
    }
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as err:  # Spark raises many unrelated types when it cannot start
        where = f"Spark Connect at {remote}" if master is None and remote else f"master {master}"
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ConfigError(f"Spark did not start with {where} ({first[:300]}).") from err
    if master is not None and master.startswith("local"):
        session.sparkContext.setLogLevel("ERROR")
    return session


def stop_spark() -> None:
    """Stop the active Spark session, if any (tests and one-shot commands)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return
    session = SparkSession.getActiveSession()
    if session is not None:
        session.stop()


def _java_found() -> bool:
    home = os.environ.get("JAVA_HOME")
    if home and os.path.exists(os.path.join(home, "bin", "java")):
        return True
    return shutil.which("java") is not None
