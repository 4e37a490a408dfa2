"""The per-run tables of a publish (customer snapshots, tier snapshots with their class
averages, tier changes, the AUM history, holdings, the birthday list), shaped by one DuckDB
query each and handed to the store a chunk of rows at a time.

A query reads the run's table where it is: a frame in memory (``tierbook run --publish``)
or the run's Parquet file in ``out/`` (a saved run, read by DuckDB as it goes, never loaded
whole). The JSON columns are built by the query (``json_object``), so no Python object is
made per row, and at most one chunk of rows (``chunk`` rows, as Arrow) is held at a time;
the aggregation of the history (one JSON object per customer and ladder) is DuckDB's, within
its memory limit (it spills to its temporary directory beyond it).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
from sqlalchemy import Boolean, Connection, Date, Integer, Numeric, SmallInteger, String, Text
from sqlalchemy import Table as SqlTable

from tierbook.rules.models import AssetClass
from tierbook.store.base import table_of
from tierbook.store.bulk import insert_batches
from tierbook.store.models import (
    AumHistory,
    BirthdayEntry,
    CustomerSnapshot,
    Holding,
    TierChange,
    TierSnapshot,
)

Source = pd.DataFrame | Path
"""A run table: a frame, or a Parquet file holding it."""

CHUNK = 100_000
RESULT_TABLES = ("customers", "tiers", "history", "changes", "birthday_list")
"""The run's tables only the per-run tables read (with the holdings of the master data)."""
CLASSES = tuple(c.value for c in AssetClass)
TIER_COLUMNS = ["customer_id", "ladder_id", "level", "level_index", "measure", "period"]
TIER_COLUMNS += ["level_min", "next_level", "gap_to_next", "step", "below_run"]


@dataclass(frozen=True)
class DuckSettings:
    """The DuckDB of a publish: ``TIERBOOK_PUBLISH_MEMORY_LIMIT`` (1GB), ``TIERBOOK_THREADS``
    (2), ``TIERBOOK_TEMP_DIR`` (where it spills)."""

    memory_limit: str = "1GB"
    threads: int = 2
    temp_directory: Path = Path(tempfile.gettempdir()) / "tierbook-duckdb"

    @classmethod
    def from_env(cls) -> DuckSettings:
        env = os.environ.get
        temp, threads = env("TIERBOOK_TEMP_DIR"), env("TIERBOOK_THREADS")
        return cls(
            memory_limit=env("TIERBOOK_PUBLISH_MEMORY_LIMIT", cls.memory_limit),
            threads=int(threads) if threads else cls.threads,
            temp_directory=Path(temp) if temp else cls.temp_directory,
        )


@contextmanager
def duck(settings: DuckSettings | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    s = settings or DuckSettings.from_env()
    con = duckdb.connect(
        config={
            "memory_limit": s.memory_limit,
            "threads": s.threads,
            "temp_directory": str(s.temp_directory),
            "preserve_insertion_order": False,
        }
    )
    try:
        yield con
    finally:
        con.close()


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _cast(table: SqlTable, name: str) -> str:
    """The column ``name`` of the source as the store's column type wants it."""
    col_type = table.c[name].type
    col = _ident(name)
    if isinstance(col_type, Date):
        return f"CAST({col} AS DATE) AS {col}"
    if isinstance(col_type, String | Text):
        return f"CAST({col} AS VARCHAR) AS {col}"
    if isinstance(col_type, Numeric):
        return f"CAST({col} AS DOUBLE) AS {col}"
    if isinstance(col_type, SmallInteger | Integer):
        return f"CAST({col} AS BIGINT) AS {col}"
    if isinstance(col_type, Boolean):
        return f"CAST({col} AS BOOLEAN) AS {col}"
    return col


def _plain_sql(table: SqlTable, columns: list[str], run_no: int) -> str:
    cols = ", ".join(_cast(table, c) for c in columns)
    return f"SELECT {int(run_no)} AS run_no, {cols} FROM src"


def _number(expr: str) -> str:
    """A money value rounded to cents (half to even) for JSON; NaN as null."""
    return f"CASE WHEN isnan({expr}) THEN NULL ELSE round_even({expr}, 2) END"


def tier_snapshots_sql(source_columns: list[str], run_no: int) -> str:
    """Tier rows with the per-class averages as one JSON object per row
    (``{"deposit": 1234.5, …}``, in the asset classes' order)."""
    table = table_of(TierSnapshot)
    present = [c for c in CLASSES if f"avg_{c}" in source_columns]
    pairs = [f"'{c}', " + _number("CAST(" + _ident(f"avg_{c}") + " AS DOUBLE)") for c in present]
    averages = f"CAST(json_object({', '.join(pairs)}) AS VARCHAR)" if pairs else "'{}'"
    cols = ", ".join(_cast(table, c) for c in TIER_COLUMNS)
    return f"SELECT {int(run_no)} AS run_no, {cols}, {averages} AS class_averages FROM src"


def aum_history_sql(run_no: int) -> str:
    """The long history (customer × ladder × review month) folded into one JSON object of
    parallel lists per customer and ladder, oldest first::

        {"period_end": ["2025-01-31", …], "measure": [24538.81, …], "level": ["普通", …],
         "level_index": [0, …], "step": ["initial", …]}

    Each group's rows are gathered as one list of structs sorted by their first field, the
    period end (an ordered aggregate, ``list(… ORDER BY …)``, costs twice the CPU)."""
    fields = {
        "period_end": ("p", "CAST(period_end AS DATE)"),
        "measure": ("m", _number("CAST(measure AS DOUBLE)")),
        "level": ("l", "CAST(level AS VARCHAR)"),
        "level_index": ("i", "CAST(level_index AS BIGINT)"),
        "step": ("s", "CAST(step AS VARCHAR)"),
    }
    struct = ", ".join(f"'{key}': {expr}" for key, expr in fields.values())
    lists = ", ".join(
        f"'{name}', list_transform(r, lambda x: "
        + ("strftime(x.p, '%Y-%m-%d')" if key == "p" else f"x.{key}")
        + ")"
        for name, (key, _expr) in fields.items()
    )
    return (
        "WITH g AS (SELECT CAST(customer_id AS VARCHAR) AS customer_id, "
        "CAST(ladder_id AS VARCHAR) AS ladder_id, "
        f"list_sort(list({{{struct}}})) AS r FROM src GROUP BY ALL) "
        f"SELECT {int(run_no)} AS run_no, customer_id, ladder_id, "
        f"CAST(json_object({lists}) AS VARCHAR) AS periods FROM g"
    )


SNAPSHOT_COLUMNS = ["customer_id", "branch_id", "ytd_avg", "year_avg", "rolling_365_avg"]
SNAPSHOT_COLUMNS += ["month_avg", "loan_ytd_avg"]
CHANGE_COLUMNS = ["customer_id", "ladder_id", "date", "direction", "from_level", "to_level"]
CHANGE_COLUMNS += ["measure"]
BIRTHDAY_COLUMNS = ["customer_id", "list_month", "branch_id", "band", "aum", "birthday"]
HOLDING_COLUMNS = ["account_id", "customer_id", "product_type", "product_name", "open_date"]
HOLDING_COLUMNS += ["maturity_date", "close_date", "balance"]


def _columns(source: Source) -> list[str]:
    if isinstance(source, pd.DataFrame):
        return [str(c) for c in source.columns]
    import pyarrow.parquet as pq

    return list(pq.read_schema(source).names)


def _relation(con: duckdb.DuckDBPyConnection, source: Source) -> duckdb.DuckDBPyRelation:
    if isinstance(source, pd.DataFrame):
        return con.from_df(source)
    return con.read_parquet(str(source))


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def customer_snapshots_sql(run_no: int, tier_ladder: str, band_ladder: str | None) -> str:
    """The run's averages per customer (``src``) with the book's columns: the level, index,
    measure and step of its row on the tier ladder and the level and step of its row on the
    band ladder (both from ``tiers``; no band ladder: empty)."""
    base = _plain_sql(table_of(CustomerSnapshot), SNAPSHOT_COLUMNS, run_no)
    band = _text(band_ladder) if band_ladder is not None else "NULL"
    return (
        "SELECT base.*, CAST(t.level AS VARCHAR) AS tier_level,"
        " CAST(t.level_index AS BIGINT) AS tier_level_index,"
        " CAST(t.measure AS DOUBLE) AS tier_measure, CAST(t.step AS VARCHAR) AS tier_step,"
        " CAST(b.level AS VARCHAR) AS band_level, CAST(b.step AS VARCHAR) AS band_step"
        f" FROM ({base}) base"
        " LEFT JOIN tiers t ON CAST(t.customer_id AS VARCHAR) = base.customer_id"
        f" AND CAST(t.ladder_id AS VARCHAR) = {_text(tier_ladder)}"
        " LEFT JOIN tiers b ON CAST(b.customer_id AS VARCHAR) = base.customer_id"
        f" AND CAST(b.ladder_id AS VARCHAR) = {band}"
    )


def queries(
    sources: Mapping[str, Source], run_no: int, ladders: tuple[str, str | None]
) -> dict[SqlTable, tuple[Source, str]]:
    """Each per-run table with the run table it reads and the query shaping it (over the
    relation ``src``; the customer snapshots also read ``tiers``). ``ladders``: the tier
    ladder and the band ladder of the book (``tierbook.store.frames``)."""
    plain = {
        TierChange: ("changes", CHANGE_COLUMNS),
        Holding: ("holdings", HOLDING_COLUMNS),
        BirthdayEntry: ("birthday_list", BIRTHDAY_COLUMNS),
    }
    out: dict[SqlTable, tuple[Source, str]] = {}
    for model, (name, columns) in plain.items():
        table = table_of(model)
        out[table] = (sources[name], _plain_sql(table, columns, run_no))
    tiers = sources["tiers"]
    out[table_of(CustomerSnapshot)] = (
        sources["customers"],
        customer_snapshots_sql(run_no, *ladders),
    )
    out[table_of(TierSnapshot)] = (tiers, tier_snapshots_sql(_columns(tiers), run_no))
    out[table_of(AumHistory)] = (sources["history"], aum_history_sql(run_no))
    return out


def batches(
    con: duckdb.DuckDBPyConnection,
    source: Source,
    sql: str,
    chunk: int = CHUNK,
    views: Mapping[str, Source] | None = None,
) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` over ``source`` (as ``src``; ``views``: more run tables by
    name), ``chunk`` rows at a time (on a cursor of its own, closed when the caller stops
    early)."""
    cur = con.cursor()
    try:
        for name, other in (views or {}).items():
            _relation(cur, other).create_view(name)
        reader = _relation(cur, source).query("src", sql).to_arrow_reader(chunk)
        try:
            for batch in reader:
                if batch.num_rows:
                    yield batch
        finally:
            reader.close()
    finally:
        cur.close()


def write_per_run(
    conn: Connection,
    sources: Mapping[str, Source],
    run_no: int,
    ladders: tuple[str, str | None],
    *,
    chunk: int = CHUNK,
    settings: DuckSettings | None = None,
) -> dict[str, int]:
    """Insert every per-run table of the run ``run_no`` (inside the caller's transaction);
    returns the rows written per table. ``ladders``: the book's tier and band ladders."""
    rows: dict[str, int] = {}
    views = {"tiers": sources["tiers"]}
    with duck(settings) as con:
        for table, (source, sql) in queries(sources, run_no, ladders).items():
            with closing(batches(con, source, sql, chunk, views)) as chunks:
                rows[table.name] = insert_batches(conn, table, chunks)
    return rows
