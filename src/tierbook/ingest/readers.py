"""Find a data directory's files; the Python readers of CSV (the exact fallback) and Excel.

Readers never guess types: every cell becomes a string (or ``None`` when empty) and the
validators cast per contract. ID-like columns therefore keep their leading zeros and all their
digits. Excel is the exception that needs a check: a NUMERIC cell in an ``id_text`` column has
already lost digits beyond the 15th, so it is reported as ``NUMERIC_ID_CELL``.

Line numbers: CSV physical line (header = 1, first data row = 2); Excel row number of the
sheet; Parquet 1-based row index within the file. Fully empty rows are skipped and not counted.
Most CSV files are read by DuckDB (``tierbook.ingest.stage``); these readers serve the files
it cannot number exactly (quoted newlines, blank lines) and Excel workbooks, which are small.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from tierbook.ingest.contract import FORMATS, TABLES, Table
from tierbook.ingest.quarantine import IngestError


@dataclass(frozen=True)
class Source:
    """The file(s) of one contract table: one file, or a folder of Parquet files."""

    table: str
    format: str  # ".csv", ".xlsx" or ".parquet"
    paths: tuple[Path, ...]


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


def csv_header(path: Path, table: Table, shown: str) -> list[str]:
    """The header fields of a CSV file (checked against the contract: fatal if wrong)."""
    first = next(csv_records(path), None)
    if first is None:
        raise IngestError(path, "empty file: no header row")
    map_header(first[1], table, shown)
    return first[1]


def _field(fields: list[str], i: int | None) -> str | None:
    if i is None or i >= len(fields):
        return None
    return fields[i].strip() or None


@dataclass(frozen=True)
class CsvScan:
    """One pass over a CSV file's bytes: its hash and whether each physical line is one row."""

    sha256: str
    lines: int  # physical lines, trailing empty lines left out
    plain_newlines: bool  # no carriage return other than in CR LF


def scan_csv(path: Path, *, block: int = 1 << 22) -> CsvScan:
    digest = hashlib.sha256()
    newlines = lone_cr = 0
    tail = b""
    with path.open("rb") as fh:
        previous = b""
        for chunk in iter(lambda: fh.read(block), b""):
            digest.update(chunk)
            newlines += chunk.count(b"\n")
            if b"\r" in chunk:  # a cheap search first: most files have no CR at all
                lone_cr += chunk.count(b"\r") - chunk.count(b"\r\n")
            if previous.endswith(b"\r") and chunk.startswith(b"\n"):
                lone_cr -= 1
            previous = chunk
            tail = (tail + chunk)[-4096:]
    trailing = len(tail) - len(tail.rstrip(b"\r\n"))
    ending = tail[len(tail) - trailing :].count(b"\n") if trailing else 0
    if tail and trailing == len(tail):
        lone_cr += 1  # only line breaks in the last 4 KB: let the exact reader decide
    return CsvScan(digest.hexdigest(), newlines - ending + 1, lone_cr == 0)


def excel_rows(
    path: Path, table: Table, shown: str
) -> Iterator[tuple[str, int, list[str | None], list[str]]]:
    """(sheet, line, contract values, ID columns holding a numeric cell) of each non-empty row
    of every sheet whose first row names one of the table's columns."""
    import openpyxl  # imported when a workbook is read (0.3 s, 30 MB): most loads have none

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a bad file
        raise IngestError(path, f"unreadable Excel file: {type(exc).__name__}") from None
    try:
        used = 0
        for sheet in book.worksheets:
            rows = sheet.iter_rows(values_only=True)
            header = next(rows, None)
            names = {str(h).strip().lower() for h in header or () if h is not None}
            if not names & set(table.names):
                continue
            used += 1
            yield from _sheet_rows(
                rows, header or (), table, f"{shown} [{sheet.title}]", sheet.title
            )
        if not used:
            raise IngestError(path, f"no sheet has a header with the columns of {table.name}")
    finally:
        book.close()


def _sheet_rows(
    rows: Iterator[tuple[object, ...]],
    header: Iterable[object],
    table: Table,
    where: str,
    title: str,
) -> Iterator[tuple[str, int, list[str | None], list[str]]]:
    pos = map_header(header, table, where)
    id_cols = {c.name for c in table.columns if c.type == "id_text"}
    for line, cells in enumerate(rows, start=2):
        raw = [cells[pos[c]] if c in pos and pos[c] < len(cells) else None for c in table.names]
        values = [cell_text(v) for v in raw]
        if all(v is None for v in values):
            continue
        numeric = [
            name
            for name, value in zip(table.names, raw, strict=True)
            if name in id_cols and isinstance(value, int | float) and not isinstance(value, bool)
        ]
        yield title, line, values, numeric


NUMERIC_ID = "ID column holds a numeric Excel cell (15 significant digits kept); store it as text"
