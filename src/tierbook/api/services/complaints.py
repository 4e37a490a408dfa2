"""Complaints with a response deadline by severity and tier, satisfaction surveys, and the
overdue complaints a supervisor sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, or_, select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict, NotFound
from tierbook.api.schemas.work import ComplaintIn, SurveyIn
from tierbook.api.scope import about_visible_customer
from tierbook.api.services import audit
from tierbook.api.services.common import visible_customer, visible_record
from tierbook.domain.access import Permission
from tierbook.domain.complaints import is_overdue, response_deadline
from tierbook.rules.models import ComplaintDeadlines, Rulebook, Severity
from tierbook.store.models import Complaint, SatisfactionSurvey, Staff, TierSnapshot


def complaint_row(
    c: Complaint | Row[Any], now: datetime, supervisor: str | None = None
) -> dict[str, Any]:
    return {
        "id": c.id,
        "customer_id": c.customer_id,
        "severity": c.severity,
        "summary": c.summary,
        "received_at": c.received_at,
        "response_due_at": c.response_due_at,
        "state": c.state,
        "staff_id": c.staff_id,
        "responded_at": c.responded_at,
        "overdue": is_overdue(c.response_due_at, c.responded_at, now),
        "escalated_to": supervisor if is_overdue(c.response_due_at, c.responded_at, now) else None,
    }


def _rules(rb: Rulebook) -> ComplaintDeadlines:
    if rb.maintenance is None or rb.maintenance.complaints is None:
        raise NotFound(f"rulebook {rb.id} {rb.version} has no complaint deadlines")
    return rb.maintenance.complaints


def record_complaint(ctx: Context, customer_id: str, data: ComplaintIn) -> dict[str, Any]:
    ctx.actor.require(Permission.RECORD_COMPLAINT)
    cust = visible_customer(ctx, customer_id)
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    rules = _rules(rb)
    level = ctx.db.scalar(
        select(TierSnapshot.level).where(
            TierSnapshot.run_no == run.no,
            TierSnapshot.customer_id == cust.customer_id,
            TierSnapshot.ladder_id == rules.ladder,
        )
    )
    received = data.received_at or ctx.now
    due = response_deadline(
        rules, rb.ladder(rules.ladder).level_names(), level, Severity(data.severity), received
    )
    c = Complaint(
        customer_id=cust.customer_id,
        severity=data.severity.value,
        summary=data.summary,
        received_at=received,
        response_due_at=due,
        state="open",
        staff_id=ctx.viewer.staff_id,
        recorded_by=ctx.actor.user_id,
    )
    ctx.db.add(c)
    ctx.db.flush()
    audit.record(
        ctx,
        "create",
        "complaint",
        c.id,
        after={
            "customer_id": c.customer_id,
            "severity": c.severity,
            "tier": level,
            "response_due_at": due.isoformat(),
        },
    )
    return complaint_row(c, ctx.now, _supervisor(ctx, c.staff_id))


def _supervisor(ctx: Context, staff_id: str | None) -> str | None:
    if staff_id is None:
        return None
    return ctx.db.scalar(select(Staff.supervisor_id).where(Staff.staff_id == staff_id))


def list_complaints(
    ctx: Context, *, overdue: bool | None, state: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    sup = select(Staff.supervisor_id).where(Staff.staff_id == Complaint.staff_id)
    stmt = select(Complaint, sup.scalar_subquery().label("sup")).where(
        about_visible_customer(ctx.viewer, Complaint.customer_id)
    )
    if state is not None:
        stmt = stmt.where(Complaint.state == state)
    if overdue is True:
        stmt = stmt.where(
            or_(
                Complaint.responded_at.is_(None) & (Complaint.response_due_at < ctx.now),
                Complaint.responded_at > Complaint.response_due_at,
            )
        )
    rows = ctx.db.execute(
        stmt.order_by(Complaint.response_due_at, Complaint.id).limit(limit).offset(offset)
    )
    return [complaint_row(c, ctx.now, s) for c, s in rows]


def respond(ctx: Context, complaint_id: int) -> dict[str, Any]:
    ctx.actor.require(Permission.RECORD_COMPLAINT)
    c = visible_record(ctx, Complaint, complaint_id, "complaint")
    if c.state != "open":
        raise Conflict(f"complaint {complaint_id} is already {c.state}")
    c.state, c.responded_at = "responded", ctx.now
    audit.record(
        ctx,
        "respond",
        "complaint",
        c.id,
        before={"state": "open"},
        after={"state": c.state, "responded_at": ctx.now.isoformat()},
    )
    return complaint_row(c, ctx.now, _supervisor(ctx, c.staff_id))


def record_survey(ctx: Context, customer_id: str, data: SurveyIn) -> SatisfactionSurvey:
    ctx.actor.require(Permission.RECORD_COMPLAINT)
    cust = visible_customer(ctx, customer_id)
    s = SatisfactionSurvey(
        customer_id=cust.customer_id, recorded_by=ctx.actor.user_id, **data.model_dump()
    )
    ctx.db.add(s)
    ctx.db.flush()
    audit.record(
        ctx, "create", "survey", s.id, after={"customer_id": s.customer_id, "score": s.score}
    )
    return s
