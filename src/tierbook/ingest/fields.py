"""Parse one text value per contract column type. Pure functions; no raw value in a reason.

Each parser takes the stripped text of a non-empty cell and returns the typed value, or raises
``FieldError`` with a stable code and a reason that does not repeat the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from typing import Any

from tierbook.domain.identity import IdentityError, normalize_mobile
from tierbook.ingest.contract import Column

_DATE = re.compile(r"^(\d{4})([-/])(\d{1,2})\2(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})(?:[-/]0?1)?$")
_INT = re.compile(r"^[+-]?\d+$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")
_BOOLS = {
    "true": True, "false": False, "1": True, "0": False, "是": True, "否": False,
    "y": True, "n": False, "yes": True, "no": False, "t": True, "f": False,
}  # fmt: skip


class FieldError(ValueError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def parse_date(text: str) -> date:
    """ISO ``YYYY-MM-DD`` or ``YYYY/MM/DD`` (Excel date cells arrive as ISO text)."""
    m = _DATE.match(text)
    if m:
        try:
            return date(int(m[1]), int(m[3]), int(m[4]))
        except ValueError:
            pass
    raise FieldError("BAD_DATE", "not a valid date (expected YYYY-MM-DD)")


def parse_month(text: str) -> str:
    """``YYYY-MM`` (also ``YYYY/MM`` or the first day of the month); returned as ``YYYY-MM``."""
    m = _MONTH.match(text)
    if m and 1 <= int(m[2]) <= 12:
        return f"{m[1]}-{int(m[2]):02d}"
    raise FieldError("BAD_MONTH", "not a valid month (expected YYYY-MM)")


def parse_decimal(text: str) -> float:
    """A finite decimal; thousands separators ``1,234.50`` are accepted."""
    if _GROUPED.match(text):
        text = text.replace(",", "")
    try:
        value = float(text)
    except ValueError:
        raise FieldError("BAD_NUMBER", "not a number") from None
    if not math.isfinite(value) or text.lower().lstrip("+-").startswith(("nan", "inf")):
        raise FieldError("BAD_NUMBER", "NaN or infinity is not an amount")
    return value


def parse_int(text: str) -> int:
    if not _INT.match(text):
        raise FieldError("BAD_INT", "not a whole number")
    return int(text)


def parse_bool(text: str) -> bool:
    try:
        return _BOOLS[text.lower()]
    except KeyError:
        raise FieldError("BAD_BOOL", "not a boolean (true/false, 1/0, 是/否, Y/N)") from None


def enum_parser(column: Column) -> Callable[[str], str]:
    """Exact value, or a case-insensitive match mapped to the contract's spelling."""
    canon = {v.lower(): v for v in column.enum}
    allowed = ", ".join(column.enum)

    def parse(text: str) -> str:
        try:
            return canon[text.lower()]
        except KeyError:
            raise FieldError("BAD_ENUM", f"not one of: {allowed}") from None

    return parse


def parse_text(text: str) -> str:
    return text


def parse_mobile(text: str) -> str:
    try:
        return normalize_mobile(text)
    except IdentityError as exc:
        raise FieldError(exc.code, exc.reason) from None


def parse_upper(text: str) -> str:
    return text.upper()


def parser_for(column: Column) -> Callable[[str], Any]:
    """The parser of one contract column. Phones are normalised; ID numbers upper-cased."""
    if column.name == "phone":
        return parse_mobile
    if column.name == "id_number":
        return parse_upper
    simple: dict[str, Callable[[str], Any]] = {
        "date": parse_date,
        "month": parse_month,
        "decimal": parse_decimal,
        "int": parse_int,
        "bool": parse_bool,
        "text": parse_text,
        "id_text": parse_text,
    }
    if column.type == "enum":
        return enum_parser(column)
    return simple[column.type]


ARROW_TYPES = {
    "text": "string",
    "id_text": "string",
    "enum": "string",
    "month": "string",
    "int": "int64",
    "decimal": "float64",
    "date": "date32",
    "bool": "bool",
}
