"""One login per role on the demo bank, linked to real staff of the published run: the RM
with the largest book, that RM's supervisor and branch manager, a teller, VIP teller and
lobby manager of the same branch, a personal-banking officer of the head office; plus a
head-office analyst and an administrator (no staff row)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import text
from sqlalchemy.orm import Session

from tierbook.store.db import Store
from tierbook.store.models import USER_ROLES, AuditEntry, User
from tierbook.store.passwords import hash_password
from tierbook.store.repositories import AuditRepository, UserRepository

BRANCH_ROLES = ("teller", "vip_teller", "lobby_manager", "rm_supervisor", "branch_manager")
UNLINKED_ROLES = ("head_office_analyst", "admin")


class NoDemoStaffError(LookupError):
    """The store holds no published staff to link the demo logins to."""


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str
    role: str
    staff_id: str | None
    staff_name: str | None
    branch_id: str | None
    book: int


def _staff_with_books(session: Session) -> pd.DataFrame:
    sql = text(
        "SELECT s.staff_id, s.name, s.branch_id, s.role, s.supervisor_id, "
        "count(a.id) AS book FROM staff s LEFT JOIN staff_assignments a "
        "ON a.staff_id = s.staff_id AND a.valid_to IS NULL "
        "WHERE s.end_date IS NULL GROUP BY s.staff_id, s.name, s.branch_id, s.role, "
        "s.supervisor_id"
    )
    rows = session.execute(sql).mappings().all()
    frame = pd.DataFrame(
        rows, columns=["staff_id", "name", "branch_id", "role", "supervisor_id", "book"]
    )
    return frame.sort_values(["book", "staff_id"], ascending=[False, True], ignore_index=True)


def pick_demo_staff(staff: pd.DataFrame) -> dict[str, pd.Series | None]:
    """The staff row each role's login is linked to (None for the unlinked roles)."""
    rms = staff[staff["role"] == "rm"]
    if rms.empty:
        raise NoDemoStaffError(
            "no active RM in the store: publish a run first (tierbook run --publish)"
        )
    rm = rms.iloc[0]
    chosen: dict[str, pd.Series | None] = {"rm": rm}
    in_branch = staff[staff["branch_id"] == rm["branch_id"]]
    for role in BRANCH_ROLES:
        pool = in_branch[in_branch["role"] == role]
        if role == "rm_supervisor" and isinstance(rm["supervisor_id"], str):
            pool = staff[staff["staff_id"] == rm["supervisor_id"]]
        chosen[role] = pool.iloc[0] if not pool.empty else None
    office = staff[(staff["role"] == "personal_banking")]
    chosen["personal_banking"] = office.iloc[0] if not office.empty else None
    for role in UNLINKED_ROLES:
        chosen[role] = None
    return chosen


def seed_demo_users(store: Store, *, password: str | None = None) -> list[DemoLogin]:
    """Create (or reset) the login named after each role; returns the logins with their
    passwords (random unless ``password`` is given)."""
    with store.unit_of_work() as uow:
        s = uow.session
        chosen = pick_demo_staff(_staff_with_books(s))
        logins = [_upsert(s, role, chosen.get(role), password) for role in USER_ROLES]
        uow.commit()
    return logins


def _upsert(s: Session, role: str, person: pd.Series | None, password: str | None) -> DemoLogin:
    secret = password or secrets.token_urlsafe(9)
    staff_id = None if person is None else str(person["staff_id"])
    users = UserRepository(s)
    user = users.by_login(role)
    action = "reset_demo_user" if user else "create_demo_user"
    if user is None:
        user = User(login=role, role=role, password_hash="", active=True)
        users.add(user)
    user.password_hash = hash_password(secret)
    user.role, user.staff_id, user.active = role, staff_id, True
    s.flush()
    AuditRepository(s).append(
        AuditEntry(
            actor="seed-demo-users",
            action=action,
            entity="user",
            entity_id=str(user.id),
            before=None,
            after={"login": role, "role": role, "staff_id": staff_id},
            reason="demo logins for every role",
        )
    )
    return DemoLogin(
        login=role,
        password=secret,
        role=role,
        staff_id=staff_id,
        staff_name=None if person is None else str(person["name"]),
        branch_id=None
        if person is None or not isinstance(person["branch_id"], str)
        else str(person["branch_id"]),
        book=0 if person is None else int(person["book"]),
    )
