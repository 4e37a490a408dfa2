"""Tasks, the contact log, referrals, alerts and complaints."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query

from tierbook.api.deps import Ctx
from tierbook.api.errors import ERROR_RESPONSES
from tierbook.api.routers.params import Limit, Offset, OnDay
from tierbook.api.schemas.common import PLAIN, Out
from tierbook.api.schemas.customers import ContactOut, TaskOut
from tierbook.api.schemas.work import AlertOut, ComplaintDetail, ContactIn, DecisionIn, ReferralOut
from tierbook.api.services import alerts, complaints, referrals, tasks
from tierbook.api.services.tasks import When
from tierbook.domain.access import Permission

router = APIRouter(responses=ERROR_RESPONSES)
RecordId = Annotated[int, Path(ge=1, le=2**62)]
StaffQ = Annotated[
    str | None, Query(max_length=32, pattern=PLAIN, description="another staff member in scope")
]


class Completed(Out):
    task: TaskOut
    contact: ContactOut


@router.get("/tasks", response_model=list[TaskOut], tags=["tasks"])
def list_tasks(
    ctx: Ctx,
    when: When = When.TODAY,
    on: OnDay = None,
    staff_id: StaffQ = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Today's (``when=today``), overdue, open or done tasks; the caller's own by default."""
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return tasks.list_tasks(ctx, when, on, staff_id, limit, offset)


@router.post("/tasks/{task_id}/complete", response_model=Completed, tags=["tasks"])
def complete_task(ctx: Ctx, task_id: RecordId, data: ContactIn) -> Any:
    """Done, with the contact that did it (channel, purpose, outcome, next step, next date)."""
    return tasks.complete_task(ctx, task_id, data)


@router.get("/contacts", response_model=list[ContactOut], tags=["contacts"])
def contact_log(
    ctx: Ctx,
    staff_id: StaffQ = None,
    since: date | None = None,
    until: date | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """The work log (我的客户 工作日志) of the customers in scope, newest first."""
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return tasks.contact_log(
        ctx,
        customer_id=None,
        staff_id=staff_id,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )


@router.get("/referrals", response_model=list[ReferralOut], tags=["referrals"])
def list_referrals(
    ctx: Ctx,
    state: Literal["offered", "accepted", "declined"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return referrals.list_referrals(ctx, state, limit, offset)


@router.post("/referrals/{referral_id}/accept", response_model=ReferralOut, tags=["referrals"])
def accept_referral(ctx: Ctx, referral_id: RecordId, data: DecisionIn) -> Any:
    """Accept: the RM becomes the customer's RM."""
    return referrals.decide(ctx, referral_id, True, data.note)


@router.post("/referrals/{referral_id}/decline", response_model=ReferralOut, tags=["referrals"])
def decline_referral(ctx: Ctx, referral_id: RecordId, data: DecisionIn) -> Any:
    return referrals.decide(ctx, referral_id, False, data.note)


@router.get("/alerts", response_model=list[AlertOut], tags=["alerts"])
def list_alerts(
    ctx: Ctx,
    acknowledged: bool | None = None,
    mine: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Alerts the current run raises for the customers in scope."""
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return alerts.list_alerts(ctx, acknowledged, mine, limit, offset)


@router.post("/alerts/{alert_id}/ack", response_model=AlertOut, tags=["alerts"])
def acknowledge_alert(ctx: Ctx, alert_id: RecordId) -> Any:
    return alerts.acknowledge(ctx, alert_id)


@router.get("/complaints", response_model=list[ComplaintDetail], tags=["complaints"])
def list_complaints(
    ctx: Ctx,
    overdue: bool | None = None,
    state: Literal["open", "responded", "closed"] | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    """Complaints of the customers in scope; ``overdue=true`` is the supervisor's list."""
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return complaints.list_complaints(ctx, overdue=overdue, state=state, limit=limit, offset=offset)


@router.post(
    "/complaints/{complaint_id}/respond", response_model=ComplaintDetail, tags=["complaints"]
)
def respond_complaint(ctx: Ctx, complaint_id: RecordId) -> Any:
    return complaints.respond(ctx, complaint_id)
