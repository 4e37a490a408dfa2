"""PostgreSQL: connection, COPY of validated tables, and the input tables of a schema."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import ibis
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
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


def copy_in(con: Any, name: str, schema: Any, batches: Any, *, into: str | None = None) -> Any:
    """Create table ``name`` (an Ibis ``schema``) — temporary, or in database schema
    ``into`` — and COPY the Arrow ``batches`` into it as CSV, streamed: no batch is kept
    after it is sent. Returns the Ibis table."""
    columns = ", ".join(c.sql("postgres") for c in schema.to_sqlglot_column_defs("postgres"))
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    target = f"{_q(into)}.{_q(name)}" if into else _q(name)
    with con.con.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {target}")
        if into:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {_q(into)}")
        cur.execute(f"CREATE {'' if into else 'TEMPORARY '}TABLE {target} ({columns})")
        with cur.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
            for batch in batches:
                if batch.num_rows:
                    buf = io.BytesIO()
                    pacsv.write_csv(pa.Table.from_batches([batch]), buf, options)
                    copy.write(buf.getvalue())
        cur.execute(f"ANALYZE {target}")
    con.con.commit()
    return con.table(name, database=into) if into else con.table(name)


def _q(name: str) -> str:
    return sg.to_identifier(name, quoted=True).sql("postgres")


# --- input tables read from a schema (``--source``) --------------------------------------

MAX_LISTED = 10_000
"""Bad rows of an in-place table listed one by one in the quarantine; beyond, one line."""


def export_small(con: Any, schema: str, out: Path) -> Path:
    """Write the data contract tables found in ``schema`` to ``out`` for the ingest: small
    tables whole (Parquet), large tables as empty files with their columns — their rows stay
    in the database and are checked there (``in_place``). Returns ``out``."""
    from tierbook.ingest.contract import TABLES

    present = set(con.list_tables(database=schema))
    if not present & {t.name for t in TABLES}:
        raise ValueError(f"schema {schema!r} holds no table of the data contract")
    out.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        if table.name in present:
            t = con.table(table.name, database=schema)
            data = (t.limit(0) if table.large else t).to_pyarrow()
            pq.write_table(data, out / f"{table.name}.parquet")
    return out


def in_place(con: Any, name: str, schema: str, accounts: Any) -> tuple[Any, pd.DataFrame]:
    """Large contract table ``name`` of ``schema`` checked in the database: rows with an
    empty required value, a value outside its enum, a wrong sign, an account not among the
    clean ``accounts`` (on this connection) or a key given twice are left out. Returns the
    clean relation and the quarantine lines (``line`` 0: a database row has no line;
    ``column`` holds its key)."""
    from tierbook.ingest.contract import TABLES_BY_NAME
    from tierbook.ingest.validate import SIGN_RULES

    contract = TABLES_BY_NAME[name]
    t = con.table(name, database=schema).select(*contract.names)
    checks: list[tuple[str, Any, str]] = [
        ("REQUIRED", t[c.name].isnull(), f"{c.name} is empty")
        for c in contract.columns
        if c.required
    ]
    checks += [
        ("BAD_ENUM", ~t[c.name].isin(c.enum), f"{c.name} is not one of {', '.join(c.enum)}")
        for c in contract.columns
        if c.enum
    ]
    for (table, column), sign in SIGN_RULES.items():
        if table == name:
            bad = t[column] < 0 if sign == ">=0" else t[column] <= 0
            checks.append(("NEGATIVE_AMOUNT", bad, f"{column} must be {sign[:-1]} 0"))
    known = t.account_id.isin(accounts.account_id)
    checks.append(("UNKNOWN_REFERENCE", ~known, "account_id not among the clean accounts"))
    counts = t.group_by(list(contract.key)).aggregate(_n=t.count())
    dups = counts.filter(counts._n > 1).drop("_n")
    ok = ibis.and_(*[~cond.fill_null(False) for _, cond, _ in checks])
    clean = t.filter(ok).anti_join(dups, list(contract.key))
    lines = _bad_lines(t, checks, dups, contract.key, f"{schema}.{name}", name)
    return clean, lines


def _bad_lines(
    t: Any,
    checks: list[tuple[str, Any, str]],
    dups: Any,
    key: tuple[str, ...],
    shown: str,
    name: str,
) -> pd.DataFrame:
    parts = [
        t.filter(cond.fill_null(False)).select(*key, code=ibis.literal(code), why=ibis.literal(why))
        for code, cond, why in checks
    ]
    why = "several rows share this key; all of them are set aside"
    parts.append(
        t.semi_join(dups, list(key)).select(
            *key, code=ibis.literal("DUPLICATE_KEY"), why=ibis.literal(why)
        )
    )
    bad = ibis.union(*parts).limit(MAX_LISTED).to_pandas()
    keys = bad[list(key)].astype(str).agg(" ".join, axis=1) if len(bad) else []
    return pd.DataFrame(
        {
            "table": name,
            "file": shown,
            "sheet": None,
            "line": 0,
            "column": [f"{'+'.join(key)}={k}" for k in keys],
            "code": bad["code"] if len(bad) else [],
            "reason": bad["why"] if len(bad) else [],
        }
    )
