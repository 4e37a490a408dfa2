"""What differs between the engines, in one table. Code asks this table; nothing else
branches on the engine's name.

The Ibis expressions of ``tierbook.analytics`` are the same on every engine; where an engine
lacked a construct the expressions use a portable one (noted in ``portability``), so the
entries here are about *where the data is* and *how results come back*, not about SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Streaming = Literal["duckdb_reader", "server_cursor", "collect"]
Inputs = Literal["ingest", "copy", "schema", "parquet"]


@dataclass(frozen=True)
class Capabilities:
    engine: str
    streaming: Streaming
    """How customer sums come back: DuckDB's Arrow relation reader; a PostgreSQL server-side
    cursor read in chunks (Ibis ``to_pyarrow_batches``); Spark collects the (small,
    aggregated) result to the driver through Arrow, then hands it out in batches."""
    inputs: tuple[Inputs, ...]
    """Where the validated input tables come from: the ingest's own DuckDB relations; COPY of
    the validated rows into the database; tables already in a database schema
    (``--source``); Parquet files read by the engine itself (the cluster reads the paths)."""
    small_tables: str
    """How the validated small tables (customers, accounts, staff, ...) reach the engine."""
    date_difference: str
    """How ``date.delta(unit="day")`` compiles (Ibis does it; recorded for readers of SQL)."""
    integer_division: str
    portability: str
    """Constructs the shared expressions avoid or spell portably because of this engine."""
    checks_in_scan: bool
    """The batch's aggregation scan also makes the row checks of the daily balances (one read
    of the largest table instead of two, ``load_dataset(defer_checks=True)``); otherwise the
    ingest checks every row before the tables move to the engine."""
    session_start_s: float
    """Fixed cost to open the engine, measured on the 2-core machine (FACTS.md, tests)."""


CAPABILITIES: dict[str, Capabilities] = {
    "duckdb": Capabilities(
        engine="duckdb",
        streaming="duckdb_reader",
        inputs=("ingest",),
        small_tables="already there: the ingest validates in DuckDB",
        date_difference="date_diff('day', a, b)",
        integer_division="SQL / on integers is float, // floors (Ibis / is float everywhere)",
        portability="none: the reference engine",
        checks_in_scan=True,
        session_start_s=0.4,
    ),
    "postgres": Capabilities(
        engine="postgres",
        streaming="server_cursor",
        inputs=("copy", "schema"),
        small_tables="COPY of the validated rows into temporary tables of the session",
        date_difference="epoch of the timestamp difference / 86400",
        integer_division="SQL / on integers truncates (Ibis casts to float first)",
        portability="no int << bigint: the day bit is 1 << (day number mod 31), an INTEGER "
        "on every engine; arrays are 1-based (Ibis shifts the look-up index)",
        checks_in_scan=False,
        session_start_s=0.1,
    ),
    "spark": Capabilities(
        engine="spark",
        streaming="collect",
        inputs=("parquet",),
        small_tables="written as Parquet by DuckDB under the staging folder, read by Spark",
        date_difference="timestampdiff(DAY, a, b)",
        integer_division="SQL / is float, div truncates",
        portability="element_at needs an INT index: day numbers cast to int32",
        checks_in_scan=False,
        session_start_s=6.0,
    ),
}

ENGINES: tuple[str, ...] = tuple(CAPABILITIES)


def capabilities(engine: str) -> Capabilities:
    try:
        return CAPABILITIES[engine]
    except KeyError:
        raise ValueError(
            f"engine {engine!r} is not known; use one of {', '.join(ENGINES)}"
        ) from None


def capability_table() -> str:
    """The table as Markdown (``docs/engines.md`` holds it; a test keeps the two equal)."""
    fields = [
        ("streaming", "results come back by"),
        ("inputs", "validated inputs reach it by"),
        ("small_tables", "small tables"),
        ("date_difference", "days between dates"),
        ("integer_division", "integer division"),
        ("portability", "what the shared expressions spell portably for it"),
        ("checks_in_scan", "balance row checks in the batch's scan"),
        ("session_start_s", "start-up (s)"),
    ]
    head = "| | " + " | ".join(ENGINES) + " |"
    rule = "|---" * (len(ENGINES) + 1) + "|"
    rows = []
    for attr, label in fields:
        cells = []
        for engine in ENGINES:
            value = getattr(CAPABILITIES[engine], attr)
            cells.append(", ".join(value) if isinstance(value, tuple) else str(value))
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule, *rows])
