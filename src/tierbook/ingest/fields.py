"""The SQL of one contract column: its text, its typed value and its checks.

Each column passes through three expressions, evaluated by DuckDB over whole tables:

- ``text``: the cell as contract text, stripped like Python's ``str.strip()``, NULL when
  empty. A column the source stores natively (Parquet) becomes the text the Python readers
  gave it (``readers.cell_text``): whole floats without ``.0``, dates ISO, booleans
  ``true``/``false``; dates and numbers stored natively skip the text step.
- ``typed``: the contract type (DATE, DOUBLE, BIGINT, BOOLEAN, canonical enum spelling,
  ``YYYY-MM``, normalised mobile, upper-cased ID number), NULL when the text does not parse.
- checks: one boolean per rule, true when the row is wrong (``REQUIRED``, ``BAD_DATE``...).

Reasons never repeat the value.
"""

from __future__ import annotations

from dataclasses import dataclass

from tierbook.ingest.contract import Column
from tierbook.ingest.sql import lit, q, strip_sql, whitespace_class

_FLOATS = ("FLOAT", "DOUBLE", "REAL")
_INTEGERS = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "UHUGEINT",
)
_BOOLS = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "是": True,
    "否": False,
    "y": True,
    "n": False,
    "yes": True,
    "no": False,
    "t": True,
    "f": False,
}

REASONS = {
    "REQUIRED": "required value is empty",
    "BAD_DATE": "not a valid date (expected YYYY-MM-DD)",
    "BAD_MONTH": "not a valid month (expected YYYY-MM)",
    "BAD_NUMBER": "not a number",
    "NOT_FINITE": "NaN or infinity is not an amount",
    "BAD_INT": "not a whole number",
    "BAD_BOOL": "not a boolean (true/false, 1/0, 是/否, Y/N)",
    "MOBILE_FORMAT": "mobile number must be 11 digits starting 13–19",
    "FLOAT_ID": "ID column is stored as a floating-point number; store it as text",
}


@dataclass(frozen=True)
class Check:
    """One rule: ``sql`` is true when the row breaks it (never NULL)."""

    name: str  # column of the check relation
    column: str  # contract column named in the quarantine ('' for whole-row)
    code: str
    reason: str
    sql: str


def text_sql(column: Column, source_type: str) -> str:
    """SQL of the cell as stripped contract text (NULL when empty)."""
    x = q(column.name)
    src = source_type.upper()
    if src == "VARCHAR":
        return strip_sql(x)
    if src == "BOOLEAN":
        return f"CASE WHEN {x} THEN 'true' WHEN NOT {x} THEN 'false' END"
    if src in _FLOATS:
        whole = f"isfinite({x}) AND {x} = trunc({x}) AND abs({x}) < 1e15"
        as_int = f"CAST(CAST({x} AS BIGINT) AS VARCHAR)"
        return f"CASE WHEN {whole} THEN {as_int} ELSE CAST({x} AS VARCHAR) END"
    if src.startswith("TIMESTAMP"):
        day = f"CAST(CAST({x} AS DATE) AS VARCHAR)"
        midnight = f"CAST({x} AS TIME) = TIME '00:00:00'"
        return f"CASE WHEN {midnight} THEN {day} ELSE CAST({x} AS VARCHAR) END"
    if src in _INTEGERS or src == "DATE":
        return f"CAST({x} AS VARCHAR)"
    return strip_sql(f"CAST({x} AS VARCHAR)")


def is_native(column: Column, source_type: str) -> bool:
    """Whether ``typed_sql`` reads the source column itself rather than its text."""
    src = source_type.upper()
    if column.type == "date":
        return src == "DATE" or src.startswith("TIMESTAMP")
    if column.type == "decimal":
        return src in _FLOATS or src in _INTEGERS or src.startswith("DECIMAL")
    if column.type == "int":
        return src in _INTEGERS
    return column.type == "id_text" and src in _FLOATS


def typed_sql(column: Column, t: str, source_type: str = "VARCHAR") -> str:
    """SQL of the typed value; ``t`` is the text expression (or the source column when
    ``is_native``)."""
    if is_native(column, source_type):
        return _native(column, t, source_type.upper())
    if column.name == "phone":
        return mobile_sql(t)
    if column.name == "id_number":
        return f"upper({t})"
    if column.type == "date":
        return date_sql(t)
    if column.type == "month":
        return month_sql(t)
    if column.type == "decimal":
        return _finite(decimal_sql(t))
    if column.type == "int":
        return f"CASE WHEN regexp_full_match({t}, '[+-]?[0-9]+') THEN TRY_CAST({t} AS BIGINT) END"
    if column.type == "bool":
        cases = " ".join(f"WHEN {lit(k)} THEN {str(v).upper()}" for k, v in _BOOLS.items())
        return f"CASE lower({t}) {cases} END"
    if column.type == "enum":
        cases = " ".join(f"WHEN {lit(v.lower())} THEN {lit(v)}" for v in column.enum)
        return f"CASE lower({t}) {cases} END"
    return t


def _native(column: Column, x: str, src: str) -> str:
    if column.type == "date":
        if src == "DATE":
            return x
        return f"CASE WHEN CAST({x} AS TIME) = TIME '00:00:00' THEN CAST({x} AS DATE) END"
    if column.type == "decimal":
        return _finite(f"CAST({x} AS DOUBLE)")
    if column.type == "int":
        return f"CAST({x} AS BIGINT)"
    return "CAST(NULL AS VARCHAR)"  # a floating-point ID column: refused cell by cell


def date_sql(t: str) -> str:
    """``YYYY-MM-DD`` or ``YYYY/MM/DD`` (one or two digits of month and day), a real date."""
    shape = "'[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}|[0-9]{4}/[0-9]{1,2}/[0-9]{1,2}'"
    return (
        f"CASE WHEN regexp_full_match({t}, {shape}) AND NOT starts_with({t}, '0000') "
        f"THEN TRY_CAST(replace({t}, '/', '-') AS DATE) END"
    )


def month_sql(t: str) -> str:
    """``YYYY-MM`` (also ``YYYY/MM`` or the month's first day) as ``YYYY-MM``."""
    pattern = "'^([0-9]{4})[-/]([0-9]{1,2})(?:[-/]0?1)?$'"
    m = f"TRY_CAST(regexp_extract({t}, {pattern}, 2) AS INTEGER)"
    year = f"regexp_extract({t}, {pattern}, 1)"
    padded = f"{year} || '-' || lpad(CAST({m} AS VARCHAR), 2, '0')"
    general = f"CASE WHEN {m} BETWEEN 1 AND 12 THEN {padded} END"
    canonical = f"regexp_full_match({t}, '[0-9]{{4}}-(0[1-9]|1[0-2])')"
    return f"CASE WHEN {canonical} THEN {t} ELSE {general} END"


def decimal_sql(t: str) -> str:
    """The number, NaN and infinities included; NULL when the text is not one. Thousands
    separators are accepted when grouped like ``1,234.50``."""
    grouped = r"'[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?'"
    bare = (
        f"CASE WHEN contains({t}, ',') AND regexp_full_match({t}, {grouped}) "
        f"THEN replace({t}, ',', '') ELSE {t} END"
    )
    return f"TRY_CAST({bare} AS DOUBLE)"


def _finite(x: str) -> str:
    return f"CASE WHEN isfinite({x}) THEN {x} END"


def mobile_sql(t: str) -> str:
    """Separators (whitespace, hyphens, parentheses) and a +86/0086/86 prefix stripped, then
    ``^1[3-9][0-9]{9}$``; NULL when it is not a mainland mobile number. (The prefix is taken
    only when eleven characters follow it, as in ``domain.identity.normalize_mobile``.)"""
    bare = f"regexp_replace({t}, '[{whitespace_class()}\\-()（）]', '', 'g')"
    return f"NULLIF(regexp_extract({bare}, '^(?:\\+86|0086|86)?(1[3-9][0-9]{{9}})$', 1), '')"


def column_checks(column: Column, t: str, typed: str, source_type: str, i: int) -> list[Check]:
    """The cell checks of one column; ``t`` and ``typed`` name its text and typed columns
    (``t`` is the source column itself when ``is_native``)."""
    src = source_type.upper()
    native = is_native(column, source_type)
    empty = f"{t} IS NULL"
    checks: list[Check] = []
    if column.type == "id_text" and src in _FLOATS:
        why = REASONS["FLOAT_ID"]
        checks.append(Check(f"_e{i}_num", column.name, "NUMERIC_ID_CELL", why, f"{t} IS NOT NULL"))
    if column.required:
        req = REASONS["REQUIRED"]
        checks.append(Check(f"_e{i}_req", column.name, "REQUIRED", req, empty))
    code = "MOBILE_FORMAT" if column.name == "phone" else _TYPE_CODES.get(column.type)
    if code is None:
        return checks
    reason = f"not one of: {', '.join(column.enum)}" if code == "BAD_ENUM" else REASONS[code]
    bad = f"{t} IS NOT NULL AND {typed} IS NULL"
    if column.type != "decimal":
        return [*checks, Check(f"_e{i}_type", column.name, code, reason, bad)]
    parsed = t if native else decimal_sql(t)
    infinite = f"{bad} AND {parsed} IS NOT NULL"  # parsed, but NaN or infinite
    if not native:
        checks.append(
            Check(f"_e{i}_type", column.name, code, reason, f"{bad} AND {parsed} IS NULL")
        )
    checks.append(Check(f"_e{i}_inf", column.name, code, REASONS["NOT_FINITE"], infinite))
    return checks


_TYPE_CODES = {
    "date": "BAD_DATE",
    "month": "BAD_MONTH",
    "decimal": "BAD_NUMBER",
    "int": "BAD_INT",
    "bool": "BAD_BOOL",
    "enum": "BAD_ENUM",
}
