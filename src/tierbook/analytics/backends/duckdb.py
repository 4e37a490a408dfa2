"""DuckDB: the embedded default engine. Connection and engine settings only."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ibis
from ibis.backends.sql.compilers.duckdb import DuckDBCompiler


class _Compiler(DuckDBCompiler):
    """Ibis 12 compiles ``argmax``/``argmin`` for DuckDB as ``first(x ORDER BY key)``, an
    ordered aggregate that buffers every row of a group and cannot spill: the value step
    ran out of memory under ``memory_limit`` at 200k customers. DuckDB's own
    ``arg_max``/``arg_min`` keep one value per group (rows whose key or value is NULL are
    skipped, as ``max``/``min`` skip NULLs)."""

    def visit_ArgMax(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:  # noqa: N802
        return self.agg.arg_max(arg, key, where=where)

    def visit_ArgMin(self, op: Any, *, arg: Any, key: Any, where: Any) -> Any:  # noqa: N802
        return self.agg.arg_min(arg, key, where=where)


_COMPILER = _Compiler()


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
    con = ibis.duckdb.connect(str(database), **config)
    con.compiler = _COMPILER
    con.tierbook_memory_limit = memory_limit  # as given: DuckDB reports it rounded
    con.raw_sql("SET enable_progress_bar = false")  # a session option, not a global one
    return con


@contextmanager
def working_memory(con: Any, limit: str | None) -> Iterator[None]:
    """Run the block with DuckDB's ``memory_limit`` set to ``limit`` (e.g. ``"1GB"``), then
    put the connection's own back. Nothing changes when ``limit`` is None or ``con`` is not
    a DuckDB backend."""
    if not limit or getattr(con, "name", None) != "duckdb":
        yield
        return
    before = (
        getattr(con, "tierbook_memory_limit", None)
        or con.con.execute("SELECT current_setting('memory_limit')").fetchone()[0]
    )
    con.raw_sql(f"SET memory_limit = '{limit}'")
    try:
        yield
    finally:
        con.raw_sql(f"SET memory_limit = '{before}'")


_UNITS = {"bytes": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40}


def memory_limit_bytes(con: Any) -> float | None:
    """DuckDB's ``memory_limit`` in bytes as DuckDB reports it (to 0.1 of its unit, e.g.
    ``213.6 MiB``); None when ``con`` is not a DuckDB backend or the setting is no size."""
    if getattr(con, "name", None) != "duckdb":
        return None
    text = con.con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
    number, _, unit = str(text).partition(" ")
    try:
        return float(number) * _UNITS[unit]
    except (KeyError, ValueError):
        return None


RELEASE_FLOOR = "64MB"
"""The ``memory_limit`` ``release_memory`` sets for a moment."""


def release_memory(con: Any) -> None:
    """Make DuckDB write what it holds in memory but is not using (the validated input
    tables, cached blocks) to ``temp_directory`` and give that memory back, by setting its
    ``memory_limit`` to ``RELEASE_FLOOR`` and back: between engine stages, while Python
    works on the results (after the balance scan of a 2M-customer bank, 0.46 GB of input
    tables would otherwise stay resident beside the ladders' arrays). Later queries read
    the tables back as they need them. Best effort: nothing changes when DuckDB cannot
    evict that far (no temporary directory) or ``con`` is not a DuckDB backend."""
    import duckdb

    try:
        with working_memory(con, RELEASE_FLOOR):
            pass
    except duckdb.Error:
        pass


def materialize(con: Any, expr: Any, name: str) -> Any:
    """Store ``expr`` as a temporary table and return it. (Ibis 12's ``create_table(temp=True)``
    emits SQL that DuckDB 2.0 rejects, hence plain SQL here.)"""
    con.raw_sql(f'CREATE OR REPLACE TEMP TABLE "{name}" AS {con.compile(expr)}')
    return con.table(name)


def drop(con: Any, name: str) -> None:
    con.raw_sql(f'DROP TABLE IF EXISTS "{name}"')


@contextmanager
def stored(con: Any, expr: Any, name: str) -> Iterator[Any]:
    """``expr`` stored as a temporary table for the ``with`` block, then dropped: a query
    too large for the working memory in one piece runs in two, the first's result spilled
    to ``temp_directory`` as it grows (``batch.scan.stream_daily``)."""
    try:
        yield materialize(con, expr, name)
    finally:
        drop(con, name)


def record_batches(con: Any, expr: Any, rows: int = 256_000) -> Any:
    """Stream ``expr``'s result as Arrow record batches. (Ibis 12's ``to_pyarrow_batches``
    calls ``fetch_record_batch``, which DuckDB 2.0 renamed ``to_arrow_reader``.)"""
    for table in _memtables(expr):
        con._register_in_memory_table(table)
    return con.con.sql(con.compile(expr)).to_arrow_reader(rows)


def _memtables(expr: Any) -> list[Any]:
    import ibis.expr.operations as ops

    return list(expr.op().find(ops.InMemoryTable))
