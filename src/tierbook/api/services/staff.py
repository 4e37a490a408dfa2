"""Staff of the caller's scope, reassigning customers, recording a departure, and contact
compliance (done ÷ due per person and period)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import case, func, select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict, Invalid, NotFound
from tierbook.api.schemas.work import DepartureIn, ReassignIn
from tierbook.api.scope import customer_scope, staff_scope
from tierbook.api.services import audit
from tierbook.api.services.assignments import move
from tierbook.domain.access import Permission
from tierbook.domain.handover import Colleague, hand_over
from tierbook.store.models import ContactLog, Customer, Staff, StaffAssignment, Task


def _books() -> Any:
    return (
        select(StaffAssignment.staff_id, func.count().label("n"))
        .where(StaffAssignment.valid_to.is_(None))
        .group_by(StaffAssignment.staff_id)
        .subquery()
    )


def list_staff(ctx: Context, role: str | None, limit: int, offset: int) -> list[dict[str, Any]]:
    books = _books()
    stmt = (
        select(Staff, func.coalesce(books.c.n, 0))
        .outerjoin(books, books.c.staff_id == Staff.staff_id)
        .where(staff_scope(ctx.viewer))
    )
    if role is not None:
        stmt = stmt.where(Staff.role == role)
    rows = ctx.db.execute(stmt.order_by(Staff.staff_id).limit(limit).offset(offset))
    return [{**_staff(s), "book_size": int(n)} for s, n in rows]


def _staff(s: Staff) -> dict[str, Any]:
    keys = ("staff_id", "name", "branch_id", "role", "capacity", "end_date", "supervisor_id")
    return {k: getattr(s, k) for k in keys}


def _active_colleague(ctx: Context, staff_id: str, role: str, loc: tuple[str, ...]) -> Staff:
    s = ctx.db.scalar(select(Staff).where(Staff.staff_id == staff_id, staff_scope(ctx.viewer)))
    if s is None or s.end_date is not None or s.role != role:
        raise Invalid(f"{staff_id} is no active {role} within your scope", "STAFF_TARGET", loc)
    return s


def reassign(ctx: Context, data: ReassignIn) -> dict[str, Any]:
    ctx.actor.require(Permission.REASSIGN)
    ids = sorted(set(data.customer_ids))
    seen = set(
        ctx.db.scalars(
            select(Customer.customer_id).where(
                Customer.customer_id.in_(ids), customer_scope(ctx.viewer)
            )
        )
    )
    missing = [c for c in ids if c not in seen]
    if missing:
        raise NotFound(f"no customer {missing[0]}")
    _active_colleague(ctx, data.to_staff_id, data.role, ("body", "to_staff_id"))
    moved = move(ctx, data.role, dict.fromkeys(ids, data.to_staff_id), data.reason)
    return {"moved": sum(moved.values()), "to": dict(moved)}


def record_departure(ctx: Context, staff_id: str, data: DepartureIn) -> dict[str, Any]:
    """End a staff member's service and hand their open assignments over: all to one
    colleague, or balanced over the active colleagues of the same role and branch."""
    ctx.actor.require(Permission.RECORD_DEPARTURE)
    leaver = ctx.db.scalar(select(Staff).where(Staff.staff_id == staff_id, staff_scope(ctx.viewer)))
    if leaver is None:
        raise NotFound(f"no staff member {staff_id}")
    if leaver.end_date is not None:
        raise Conflict(f"{staff_id} already left on {leaver.end_date}")
    if data.end_date < leaver.start_date:
        raise Invalid("end date lies before the start date", "DATE_ORDER", ("body", "end_date"))
    book = list(
        ctx.db.scalars(
            select(StaffAssignment.customer_id)
            .where(StaffAssignment.staff_id == staff_id, StaffAssignment.valid_to.is_(None))
            .order_by(StaffAssignment.customer_id)
        )
    )
    if data.to_staff_id is not None:
        if data.to_staff_id == staff_id:
            raise Invalid("hand over to someone else", "STAFF_TARGET", ("body", "to_staff_id"))
        _active_colleague(ctx, data.to_staff_id, leaver.role, ("body", "to_staff_id"))
        targets = dict.fromkeys(book, data.to_staff_id)
    else:
        targets = dict(hand_over(book, _colleagues(ctx, leaver)))
        if book and not targets:
            raise Conflict(f"no active {leaver.role} in {leaver.branch_id} to take the book over")
    leaver.end_date = data.end_date
    audit.record(
        ctx,
        "depart",
        "staff",
        staff_id,
        after={"end_date": data.end_date.isoformat()},
        reason=data.reason,
    )
    moved = move(ctx, leaver.role, targets, data.reason)
    return {"moved": sum(moved.values()), "to": dict(moved)}


def _colleagues(ctx: Context, leaver: Staff) -> list[Colleague]:
    books = _books()
    rows = ctx.db.execute(
        select(Staff.staff_id, Staff.capacity, func.coalesce(books.c.n, 0))
        .outerjoin(books, books.c.staff_id == Staff.staff_id)
        .where(
            Staff.role == leaver.role,
            Staff.branch_id == leaver.branch_id,
            Staff.end_date.is_(None),
            Staff.staff_id != leaver.staff_id,
        )
    )
    return [Colleague(sid, int(n), int(cap)) for sid, cap, n in rows]


def compliance(ctx: Context, since: date | None, until: date | None) -> list[dict[str, Any]]:
    """Per staff member in scope: tasks due in [since, until], how many of them are done, and
    contacts logged; closed tasks (their reason disappeared) are not counted as due."""
    ctx.actor.require(Permission.SEE_COMPLIANCE)
    until = until or ctx.now.date()
    since = since or until.replace(day=1)
    if since > until:
        raise Invalid("since lies after until", "DATE_ORDER", ("query", "since"))
    due = (
        select(
            Task.staff_id,
            func.count().label("due"),
            func.sum(case((Task.state == "done", 1), else_=0)).label("done"),
        )
        .where(Task.due_date >= since, Task.due_date <= until, Task.state != "closed")
        .group_by(Task.staff_id)
        .subquery()
    )
    start = datetime.combine(since, time(), tzinfo=ctx.now.tzinfo)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=ctx.now.tzinfo)
    contacts = (
        select(ContactLog.staff_id, func.count().label("n"))
        .where(ContactLog.contacted_at >= start, ContactLog.contacted_at < end)
        .group_by(ContactLog.staff_id)
        .subquery()
    )
    rows = ctx.db.execute(
        select(
            Staff,
            func.coalesce(due.c.due, 0),
            func.coalesce(due.c.done, 0),
            func.coalesce(contacts.c.n, 0),
        )
        .outerjoin(due, due.c.staff_id == Staff.staff_id)
        .outerjoin(contacts, contacts.c.staff_id == Staff.staff_id)
        .where(staff_scope(ctx.viewer))
        .order_by(Staff.branch_id, Staff.staff_id)
    )
    return [
        {
            "staff_id": s.staff_id,
            "name": s.name,
            "role": s.role,
            "branch_id": s.branch_id,
            "due": int(d),
            "done": int(k),
            "compliance": (int(k) / int(d)) if d else None,
            "contacts": int(n),
        }
        for s, d, k, n in rows
    ]
