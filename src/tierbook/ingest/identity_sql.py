"""The identity rules of ``tierbook.domain.identity`` written in DuckDB SQL, for whole tables.

- Resident ID (GB 11643-1999): 17 digits and a digit or X; the birth date it encodes exists and
  is not before 1900; ISO 7064 MOD 11-2 check character ``"10X98765432"[Σ digit·weight mod 11]``.
- Unified social credit code (GB 32100-2015): 18 characters of
  ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (digits in places 3–8); check character
  ``alphabet[(31 − Σ value·weight mod 31) mod 31]``.

Each rule is one boolean column, true when broken; the rules of one number are exclusive and
in the order the domain functions raise them, so a number gets at most one identity error.
A property test checks that codes and reasons agree with the domain on random numbers.
"""

from __future__ import annotations

from tierbook.ingest.fields import Check
from tierbook.ingest.sql import lit

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ID_FORMAT = "resident ID must be 17 digits and a digit or X"
ID_NO_DATE = "resident ID encodes a date that does not exist"
ID_BEFORE_1900 = "resident ID encodes a birth year before 1900"
ID_CHECKSUM = "resident ID check digit does not match (GB 11643-1999)"
USCC_FORMAT = "credit code must be 18 characters of GB 32100-2015"
USCC_CHECKSUM = "credit code check character does not match (GB 32100-2015)"
PILOT_NOTE = "; early pilot codes fail this check: set aside for manual review, not rejected"
MISMATCH = "birth_date differs from the birth date encoded in the resident ID"

_USCC_CLASS = "[0-9A-HJ-NPQRTUWXY]"


def resident_id_check_sql(v: str) -> str:
    """SQL: the check character of the 17-digit body of ``v`` (digits assumed)."""
    total = " + ".join(
        f"(ascii(substr({v}, {i + 1}, 1)) - 48) * {w}" for i, w in enumerate(ID_WEIGHTS)
    )
    return f"substr({lit(ID_CHECK)}, ({total}) % 11 + 1, 1)"


def uscc_check_sql(v: str) -> str:
    """SQL: the check character of the 17-character body of ``v`` (alphabet assumed)."""
    alphabet = lit(USCC_ALPHABET)
    total = " + ".join(
        f"(instr({alphabet}, substr({v}, {i + 1}, 1)) - 1) * {w}"
        for i, w in enumerate(USCC_WEIGHTS)
    )
    return f"substr({alphabet}, (31 - ({total}) % 31) % 31 + 1, 1)"


def resident_id_shape_sql(v: str) -> str:
    return f"regexp_full_match({v}, '[0-9]{{17}}[0-9X]')"


def resident_id_birth_sql(v: str) -> str:
    """SQL: the birth date encoded in a well-shaped resident ID; NULL when it does not exist."""
    iso = f"substr({v}, 7, 4) || '-' || substr({v}, 11, 2) || '-' || substr({v}, 13, 2)"
    return f"CASE WHEN substr({v}, 7, 4) <> '0000' THEN TRY_CAST({iso} AS DATE) END"


def uscc_shape_sql(v: str) -> str:
    return f"regexp_full_match({v}, '{_USCC_CLASS}{{2}}[0-9]{{6}}{_USCC_CLASS}{{10}}')"


def identity_columns(number: str, kind: str) -> dict[str, str]:
    """Columns ``identity_checks`` reads, computed once per row next to the typed columns:
    the encoded birth date and the expected check character of a well-shaped number."""
    person = f"{kind} = 'individual' AND {resident_id_shape_sql(number)}"
    other = f"{kind} <> 'individual' AND {uscc_shape_sql(number)}"
    return {
        "_born": f"CASE WHEN {person} THEN {resident_id_birth_sql(number)} END",
        "_check": (
            f"CASE WHEN {person} THEN {resident_id_check_sql(number)} "
            f"WHEN {other} THEN {uscc_check_sql(number)} END"
        ),
    }


def identity_checks(number: str, kind: str, birth: str, born: str, check: str) -> list[Check]:
    """Checks of ``customers``: ``number``, ``kind`` and ``birth`` name the typed id_number,
    kind and birth_date; ``born`` and ``check`` the columns of ``identity_columns``.
    Individuals carry a resident ID, corporates and institutions a credit code."""
    known = f"{number} IS NOT NULL AND {kind} IS NOT NULL"
    person = f"{known} AND {kind} = 'individual'"
    other = f"{known} AND {kind} <> 'individual'"
    shaped = f"{person} AND {resident_id_shape_sql(number)}"
    dated = f"{shaped} AND {born} IS NOT NULL AND year({born}) >= 1900"
    last = f"substr({number}, 18, 1)"
    valid_id = f"{dated} AND {check} = {last}"
    uscc = f"{other} AND {uscc_shape_sql(number)}"
    bad_id = f"{person} AND NOT {resident_id_shape_sql(number)}"
    bad_uscc = f"{other} AND NOT {uscc_shape_sql(number)}"
    rules = [
        ("id_fmt", "id_number", "ID_FORMAT", ID_FORMAT, bad_id),
        ("id_nodate", "id_number", "ID_BIRTHDATE", ID_NO_DATE, f"{shaped} AND {born} IS NULL"),
        (
            "id_old",
            "id_number",
            "ID_BIRTHDATE",
            ID_BEFORE_1900,
            f"{shaped} AND {born} IS NOT NULL AND year({born}) < 1900",
        ),
        ("id_sum", "id_number", "ID_CHECKSUM", ID_CHECKSUM, f"{dated} AND {check} <> {last}"),
        (
            "birth",
            "birth_date",
            "BIRTHDATE_MISMATCH",
            MISMATCH,
            f"{valid_id} AND {birth} IS NOT NULL AND {birth} <> {born}",
        ),
        ("uscc_fmt", "id_number", "USCC_FORMAT", USCC_FORMAT, bad_uscc),
        (
            "uscc_sum",
            "id_number",
            "USCC_CHECKSUM",
            USCC_CHECKSUM + PILOT_NOTE,
            f"{uscc} AND {check} <> {last}",
        ),
    ]
    return [
        Check(f"_r_{n}", col, code, why, f"coalesce({sql}, false)")
        for n, col, code, why, sql in rules
    ]
