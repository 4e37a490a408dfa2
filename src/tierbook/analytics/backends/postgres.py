"""PostgreSQL: connection, COPY of validated tables, and the input tables of a schema."""

from __future__ import annotations

import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ibis
import pyarrow as pa
import pyarrow.csv as pacsv
import sqlglot as sg


def connect(url: str) -> Any:
    """An Ibis PostgreSQL backend for ``postgresql://user[:pw]@host[:port]/db[?schema=s]``.

    ``schema`` (optional) is where the input tables of the data contract live
    (``--source``); it is put first on the session's search path."""
    parts = urlsplit(url)
    if parts.scheme not in ("postgres", "postgresql"):
        raise ValueError(f"not a PostgreSQL URL (postgresql://user@host/db): {url!r}")
    schema = parse_qs(parts.query).get("schema", [None])[0]
    con = ibis.postgres.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=parts.username or "postgres",
        password=parts.password,
        database=(parts.path or "/postgres").lstrip("/") or "postgres",
    )
    if schema:
        con.raw_sql(f"SET search_path TO {_q(schema)}, public")
    return con


def schema_of(url: str) -> str | None:
    return parse_qs(urlsplit(url).query).get("schema", [None])[0]


def copy_in(con: Any, name: str, schema: Any, batches: Any) -> Any:
    """Create temporary table ``name`` (an Ibis ``schema``) and COPY the Arrow ``batches``
    into it as CSV, streamed: no batch is kept after it is sent. Returns the Ibis table."""
    columns = ", ".join(c.sql("postgres") for c in schema.to_sqlglot_column_defs("postgres"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    with con.con.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        cur.execute(f"CREATE TEMPORARY TABLE {_q(name)} ({columns})")
        with cur.copy(f"COPY {_q(name)} FROM STDIN (FORMAT csv)") as copy:
            for batch in batches:
                if batch.num_rows:
                    buf = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch]), buf, options)
                    copy.write(buf.getvalue())
        cur.execute(f"ANALYZE {_q(name)}")
    con.con.commit()
    return con.table(name)


def source_table(con: Any, name: str, schema: str | None) -> Any:
    """An input table of the data contract held in the database."""
    return con.table(name, database=schema) if schema else con.table(name)


def _q(name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql("postgres")
