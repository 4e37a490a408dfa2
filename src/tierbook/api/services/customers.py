"""Customer 360, unmasking and the profile data staff collect. Each read is audited."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from tierbook.api.deps import Context
from tierbook.api.errors import Invalid
from tierbook.api.schemas.customers import ArchiveIn
from tierbook.api.services import audit
from tierbook.api.services.common import visible_customer
from tierbook.api.services.complaints import complaint_row
from tierbook.domain.access import Permission
from tierbook.domain.explain import explain_tier
from tierbook.domain.masking import mask_address, mask_phone
from tierbook.domain.tiers import STEPS
from tierbook.rules.models import Rulebook
from tierbook.store.models import (
    AumHistory,
    Complaint,
    ContactLog,
    Customer,
    Holding,
    SatisfactionSurvey,
    Staff,
    StaffAssignment,
    Task,
    TierSnapshot,
)

CONTACTS_SHOWN = 50


def archive(ctx: Context, c: Customer) -> dict[str, Any]:
    full = ctx.viewer.can(Permission.UNMASK_PII)
    return {
        "customer_id": c.customer_id,
        "kind": c.kind,
        "name": c.name,
        "branch_id": c.branch_id,
        "open_date": c.open_date,
        "birth_date": c.birth_date,
        "id_number": c.id_number_masked,
        "phone": c.phone_masked,
        "address": c.address if full or c.address is None else mask_address(c.address),
        "occupation": c.occupation,
        "annual_income": c.annual_income,
        "family": c.family,
        "hobbies": c.hobbies,
        "risk_preference": c.risk_preference,
        "preferred_channel": c.preferred_channel,
        "preferred_service": c.preferred_service,
    }


def _tier(rb: Rulebook, t: TierSnapshot) -> dict[str, Any]:
    ladder = rb.ladder(t.ladder_id)
    text = explain_tier(
        ladder,
        t.level_index,
        float(t.measure),
        t.period,
        STEPS.index(t.step) if t.step in STEPS else 0,
        t.below_run,
        t.class_averages or {},
        {k.value: v for k, v in rb.asset_weights.items()},
        rb.version,
    )
    return {**{c: getattr(t, c) for c in _TIER_FIELDS}, "explanation": text}


_TIER_FIELDS = (
    "ladder_id",
    "level",
    "measure",
    "period",
    "level_min",
    "next_level",
    "gap_to_next",
    "step",
)


_RUN, _CID = bindparam("run_no"), bindparam("customer_id")
# The 360's statements, built once (building a statement costs more CPU than running it).
_TIERS = (
    select(TierSnapshot)
    .where(TierSnapshot.run_no == _RUN, TierSnapshot.customer_id == _CID)
    .order_by(TierSnapshot.ladder_id)
)
_HOLDINGS = (
    select(Holding)
    .where(Holding.run_no == _RUN, Holding.customer_id == _CID)
    .order_by(Holding.account_id)
)
_HISTORY = (
    select(AumHistory)
    .where(AumHistory.run_no == _RUN, AumHistory.customer_id == _CID)
    .order_by(AumHistory.ladder_id)
)
_STAFF = (
    select(StaffAssignment, Staff.name)
    .join(Staff, Staff.staff_id == StaffAssignment.staff_id)
    .where(StaffAssignment.customer_id == _CID, StaffAssignment.valid_to.is_(None))
    .order_by(StaffAssignment.role)
)
_OPEN_TASKS = (
    select(Task)
    .where(Task.customer_id == _CID, Task.state == "open")
    .order_by(Task.due_date, Task.id)
)
_CONTACTS = (
    select(ContactLog)
    .where(ContactLog.customer_id == _CID)
    .order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
    .limit(CONTACTS_SHOWN)
)
_COMPLAINTS = (
    select(Complaint).where(Complaint.customer_id == _CID).order_by(Complaint.received_at.desc())
)
_SURVEYS = (
    select(SatisfactionSurvey)
    .where(SatisfactionSurvey.customer_id == _CID)
    .order_by(SatisfactionSurvey.surveyed_on.desc())
)


def customer_360(ctx: Context, customer_id: str) -> dict[str, Any]:
    c = visible_customer(ctx, customer_id)
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    db = ctx.db
    cid = c.customer_id
    per_run = {"run_no": run.no, "customer_id": cid}
    about = {"customer_id": cid}
    tiers = db.scalars(_TIERS, per_run)
    holdings = db.scalars(_HOLDINGS, per_run)
    history = db.scalars(_HISTORY, per_run)
    staff = db.execute(_STAFF, about)
    tasks = db.scalars(_OPEN_TASKS, about)
    contacts = db.scalars(_CONTACTS, about)
    complaints = db.scalars(_COMPLAINTS, about)
    surveys = list(db.scalars(_SURVEYS, about))
    scores = [float(x.score) for x in surveys if x.score is not None]
    avg = sum(scores) / len(scores) if scores else None
    audit.record(ctx, "read", "customer", cid)
    return {
        "archive": archive(ctx, c),
        "as_of": run.as_of,
        "rulebook": f"{run.rulebook_id} {run.rulebook_version}",
        "tiers": [_tier(rb, t) for t in tiers],
        "holdings": list(holdings),
        "aum_history": [p for h in history for p in _history_points(h)],
        "staff": [
            {
                "role": a.role,
                "staff_id": a.staff_id,
                "name": name,
                "band": a.band,
                "since": a.valid_from,
            }
            for a, name in staff
        ],
        "open_tasks": list(tasks),
        "contacts": list(contacts),
        "complaints": [complaint_row(x, ctx.now) for x in complaints],
        "surveys": surveys,
        "satisfaction_avg": None if avg is None else round(avg, 2),
    }


def _history_points(h: AumHistory) -> list[dict[str, Any]]:
    """One point per review period from the row's parallel lists (oldest first)."""
    p = h.periods
    return [
        {"ladder_id": h.ladder_id, "period_end": end, "measure": m, "level": lv, "step": st}
        for end, m, lv, st in zip(p["period_end"], p["measure"], p["level"], p["step"], strict=True)
    ]


def unmask(ctx: Context, customer_id: str, reason: str) -> dict[str, Any]:
    """The full ID number and phone of one customer; the call and its reason are audited."""
    ctx.actor.require(Permission.UNMASK_PII)
    c = visible_customer(ctx, customer_id)
    audit.record(ctx, "unmask", "customer", c.customer_id, reason=reason)
    return {
        "customer_id": c.customer_id,
        "id_number": ctx.cipher.decrypt(c.id_number_enc),
        "phone": ctx.cipher.decrypt(c.phone_enc) if c.phone_enc else None,
    }


def update_archive(ctx: Context, customer_id: str, data: ArchiveIn) -> dict[str, Any]:
    """Record profile data collected from the customer; before and after are audited (the
    phone only in masked form)."""
    ctx.actor.require(Permission.RECORD_CONTACT)
    c = visible_customer(ctx, customer_id)
    changes = data.model_dump(exclude_unset=True)
    if not changes:
        raise Invalid("give at least one field to change", "EMPTY_CHANGE", ("body",))
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for name, value in changes.items():
        if name == "phone":
            before["phone"], after["phone"] = c.phone_masked, mask_phone(value) if value else None
            c.phone_enc = ctx.cipher.encrypt(value) if value else None
            c.phone_masked = mask_phone(value) if value else None
            c.phone_hash = ctx.cipher.lookup_hash(value) if value else None
            continue
        before[name], after[name] = _plain(getattr(c, name)), _plain(value)
        setattr(c, name, value)
    audit.record(ctx, "update", "customer", c.customer_id, before=before, after=after)
    return archive(ctx, c)


def _plain(v: object) -> object:
    return v.isoformat() if hasattr(v, "isoformat") else v
