"""PySpark: a session (local mode or a cluster) and validated inputs read as Parquet."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis

LOCAL = "local[2]"

SESSION_CONFIG: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "1g",
}
"""Every session: no web UI or progress bar, dates in UTC, Arrow between the JVM and Python."""

LOCAL_CONFIG: dict[str, str] = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
}
"""Local mode only: a few shuffle partitions (the default 200 costs seconds on 2 cores)."""


def session(master: str = LOCAL, app_name: str = "tierbook", **config: str) -> Any:
    """A SparkSession on ``master`` (``local[N]`` or a cluster URL such as
    ``spark://host:7077``); ``config`` adds or overrides Spark settings."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.master(master).appName(app_name)
    settings = {**SESSION_CONFIG, **(LOCAL_CONFIG if master.startswith("local") else {})}
    for key, value in {**settings, **config}.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def connect(master: str = LOCAL, **config: str) -> Any:
    """An Ibis PySpark backend on a new (or the running) session."""
    return ibis.pyspark.connect(session(master, **config))


def read_parquet(con: Any, path: Path | str, name: str, schema: Any) -> Any:
    """The Parquet file or folder at ``path`` (which every executor must be able to read) as
    a temporary view ``name`` with the Ibis ``schema`` — given, so Spark does not run a job
    to read the files' footers for it."""
    from ibis.backends.pyspark.datatypes import PySparkSchema

    frame = con._session.read.schema(PySparkSchema.from_ibis(schema)).parquet(str(path))
    frame.createOrReplaceTempView(name)
    return con.table(name)


def stop(con: Any) -> None:
    con._session.stop()
