"""The one place that wires settings and engines together."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_MEMORY_LIMIT = "256MB"
"""DuckDB's working memory before it spills to ``temp_directory``: keeps the batch's peak
near 0.7 GB at 200k customers × 365 days at little cost in time (``make bench``)."""


@dataclass(frozen=True)
class EngineSettings:
    engine: str = "duckdb"
    threads: int | None = None
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    temp_directory: Path | None = None
    spark_master: str = "local[2]"
    database_url: str | None = None
    """PostgreSQL: ``postgresql://user@host:port/db``; with ``?schema=S`` the input tables
    are read from schema ``S`` (``--source``), else the validated files are copied in."""
    staging: Path | None = None
    """Spark: where the validated inputs are written as Parquet (a path the cluster reads)."""

    @classmethod
    def from_env(cls, **overrides: Any) -> EngineSettings:
        """Settings from ``TIERBOOK_*`` variables; ``overrides`` (command-line options) win
        where they are not None."""
        env = os.environ.get
        threads, temp, staging = (
            env("TIERBOOK_THREADS"),
            env("TIERBOOK_TEMP_DIR"),
            env("TIERBOOK_SPARK_STAGING"),
        )
        base = cls(
            engine=env("TIERBOOK_ENGINE", "duckdb"),
            threads=int(threads) if threads else None,
            memory_limit=env("TIERBOOK_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            temp_directory=Path(temp) if temp else Path(tempfile.gettempdir()) / "tierbook-duckdb",
            spark_master=env("TIERBOOK_SPARK_MASTER", "local[2]"),
            database_url=env("TIERBOOK_DATABASE_URL"),
            staging=Path(staging) if staging else None,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def connect_engine(settings: EngineSettings | None = None) -> Any:
    """An Ibis backend for the configured engine."""
    from tierbook.analytics.backends.capabilities import capabilities

    s = settings or EngineSettings.from_env()
    capabilities(s.engine)  # an unknown engine fails here, with the known ones listed
    if s.engine == "spark":
        from tierbook.analytics.backends import spark

        return spark.connect(s.spark_master)
    if s.engine == "postgres":
        from tierbook.analytics.backends import postgres

        if not s.database_url:
            raise ValueError(
                "engine postgres needs a database: --database postgresql://user@host/db "
                "(or TIERBOOK_DATABASE_URL)"
            )
        return postgres.connect(s.database_url)
    from tierbook.analytics.backends.duckdb import connect

    return connect(threads=s.threads, memory_limit=s.memory_limit, temp_directory=s.temp_directory)


def open_dataset(data: Path, settings: EngineSettings | None = None, **load: Any) -> Any:
    """Validate ``data`` (always in DuckDB) and put the clean tables on the engine.
    ``load`` goes to ``load_dataset`` (``balances``, ``tables``, ...)."""
    from tierbook.analytics.backends.engine import engine_of, on_engine
    from tierbook.ingest.dataset import load_dataset

    s = settings or EngineSettings.from_env()
    engine = connect_engine(s)
    ingest = (
        engine
        if "ingest" in engine_of(engine).inputs
        else connect_engine(replace(s, engine="duckdb"))
    )
    ds = load_dataset(Path(data), ingest, **load)
    return on_engine(ds, engine, staging=s.staging)
