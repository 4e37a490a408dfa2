"""Today's and overdue tasks, completing a task with a contact record, the contact log."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict, Invalid, NotFound
from tierbook.api.schemas.work import ContactIn
from tierbook.api.scope import about_visible_customer, task_scope
from tierbook.api.services import audit
from tierbook.api.services.common import visible_customer
from tierbook.domain.access import Permission
from tierbook.store.models import ContactLog, Task


class When(StrEnum):
    TODAY = "today"  # open and due on the day
    OVERDUE = "overdue"  # open and due before the day
    OPEN = "open"  # every open task
    DONE = "done"


def _tasks(ctx: Context) -> Select[tuple[Task]]:
    return select(Task).where(task_scope(ctx.viewer))


def list_tasks(
    ctx: Context, when: When, on: date | None, staff_id: str | None, limit: int, offset: int
) -> list[Task]:
    """Tasks of visible customers; by default the caller's own (``staff_id`` to inspect a
    colleague within scope)."""
    day = on or ctx.now.date()
    stmt = _tasks(ctx)
    who = staff_id or ctx.viewer.staff_id
    if who is not None:
        stmt = stmt.where(Task.staff_id == who)
    if when is When.TODAY:
        stmt = stmt.where(Task.state == "open", Task.due_date == day)
    elif when is When.OVERDUE:
        stmt = stmt.where(Task.state == "open", Task.due_date < day)
    elif when is When.OPEN:
        stmt = stmt.where(Task.state == "open")
    else:
        stmt = stmt.where(Task.state == "done")
    stmt = stmt.order_by(Task.due_date, Task.id).limit(limit).offset(offset)
    return list(ctx.db.scalars(stmt))


def _contact(ctx: Context, customer_id: str, data: ContactIn, task_id: int | None) -> ContactLog:
    if ctx.viewer.staff_id is None:
        raise Invalid("only a staff member keeps a work log", "NOT_STAFF", ("user",))
    when = data.contacted_at or ctx.now
    if data.next_contact_date is not None and data.next_contact_date < when.date():
        raise Invalid(
            "next contact date lies before the contact", "DATE_ORDER", ("body", "next_contact_date")
        )
    row = ContactLog(
        staff_id=ctx.viewer.staff_id,
        customer_id=customer_id,
        contacted_at=when,
        channel=data.channel,
        purpose=data.purpose,
        outcome=data.outcome,
        next_step=data.next_step,
        next_contact_date=data.next_contact_date,
        task_id=task_id,
        recorded_by=ctx.actor.user_id,
        created_at=ctx.now,
    )
    ctx.db.add(row)
    ctx.db.flush()
    audit.record(
        ctx,
        "create",
        "contact",
        row.id,
        after={"customer_id": customer_id, "channel": data.channel, "task_id": task_id},
    )
    return row


def complete_task(ctx: Context, task_id: int, data: ContactIn) -> dict[str, Any]:
    ctx.actor.require(Permission.RECORD_CONTACT)
    task = ctx.db.scalar(_tasks(ctx).where(Task.id == task_id))
    if task is None:
        raise NotFound(f"no task {task_id}")
    if task.state != "open":
        raise Conflict(f"task {task_id} is already {task.state}")
    if task.customer_id is None:
        raise Invalid("a branch-level task is done without a contact", "NO_CUSTOMER", ("path",))
    contact = _contact(ctx, task.customer_id, data, task.id)
    task.state, task.done_at, task.done_by = "done", ctx.now, ctx.actor.user_id
    audit.record(
        ctx,
        "complete",
        "task",
        task.id,
        before={"state": "open"},
        after={"state": "done", "contact_id": contact.id},
    )
    return {"task": task, "contact": contact}


def log_contact(ctx: Context, customer_id: str, data: ContactIn) -> ContactLog:
    ctx.actor.require(Permission.RECORD_CONTACT)
    c = visible_customer(ctx, customer_id)
    return _contact(ctx, c.customer_id, data, None)


def contact_log(
    ctx: Context,
    *,
    customer_id: str | None,
    staff_id: str | None,
    since: date | None,
    until: date | None,
    limit: int,
    offset: int,
) -> list[ContactLog]:
    """The work log: contacts with visible customers, newest first (supervisors inspect)."""
    if customer_id is not None:
        visible_customer(ctx, customer_id)
        audit.record(ctx, "read", "contact_log", customer_id)
    stmt = select(ContactLog).where(about_visible_customer(ctx.viewer, ContactLog.customer_id))
    if customer_id is not None:
        stmt = stmt.where(ContactLog.customer_id == customer_id)
    if staff_id is not None:
        stmt = stmt.where(ContactLog.staff_id == staff_id)
    if since is not None:
        stmt = stmt.where(ContactLog.contacted_at >= _start(since, ctx))
    if until is not None:
        stmt = stmt.where(ContactLog.contacted_at < _start(until, ctx, days=1))
    stmt = stmt.order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
    return list(ctx.db.scalars(stmt.limit(limit).offset(offset)))


def _start(d: date, ctx: Context, days: int = 0) -> datetime:
    return datetime.combine(d, time(), tzinfo=ctx.now.tzinfo) + timedelta(days=days)
