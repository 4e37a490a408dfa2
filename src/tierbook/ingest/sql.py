"""Small helpers for the DuckDB SQL of ingest: quoting, Python-compatible stripping, results.

Ingest talks to DuckDB directly (``con.con`` of an Ibis DuckDB backend): every table is
validated set-based in SQL and only bad rows ever come back to Python.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pyarrow as pa


def q(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""Every character ``str.strip()`` removes and ``re``'s ``\\s`` matches (a test checks it):
the Python readers strip cells this way, so the SQL strips the same characters."""


def _chars_sql(chars: str) -> str:
    return "||".join(f"chr({ord(c)})" for c in chars)


def _not_space(code: str) -> str:
    """SQL: the code point ``code`` is not Python whitespace. (Comparisons, not an IN list:
    DuckDB turns a long IN list into a join evaluated on every row.)"""
    wide = [ord(c) for c in PY_WHITESPACE if ord(c) > 32 and not 0x2000 <= ord(c) <= 0x200A]
    equal = " OR ".join(f"{code} = {n}" for n in wide)
    return f"({code} > 32 AND NOT ({equal} OR {code} BETWEEN 8192 AND 8202))"


def strip_sql(expr: str) -> str:
    """SQL: ``expr`` stripped like Python's ``str.strip()``; empty becomes NULL.

    A value whose first and last characters are not whitespace (nearly every value) is
    returned as it is, tested first for ends that are printable ASCII or above U+3000 (the
    last whitespace code point: CJK text), which is cheap; only the others pay for the
    trim, which is slow with this character set (about 1.5 µs a value)."""
    first, last = f"ascii({expr})", f"ascii({expr}[-1])"
    plain = f"{_plain(first)} AND {_plain(last)}"
    other_ends = f"{_not_space(first)} AND {_not_space(last)}"
    return (
        f"CASE WHEN {plain} THEN {expr} WHEN {other_ends} THEN {expr} "
        f"ELSE NULLIF(trim({expr}, {_chars_sql(PY_WHITESPACE)}), '') END"
    )


def _plain(code: str) -> str:
    top = max(ord(c) for c in PY_WHITESPACE)
    return f"({code} BETWEEN 33 AND 132 OR {code} > {top})"


def whitespace_class() -> str:
    """An RE2 character-class body matching Python's whitespace (``\\s`` of ``re``)."""
    return "".join(f"\\x{{{ord(c):x}}}" for c in PY_WHITESPACE)


def db(con: Any) -> Any:
    """The DuckDB connection under an Ibis backend (or a DuckDB connection itself)."""
    return getattr(con, "con", con)


def run(con: Any, sql: str) -> Any:
    return db(con).execute(sql)


def scalar(con: Any, sql: str) -> Any:
    rows = run(con, sql).fetchall()  # fetched to the end: DuckDB 2.0 refuses other work before
    return rows[0][0] if rows else None


def frame(con: Any, sql: str) -> pd.DataFrame:
    return run(con, sql).df()


@contextmanager
def registered(con: Any, name: str, data: pa.Table) -> Iterator[str]:
    """``data`` visible to SQL as ``name`` for the duration of the block."""
    db(con).register(name, data)
    try:
        yield name
    finally:
        db(con).unregister(name)


@contextmanager
def setting(con: Any, name: str, value: str) -> Iterator[None]:
    """A DuckDB setting changed for the duration of the block, then restored."""
    old = scalar(con, f"SELECT current_setting({lit(name)})")
    run(con, f"SET {name} = {value}")
    try:
        yield
    finally:
        run(con, f"SET {name} = {lit(str(old)) if isinstance(old, str) else old}")
