"""The one place that wires settings and engines together."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

DEFAULT_MEMORY_LIMIT = "224MB"
"""DuckDB's working memory before it spills to ``temp_directory``: the batch's scan uses
all of it, so it sets the peak (200k customers × 365 days: under 500 MB, where 256MB gave
510–520 MB on the event form, at no measurable cost in time; 1M: the same 30 s, ``make
bench`` and ``docs/scaling.md``)."""

DEFAULT_ANALYSIS_MEMORY_LIMIT = "1GB"
"""DuckDB's working memory for the analyses of a full run (churn's monthly flows: the
year's transactions by customer, month, counterparty and direction ran out of 224MB at 2M
customers). The value step, which used it too, now runs under ``TIERBOOK_MEMORY_LIMIT``: its
per-customer windows over the year's days go in blocks of customers sized from that limit
(``docs/scaling.md``)."""


@dataclass(frozen=True)
class EngineSettings:
    engine: str = "duckdb"
    threads: int | None = None
    memory_limit: str | None = DEFAULT_MEMORY_LIMIT
    analysis_memory_limit: str | None = DEFAULT_ANALYSIS_MEMORY_LIMIT
    temp_directory: Path | None = None
    spark_master: str = "local[2]"
    database_url: str | None = None
    """PostgreSQL (``--database postgresql://user@host:port/db``): the validated files are
    copied into temporary tables of the session."""
    source: str | None = None
    """PostgreSQL holding the input tables (``--source postgresql://…/db?schema=S``)."""
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
            analysis_memory_limit=env(
                "TIERBOOK_ANALYSIS_MEMORY_LIMIT", DEFAULT_ANALYSIS_MEMORY_LIMIT
            ),
            temp_directory=Path(temp) if temp else Path(tempfile.gettempdir()) / "tierbook-duckdb",
            spark_master=env("TIERBOOK_SPARK_MASTER", "local[2]"),
            database_url=env("TIERBOOK_ENGINE_URL"),
            source=env("TIERBOOK_SOURCE"),
            staging=Path(staging) if staging else None,
        )
        return replace(base, **{k: v for k, v in overrides.items() if v is not None})


def connect_engine(settings: EngineSettings | None = None) -> Any:
    """An Ibis backend for the configured engine."""
    from tierbook.analytics.backends.capabilities import capabilities

    s = settings or EngineSettings.from_env()
    capabilities(s.engine)  # an unknown engine fails here, with the known ones listed
    if s.engine == "spark":
        _needs("pyspark", "spark")
        from tierbook.analytics.backends import spark

        return spark.connect(s.spark_master)
    if s.engine == "postgres":
        _needs("psycopg", "postgres")
        from tierbook.analytics.backends import postgres

        if not s.database_url:
            raise ValueError(
                "engine postgres needs a database: --database postgresql://user@host/db "
                "(or TIERBOOK_ENGINE_URL)"
            )
        return postgres.connect(s.database_url)
    from tierbook.analytics.backends.duckdb import connect

    return connect(threads=s.threads, memory_limit=s.memory_limit, temp_directory=s.temp_directory)


def open_store(url: str | None = None) -> Any:
    """The operational store named by ``url`` or ``TIERBOOK_DATABASE_URL`` (default: the SQLite
    file ``tierbook.db`` in the working directory), with the cipher keyed by
    ``TIERBOOK_SECRET_KEY``. Returns a ``tierbook.store.db.Store``; raises
    ``tierbook.store.settings.SettingsError`` for unusable settings."""
    from tierbook.store.crypto import FieldCipher
    from tierbook.store.db import Store, make_engine, session_factory
    from tierbook.store.settings import load_settings

    settings = load_settings()
    target = url or settings.database_url
    engine = make_engine(target)
    return Store(target, engine, session_factory(engine), FieldCipher(settings.key()))


def database_url(url: str | None = None) -> str:
    from tierbook.store.settings import load_settings

    return url or load_settings().database_url


def _needs(module: str, extra: str) -> None:
    import importlib.util

    if importlib.util.find_spec(module) is None:
        raise ValueError(f"engine {extra} is not installed: pip install 'tierbook[{extra}]'")


def open_dataset(data: Path | None, settings: EngineSettings | None = None, **load: Any) -> Any:
    """Validate the inputs (always in DuckDB) and put the clean tables on the engine.

    ``data`` is a folder of files; with ``settings.source`` the inputs are the tables of a
    PostgreSQL schema instead (the small ones are validated by the ingest, the large ones
    checked where they are). ``load`` goes to ``load_dataset`` (``balances``, ``tables``)."""
    from tierbook.analytics.backends.engine import engine_of, on_engine
    from tierbook.ingest.dataset import load_dataset

    s = settings or EngineSettings.from_env()
    if s.source:
        s = replace(s, engine="postgres", database_url=s.source)
    elif s.database_url and s.engine == "duckdb":
        s = replace(s, engine="postgres")
    engine = connect_engine(s)
    ingest = (
        engine
        if "ingest" in engine_of(engine).inputs
        else connect_engine(replace(s, engine="duckdb"))
    )
    if not s.source:
        if data is None:
            raise ValueError("no inputs: give --data DIR or --source postgresql://…?schema=S")
        if engine_of(engine).checks_in_scan:
            load.setdefault("defer_checks", True)
        return on_engine(load_dataset(Path(data), ingest, **load), engine, staging=s.staging)
    from tierbook.analytics.backends import postgres

    schema = postgres.schema_of(s.source) or "public"
    export = Path(tempfile.mkdtemp(prefix="tierbook-source-"))
    try:  # the small tables are materialised by the ingest: their export can go at once
        ds = load_dataset(postgres.export_small(engine, schema, export), ingest, **load)
    finally:
        shutil.rmtree(export, ignore_errors=True)
    return on_engine(ds, engine, schema=schema)


def close_dataset(ds: Any) -> None:
    """Remove what putting ``ds`` on its engine left behind (Spark's staged Parquet)."""
    close = getattr(ds, "close", None)
    if close is not None:
        close()
