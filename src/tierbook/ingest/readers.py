"""Find a data directory's files and read them as TEXT, per the data contract.

Readers never guess types: every cell becomes a string (or ``None`` when empty) and the
validators cast per contract. ID-like columns therefore keep their leading zeros and all their
digits. Excel is the exception that needs a check: a NUMERIC cell in an ``id_text`` column has
already lost digits beyond the 15th, so it is reported as ``NUMERIC_ID_CELL``.

Line numbers: CSV physical line (header = 1, first data row = 2); Excel row number of the
sheet; Parquet 1-based row index within the file. Fully empty rows are skipped and not counted.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pandas as pd
import pyarrow.parquet as pq

from tierbook.ingest.contract import FORMATS, TABLES, Table
from tierbook.ingest.quarantine import IngestError, Issue

META = ("_file", "_sheet", "_line")


@dataclass(frozen=True)
class Source:
    """The file(s) of one contract table: one file, or a folder of Parquet files."""

    table: str
    format: str  # ".csv", ".xlsx" or ".parquet"
    paths: tuple[Path, ...]


@dataclass
class RawFrame:
    """A table read as text: contract columns plus ``_file``, ``_sheet``, ``_line``.

    ``issues`` are reader-level errors (``NUMERIC_ID_CELL``, ``FIELD_COUNT``); ``skip`` holds
    the (row, column) cells the validators must not check again.
    """

    frame: pd.DataFrame
    issues: list[Issue] = field(default_factory=list)
    skip: set[tuple[int, str]] = field(default_factory=set)
    rows_read: dict[str, int] = field(default_factory=dict)


def find_sources(data_dir: Path) -> dict[str, Source]:
    """The contract tables present in ``data_dir``; other files and folders are ignored."""
    if not data_dir.is_dir():
        raise IngestError(data_dir, "data directory does not exist")
    found: dict[str, Source] = {}
    for table in TABLES:
        candidates = [data_dir / f"{table.name}{ext}" for ext in FORMATS]
        files = [p for p in candidates if p.is_file()]
        folder = data_dir / table.name
        parts = sorted(folder.glob("*.parquet")) if folder.is_dir() else []
        if len(files) + bool(parts) > 1:
            names = [p.name for p in files] + ([f"{table.name}/"] if parts else [])
            raise IngestError(
                data_dir / table.name, f"table given twice ({', '.join(names)}); keep one"
            )
        if files:
            found[table.name] = Source(table.name, files[0].suffix.lower(), (files[0],))
        elif parts:
            found[table.name] = Source(table.name, ".parquet", tuple(parts))
    return found


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def display_path(path: Path, data_dir: Path) -> str:
    """The path shown in the quarantine: relative to the data directory, with slashes."""
    try:
        return path.relative_to(data_dir).as_posix()
    except ValueError:
        return path.as_posix()


def map_header(header: Iterable[object], table: Table, where: str) -> dict[str, int]:
    """Contract column -> position in ``header``. Missing required columns are fatal."""
    names = [str(h).strip().lower() if h is not None else "" for h in header]
    wanted = set(table.names)
    repeated = sorted({n for n in names if n in wanted and names.count(n) > 1})
    if repeated:
        raise IngestError(where, f"column repeated in the header: {', '.join(repeated)}")
    positions = {n: i for i, n in enumerate(names) if n in wanted}
    missing = [c.name for c in table.columns if c.required and c.name not in positions]
    if missing:
        raise IngestError(where, f"required column missing: {', '.join(missing)}")
    return positions


def cell_text(value: object) -> str | None:
    """A cell value as contract text: dates as ISO, whole floats without '.0', blanks None."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        if value.time() == datetime.min.time():
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    text = str(value).strip()
    return text or None


class _Builder:
    """Accumulates rows of one table from several files and sheets."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.rows: list[list[str | None]] = []
        self.meta: list[tuple[str, str | None, int]] = []
        self.raw = RawFrame(pd.DataFrame())

    def add(self, values: list[str | None], file: str, sheet: str | None, line: int) -> int:
        self.rows.append(values)
        self.meta.append((file, sheet, line))
        self.raw.rows_read[file] = self.raw.rows_read.get(file, 0) + 1
        return len(self.rows) - 1

    def flag(self, row: int, column: str, code: str, reason: str) -> None:
        self.raw.issues.append(Issue(row, column, code, reason))
        self.raw.skip.add((row, column))

    def done(self) -> RawFrame:
        frame = pd.DataFrame(self.rows, columns=list(self.table.names), dtype=object)
        meta = pd.DataFrame(self.meta, columns=list(META), dtype=object)
        self.raw.frame = pd.concat([frame, meta], axis=1)
        return self.raw


def read_small(source: Source, table: Table, data_dir: Path) -> RawFrame:
    """Read every file of ``source`` as text rows of ``table``."""
    builder = _Builder(table)
    for path in source.paths:
        shown = display_path(path, data_dir)
        builder.raw.rows_read.setdefault(shown, 0)
        if source.format == ".csv":
            _read_csv(path, shown, builder)
        elif source.format == ".xlsx":
            _read_xlsx(path, shown, builder)
        else:
            _read_parquet(path, shown, builder)
    return builder.done()


def csv_records(path: Path) -> Iterator[tuple[int, list[str]]]:
    """(first physical line, fields) of each CSV record; UTF-8 with or without BOM."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh)
            last = 0
            for fields in reader:
                yield last + 1, fields
                last = reader.line_num
    except UnicodeDecodeError as exc:
        raise IngestError(path, f"not UTF-8 text (byte {exc.start})") from None
    except csv.Error as exc:
        raise IngestError(path, f"unreadable CSV: {exc}") from None


def csv_table_rows(
    path: Path, table: Table, shown: str
) -> Iterator[tuple[int, list[str | None], str | None]]:
    """(line, contract values, FIELD_COUNT reason or None) of each non-empty CSV data row."""
    records = csv_records(path)
    first = next(records, None)
    if first is None:
        raise IngestError(path, "empty file: no header row")
    pos = map_header(first[1], table, shown)
    width = len(first[1])
    index = [pos.get(c) for c in table.names]
    for line, fields in records:
        if not any(f.strip() for f in fields):
            continue
        values = [_field(fields, i) for i in index]
        wrong = f"{len(fields)} fields; the header has {width}" if len(fields) != width else None
        yield line, values, wrong


def _read_csv(path: Path, shown: str, b: _Builder) -> None:
    for line, values, wrong in csv_table_rows(path, b.table, shown):
        row = b.add(values, shown, None, line)
        if wrong:
            b.raw.skip.update((row, c) for c in b.table.names)
            b.raw.issues.append(Issue(row, "", "FIELD_COUNT", wrong))


def _field(fields: list[str], i: int | None) -> str | None:
    if i is None or i >= len(fields):
        return None
    return fields[i].strip() or None


def _read_xlsx(path: Path, shown: str, b: _Builder) -> None:
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise IngestError(path, f"unreadable Excel file: {type(exc).__name__}") from None
    try:
        used = 0
        for sheet in book.worksheets:
            used += _read_sheet(sheet, shown, b)
        if not used:
            raise IngestError(path, f"no sheet has a header with the columns of {b.table.name}")
    finally:
        book.close()


def _read_sheet(sheet: object, shown: str, b: _Builder) -> int:
    """Read one sheet; a sheet whose first row names none of the table's columns is skipped."""
    rows = sheet.iter_rows(values_only=True)  # type: ignore[attr-defined]
    header = next(rows, None)
    names = {str(h).strip().lower() for h in header or () if h is not None}
    if not names & set(b.table.names):
        return 0
    pos = map_header(header or (), b.table, f"{shown} [{sheet.title}]")  # type: ignore[attr-defined]
    id_cols = {c.name for c in b.table.columns if c.type == "id_text"}
    for line, cells in enumerate(rows, start=2):
        raw = [cells[pos[c]] if c in pos and pos[c] < len(cells) else None for c in b.table.names]
        if all(cell_text(v) is None for v in raw):
            continue
        row = b.add([cell_text(v) for v in raw], shown, sheet.title, line)  # type: ignore[attr-defined]
        for name, value in zip(b.table.names, raw, strict=True):
            if name in id_cols and isinstance(value, int | float) and not isinstance(value, bool):
                b.flag(row, name, "NUMERIC_ID_CELL", _NUMERIC_ID)
    return 1


_NUMERIC_ID = "ID column holds a numeric Excel cell (15 significant digits kept); store it as text"


def _read_parquet(path: Path, shown: str, b: _Builder) -> None:
    try:
        data = pq.read_table(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError...
        raise IngestError(path, f"unreadable Parquet file: {type(exc).__name__}") from None
    pos = map_header(data.column_names, b.table, shown)
    columns = {c: data.column(pos[c]).to_pylist() for c in b.table.names if c in pos}
    float_ids = {
        c.name
        for c in b.table.columns
        if c.type == "id_text"
        and c.name in pos
        and str(data.schema.field(pos[c.name]).type) in ("float", "double", "halffloat")
    }
    for i in range(data.num_rows):
        values = [cell_text(columns[c][i]) if c in columns else None for c in b.table.names]
        if all(v is None for v in values):
            continue
        row = b.add(values, shown, None, i + 1)
        for name in float_ids:
            if columns[name][i] is not None:
                b.flag(row, name, "NUMERIC_ID_CELL", _NUMERIC_ID)
