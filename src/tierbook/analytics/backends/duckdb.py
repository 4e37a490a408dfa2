"""DuckDB: the embedded default engine. Connection and engine settings only."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import ibis


def connect(
    database: str | Path = ":memory:",
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    temp_directory: str | Path | None = None,
) -> Any:
    """An Ibis DuckDB backend. ``memory_limit`` (e.g. ``"400MB"``) makes DuckDB spill to
    ``temp_directory`` rather than grow; defaults come from ``TIERBOOK_DUCKDB_*``."""
    config: dict[str, Any] = {}
    threads = threads or _env_int("TIERBOOK_DUCKDB_THREADS")
    memory_limit = memory_limit or os.environ.get("TIERBOOK_DUCKDB_MEMORY_LIMIT")
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_directory:
        config["temp_directory"] = str(temp_directory)
    config["preserve_insertion_order"] = False
    return ibis.duckdb.connect(str(database), **config)


def _env_int(name: str) -> int | None:
    value = os.environ.get(name)
    return int(value) if value else None
