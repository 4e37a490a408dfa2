"""What a new run changes in the stored assignments and tasks (pandas, no database).

Assignments: matched by (customer, role). Another staff member → the old row is closed and
a new one opened; the same staff member → band and flags updated in place; a (customer,
role) the run no longer assigns → closed.

Tasks: matched by the planner's stable key. New keys are inserted open. Keys seen again are
stamped with the run (a task closed earlier whose reason is back is reopened; a done task
stays done). Open tasks the run no longer plans are closed with the reason when they are due
on or after the run's as-of date, or when their customer moved to other staff (who get the
re-planned task) or left; other open tasks already past due stay open (overdue).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

ASSIGNMENT_COLUMNS = ["customer_id", "role", "staff_id", "band", "reason"]
ASSIGNMENT_COLUMNS += ["over_capacity", "substitute"]
KEPT_FIELDS = ["band", "over_capacity", "substitute"]
TASK_COLUMNS = ["task_key", "customer_id", "branch_id", "staff_id", "role", "kind"]
TASK_COLUMNS += ["due_date", "reason", "rule"]


@dataclass(frozen=True)
class AssignmentChange:
    close_ids: list[int]
    updates: list[dict[str, Any]]  # id + KEPT_FIELDS
    inserts: pd.DataFrame  # ASSIGNMENT_COLUMNS


def assignment_changes(new: pd.DataFrame, open_rows: pd.DataFrame) -> AssignmentChange:
    new = new[ASSIGNMENT_COLUMNS]
    if open_rows.empty:
        return AssignmentChange([], [], new.copy())
    m = new.merge(
        open_rows, on=["customer_id", "role"], how="outer", suffixes=("", "_old"), indicator=True
    )
    both = m["_merge"] == "both"
    moved = both & (m["staff_id"] != m["staff_id_old"])
    gone = m["_merge"] == "right_only"
    close_ids = m.loc[moved | gone, "id"].astype(int).tolist()
    same = m[both & ~moved]
    differs = np.zeros(len(same), dtype=bool)
    for col in KEPT_FIELDS:
        differs |= (same[col] != same[f"{col}_old"]).to_numpy()
    upd = same.loc[differs, ["id", *KEPT_FIELDS]]
    updates = [
        {
            "id": int(r.id),
            "band": r.band,
            "over_capacity": bool(r.over_capacity),
            "substitute": bool(r.substitute),
        }
        for r in upd.itertuples(index=False)
    ]
    inserts = m.loc[moved | (m["_merge"] == "left_only"), ASSIGNMENT_COLUMNS]
    return AssignmentChange(close_ids, updates, inserts.reset_index(drop=True))


@dataclass(frozen=True)
class TaskChange:
    updates: list[list[dict[str, Any]]]  # groups of rows with the same columns
    inserts: pd.DataFrame


def task_changes(
    planned: pd.DataFrame,
    stored: pd.DataFrame,
    assignments: pd.DataFrame,
    customers: set[str],
    as_of: date,
    run_no: int,
) -> TaskChange:
    planned = planned.rename(columns={"task_id": "task_key"})
    planned = planned.reindex(columns=TASK_COLUMNS)
    planned["due_date"] = pd.to_datetime(planned["due_date"]).dt.normalize()
    known = stored.set_index("task_key") if not stored.empty else None
    if known is None:
        return TaskChange([], _new_tasks(planned, run_no))
    state = planned["task_key"].map(known["state"])
    ids = planned["task_key"].map(known["id"])
    seen = [{"id": int(i), "last_run_no": run_no} for i in ids[state.isin(["open", "done"])]]
    now = datetime.now(UTC)
    reopened = [
        {
            "id": int(i),
            "last_run_no": run_no,
            "state": "open",
            "closed_reason": None,
            "closed_at": None,
        }
        for i in ids[state == "closed"]
    ]
    closed = _vanished(planned, stored, assignments, customers, as_of, now)
    return TaskChange([seen, reopened, closed], _new_tasks(planned[state.isna()], run_no))


def _new_tasks(planned: pd.DataFrame, run_no: int) -> pd.DataFrame:
    return planned.assign(state="open", first_run_no=run_no, last_run_no=run_no)


def _vanished(
    planned: pd.DataFrame,
    stored: pd.DataFrame,
    assignments: pd.DataFrame,
    customers: set[str],
    as_of: date,
    now: datetime,
) -> list[dict[str, Any]]:
    """Open tasks the run no longer plans that must close, with the reason: those due on or
    after ``as_of``, and past-due ones whose customer moved to other staff or left (the new
    staff member has the re-planned task). Other past-due tasks stay open: overdue."""
    gone = stored[(stored["state"] == "open") & ~stored["task_key"].isin(planned["task_key"])]
    if gone.empty:
        return []
    due = pd.to_datetime(gone["due_date"]).dt.normalize() >= pd.Timestamp(as_of)
    current = assignments.set_index(["customer_id", "role"])["staff_id"]
    keys = pd.MultiIndex.from_arrays([gone["customer_id"], gone["role"]])
    now_staff = current.reindex(keys).to_numpy()
    rows = []
    for r, staff, upcoming in zip(gone.itertuples(index=False), now_staff, due, strict=True):
        reason, moved = _close_reason(r, staff, customers, as_of)
        if upcoming or moved:
            rows.append(
                {"id": int(r.id), "state": "closed", "closed_at": now, "closed_reason": reason}
            )
    return rows


def _close_reason(task: Any, staff: object, customers: set[str], as_of: date) -> tuple[str, bool]:
    """Why the task is no longer planned, and whether its customer moved or left."""
    day = as_of.isoformat()
    if task.customer_id is None:
        return f"no longer planned by the run of {day}", False
    if task.customer_id not in customers:
        return f"customer no longer in the data of the run of {day}", True
    if staff is None or (isinstance(staff, float) and np.isnan(staff)):
        return f"customer no longer maintained by a {task.role} in the run of {day}", True
    if task.staff_id is not None and staff != task.staff_id:
        return f"customer reassigned from {task.staff_id} to {staff} in the run of {day}", True
    return f"reason no longer holds in the run of {day}", False
