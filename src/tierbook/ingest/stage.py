"""Put one source into DuckDB as a raw relation, without passing its rows through Python.

The relation has the contract columns (text, or Parquet's own types), then ``_file``,
``_sheet``, ``_line`` (what the quarantine shows) and ``_rid``, a BIGINT that identifies the
row and orders the rows as the files do (file, then line). An Excel source also has ``_skip``,
the ID cells the reader refused (``NUMERIC_ID_CELL``), as ``,column,`` text.

- Parquet is scanned in place: ``_line`` is ``file_row_number + 1``.
- CSV is scanned in place by DuckDB ``read_csv``, its records numbered in file order by
  ``ROW_NUMBER() OVER ()``. That gives the physical line only when every record is one line;
  ``scan_csv`` counts the physical lines and, when they equal the records plus the header,
  ``_line`` is the record number + 2 (shifted past rows DuckDB rejected for a wrong field
  count, whose lines DuckDB reports). Any other file (quoted newlines, blank lines, bytes
  DuckDB refuses) is read by the exact Python reader and staged in Arrow batches.
- Excel is read by openpyxl (workbooks are small) and staged the same way.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tierbook.ingest.contract import Table
from tierbook.ingest.quarantine import IngestError, empty_quarantine
from tierbook.ingest.readers import (
    NUMERIC_ID,
    Source,
    csv_header,
    csv_table_rows,
    display_path,
    excel_rows,
    map_header,
    scan_csv,
    sha256_file,
)
from tierbook.ingest.sql import PY_WHITESPACE, lit, q, registered, run, setting, strip_sql

FILE_SHIFT = 40
"""``_rid`` of Parquet rows: file index << 40 | row number within the file."""

_FIELD_COUNT_ERRORS = ("TOO MANY COLUMNS", "MISSING COLUMNS")


@dataclass
class Raw:
    """A source staged in DuckDB, with what the reader found on the way."""

    name: str
    types: dict[str, str]  # source type of each contract column
    rows_read: dict[str, int]
    sha256: dict[str, str]
    reader_lines: list[pd.DataFrame] = field(default_factory=list)  # quarantine lines
    unstaged: dict[str, int] = field(default_factory=dict)  # rows set aside before staging
    has_skip: bool = False
    rowid_lines: tuple[str, str] | None = None  # (join, shift): see ``_csv_fast``
    temp: list[str] = field(default_factory=list)  # tables and views to drop afterwards

    @property
    def reader_quarantine(self) -> pd.DataFrame:
        lines = [f for f in self.reader_lines if len(f)]
        return pd.concat(lines, ignore_index=True) if lines else empty_quarantine()


def stage(
    con: Any,
    table: Table,
    source: Source,
    data_dir: Path,
    name: str,
    *,
    skip_blank: bool,
    in_order: bool = False,
) -> Raw:
    """Stage ``source`` as relation ``name``. ``skip_blank`` drops Parquet rows whose every
    contract cell is empty (uncounted, like blank CSV and Excel rows); without it they are
    rows like any other and the row count comes from the Parquet metadata.

    ``in_order``: the caller copies the relation whole, in order, into a table (insertion
    order preserved) before reading it; a CSV read by DuckDB then leaves ``_rid``, ``_line``
    NULL and keeps its blank rows (``_blank``), and ``Raw.rowid_lines`` says how to number
    the copy's rows from their ``rowid``. Such a CSV is parsed once: the pass that counts
    its records stores them, in file order, in a temp table that the relation reads.
    Otherwise the records are numbered in the scan."""
    if source.format == ".parquet":
        return _parquet(con, table, source, data_dir, name, skip_blank=skip_blank)
    path = source.paths[0]
    shown = display_path(path, data_dir)
    if source.format == ".xlsx":
        raw = Raw(name, {}, {shown: 0}, {shown: sha256_file(path)})
        _stage_rows(con, table, raw, shown, _excel_batches(path, table, shown, raw))
        return raw
    header = csv_header(path, table, shown)
    scan = scan_csv(path)
    raw = Raw(name, {}, {shown: 0}, {shown: scan.sha256})
    fast = scan.plain_newlines
    if fast and _csv_fast(con, table, path, shown, header, scan.lines, raw, in_order=in_order):
        return raw
    _stage_rows(con, table, raw, shown, _csv_batches(path, table, shown, raw))
    return raw


# --- Parquet ---------------------------------------------------------------------------------


def _parquet(
    con: Any, table: Table, source: Source, data_dir: Path, name: str, *, skip_blank: bool
) -> Raw:
    present: set[str] = set()
    raw = Raw(name, {}, {}, {})
    for path in source.paths:
        try:
            meta = pq.read_metadata(path)
        except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
            raise IngestError(path, f"unreadable Parquet file: {type(exc).__name__}") from None
        present |= set(map_header(meta.schema.names, table, str(path)))
        shown = display_path(path, data_dir)
        raw.rows_read[shown] = meta.num_rows
        raw.sha256[shown] = sha256_file(path)
    prefix = len(data_dir.as_posix().rstrip("/")) + 2
    paths = "[" + ", ".join(lit(p.as_posix()) for p in source.paths) + "]"
    scan = f"read_parquet({paths}, filename=true, file_row_number=true, union_by_name=true)"
    cols = [q(c) if c in present else f"CAST(NULL AS VARCHAR) AS {q(c)}" for c in table.names]
    where = ""
    if skip_blank:
        from tierbook.ingest.fields import text_sql  # the cell text decides what is blank

        types = _types(con, f"SELECT * FROM {scan} LIMIT 0")
        texts = [text_sql(table.column(c), types[c]) for c in table.names if c in present]
        where = f"WHERE coalesce({', '.join(texts)}) IS NOT NULL" if texts else "WHERE false"
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {name} AS SELECT {', '.join(cols)}, "
        f"substr(filename, {prefix}) AS _file, CAST(NULL AS VARCHAR) AS _sheet, "
        f"file_row_number + 1 AS _line, (file_index << {FILE_SHIFT}) | file_row_number AS _rid "
        f"FROM {scan} {where}",
    )
    raw.temp.append(f"VIEW {name}")
    raw.types = _types(con, f"SELECT * FROM {name} LIMIT 0")
    if skip_blank:
        counts = run(con, f"SELECT _file, count(*) FROM {name} GROUP BY _file").fetchall()
        raw.rows_read = dict.fromkeys(raw.rows_read, 0) | {f: int(n) for f, n in counts}
    return raw


def _types(con: Any, sql: str) -> dict[str, str]:
    return {r[0]: r[1] for r in run(con, f"DESCRIBE {sql}").fetchall()}


# --- CSV read by DuckDB ----------------------------------------------------------------------


def _csv_fast(
    con: Any,
    table: Table,
    path: Path,
    shown: str,
    header: list[str],
    lines: int,
    raw: Raw,
    *,
    in_order: bool,
) -> bool:
    """Read ``path`` with DuckDB; False (and nothing left behind) when the lines of its rows
    cannot be known exactly, so that the Python reader takes over."""
    pos = map_header(header, table, shown)
    width = len(header)
    columns = "{" + ", ".join(f"'c{i}': 'VARCHAR'" for i in range(width)) + "}"
    cells = [f"c{pos[c]}" if c in pos else "CAST(NULL AS VARCHAR)" for c in table.names]
    blank = f"coalesce({', '.join(strip_sql(f'c{i}') for i in range(width))}) IS NULL"
    rejects = f"{raw.name}_rej"
    options = (
        f"header = true, auto_detect = false, columns = {columns}, delim = ',', quote = '\"', "
        "escape = '\"', ignore_errors = true"
    )
    stored = (
        f", store_rejects = true, rejects_table = {lit(rejects)}, "
        f"rejects_scan = {lit(rejects + '_s')}"
    )
    file = lit(path.as_posix())
    select = ", ".join(f"{c} AS {q(n)}" for c, n in zip(cells, table.names, strict=True))
    rows = f"{raw.name}_rows"
    try:  # one pass to count the records and learn the rejected lines
        if in_order:  # the records kept, in file order, for the caller's ordered copy
            with setting(con, "preserve_insertion_order", "true"):
                run(
                    con,
                    f"CREATE OR REPLACE TEMP TABLE {rows} AS SELECT {select}, {blank} AS _blank "
                    f"FROM read_csv({file}, {options}{stored})",
                )
            counted = f"SELECT count(*), count(*) FILTER (WHERE NOT _blank) FROM {rows}"
        else:
            counted = (
                f"SELECT count(*), count(*) FILTER (WHERE NOT ({blank})) "
                f"FROM read_csv({file}, {options}{stored})"
            )
        total, kept = run(con, counted).fetchall()[0]
        rejected = run(
            con, f"SELECT DISTINCT line, error_type, csv_line FROM {rejects} ORDER BY line"
        ).fetchall()
    except duckdb.Error:  # e.g. mixed line endings: DuckDB's parser gives up on the file
        run(con, f"DROP TABLE IF EXISTS {rows}")
        return False
    finally:
        run(con, f"DROP TABLE IF EXISTS {rejects}; DROP TABLE IF EXISTS {rejects}_s")
    lines_out = sorted({int(r[0]) for r in rejected})
    if total + len(lines_out) + 1 != lines or not _only_field_counts(rejected):
        run(con, f"DROP TABLE IF EXISTS {rows}")
        return False
    shift = "0"
    join = ""
    if rejected:
        # Record k (0-based, rejected ones left out) lies after the j-th rejected line r_j
        # (1-based j) when k >= r_j - 1 - j: its line is k + 2 + the largest such j.
        gaps = ", ".join(f"({r - 1 - j}, {j})" for j, r in enumerate(lines_out, 1))
        join = (
            f"ASOF LEFT JOIN (SELECT g, max(j) AS j FROM (VALUES {gaps}) v(g, j) GROUP BY g) s "
            "ON c._k >= s.g"
        )
        shift = "coalesce(s.j, 0)"
        texts = {int(r[0]): r[2] for r in rejected}
        wrong = [(n, _field_count(texts[n], width)) for n in lines_out]
        raw.reader_lines.append(_field_count_lines(table, shown, wrong))
        raw.unstaged[shown] = len(wrong)
    raw.rows_read[shown] = kept + raw.unstaged.get(shown, 0)
    if in_order:  # numbered by the caller, from the rowid of its ordered copy
        run(
            con,
            f"CREATE OR REPLACE TEMP VIEW {raw.name} AS SELECT * EXCLUDE (_blank), _blank, "
            f"{lit(shown)} AS _file, CAST(NULL AS VARCHAR) AS _sheet, "
            f"CAST(NULL AS BIGINT) AS _line, CAST(NULL AS BIGINT) AS _rid FROM {rows}",
        )
        raw.temp += [f"TABLE {rows}", f"VIEW {raw.name}"]
        raw.rowid_lines = (join, shift)
        return True
    # Records numbered as DuckDB reads them: ROW_NUMBER() OVER () runs in a streaming window
    # that keeps the scan's order (checked against the Python reader on a 2.3M-row file); it
    # runs on one thread.
    numbered = (
        f"SELECT {select}, {blank} AS _blank, row_number() OVER () - 1 AS _k "
        f"FROM read_csv({file}, {options})"
    )
    names = ", ".join(f"c.{q(n)}" for n in table.names)
    run(
        con,
        f"CREATE OR REPLACE TEMP VIEW {raw.name} AS SELECT {names}, {lit(shown)} AS _file, "
        f"CAST(NULL AS VARCHAR) AS _sheet, c._k + 2 + {shift} AS _line, c._k AS _rid "
        f"FROM ({numbered}) c {join} WHERE NOT c._blank",
    )
    raw.temp.append(f"VIEW {raw.name}")
    raw.types = dict.fromkeys(table.names, "VARCHAR")
    return True


def _only_field_counts(rejected: list[tuple[Any, ...]]) -> bool:
    """Whether every rejected line is a plain row with a wrong number of fields (any other
    refusal, or a row whose fields are all blank, is left to the Python reader)."""
    return all(
        r[1] in _FIELD_COUNT_ERRORS and r[2] is not None and r[2].strip(PY_WHITESPACE + ',"')
        for r in rejected
    )


def _field_count(line: str, width: int) -> str:
    n = len(next(csv.reader([line.strip("\r\n")]), []))
    return f"{n} fields; the header has {width}"


def _field_count_lines(table: Table, shown: str, wrong: list[tuple[int, str]]) -> pd.DataFrame:
    lines = pd.DataFrame(wrong, columns=["line", "reason"])
    return lines.assign(table=table.name, file=shown, sheet=None, column="", code="FIELD_COUNT")


# --- rows read in Python, staged in batches --------------------------------------------------

Row = tuple[str | None, int, list[str | None], str | None]  # sheet, line, values, skipped cells


def _csv_batches(path: Path, table: Table, shown: str, raw: Raw) -> Iterator[Row]:
    wrong: list[tuple[int, str]] = []
    for line, values, problem in csv_table_rows(path, table, shown):
        raw.rows_read[shown] += 1
        if problem:
            wrong.append((line, problem))
            continue
        yield None, line, values, None
    raw.reader_lines.append(_field_count_lines(table, shown, wrong))
    raw.unstaged[shown] = len(wrong)


def _excel_batches(path: Path, table: Table, shown: str, raw: Raw) -> Iterator[Row]:
    flagged: list[tuple[str, int, str]] = []
    for sheet, line, values, numeric in excel_rows(path, table, shown):
        raw.rows_read[shown] += 1
        flagged += [(sheet, line, c) for c in numeric]
        yield sheet, line, values, ("," + ",".join(numeric) + ",") if numeric else None
    lines = pd.DataFrame(flagged, columns=["sheet", "line", "column"])
    raw.reader_lines.append(
        lines.assign(table=table.name, file=shown, code="NUMERIC_ID_CELL", reason=NUMERIC_ID)
    )
    raw.has_skip = bool(flagged)


def _stage_rows(
    con: Any, table: Table, raw: Raw, shown: str, rows: Iterable[Row], *, batch: int = 100_000
) -> None:
    names = [*table.names, "_sheet", "_line", "_rid", "_skip"]
    cols = ", ".join(f"{q(c)} VARCHAR" for c in table.names)
    run(
        con,
        f"CREATE OR REPLACE TEMP TABLE {raw.name} ({cols}, _file VARCHAR, _sheet VARCHAR, "
        "_line BIGINT, _rid BIGINT, _skip VARCHAR)",
    )
    raw.temp.append(f"TABLE {raw.name}")
    it = iter(rows)
    rid = 0
    while chunk := list(islice(it, batch)):
        columns: list[list[Any]] = [[] for _ in names]
        for sheet, line, values, skip in chunk:
            for i, v in enumerate(values):
                columns[i].append(v)
            n = len(values)
            columns[n].append(sheet)
            columns[n + 1].append(line)
            columns[n + 2].append(rid)
            columns[n + 3].append(skip)
            rid += 1
        arrays = {
            c: pa.array(v, pa.int64() if c in ("_line", "_rid") else pa.string())
            for c, v in zip(names, columns, strict=True)
        }
        with registered(con, f"{raw.name}_batch", pa.table(arrays)) as batch_name:
            run(
                con,
                f"INSERT INTO {raw.name} SELECT {', '.join(q(c) for c in table.names)}, "
                f"{lit(shown)}, _sheet, _line, _rid, _skip FROM {batch_name}",
            )
    raw.types = dict.fromkeys(table.names, "VARCHAR")
