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
    AssignmentResult,
    CustomerBand,
    Move,
    PreviousAssignment,
    StaffMember,
    assign_staff,
    band_roles,
)
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
    result: AssignmentResult


def assign_frame(
    customers: pd.DataFrame,
    ladder: Ladder,
    staff: pd.DataFrame,
    as_of: date,
    previous: pd.DataFrame | None = None,
    *,
    top_band_assist: Role | None = Role.PERSONAL_BANKING,
) -> AssignmentFrames:
    """Assign staff to the customers of ``ladder`` (the band ladder); see the domain module."""
    result = assign_staff(
        _customers(customers),
        band_roles(ladder.levels, top_band_assist=top_band_assist),
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
        rows, _moves(result.moves), _moves(result.departures), _moves(result.released), result
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


def _moves(moves: Sequence[Move]) -> pd.DataFrame:
    return pd.DataFrame(
        [(m.customer_id, m.role.value, m.previous_staff_id, m.staff_id, m.reason) for m in moves],
        columns=list(MOVE_COLUMNS),
    )
