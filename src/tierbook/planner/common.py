"""Shared pieces of the planner: output columns, staff fan-out, stable ids, stamping.

Conventions used by every rule:

- A rule's *window* is the N days after ``as_of``: ``as_of + 1 … as_of + N``. A daily batch
  whose ``as_of`` advances by one day therefore sees every event exactly once as it enters.
- A task goes to every staff member assigned to the customer in each of the rule's roles.
  Where no one holds a role, the rule either emits one unassigned task for that role
  (``staff_id`` missing: the branch's pool of that role picks it up) or skips it (a duty over
  one's own book, such as a teller's upgrade referral); each rule says which.
- Ids are a hash of (kind, subject, staff, role, due date): re-planning gives the same id.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import date

import pandas as pd

STAMP_COLUMNS = ("rulebook_id", "rulebook_version", "rulebook_sha256")
TASK_COLUMNS = (
    "task_id",
    "customer_id",
    "branch_id",
    "staff_id",
    "role",
    "kind",
    "due_date",
    "reason",
    "rule",
    *STAMP_COLUMNS,
)
ALERT_COLUMNS = (
    "alert_id",
    "customer_id",
    "branch_id",
    "staff_id",
    "role",
    "kind",
    "date",
    "amount",
    "reason",
    "rule",
    *STAMP_COLUMNS,
)
_TASK_BASE = ("customer_id", "branch_id", "staff_id", "role", "kind", "due_date", "reason", "rule")


def stable_ids(*columns: pd.Series) -> list[str]:
    """A 16-hex-digit id per row of parallel columns, the same in every process and on every
    machine: BLAKE2b of the row's values joined by a unit separator (dates as YYYY-MM-DD,
    missing values as empty text)."""
    key = _key_text(columns[0])
    for column in columns[1:]:
        key = key + "\x1f" + _key_text(column)
    return [hashlib.blake2b(k.encode("utf-8"), digest_size=8).hexdigest() for k in key.tolist()]


def _key_text(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        text = values.dt.strftime("%Y-%m-%d")
    else:
        text = values.astype(object).where(values.notna(), "").astype(str)
    return text.fillna("").astype(str)


def to_ts(values: pd.Series) -> pd.Series:
    """Dates (``date`` objects, strings or datetime64) as day-precision timestamps."""
    return pd.to_datetime(values, errors="coerce").dt.normalize()


def ts(day: date) -> pd.Timestamp:
    return pd.Timestamp(day)


def money(values: pd.Series) -> pd.Series:
    """Amounts formatted ``1,234,567.89`` for reasons."""
    return values.astype(float).map("{:,.2f}".format).astype(str)


def day_text(values: pd.Series) -> pd.Series:
    """Timestamps formatted ``YYYY-MM-DD`` for reasons."""
    return values.dt.strftime("%Y-%m-%d").astype(str)


def fan_out(
    subjects: pd.DataFrame,
    roles: Iterable[str],
    assignments: pd.DataFrame,
    *,
    unassigned: bool,
) -> pd.DataFrame:
    """One row per subject row, role and staff member assigned to its customer in that role.

    With ``unassigned=True`` a (customer, role) with nobody assigned keeps one row whose
    ``staff_id`` is missing; otherwise it is dropped.
    """
    role_list = [str(r) for r in roles]
    if subjects.empty or not role_list:
        return subjects.assign(role=pd.Series(dtype=object), staff_id=pd.Series(dtype=object))
    crossed = subjects.merge(pd.DataFrame({"role": role_list}), how="cross")
    staff = assignments.loc[assignments["role"].astype(str).isin(role_list)]
    staff = staff[["customer_id", "role", "staff_id"]].astype({"role": str})
    out = crossed.merge(staff, on=["customer_id", "role"], how="left")
    if not unassigned:
        out = out.loc[out["staff_id"].notna()]
    return out.reset_index(drop=True)


def finish_tasks(frames: list[pd.DataFrame], stamp: dict[str, str]) -> pd.DataFrame:
    """Concatenate rule outputs, add ids and the stamp, order the columns and rows."""
    parts = [f[list(_TASK_BASE)] for f in frames if not f.empty]
    if not parts:
        return empty_frame(TASK_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    subject = out["customer_id"].where(
        out["customer_id"].notna(), "branch:" + out["branch_id"].astype(str)
    )
    out["task_id"] = stable_ids(out["kind"], subject, out["staff_id"], out["role"], out["due_date"])
    out = out.sort_values(["due_date", "kind", "customer_id", "role", "staff_id"], kind="stable")
    out["due_date"] = out["due_date"].dt.date
    return _stamped(out.reset_index(drop=True), stamp, TASK_COLUMNS)


def finish_alerts(frames: list[pd.DataFrame], stamp: dict[str, str]) -> pd.DataFrame:
    parts = [f for f in frames if not f.empty]
    if not parts:
        return empty_frame(ALERT_COLUMNS)
    out = pd.concat(parts, ignore_index=True)
    cols = (out["kind"], out["customer_id"], out["staff_id"], out["role"], out["date"])
    out["alert_id"] = stable_ids(*cols)
    out = out.sort_values(["date", "kind", "customer_id", "staff_id"], kind="stable")
    out["date"] = out["date"].dt.date
    return _stamped(out.reset_index(drop=True), stamp, ALERT_COLUMNS)


def _stamped(out: pd.DataFrame, stamp: dict[str, str], columns: tuple[str, ...]) -> pd.DataFrame:
    for key in STAMP_COLUMNS:
        out[key] = stamp.get(key, "")
    return out[list(columns)]


def empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
