"""Set-based validation of the large tables (balances_daily, balance_events, transactions).

Nothing here loops over rows in Python or pulls a large table into pandas. Each table becomes
DuckDB views: ``raw`` (the scan, with ``_file`` and ``_line``), ``chk`` (typed columns plus
one boolean per check). The clean table is a lazy Ibis expression over ``chk``: the validity
filter, a semi-join on the clean accounts and an anti-join on the (small, materialised) lines
set aside by the key check or the reader. Only bad rows are materialised, into the quarantine.

Key check (``check_keys=True``): a GROUP BY over the key of the rows that passed the field
checks, in slices of the key's hash (``ROWS_PER_KEY_PASS`` rows each) so the hash table stays
small, then a join back for the line numbers of the duplicated keys. It is the costliest step
(on 100M rows about 8x the rest of the load); ``check_keys=False`` skips it for sources known to
be unique. CSV and Excel large tables are staged into a DuckDB temp table in batches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tierbook.ingest.contract import Column, Table
from tierbook.ingest.quarantine import IngestError, empty_quarantine, issues_frame
from tierbook.ingest.readers import (
    Source,
    csv_table_rows,
    display_path,
    map_header,
    read_small,
)
from tierbook.ingest.validate import SIGN_RULES

_DUCK_TYPES = {"decimal": "DOUBLE", "int": "BIGINT", "date": "DATE"}
_FLOATS = ("FLOAT", "DOUBLE", "REAL")


@dataclass(frozen=True)
class Check:
    name: str  # boolean column of the check view, true = error
    column: str
    code: str
    reason: str
    sql: str


@dataclass
class LargeResult:
    clean: Any  # ibis.Table, lazy
    quarantine: pd.DataFrame
    rows_read: dict[str, int]
    quarantined_rows: dict[str, int]


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def validate_large(
    con: Any,
    table: Table,
    source: Source,
    data_dir: Path,
    accounts: str,
    *,
    check_keys: bool,
    tag: str,
) -> LargeResult:
    """Validate ``source`` against ``table``; ``accounts`` names the clean accounts table."""
    raw, reader_q, rows_read = _register_raw(con, table, source, data_dir, tag)
    types = dict(_describe(con, raw))
    checks, selects = _column_sql(table, types)
    chk = f"tb_chk_{table.name}_{tag}"
    flags = [f"{c.sql} AS {q(c.name)}" for c in checks]
    unknown = (
        f"(c.account_id IS NOT NULL AND c.account_id NOT IN (SELECT account_id FROM {accounts}))"
    )
    typed = f"tb_typed_{table.name}_{tag}"  # field checks only: what the key check scans
    con.raw_sql(
        f"CREATE OR REPLACE TEMP VIEW {typed} AS "
        f"SELECT {', '.join(selects + flags)}, _file, _sheet, _line FROM {raw}"
    )
    con.raw_sql(
        f"CREATE OR REPLACE TEMP VIEW {chk} AS SELECT *, {unknown} AS _e_unknown FROM {typed} c"
    )
    checks.append(Check("_e_unknown", "account_id", "UNKNOWN_REFERENCE", _UNKNOWN, "_e_unknown"))
    bad = f"tb_bad_{table.name}_{tag}"
    field_checks = checks[:-1]
    dup_q = _key_check(
        con,
        table,
        typed,
        field_checks,
        bad=bad,
        reader_q=reader_q,
        check_keys=check_keys,
        passes=max(1, -(-sum(rows_read.values()) // ROWS_PER_KEY_PASS)),
    )
    quarantine = pd.concat([_flagged(con, table, chk, checks), dup_q, reader_q])
    quarantine = quarantine if len(quarantine) else empty_quarantine()
    names = ", ".join(q(c) for c in table.names)
    clean_view = f"tb_clean_{table.name}_{tag}"
    has_bad = con.raw_sql(f"SELECT count(*) FROM {bad}").fetchone()[0] > 0
    anti = (
        f"ANTI JOIN {bad} b ON c._file = b._file AND c._line = b._line "
        "AND coalesce(c._sheet, '') = coalesce(b._sheet, '') "
        if has_bad
        else ""
    )
    con.raw_sql(
        f"CREATE OR REPLACE TEMP VIEW {clean_view} AS SELECT {names} FROM {chk} c {anti}"
        f"WHERE {_ok(field_checks, 'c.')} AND NOT c._e_unknown"
    )
    clean = con.table(clean_view)
    counts = quarantine.drop_duplicates(["file", "line", "sheet"]).groupby("file").size()
    return LargeResult(clean, quarantine, rows_read, {str(k): int(v) for k, v in counts.items()})


ROWS_PER_KEY_PASS = 20_000_000
"""Rows per slice of the duplicate-key GROUP BY (about 300 MB of DuckDB hash table)."""

_UNKNOWN = "account_id refers to an accounts row that does not exist or was quarantined"


def create_temp_table(con: Any, name: str, data: pa.Table) -> Any:
    """A DuckDB temp table holding ``data``; returns it as an Ibis table."""
    scratch = f"{name}_arrow"
    con.con.register(scratch, data)
    try:
        con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {q(name)} AS SELECT * FROM {q(scratch)}")
    finally:
        con.con.unregister(scratch)
    return con.table(name)


def _describe(con: Any, view: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.raw_sql(f"DESCRIBE {view}").fetchall()]


def _register_raw(
    con: Any, table: Table, source: Source, data_dir: Path, tag: str
) -> tuple[str, pd.DataFrame, dict[str, int]]:
    """A relation of the raw rows with contract columns, ``_file``, ``_sheet``, ``_line``.

    Parquet is scanned in place (a view). CSV and Excel are read by the text readers (exact
    physical lines) and staged into a DuckDB temp table in batches, never whole in Python.
    """
    view = f"tb_raw_{table.name}_{tag}"
    if source.format == ".xlsx":
        raw = read_small(source, table, data_dir)
        create_temp_table(con, view, _text_arrow(raw.frame))
        return view, issues_frame(table.name, raw.issues, raw.frame), raw.rows_read
    if source.format == ".csv":
        return view, *_stage_csv(con, view, table, source.paths[0], data_dir)
    present, rows_read = _parquet_headers(table, source, data_dir)
    prefix = len(data_dir.as_posix().rstrip("/")) + 2
    paths = "[" + ", ".join(lit(p.as_posix()) for p in source.paths) + "]"
    scan = f"read_parquet({paths}, filename=true, file_row_number=true, union_by_name=true)"
    cols = [q(c) if c in present else f"NULL::VARCHAR AS {q(c)}" for c in table.names]
    con.raw_sql(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(cols)}, "
        f"substr(filename, {prefix}) AS _file, NULL::VARCHAR AS _sheet, "
        f"file_row_number + 1 AS _line FROM {scan}"
    )
    return view, empty_quarantine(), rows_read


def _stage_csv(
    con: Any, view: str, table: Table, path: Path, data_dir: Path, *, batch: int = 200_000
) -> tuple[pd.DataFrame, dict[str, int]]:
    shown = display_path(path, data_dir)
    cols = ", ".join(f"{q(c)} VARCHAR" for c in table.names)
    con.raw_sql(
        f"CREATE OR REPLACE TEMP TABLE {view} ({cols}, _file VARCHAR, _sheet VARCHAR, _line BIGINT)"
    )
    rows: list[list[Any]] = []
    wrong: list[tuple[int, str]] = []
    read = 0
    for line, values, problem in csv_table_rows(path, table, shown):
        read += 1
        if problem:
            wrong.append((line, problem))
            continue
        rows.append([*values, shown, None, line])
        if len(rows) >= batch:
            _append(con, view, table, rows)
            rows = []
    _append(con, view, table, rows)
    lines = pd.DataFrame(wrong, columns=["line", "reason"])
    reader_q = lines.assign(table=table.name, file=shown, sheet=None, column="", code="FIELD_COUNT")
    return reader_q if len(reader_q) else empty_quarantine(), {shown: read}


def _append(con: Any, view: str, table: Table, rows: list[list[Any]]) -> None:
    if not rows:
        return
    names = [*table.names, "_file", "_sheet", "_line"]
    data = pa.table(
        {
            n: pa.array([r[i] for r in rows], pa.int64() if n == "_line" else pa.string())
            for i, n in enumerate(names)
        }
    )
    con.con.register("tb_batch_tmp", data)
    try:
        con.raw_sql(f"INSERT INTO {view} SELECT * FROM tb_batch_tmp")
    finally:
        con.con.unregister("tb_batch_tmp")


def _text_arrow(frame: pd.DataFrame) -> Any:
    """Every column as text, ``_line`` as int64 (so empty columns still have a type)."""
    cols = {
        c: pa.array(frame[c].astype(object), pa.int64() if c == "_line" else pa.string())
        for c in frame.columns
    }
    return pa.table(cols)


def _parquet_headers(table: Table, source: Source, data_dir: Path) -> tuple[set[str], dict]:
    present: set[str] = set()
    rows_read: dict[str, int] = {}
    for path in source.paths:
        try:
            meta = pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
            raise IngestError(path, f"unreadable Parquet file: {type(exc).__name__}") from None
        present |= set(map_header(meta.schema.names, table, str(path)))
        rows_read[display_path(path, data_dir)] = meta.num_rows
    return present, rows_read


def _column_sql(table: Table, types: dict[str, str]) -> tuple[list[Check], list[str]]:
    checks: list[Check] = []
    selects: list[str] = []
    for i, column in enumerate(table.columns):
        typed, col_checks = _one_column(table, column, types.get(column.name, "VARCHAR"), i)
        selects.append(f"{typed} AS {q(column.name)}")
        checks += col_checks
    return checks, selects


def _one_column(table: Table, col: Column, src: str, i: int) -> tuple[str, list[Check]]:
    """Typed SQL of one column and its checks (each true when the row is wrong)."""
    x = q(col.name)
    is_text = src.upper() == "VARCHAR"
    text = f"NULLIF(trim({x}), '')" if is_text else f"CAST({x} AS VARCHAR)"
    empty = f"{text} IS NULL" if is_text else f"{x} IS NULL"
    checks: list[Check] = []
    if col.required:
        checks.append(Check(f"_e{i}_req", col.name, "REQUIRED", "required value is empty", empty))
    typed = _typed(col, x, text, src, is_text)
    if col.type in ("date", "decimal", "int"):
        code = {"date": "BAD_DATE", "decimal": "BAD_NUMBER", "int": "BAD_INT"}[col.type]
        bad = f"(NOT ({empty}) AND {typed} IS NULL)"
        if col.type == "decimal":
            bad = f"({bad} OR isnan({typed}) OR isinf({typed}))"
        checks.append(Check(f"_e{i}_type", col.name, code, _REASONS[code], bad))
    if col.type == "enum":
        allowed = ", ".join(lit(v) for v in col.enum)
        reason = f"not one of: {', '.join(col.enum)}"
        sql = f"(NOT ({empty}) AND {text} NOT IN ({allowed}))"
        checks.append(Check(f"_e{i}_enum", col.name, "BAD_ENUM", reason, sql))
    if col.type == "id_text" and src.upper() in _FLOATS:
        checks.append(Check(f"_e{i}_num", col.name, "NUMERIC_ID_CELL", _NUM_ID, f"NOT ({empty})"))
    sign = SIGN_RULES.get((table.name, col.name))
    if sign:
        op = "<" if sign == ">=0" else "<="
        reason = f"{col.name} must be {sign[:-1]} 0"
        sql = f"coalesce({typed} {op} 0, false)"
        checks.append(Check(f"_e{i}_sign", col.name, "NEGATIVE_AMOUNT", reason, sql))
    return typed, checks


_NUM_ID = "ID column is stored as a floating-point number; store it as text"
_REASONS = {
    "BAD_DATE": "not a valid date (expected YYYY-MM-DD)",
    "BAD_NUMBER": "not a finite number",
    "BAD_INT": "not a whole number",
}


def _typed(col: Column, x: str, text: str, src: str, is_text: bool) -> str:
    if col.type == "date":
        if not is_text:
            return f"TRY_CAST({x} AS DATE)"
        iso = f"try_strptime({text}, '%Y-%m-%d')"
        return f"CAST(coalesce({iso}, try_strptime({text}, '%Y/%m/%d')) AS DATE)"
    if col.type in _DUCK_TYPES:
        return f"TRY_CAST({text if is_text else x} AS {_DUCK_TYPES[col.type]})"
    del src
    return text


def _flagged(con: Any, table: Table, chk: str, checks: list[Check]) -> pd.DataFrame:
    """The bad rows, one quarantine line per failed check (only bad rows leave DuckDB)."""
    any_bad = " OR ".join(q(c.name) for c in checks)
    cols = ", ".join(q(c.name) for c in checks)
    flagged = con.raw_sql(f"SELECT _file, _sheet, _line, {cols} FROM {chk} WHERE {any_bad}")
    frame = flagged.fetch_df() if hasattr(flagged, "fetch_df") else flagged.df()
    if frame.empty:
        return empty_quarantine()
    parts = []
    for c in checks:
        hit = frame[frame[c.name].fillna(False).astype(bool)]
        parts.append(_lines(table, hit, c.column, c.code, c.reason))
    return pd.concat(parts, ignore_index=True)


def _lines(table: Table, rows: pd.DataFrame, column: str, code: str, reason: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": table.name,
            "file": rows["_file"].astype(object).to_numpy(),
            "sheet": rows["_sheet"].astype(object).to_numpy(),
            "line": rows["_line"].astype("int64").to_numpy(),
            "column": column,
            "code": code,
            "reason": reason,
        }
    )


def _ok(checks: list[Check], prefix: str = "") -> str:
    """SQL: none of ``checks`` failed."""
    return " AND ".join(f"NOT {prefix}{q(c.name)}" for c in checks) or "TRUE"


def _key_check(
    con: Any,
    table: Table,
    chk: str,
    checks: list[Check],
    *,
    bad: str,
    reader_q: pd.DataFrame,
    check_keys: bool,
    passes: int = 1,
) -> pd.DataFrame:
    """Duplicate keys among the rows that passed the field checks; fills table ``bad`` with
    the lines the clean table must leave out (duplicates and reader errors)."""
    con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {bad} (_file VARCHAR, _sheet VARCHAR, _line BIGINT)")
    _insert_lines(
        con, bad, reader_q.rename(columns={"file": "_file", "sheet": "_sheet", "line": "_line"})
    )
    if not check_keys:
        return empty_quarantine()
    key = ", ".join(q(c) for c in table.key)
    values = [c for c in table.names if c not in table.key]
    same = " AND ".join(f"min({q(c)}) IS NOT DISTINCT FROM max({q(c)})" for c in values) or "TRUE"
    # The GROUP BY runs alone, in ``passes`` slices of the key's hash so that each slice's
    # hash table stays small; the join back only probes its (small) result.
    con.raw_sql(f"CREATE OR REPLACE TEMP TABLE {bad}_keys AS SELECT {key}, true AS _same "
                f"FROM {chk} WHERE false")  # fmt: skip
    for part in range(passes):
        con.raw_sql(
            f"INSERT INTO {bad}_keys SELECT {key}, ({same}) FROM {chk} WHERE {_ok(checks)} "
            f"AND hash({key}) % {passes} = {part} GROUP BY {key} HAVING count(*) > 1"
        )
    join = " AND ".join(f"c.{q(c)} = d.{q(c)}" for c in table.key)
    part = ", ".join("c." + q(c) for c in table.key)
    ranked = (
        f"SELECT c._file, c._sheet, c._line, d._same, row_number() OVER "
        f"(PARTITION BY {part} ORDER BY c._file, c._sheet, c._line) AS _rn "
        f"FROM {chk} c JOIN {bad}_keys d ON {join} WHERE {_ok(checks, 'c.')}"
    )
    hits = con.raw_sql(f"SELECT * FROM ({ranked}) WHERE NOT _same OR _rn > 1").df()
    con.raw_sql(f"DROP TABLE {bad}_keys")
    if hits.empty:
        return empty_quarantine()
    _insert_lines(con, bad, hits)
    key_txt = ", ".join(table.key)
    same_rows = hits["_same"].astype(bool)
    row_q = _lines(table, hits[same_rows], key_txt, "DUPLICATE_ROW", _DUP_ROW.format(key_txt))
    key_q = _lines(table, hits[~same_rows], key_txt, "DUPLICATE_KEY", _DUP_KEY.format(key_txt))
    return pd.concat([row_q, key_q], ignore_index=True)


def _insert_lines(con: Any, bad: str, lines: pd.DataFrame) -> None:
    if lines.empty:
        return
    arrow = pa.table(
        {
            "_file": pa.array(lines["_file"].astype(object), pa.string()),
            "_sheet": pa.array(lines["_sheet"].astype(object), pa.string()),
            "_line": pa.array(lines["_line"].astype("int64"), pa.int64()),
        }
    )
    con.con.register("tb_lines_tmp", arrow)
    try:
        con.raw_sql(f"INSERT INTO {bad} SELECT DISTINCT * FROM tb_lines_tmp")
    finally:
        con.con.unregister("tb_lines_tmp")


_DUP_ROW = "exact copy of an earlier row (same {} and values); the first is kept"
_DUP_KEY = "different rows share this {}; all set aside"
