"""DuckDB: the embedded default engine. Connection and engine settings only."""

from __future__ import annotations

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
    ``temp_directory`` rather than grow."""
    config: dict[str, Any] = {"preserve_insertion_order": False}
    if threads:
        config["threads"] = threads
    if memory_limit:
        config["memory_limit"] = memory_limit
    if temp_directory:
        config["temp_directory"] = str(temp_directory)
    return ibis.duckdb.connect(str(database), **config)
