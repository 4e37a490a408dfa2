"""Pandas adapter for :mod:`tierbook.domain.assignment`: frames in, frames out.

Input frames (extra columns are ignored):

- customers: ``customer_id, branch_id, band, aum`` (``band`` a level name of the band ladder);
- staff: the ``staff`` table of the data contract (``staff_id, branch_id, role, capacity,
  start_date, end_date``); an empty ``branch_id`` is the head office;
- previous (optional): ``customer_id, role, staff_id, band`` — the ``assignments`` frame of
  the last run.

Output frames: ``assignments`` (:data:`ASSIGNMENT_COLUMNS`), ``moves``, ``departures`` and
``released`` (:data:`MOVE_COLUMNS`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from tierbook.domain.assignment import (
    CustomerBand,
    Move,
    PreviousAssignment,
    Reason,
    StaffMember,
    assign_staff,
    band_roles,
)
from tierbook.planner.assign_columns import assign_columns
from tierbook.rules.models import Ladder, Role

ASSIGNMENT_COLUMNS = (
    "customer_id",
    "role",
    "staff_id",
    "band",
    "reason",
    "over_capacity",
    "substitute",
)
MOVE_COLUMNS = ("customer_id", "role", "previous_staff_id", "staff_id", "reason")


@dataclass(frozen=True)
class AssignmentFrames:
    assignments: pd.DataFrame
    moves: pd.DataFrame  # every row whose person changed
    departures: pd.DataFrame  # the moves caused by a departure (reason staff_left)
    released: pd.DataFrame  # previous rows no longer needed


def assign_frame(
    customers: pd.DataFrame,
    ladder: Ladder,
    staff: pd.DataFrame,
    as_of: date,
    previous: pd.DataFrame | None = None,
    *,
    top_band_assist: Role | None = Role.PERSONAL_BANKING,
    reference: bool = False,
) -> AssignmentFrames:
    """Assign staff to the customers of ``ladder`` (the band ladder); see the domain module.
    The rule runs over whole columns (``assign_columns``); ``reference=True`` runs the
    domain's own per-object implementation instead (the same frames, slower)."""
    roles = band_roles(ladder.levels, top_band_assist=top_band_assist)
    if reference:
        return _reference(customers, roles, staff, as_of, previous)
    got = assign_columns(
        _text(customers["customer_id"]),
        _text(customers["branch_id"]),
        _text(customers["band"]),
        customers["aum"].fillna(0).astype(float).to_numpy(),
        roles,
        _staff(staff),
        as_of,
        _previous_text(previous) if previous is not None else None,
    )
    rows = pd.DataFrame(
        {
            "customer_id": got.customer_id,
            "role": got.role,
            "staff_id": got.staff_id,
            "band": got.band,
            "reason": got.reason,
            "over_capacity": got.over_capacity,
            "substitute": got.substitute,
        },
        columns=list(ASSIGNMENT_COLUMNS),
    )
    moves = _move_rows(got.moves)
    left = [m for m in got.moves if m[4] == Reason.STAFF_LEFT.value]
    return AssignmentFrames(rows, moves, _move_rows(left), _move_rows(got.released))


def _reference(
    customers: pd.DataFrame,
    roles: dict[str, tuple[Role, ...]],
    staff: pd.DataFrame,
    as_of: date,
    previous: pd.DataFrame | None,
) -> AssignmentFrames:
    result = assign_staff(
        _customers(customers),
        roles,
        _staff(staff),
        as_of,
        _previous(previous) if previous is not None else None,
    )
    rows = pd.DataFrame(
        {
            "customer_id": [a.customer_id for a in result.assignments],
            "role": [a.role.value for a in result.assignments],
            "staff_id": [a.staff_id for a in result.assignments],
            "band": [a.band for a in result.assignments],
            "reason": [a.reason.value for a in result.assignments],
            "over_capacity": [a.over_capacity for a in result.assignments],
            "substitute": [a.substitute for a in result.assignments],
        },
        columns=list(ASSIGNMENT_COLUMNS),
    )
    return AssignmentFrames(
        rows, _moves(result.moves), _moves(result.departures), _moves(result.released)
    )


def _text(values: Iterable[Any]) -> list[str]:
    if (
        isinstance(values, pd.Series)
        and pd.api.types.is_string_dtype(values.dtype)
        and not pd.api.types.is_object_dtype(values.dtype)
    ):  # a text column: no per-value checks
        return list(values.fillna("").tolist())
    return ["" if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v) for v in values]


def _dates(values: pd.Series) -> list[date | None]:
    ts = pd.to_datetime(values, errors="raise")
    return [None if pd.isna(t) else t.date() for t in ts]


def _customers(frame: pd.DataFrame) -> list[CustomerBand]:
    return [
        CustomerBand(cid, branch, band, float(aum))
        for cid, branch, band, aum in zip(
            _text(frame["customer_id"]),
            _text(frame["branch_id"]),
            _text(frame["band"]),
            frame["aum"].fillna(0).astype(float),
            strict=True,
        )
    ]


def _staff(frame: pd.DataFrame) -> list[StaffMember]:
    n = len(frame)
    starts = _dates(frame["start_date"]) if "start_date" in frame else [None] * n
    ends = _dates(frame["end_date"]) if "end_date" in frame else [None] * n
    return [
        StaffMember(sid, branch, Role(role), int(cap), start, end)
        for sid, branch, role, cap, start, end in zip(
            _text(frame["staff_id"]),
            _text(frame["branch_id"]),
            _text(frame["role"]),
            frame["capacity"].fillna(0),
            starts,
            ends,
            strict=True,
        )
    ]


def _previous(frame: pd.DataFrame) -> list[PreviousAssignment]:
    return [
        PreviousAssignment(cid, Role(role), sid or None, band)
        for cid, role, sid, band in zip(
            _text(frame["customer_id"]),
            _text(frame["role"]),
            _text(frame["staff_id"]),
            _text(frame["band"]),
            strict=True,
        )
    ]


def _previous_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {c: _text(frame[c]) for c in ("customer_id", "role", "staff_id", "band")}, dtype=object
    )


def _moves(moves: Sequence[Move]) -> pd.DataFrame:
    rows = [(m.customer_id, m.role.value, m.previous_staff_id, m.staff_id, m.reason) for m in moves]
    return _move_rows([(*r[:4], str(r[4])) for r in rows])


def _move_rows(rows: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    return pd.DataFrame(list(rows), columns=list(MOVE_COLUMNS))
