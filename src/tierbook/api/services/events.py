"""Events: create, pick invitees by the rulebook's rule, RSVP, attendance, follow-ups."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta
from typing import Any

from sqlalchemy import and_, select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict, Invalid, NotFound
from tierbook.api.schemas.events import EventIn, PickIn
from tierbook.api.scope import customer_scope, event_scope, visible_customers
from tierbook.api.services import audit
from tierbook.api.services.common import band_ladder_id, tier_ladder_id
from tierbook.domain.access import Permission, Scope
from tierbook.domain.events import Candidate, select_invitees
from tierbook.rules.models import EventKind, EventRule
from tierbook.store.models import (
    Branch,
    Customer,
    Event,
    EventInvitation,
    StaffAssignment,
    Task,
    TierSnapshot,
)

_SPLIT = re.compile(r"[,，、;；/\s]+")


def interests_of(hobbies: str | None) -> frozenset[str]:
    return frozenset(p for p in _SPLIT.split(hobbies or "") if p)


def _rule(ctx: Context, kind: str) -> EventRule:
    rb = ctx.rulebook()
    if rb.maintenance is None or EventKind(kind) not in rb.maintenance.events:
        raise Invalid(f"the rulebook has no rule for {kind} events", "NO_RULE", ("body", "kind"))
    return rb.maintenance.events[EventKind(kind)]


def event_row(e: Event) -> dict[str, Any]:
    keys = ("id", "kind", "title", "branch_id", "starts_at", "venue", "capacity", "invitee_rule")
    return {k: getattr(e, k) for k in keys}


def create(ctx: Context, data: EventIn) -> Event:
    ctx.actor.require(Permission.CREATE_EVENT)
    rule = _rule(ctx, data.kind.value)
    branch = data.branch_id
    if ctx.viewer.scope is not Scope.ALL:
        if branch is not None and branch != ctx.viewer.branch_id:
            raise Invalid("an event of another branch", "BRANCH_SCOPE", ("body", "branch_id"))
        branch = ctx.viewer.branch_id
    elif branch is not None and ctx.db.get(Branch, branch) is None:
        raise Invalid(f"no branch {branch}", "BRANCH_UNKNOWN", ("body", "branch_id"))
    e = Event(
        kind=data.kind.value,
        title=data.title,
        branch_id=branch,
        starts_at=data.starts_at,
        venue=data.venue,
        capacity=data.capacity or rule.invitees or 0,
        created_by=ctx.actor.user_id,
        created_at=ctx.now,
    )
    ctx.db.add(e)
    ctx.db.flush()
    audit.record(ctx, "create", "event", e.id, after={"kind": e.kind, "branch_id": branch})
    return e


def visible_event(ctx: Context, event_id: int) -> Event:
    e = ctx.db.scalar(select(Event).where(Event.id == event_id, event_scope(ctx.viewer)))
    if e is None:
        raise NotFound(f"no event {event_id}")
    return e


def list_events(ctx: Context, limit: int, offset: int) -> list[Event]:
    stmt = select(Event).where(event_scope(ctx.viewer)).order_by(Event.starts_at.desc(), Event.id)
    return list(ctx.db.scalars(stmt.limit(limit).offset(offset)))


def detail(ctx: Context, event_id: int) -> dict[str, Any]:
    e = visible_event(ctx, event_id)
    rows = ctx.db.execute(
        select(EventInvitation, Customer.name)
        .join(Customer, Customer.customer_id == EventInvitation.customer_id)
        .where(EventInvitation.event_id == e.id, customer_scope(ctx.viewer))
        .order_by(EventInvitation.customer_id)
    )
    invitations = [
        {
            "customer_id": i.customer_id,
            "name": name,
            "staff_id": i.staff_id,
            "rsvp": i.rsvp,
            "attended": i.attended,
            "follow_up_task_id": i.follow_up_task_id,
        }
        for i, name in rows
    ]
    return {**event_row(e), "invitations": invitations}


def pick(ctx: Context, event_id: int, data: PickIn) -> dict[str, Any]:
    """Invite by the rule of the event's kind, among the customers the caller may see (and
    of the event's branch): best fit on interests, then AUM; already invited are kept."""
    ctx.actor.require(Permission.CREATE_EVENT)
    e = visible_event(ctx, event_id)
    rule = _rule(ctx, e.kind)
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    band = TierSnapshot.__table__.alias("band")
    tier = TierSnapshot.__table__.alias("tier")
    stmt = (
        select(Customer.customer_id, Customer.hobbies, band.c.measure, tier.c.level)
        .join(
            band,
            and_(
                band.c.customer_id == Customer.customer_id,
                band.c.run_id == run.run_id,
                band.c.ladder_id == (band_ladder_id(rb) or tier_ladder_id(rb)),
            ),
        )
        .outerjoin(
            tier,
            and_(
                tier.c.customer_id == Customer.customer_id,
                tier.c.run_id == run.run_id,
                tier.c.ladder_id == tier_ladder_id(rb),
            ),
        )
        .where(customer_scope(ctx.viewer), band.c.measure >= rule.min_aum)
    )
    if e.branch_id is not None:
        stmt = stmt.where(Customer.branch_id == e.branch_id)
    candidates = [
        Candidate(cid, float(aum), level, interests_of(hob))
        for cid, hob, aum, level in ctx.db.execute(stmt)
    ]
    invited = set(
        ctx.db.scalars(select(EventInvitation.customer_id).where(EventInvitation.event_id == e.id))
    )
    room = data.limit if data.limit is not None else rule.invitees
    if room is not None:
        room = max(room - len(invited), 0)
    chosen = (
        select_invitees(
            candidates,
            rule,
            interests=data.interests,
            levels=data.levels,
            limit=room,
            exclude=invited,
        )
        if room != 0
        else []
    )
    rms = _rm_of(ctx, [i.customer_id for i in chosen])
    for inv in chosen:
        ctx.db.add(
            EventInvitation(
                event_id=e.id,
                customer_id=inv.customer_id,
                staff_id=rms.get(inv.customer_id),
                invited_at=ctx.now,
            )
        )
    e.invitee_rule = {
        "interests": list(data.interests),
        "levels": data.levels,
        "min_aum": rule.min_aum,
        "invitees": rule.invitees,
    }
    if e.capacity == 0:
        e.capacity = len(invited) + len(chosen)
    audit.record(ctx, "invite", "event", e.id, after={"invited": len(chosen)})
    return {"invited": len(chosen), "customer_ids": [i.customer_id for i in chosen]}


def _rm_of(ctx: Context, customer_ids: list[str]) -> dict[str, str]:
    if not customer_ids:
        return {}
    rows = ctx.db.execute(
        select(StaffAssignment.customer_id, StaffAssignment.staff_id)
        .where(
            StaffAssignment.customer_id.in_(customer_ids),
            StaffAssignment.valid_to.is_(None),
        )
        .order_by(StaffAssignment.role.desc())
    )
    out: dict[str, str] = {}
    for cid, sid in rows:  # "rm" sorts after the other roles it may share a band with
        out.setdefault(cid, sid)
    return out


def _invitation(ctx: Context, event_id: int, customer_id: str) -> EventInvitation:
    e = visible_event(ctx, event_id)
    inv = ctx.db.scalar(
        select(EventInvitation).where(
            EventInvitation.event_id == e.id,
            EventInvitation.customer_id == customer_id,
            EventInvitation.customer_id.in_(visible_customers(ctx.viewer)),
        )
    )
    if inv is None:
        raise NotFound(f"no invitation of {customer_id} to event {event_id}")
    return inv


def set_rsvp(ctx: Context, event_id: int, customer_id: str, rsvp: str) -> EventInvitation:
    ctx.actor.require(Permission.RECORD_CONTACT)
    inv = _invitation(ctx, event_id, customer_id)
    before = inv.rsvp
    inv.rsvp, inv.rsvp_at = rsvp, ctx.now
    audit.record(
        ctx, "rsvp", "event_invitation", inv.id, before={"rsvp": before}, after={"rsvp": rsvp}
    )
    return inv


def set_attendance(
    ctx: Context, event_id: int, customer_id: str, attended: bool
) -> EventInvitation:
    ctx.actor.require(Permission.CREATE_EVENT)
    inv = _invitation(ctx, event_id, customer_id)
    before = inv.attended
    inv.attended = attended
    audit.record(
        ctx,
        "attendance",
        "event_invitation",
        inv.id,
        before={"attended": before},
        after={"attended": attended},
    )
    return inv


def follow_ups(ctx: Context, event_id: int) -> dict[str, Any]:
    """A follow-up contact task for every attendee (within scope) without one yet, due the
    rule's ``follow_up_days`` after the event, for the customer's staff member."""
    ctx.actor.require(Permission.CREATE_EVENT)
    e = visible_event(ctx, event_id)
    rule = _rule(ctx, e.kind)
    run = ctx.current_run()
    invs = ctx.db.scalars(
        select(EventInvitation).where(
            EventInvitation.event_id == e.id,
            EventInvitation.attended.is_(True),
            EventInvitation.follow_up_task_id.is_(None),
            EventInvitation.customer_id.in_(visible_customers(ctx.viewer)),
        )
    ).all()
    due = (e.starts_at + timedelta(days=rule.follow_up_days)).date()
    branches = dict(
        ctx.db.execute(
            select(Customer.customer_id, Customer.branch_id).where(
                Customer.customer_id.in_([i.customer_id for i in invs])
            )
        ).all()
    )
    ids = []
    for inv in invs:
        key = hashlib.sha1(f"event:{e.id}:{inv.customer_id}".encode()).hexdigest()[:32]
        task = Task(
            task_key=key,
            customer_id=inv.customer_id,
            branch_id=branches.get(inv.customer_id),
            staff_id=inv.staff_id,
            role="rm",
            kind="event_follow_up",
            due_date=due,
            reason=f"attended {e.kind} {e.title!r} on {e.starts_at.date()}",
            rule=f"maintenance.events.{e.kind}.follow_up_days={rule.follow_up_days}",
            state="open",
            first_run_id=run.run_id,
            last_run_id=run.run_id,
        )
        ctx.db.add(task)
        ctx.db.flush()
        inv.follow_up_task_id = task.id
        ids.append(task.id)
    if not invs and not ctx.db.scalar(
        select(EventInvitation.id).where(EventInvitation.event_id == e.id).limit(1)
    ):
        raise Conflict(f"event {event_id} has no invitations yet")
    audit.record(ctx, "follow_up", "event", e.id, after={"tasks": len(ids)})
    return {"created": len(ids), "task_ids": ids}
