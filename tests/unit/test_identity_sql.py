"""The SQL identity rules (ingest) agree with ``tierbook.domain.identity`` (the reference).

Valid numbers are built with the domain's check-character functions, invalid ones by
mutating a character; DuckDB then evaluates the ingest SQL over all of them at once and every
row must get the domain's error code and reason (or none).
"""

from __future__ import annotations

import string
import sys
from datetime import date

import duckdb
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from tierbook.domain.identity import (
    IdentityError,
    normalize_mobile,
    parse_resident_id,
    resident_id_check_char,
    uscc_check_char,
    validate_uscc,
)
from tierbook.ingest.fields import mobile_sql
from tierbook.ingest.identity_sql import identity_checks, identity_columns
from tierbook.ingest.sql import PY_WHITESPACE, strip_sql

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
DIGITS = string.digits


def sql_identity(rows: list[tuple[str, str, date | None]]) -> list[tuple[str, str] | None]:
    """(code, reason) of the first identity error of each (number, kind, birth_date)."""
    con = duckdb.connect()
    numbers, kinds, births = zip(*rows, strict=True)
    data = pa.table(
        {
            "i": pa.array(range(len(rows)), pa.int64()),
            "id_number": pa.array([n.upper() for n in numbers], pa.string()),
            "kind": pa.array(kinds, pa.string()),
            "birth_date": pa.array(births, pa.date32()),
        }
    )
    con.register("people", data)
    checks = identity_checks("id_number", "kind", "birth_date", "_born", "_check")
    flags = ", ".join(f"{c.sql} AS {c.name}" for c in checks)
    extra = ", ".join(f"{sql} AS {n}" for n, sql in identity_columns("id_number", "kind").items())
    got = con.execute(
        f"SELECT i, {flags} FROM (SELECT *, {extra} FROM people) ORDER BY i"
    ).fetchall()
    out: list[tuple[str, str] | None] = []
    for row in got:
        hits = [(c.code, c.reason) for c, hit in zip(checks, row[1:], strict=True) if hit]
        assert len(hits) <= 1, hits  # the rules of one number are exclusive
        out.append(hits[0] if hits else None)
    return out


def domain_identity(number: str, kind: str, birth: date | None) -> tuple[str, str] | None:
    try:
        if kind == "individual":
            born, _ = parse_resident_id(number)
            if birth is not None and birth != born:
                return ("BIRTHDATE_MISMATCH", "")
            return None
        validate_uscc(number)
    except IdentityError as exc:
        return (exc.code, exc.reason)
    return None


def same(sql: tuple[str, str] | None, ref: tuple[str, str] | None) -> bool:
    if sql is None or ref is None:
        return sql == ref
    if ref[0] == "BIRTHDATE_MISMATCH":
        return sql[0] == ref[0]
    if ref[0] == "USCC_CHECKSUM":
        return sql[0] == ref[0] and sql[1].startswith(ref[1]) and "pilot" in sql[1]
    return sql == ref


births = st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 12, 31))


@st.composite
def resident_ids(draw: st.DrawFn) -> tuple[str, str, date | None]:
    area = draw(st.text(DIGITS, min_size=6, max_size=6))
    born = draw(births)
    serial = draw(st.text(DIGITS, min_size=3, max_size=3))
    body = f"{area}{born:%Y%m%d}{serial}"
    number = body + resident_id_check_char(body)
    mutation = draw(st.sampled_from(["none", "digit", "check", "date", "shape", "lower"]))
    if mutation == "digit":
        i = draw(st.integers(0, 16))
        number = number[:i] + draw(st.sampled_from(DIGITS)) + number[i + 1 :]
    elif mutation == "check":
        number = number[:17] + draw(st.sampled_from(DIGITS + "X"))
    elif mutation == "date":
        fake = draw(st.sampled_from(["20230229", "19991301", "20000431", "00000101", "18991231"]))
        number = number[:6] + fake + number[14:]
    elif mutation == "shape":
        number = draw(st.text(DIGITS + "Xx-A ", min_size=15, max_size=19))
    elif mutation == "lower":
        number = number.lower()
    given_birth = draw(st.one_of(st.none(), st.just(born), births))
    return number, "individual", given_birth


@st.composite
def credit_codes(draw: st.DrawFn) -> tuple[str, str, date | None]:
    chars = st.sampled_from(USCC_ALPHABET)
    head = "".join(draw(st.lists(chars, min_size=2, max_size=2)))
    area = draw(st.text(DIGITS, min_size=6, max_size=6))
    tail = "".join(draw(st.lists(chars, min_size=9, max_size=9)))
    body = head + area + tail
    number = body + uscc_check_char(body)
    mutation = draw(st.sampled_from(["none", "char", "check", "shape", "letter", "lower"]))
    if mutation == "char":
        i = draw(st.integers(0, 16))
        pool = DIGITS if 2 <= i < 8 else USCC_ALPHABET
        number = number[:i] + draw(st.sampled_from(pool)) + number[i + 1 :]
    elif mutation == "check":
        number = number[:17] + draw(chars)
    elif mutation == "shape":
        number = draw(st.text(USCC_ALPHABET + "IOSVZ-", min_size=16, max_size=19))
    elif mutation == "letter":
        i = draw(st.integers(0, 17))
        number = number[:i] + draw(st.sampled_from("IOSVZ")) + number[i + 1 :]
    elif mutation == "lower":
        number = number.lower()
    kind = draw(st.sampled_from(["corporate", "institution"]))
    return number, kind, None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(resident_ids(), credit_codes()), min_size=1, max_size=60))
def test_sql_identity_rules_agree_with_the_domain(rows):
    for row, sql in zip(rows, sql_identity(rows), strict=True):
        assert same(sql, domain_identity(*row)), (row, sql, domain_identity(*row))


def test_verified_numbers_pass_and_a_mutated_check_digit_fails_in_sql():
    rows = [
        ("11010519491231002X", "individual", date(1949, 12, 31)),
        ("91350100M000100Y43", "corporate", None),
        ("110105194912310021", "individual", None),
        ("91350100M000100Y44", "institution", None),
    ]
    codes = [r[0] if r else None for r in sql_identity(rows)]
    assert codes == [None, None, "ID_CHECKSUM", "USCC_CHECKSUM"]


phone_chars = st.sampled_from([*DIGITS, " ", "-", "(", ")", "（", "）", "+", "\u3000", "\t", "x"])


@st.composite
def phones(draw: st.DrawFn) -> str:
    number = "1" + draw(st.sampled_from("3456789")) + draw(st.text(DIGITS, min_size=9, max_size=9))
    prefix = draw(st.sampled_from(["", "+86", "0086", "86", "+86 ", "(0086)"]))
    text = prefix + number
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, len(text)))
        text = text[:i] + draw(phone_chars) + text[i:]
    return text


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(phones(), st.text(phone_chars, max_size=18)), min_size=1, max_size=60))
def test_sql_mobile_normalisation_agrees_with_the_domain(texts):
    con = duckdb.connect()
    con.register("p", pa.table({"i": range(len(texts)), "t": texts}))
    got = [r[0] for r in con.execute(f"SELECT {mobile_sql('t')} FROM p ORDER BY i").fetchall()]
    for text, sql in zip(texts, got, strict=True):
        try:
            want: str | None = normalize_mobile(text)
        except IdentityError as exc:
            want = None if exc.code == "MOBILE_FORMAT" else exc.code
        assert sql == want, text


def test_sql_strip_removes_exactly_pythons_whitespace():
    everything = "".join(chr(i) for i in range(sys.maxunicode + 1) if chr(i).isspace())
    assert everything == PY_WHITESPACE
    samples = [chr(i) for i in range(1, 0x3100)] + [f"a{c}b{c}" for c in PY_WHITESPACE]
    samples += [f"{c} 中文 {c}" for c in PY_WHITESPACE] + ["", " ", "x"]
    con = duckdb.connect()
    con.register("s", pa.table({"i": range(len(samples)), "v": samples}))
    got = [r[0] for r in con.execute(f"SELECT {strip_sql('v')} FROM s ORDER BY i").fetchall()]
    assert got == [v.strip() or None for v in samples]
