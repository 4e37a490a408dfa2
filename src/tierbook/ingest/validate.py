"""Row validation of the small contract tables (branches, staff, customers, accounts, income,
referrals, purchases): every error of every row, one ``Issue`` each; a row with any error is
set aside, every other row is kept, typed.

Order of the checks: each cell against its column type; row rules (identity numbers, date
order, signs, capacity); duplicate keys among the rows that passed so far; references to the
clean rows of the parent tables.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd

from tierbook.domain.identity import IdentityError, parse_resident_id, validate_uscc
from tierbook.ingest.contract import Table
from tierbook.ingest.fields import FieldError, parser_for
from tierbook.ingest.quarantine import Issue, issues_frame
from tierbook.ingest.readers import RawFrame

Sign = Literal[">=0", ">0"]

SIGN_RULES: dict[tuple[str, str], Sign] = {
    ("balances_daily", "balance"): ">=0",
    ("balance_events", "balance"): ">=0",
    ("transactions", "amount"): ">0",
    ("purchases", "amount"): ">0",
    ("income", "fee_waivers"): ">=0",
    ("income", "rate_premium"): ">=0",
}
"""Amount columns whose sign the contract fixes (NEGATIVE_AMOUNT when broken)."""

DATE_ORDER: dict[str, tuple[tuple[str, str], ...]] = {
    "accounts": (("open_date", "maturity_date"), ("open_date", "close_date")),
    "staff": (("start_date", "end_date"),),
}
"""(earlier, later) date columns: the later one, when filled, must not precede the earlier."""

PILOT_NOTE = "; early pilot codes fail this check: set aside for manual review, not rejected"

Row = dict[str, Any]


@dataclass
class Validated:
    """Typed clean rows, the quarantine lines, and the number of rows set aside per file."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    quarantined_rows: dict[str, int]


def validate_small(table: Table, raw: RawFrame, parents: dict[str, set[Any]]) -> Validated:
    """Validate ``raw``; ``parents`` maps ``"table.column"`` to the clean keys referenced."""
    frame = raw.frame
    typed, issues = _parse_cells(table, raw)
    rows = [{c: typed[c][i] for c in table.names} for i in range(len(frame))]
    issues += _row_rules(table, rows)
    bad = {i.row for i in issues}
    issues += _duplicates(table, rows, bad)
    issues += _references(table, typed, parents)
    bad = {i.row for i in issues}
    keep = [i for i in range(len(frame)) if i not in bad]
    clean = pd.DataFrame({c: [typed[c][i] for i in keep] for c in table.names}, dtype=object)
    counts: dict[str, int] = defaultdict(int)
    files = frame["_file"].tolist()
    for row in bad:
        counts[files[row]] += 1
    return Validated(clean, issues_frame(table.name, issues, frame), dict(counts))


def _parse_cells(table: Table, raw: RawFrame) -> tuple[dict[str, list[Any]], list[Issue]]:
    issues = list(raw.issues)
    typed: dict[str, list[Any]] = {}
    for column in table.columns:
        parse = parser_for(column)
        cache: dict[str, Any] = {}
        out: list[Any] = []
        for i, text in enumerate(raw.frame[column.name].tolist()):
            value = None
            if (i, column.name) in raw.skip:
                pass
            elif text is None:
                if column.required:
                    issues.append(Issue(i, column.name, "REQUIRED", "required value is empty"))
            else:
                value = _parse_cached(parse, text, cache)
                if isinstance(value, FieldError):
                    issues.append(Issue(i, column.name, value.code, value.reason))
                    value = None
            out.append(value)
        typed[column.name] = out
    return typed, issues


def _parse_cached(parse: Callable[[str], Any], text: str, cache: dict[str, Any]) -> Any:
    """The parsed value, or the FieldError, of ``text`` (repeated values are parsed once)."""
    if text not in cache:
        try:
            cache[text] = parse(text)
        except FieldError as exc:
            cache[text] = exc
    return cache[text]


def _row_rules(table: Table, rows: Sequence[Row]) -> list[Issue]:
    issues: list[Issue] = []
    signs = [(c, s) for (t, c), s in SIGN_RULES.items() if t == table.name]
    orders = DATE_ORDER.get(table.name, ())
    for i, row in enumerate(rows):
        for column, sign in signs:
            issues += _sign(i, column, sign, row[column])
        for early, late in orders:
            if row[early] is not None and row[late] is not None and row[late] < row[early]:
                why = f"{late} is before {early}"
                issues.append(Issue(i, late, "DATE_ORDER", why))
        if table.name == "customers":
            issues += _identity(i, row)
        elif table.name == "staff":
            issues += _staff(i, row)
    return issues


def _sign(i: int, column: str, sign: Sign, value: float | None) -> list[Issue]:
    if value is None or value > 0 or (sign == ">=0" and value == 0):
        return []
    return [Issue(i, column, "NEGATIVE_AMOUNT", f"{column} must be {sign[:-1]} 0")]


def _staff(i: int, row: Row) -> list[Issue]:
    issues = []
    if row["capacity"] is not None and row["capacity"] <= 0:
        issues.append(Issue(i, "capacity", "BAD_CAPACITY", "capacity must be greater than 0"))
    if row["branch_id"] is None and row["role"] not in (None, "personal_banking"):
        why = "branch_id may be empty only for personal_banking staff"
        issues.append(Issue(i, "branch_id", "REQUIRED", why))
    return issues


def _identity(i: int, row: Row) -> list[Issue]:
    """Resident ID for individuals (and its birth date); credit code for the others."""
    number, kind = row["id_number"], row["kind"]
    if number is None or kind is None:
        return []
    try:
        if kind == "individual":
            born, _ = parse_resident_id(number)
            return _birth_date(i, row["birth_date"], born)
        validate_uscc(number)
    except IdentityError as exc:
        note = PILOT_NOTE if exc.code == "USCC_CHECKSUM" else ""
        return [Issue(i, "id_number", exc.code, exc.reason + note)]
    return []


def _birth_date(i: int, given: date | None, born: date) -> list[Issue]:
    if given is None or given == born:
        return []
    why = "birth_date differs from the birth date encoded in the resident ID"
    return [Issue(i, "birth_date", "BIRTHDATE_MISMATCH", why)]


def _duplicates(table: Table, rows: Sequence[Row], bad: set[int]) -> list[Issue]:
    """Exact copies after the first: DUPLICATE_ROW; different rows sharing a key: DUPLICATE_KEY
    on all of them. Only rows without earlier errors take part."""
    groups: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i, row in enumerate(rows):
        if i not in bad:
            groups[tuple(row[c] for c in table.key)].append(i)
    issues: list[Issue] = []
    key = ", ".join(table.key)
    for members in groups.values():
        if len(members) < 2:
            continue
        versions = {tuple(rows[i].values()) for i in members}
        if len(versions) == 1:
            why = f"exact copy of an earlier row (same {key} and values); the first is kept"
            issues += [Issue(i, key, "DUPLICATE_ROW", why) for i in members[1:]]
        else:
            why = f"{len(members)} different rows share this {key}; all set aside"
            issues += [Issue(i, key, "DUPLICATE_KEY", why) for i in members]
    return issues


def _references(
    table: Table, typed: dict[str, list[Any]], parents: dict[str, set[Any]]
) -> list[Issue]:
    issues: list[Issue] = []
    for column in table.columns:
        if column.references is None:
            continue
        known = parents.get(column.references, set())
        parent = column.references.split(".")[0]
        why = f"{column.name} refers to a {parent} row that does not exist or was quarantined"
        for i, value in enumerate(typed[column.name]):
            if value is not None and value not in known:
                issues.append(Issue(i, column.name, "UNKNOWN_REFERENCE", why))
    return issues
