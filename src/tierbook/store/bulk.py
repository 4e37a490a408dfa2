"""Bulk writes of whole frames inside the caller's transaction: COPY on PostgreSQL, one
``executemany`` on SQLite. Never a statement per row from Python."""

from __future__ import annotations

import io
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Boolean, Connection, Date, DateTime, Table, bindparam, update
from sqlalchemy.types import JSON, TypeDecorator

COPY_CHUNK = 200_000


def _plain(value: Any) -> Any:
    """A value the drivers take as is: None for NaN/NaT, Python scalars, ``date`` for days."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def records(frame: pd.DataFrame, table: Table) -> list[dict[str, Any]]:
    """Rows of ``frame`` (columns named as the table's) as driver-ready dicts."""
    cols = list(frame.columns)
    out = frame.astype(object).where(frame.notna(), None)
    date_cols = [c for c in cols if isinstance(table.c[c].type, Date)]
    rows = [dict(zip(cols, map(_plain, r), strict=True)) for r in out.itertuples(index=False)]
    for c in date_cols:
        for row in rows:
            v = row[c]
            if isinstance(v, datetime):
                row[c] = v.date()
    return rows


def insert_frame(conn: Connection, table: Table, frame: pd.DataFrame) -> int:
    """Insert every row of ``frame``; returns the row count."""
    if frame.empty:
        return 0
    if conn.dialect.name == "postgresql":
        _copy(conn, table, frame)
    else:
        _executemany(conn, table, frame)
    return len(frame)


def _executemany(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """One driver-level executemany of positional rows built column by column (SQLite stores
    days as ISO text, booleans as 0/1, JSON as text, as SQLAlchemy would)."""
    cols = list(frame.columns)
    values = [_sqlite_column(frame[c], table.c[c].type) for c in cols]
    names = ", ".join(f'"{c}"' for c in cols)
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({", ".join("?" * len(cols))})'
    for start in range(0, len(frame), COPY_CHUNK):
        part = [v[start : start + COPY_CHUNK] for v in values]
        conn.exec_driver_sql(sql, list(zip(*part, strict=True)))


def _json_text(value: Any) -> str:
    """JSON text of a value; a ``str`` is taken as JSON already serialised."""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _sqlite_column(series: pd.Series, col_type: Any) -> list[Any]:
    if isinstance(col_type, TypeDecorator):
        col_type = col_type.impl
    present = series.notna().to_numpy()
    out: list[Any]
    if isinstance(col_type, JSON):
        out = [_json_text(v) for v in series.tolist()]
    elif isinstance(col_type, Date | DateTime):
        fmt = "%Y-%m-%d" if isinstance(col_type, Date) else "%Y-%m-%d %H:%M:%S.%f"
        out = pd.to_datetime(series).dt.strftime(fmt).tolist()
    elif isinstance(col_type, Boolean):
        out = [1 if v else 0 for v in series.tolist()]
    else:
        out = [_plain(v) for v in series.tolist()] if series.dtype == object else series.tolist()
    return [v if ok else None for v, ok in zip(out, present, strict=True)]


def _copy(conn: Connection, table: Table, frame: pd.DataFrame) -> None:
    """COPY … FROM STDIN (CSV written by Arrow) through the connection's own psycopg cursor,
    so the rows are part of the open transaction; ``COPY_CHUNK`` rows converted at a time."""
    _copy_batches(conn, table, _arrow_chunks(table, frame))


def _arrow_chunks(table: Table, frame: pd.DataFrame) -> Iterator[pa.RecordBatch]:
    for start in range(0, len(frame), COPY_CHUNK):
        text = frame.iloc[start : start + COPY_CHUNK].copy()
        for c in text.columns:
            col_type = table.c[c].type
            if isinstance(col_type, TypeDecorator):
                col_type = col_type.impl
            if isinstance(col_type, JSON):
                text[c] = [None if v is None else _json_text(v) for v in text[c]]
            elif isinstance(col_type, Date) and pd.api.types.is_datetime64_any_dtype(text[c]):
                text[c] = text[c].dt.strftime("%Y-%m-%d")
            elif isinstance(col_type, DateTime) and pd.api.types.is_datetime64_any_dtype(text[c]):
                text[c] = text[c].dt.strftime("%Y-%m-%d %H:%M:%S.%f%z")
        yield from pa.Table.from_pandas(text, preserve_index=False).to_batches()


def insert_batches(conn: Connection, table: Table, batches: Iterable[pa.RecordBatch]) -> int:
    """Insert the rows of Arrow record batches (columns named as the table's), one batch at
    a time: on PostgreSQL one COPY fed batch by batch (each written as CSV by Arrow), on
    SQLite one ``executemany`` per batch (days as ISO text). Returns the row count."""
    if conn.dialect.name == "postgresql":
        return _copy_batches(conn, table, batches)
    written = 0
    for batch in batches:
        names = ", ".join(f'"{c}"' for c in batch.schema.names)
        marks = ", ".join("?" * batch.num_columns)
        sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        columns = [_sqlite_arrow(col) for col in batch.columns]
        conn.exec_driver_sql(sql, list(zip(*columns, strict=True)))
        written += batch.num_rows
    return written


def _sqlite_arrow(column: pa.Array) -> list[Any]:
    if pa.types.is_date(column.type) or pa.types.is_timestamp(column.type):
        column = pc.cast(column, pa.string())
    return column.to_pylist()


def _copy_batches(conn: Connection, table: Table, batches: Iterable[pa.RecordBatch]) -> int:
    rest = iter(batches)
    first = next(rest, None)
    if first is None:
        return 0
    names = ", ".join(f'"{c}"' for c in first.schema.names)
    sql = f'COPY "{table.name}" ({names}) FROM STDIN WITH (FORMAT csv)'
    options = pacsv.WriteOptions(include_header=False)
    written = 0
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(sql) as copy:
            for batch in itertools.chain([first], rest):
                buf = io.BytesIO()
                pacsv.write_csv(batch, buf, options)
                copy.write(buf.getbuffer())
                written += batch.num_rows
    finally:
        cursor.close()
    return written


def update_rows(conn: Connection, table: Table, key: str, rows: Sequence[dict[str, Any]]) -> int:
    """``UPDATE table SET … WHERE key = …`` for each row (one executemany; every row must
    carry the same columns)."""
    if not rows:
        return 0
    columns = [c for c in rows[0] if c != key]
    stmt = (
        update(table)
        .where(table.c[key] == bindparam(f"k_{key}"))
        .values({c: bindparam(f"v_{c}") for c in columns})
    )
    params = [{f"k_{key}": r[key], **{f"v_{c}": r[c] for c in columns}} for r in rows]
    conn.execute(stmt, params)
    return len(rows)
