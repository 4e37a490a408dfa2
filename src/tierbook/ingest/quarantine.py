"""The quarantine: rows set aside during ingest, one line per error, and the error codes.

A quarantined row never reaches the clean tables; it is kept here with its file, sheet, line,
column, a stable error code and a reason. Reasons never contain the raw value of a personal
field (ID number, name, phone): they say what is wrong, not what was there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

QUARANTINE_COLUMNS = ("table", "file", "sheet", "line", "column", "code", "reason")

ERROR_CODES: dict[str, str] = {
    "REQUIRED": "a required value is empty",
    "FIELD_COUNT": "a CSV row has more or fewer fields than its header",
    "NUMERIC_ID_CELL": "an Excel cell of an ID column holds a number, not text "
    "(Excel keeps only 15 significant digits, so the ID may be corrupted)",
    "BAD_DATE": "not a date (YYYY-MM-DD, YYYY/MM/DD or an Excel date cell)",
    "BAD_MONTH": "not a month (YYYY-MM)",
    "BAD_NUMBER": "not a finite decimal number (NaN and infinity are refused)",
    "BAD_INT": "not a whole number",
    "BAD_BOOL": "not a boolean (true/false, 1/0, 是/否, Y/N)",
    "BAD_ENUM": "not one of the column's allowed values",
    "ID_FORMAT": "resident ID is not 17 digits followed by a digit or X",
    "ID_CHECKSUM": "resident ID check digit does not match (GB 11643-1999)",
    "ID_BIRTHDATE": "resident ID encodes a birth date that does not exist or is before 1900",
    "BIRTHDATE_MISMATCH": "birth_date differs from the birth date in the resident ID",
    "USCC_FORMAT": "unified social credit code is not 18 characters of its alphabet",
    "USCC_CHECKSUM": "unified social credit code check character does not match "
    "(GB 32100-2015); early pilot codes fail it: held for manual review",
    "MOBILE_FORMAT": "phone is not a mainland mobile number",
    "NEGATIVE_AMOUNT": "an amount the contract requires to be >= 0 (or > 0) is not",
    "BAD_CAPACITY": "staff capacity must be greater than 0",
    "DATE_ORDER": "dates out of order (maturity or close before open, end before start)",
    "UNKNOWN_REFERENCE": "refers to a row that does not exist or was quarantined",
    "DUPLICATE_ROW": "exact copy of an earlier row; the earlier row is kept",
    "DUPLICATE_KEY": "several different rows share one key; all of them are set aside",
}


class IngestError(RuntimeError):
    """A fatal ingest problem: the load stops. The message names the file and the reason."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = str(path)
        self.reason = reason


@dataclass(frozen=True)
class Issue:
    """One error of one row. ``row`` indexes the raw frame the validator works on."""

    row: int
    column: str
    code: str
    reason: str

    def __post_init__(self) -> None:
        if self.code not in ERROR_CODES:
            raise ValueError(f"unknown error code {self.code}")


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame(
        {c: pd.Series(dtype="int64" if c == "line" else "object") for c in QUARANTINE_COLUMNS}
    )


def issues_frame(table: str, issues: list[Issue], meta: pd.DataFrame) -> pd.DataFrame:
    """Quarantine lines for ``issues``; ``meta`` has ``_file``, ``_sheet``, ``_line`` per row."""
    if not issues:
        return empty_quarantine()
    rows = [i.row for i in issues]
    return pd.DataFrame(
        {
            "table": table,
            "file": meta["_file"].to_numpy()[rows],
            "sheet": meta["_sheet"].to_numpy()[rows],
            "line": meta["_line"].to_numpy()[rows].astype("int64"),
            "column": [i.column for i in issues],
            "code": [i.code for i in issues],
            "reason": [i.reason for i in issues],
        }
    )


def combine(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One quarantine frame, sorted by table, file, sheet and line."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_quarantine()
    out = pd.concat(frames, ignore_index=True)[list(QUARANTINE_COLUMNS)]
    out["line"] = out["line"].astype("int64")
    order = ["table", "file", "sheet", "line", "column", "code"]
    return out.sort_values(order, na_position="first", kind="stable").reset_index(drop=True)


def write_quarantine(quarantine: pd.DataFrame, path: Path) -> Path:
    """Write the quarantine as UTF-8 CSV with a BOM (so Excel shows Chinese text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    quarantine.to_csv(path, index=False, encoding="utf-8-sig", columns=list(QUARANTINE_COLUMNS))
    return path
