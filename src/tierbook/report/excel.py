"""Excel export (SPEC §3.7): one workbook of data sheets, written with XlsxWriter.

Personal columns are masked *before* anything is written (:mod:`tierbook.domain.masking`),
so raw values never reach the file. Each sheet has an optional bold title row, a header row
that is frozen and filtered, columns sized to their text (a CJK character counts two units),
dates as real Excel dates (``yyyy-mm-dd``) and amounts with thousands separators
(``#,##0.00``).

Sheets longer than Excel's 1,048,576 rows are **split**, never truncated: the rows continue
on ``name (2)``, ``name (3)``, …, each part with the same title and header rows.

Sheet names are made valid for Excel: ``[]:*?/\\`` become their full-width forms (so
``说明/About`` is written as ``说明／About``), names are cut to 31 characters, and a repeated
name gets `` (2)``, `` (3)``, …

Cell types by column dtype: integers (``#,##0``) and floats (``#,##0.00``) as numbers,
``bool`` as TRUE/FALSE, ``datetime64`` as dates (``yyyy-mm-dd hh:mm:ss`` when a time of day
is present); in text/object columns each value is written as what it is (text, number,
``date``/``datetime``, bool). Missing values (None, NaN, NaT, NA) and infinities are left
blank. Text is always written as text, never as a formula or a URL.

Cost: XlsxWriter takes about 10 µs a cell here, so a 200k-customer sheet of 12 columns takes
roughly 25–35 s; keep the large sheets narrow. ``constant_memory`` mode keeps memory flat.
"""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

from tierbook.domain.masking import MASK_KINDS, MaskKind, mask_value

MAX_ROWS = 1_048_576
MAX_COLS = 16_384
MAX_NAME = 31
AMOUNT_FORMAT = "#,##0.00"
INTEGER_FORMAT = "#,##0"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_NAME_FIXES = str.maketrans(
    {"[": "［", "]": "］", ":": "：", "*": "＊", "?": "？", "/": "／", "\\": "＼"}
)
_WIDTH_SAMPLE = 2000
_MIN_WIDTH, _MAX_WIDTH = 6.0, 60.0


@dataclass(frozen=True)
class Sheet:
    """One sheet: ``frame`` written under ``title`` (no title row when empty).

    ``masked_columns`` maps a column to its mask kind (``id``, ``phone``, ``name``,
    ``address``, ``full``); ``number_formats`` maps a column to an Excel number format that
    replaces the default of its type (e.g. ``"0.0%"``); ``column_widths`` overrides the
    fitted width of a column.
    """

    name: str
    title: str
    frame: pd.DataFrame
    masked_columns: Mapping[str, MaskKind] = field(default_factory=dict)
    number_formats: Mapping[str, str] = field(default_factory=dict)
    column_widths: Mapping[str, float] = field(default_factory=dict)
    freeze_header: bool = True
    autofilter: bool = True


def about_sheet(
    manifest: Mapping[str, Any], name: str = "说明／About", title: str = "说明 / About"
) -> Sheet:
    """A key/value sheet from a run manifest; nested mappings become dotted keys, lists are
    joined with ``, ``."""
    rows = list(_flatten(manifest))
    frame = pd.DataFrame(rows, columns=["key", "value"], dtype=object)
    return Sheet(name, title, frame, column_widths={"value": 60})


def write_workbook(path: Path, sheets: Sequence[Sheet], *, max_rows: int = MAX_ROWS) -> None:
    """Write ``sheets`` to ``path`` (``.xlsx``). ``max_rows`` is the row limit per worksheet,
    title and header rows included (lower it only to test the splitting)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    options = {
        "constant_memory": True,
        "remove_timezone": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
    }
    used: set[str] = set()
    with xlsxwriter.Workbook(str(path), options) as wb:
        styles = _Styles(wb)
        for sheet in sheets:
            frame = mask_frame(sheet.frame, sheet.masked_columns)
            if frame.shape[1] > MAX_COLS:
                raise ValueError(f"sheet {sheet.name!r}: {frame.shape[1]} columns > {MAX_COLS}")
            columns = [_Column.of(frame, j, sheet, styles) for j in range(frame.shape[1])]
            first = 2 if sheet.title else 1
            per_part = max_rows - first
            if per_part < 1:
                raise ValueError(f"max_rows={max_rows} leaves no room for data rows")
            parts = max(1, math.ceil(len(frame) / per_part))
            base = _valid_name(sheet.name)
            for k in range(parts):
                name = _unique(base if k == 0 else _suffixed(base, k + 1), used)
                ws = wb.add_worksheet(name)
                lo, hi = k * per_part, min(len(frame), (k + 1) * per_part)
                _write_part(ws, sheet, columns, styles, lo=lo, hi=hi)


def mask_frame(frame: pd.DataFrame, masked_columns: Mapping[str, MaskKind]) -> pd.DataFrame:
    """A copy of ``frame`` with the named columns masked (as text; missing stays missing)."""
    missing = [c for c in masked_columns if c not in frame.columns]
    if missing:
        raise ValueError(f"columns to mask are not in the frame: {', '.join(map(str, missing))}")
    bad = {c: k for c, k in masked_columns.items() if k not in MASK_KINDS}
    if bad:
        raise ValueError(f"unknown mask kinds {bad}; known: {', '.join(MASK_KINDS)}")
    if not masked_columns:
        return frame
    out = frame.copy()
    for j, col in enumerate(frame.columns):
        kind = masked_columns.get(col)
        if kind is not None:
            values = _nullable(frame.iloc[:, j])
            out.isetitem(
                j, pd.Series([mask_value(kind, v) for v in values], index=frame.index, dtype=object)
            )
    return out


class _Styles:
    def __init__(self, wb: xlsxwriter.Workbook) -> None:
        self.wb = wb
        self.title = wb.add_format({"bold": True, "font_size": 14})
        self.header = wb.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "bottom": 1, "text_wrap": True, "valign": "top"}
        )
        self._num: dict[str, Format] = {}

    def num(self, fmt: str) -> Format:
        if fmt not in self._num:
            self._num[fmt] = self.wb.add_format({"num_format": fmt})
        return self._num[fmt]


Writer = Callable[[Worksheet, int, int, Any], None]


@dataclass
class _Column:
    """One column prepared for writing: header, Python values (None = blank), a writer."""

    header: str
    values: list[Any]
    write: Writer
    width: float

    @classmethod
    def of(cls, frame: pd.DataFrame, j: int, sheet: Sheet, styles: _Styles) -> _Column:
        col = frame.columns[j]
        header = " / ".join(map(str, col)) if isinstance(col, tuple) else str(col)
        s = frame.iloc[:, j]
        custom = sheet.number_formats.get(col)
        values, write, fmt = _prepare(s, custom, styles)
        width = sheet.column_widths.get(col) or _fit_width(header, values, fmt)
        return cls(header, values, write, width)


def _prepare(s: pd.Series, custom: str | None, st: _Styles) -> tuple[list[Any], Writer, str]:
    """Values as Python objects and the writer of the column's type."""
    dtype = s.dtype
    if pd.api.types.is_bool_dtype(dtype):
        return _nullable(s), _boolean, ""
    if pd.api.types.is_integer_dtype(dtype):
        f = custom or INTEGER_FORMAT
        return [None if v is None else int(v) for v in _nullable(s)], _number(st.num(f)), f
    if pd.api.types.is_float_dtype(dtype):
        f = custom or AMOUNT_FORMAT
        vals = [None if v is None or not math.isfinite(v) else float(v) for v in _nullable(s)]
        return vals, _number(st.num(f)), f
    if pd.api.types.is_datetime64_any_dtype(dtype):
        ts = s.dt.tz_localize(None) if getattr(dtype, "tz", None) is not None else s
        has_time = bool((ts.dropna() != ts.dropna().dt.normalize()).any())
        f = custom or (DATETIME_FORMAT if has_time else DATE_FORMAT)
        vals = [None if pd.isna(t) else t.to_pydatetime() for t in ts]
        return vals, _datetime(st.num(f)), f
    # text, object, category, anything else: each value as what it is
    f = custom or AMOUNT_FORMAT
    date_f, dt_f = custom or DATE_FORMAT, custom or DATETIME_FORMAT
    return _nullable(s.astype(object)), _any(st.num(f), st.num(date_f), st.num(dt_f)), f


def _nullable(s: pd.Series) -> list[Any]:
    """Python values with every kind of missing as None."""
    mask = s.isna().to_numpy()
    vals: list[Any] = s.astype(object).to_numpy().tolist()
    if mask.any():
        for i in np.flatnonzero(mask):
            vals[i] = None
    return vals


def _number(fmt: Format) -> Writer:
    def write(ws: Worksheet, r: int, c: int, v: Any) -> None:
        ws.write_number(r, c, v, fmt)

    return write


def _datetime(fmt: Format) -> Writer:
    def write(ws: Worksheet, r: int, c: int, v: Any) -> None:
        ws.write_datetime(r, c, v, fmt)

    return write


def _boolean(ws: Worksheet, r: int, c: int, v: Any) -> None:
    ws.write_boolean(r, c, bool(v))


def _any(num: Format, date_fmt: Format, dt_fmt: Format) -> Writer:
    def write(ws: Worksheet, r: int, c: int, v: Any) -> None:
        if isinstance(v, str):
            ws.write_string(r, c, v)
        elif isinstance(v, bool | np.bool_):
            ws.write_boolean(r, c, bool(v))
        elif isinstance(v, int | float | Decimal | np.integer | np.floating):
            x = float(v)
            if math.isfinite(x):
                ws.write_number(r, c, x, num)
        elif isinstance(v, dt.datetime):  # includes pd.Timestamp
            has_time = v.time() != dt.time(0)
            ws.write_datetime(r, c, v.replace(tzinfo=None), dt_fmt if has_time else date_fmt)
        elif isinstance(v, dt.date):
            ws.write_datetime(r, c, v, date_fmt)
        else:
            ws.write_string(r, c, str(v))

    return write


def _write_part(
    ws: Worksheet, sheet: Sheet, columns: Sequence[_Column], st: _Styles, *, lo: int, hi: int
) -> None:
    for j, col in enumerate(columns):
        ws.set_column(j, j, col.width)
    row = 0
    if sheet.title:
        ws.set_row(0, 22)
        ws.write_string(0, 0, sheet.title, st.title)
        row = 1
    header_row = row
    for j, col in enumerate(columns):
        ws.write_string(header_row, j, col.header, st.header)
    if sheet.freeze_header:
        ws.freeze_panes(header_row + 1, 0)
    if sheet.autofilter and columns:
        ws.autofilter(header_row, 0, header_row + max(hi - lo, 0), len(columns) - 1)
    pairs = [(j, col.values, col.write) for j, col in enumerate(columns)]
    for i in range(lo, hi):
        r = header_row + 1 + i - lo
        for j, values, write in pairs:
            v = values[i]
            if v is not None:
                write(ws, r, j, v)


def _display_width(text: str) -> int:
    """Width in Excel units: East Asian wide and full-width characters count two."""
    return sum(
        2 if ord(ch) > 0x10FF and unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text
    )


def _fit_width(header: str, values: Sequence[Any], fmt: str) -> float:
    n = len(values)
    step = max(1, n // _WIDTH_SAMPLE)
    widest = max((_display_width(part) for part in header.split("\n")), default=0) + 2
    for i in range(0, n, step):
        v = values[i]
        if v is None:
            continue
        widest = max(widest, _cell_width(v, fmt))
    return min(max(float(widest) + 1, _MIN_WIDTH), _MAX_WIDTH)


def _cell_width(v: Any, fmt: str) -> int:
    if isinstance(v, str):
        return max((_display_width(line) for line in v.split("\n")), default=0)
    if isinstance(v, bool | np.bool_):
        return 5
    if isinstance(v, dt.datetime):
        return 19 if v.time() != dt.time(0) else 10
    if isinstance(v, dt.date):
        return 10
    if isinstance(v, int | float | Decimal | np.integer | np.floating):
        x = float(v)
        if not math.isfinite(x):
            return 0
        decimals = fmt.split(".")[1].count("0") if "." in fmt else 0
        return len(f"{x:,.{decimals}f}") + (1 if "%" in fmt else 0)
    return len(str(v))


def _valid_name(name: str) -> str:
    fixed = name.translate(_NAME_FIXES).strip().strip("'").strip()
    if not fixed:
        fixed = "Sheet"
    if fixed.casefold() == "history":  # reserved by Excel
        fixed += "_"
    return fixed[:MAX_NAME]


def _suffixed(base: str, k: int) -> str:
    suffix = f" ({k})"
    return base[: MAX_NAME - len(suffix)].rstrip() + suffix


def _unique(name: str, used: set[str]) -> str:
    candidate, k = name, 2
    while candidate.casefold() in used:
        candidate = _suffixed(name, k)
        k += 1
    used.add(candidate.casefold())
    return candidate


def _flatten(data: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, Any]]:
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from _flatten(value, f"{name}.")
        elif isinstance(value, list | tuple | set | frozenset):
            items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
            yield name, ", ".join(map(str, items))
        elif value is None or isinstance(value, str | int | float | dt.date | Decimal):
            yield name, value
        else:
            yield name, str(value)
