"""Customer 360, unmasking and the profile data staff collect. Each read is audited."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Row, Select, bindparam, exists, select

from tierbook.api.deps import Context
from tierbook.api.errors import Invalid
from tierbook.api.schemas.customers import (
    Archive,
    ArchiveIn,
    ContactOut,
    HoldingOut,
    SurveyOut,
    TaskOut,
    TierOut,
)
from tierbook.api.schemas.work import ComplaintDetail
from tierbook.api.scope import ScopeShape, scope_params
from tierbook.api.services import audit
from tierbook.api.services.common import no_customer, visible_clause, visible_customer
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


_ARCHIVE_SOURCE = {"id_number": "id_number_masked", "phone": "phone_masked"}
"""The ``Archive`` fields read from a column of another name (the masked forms)."""


def archive(ctx: Context, c: Customer) -> dict[str, Any]:
    return _shown(ctx, {f: getattr(c, _ARCHIVE_SOURCE.get(f, f)) for f in Archive.model_fields})


def _shown(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    """The archive as the viewer may see it: the address cut at the district unless the
    role may unmask (the ID number and phone are masked already)."""
    if row["address"] is not None and not ctx.viewer.can(Permission.UNMASK_PII):
        row["address"] = mask_address(row["address"])
    return row


def _tier(rb: Rulebook, t: Any) -> dict[str, Any]:
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


def _cols(model: Any, schema: type[BaseModel], *, but: tuple[str, ...] = ()) -> list[Any]:
    """The columns of ``model`` named like the fields of ``schema`` (except ``but``)."""
    return [getattr(model, f) for f in schema.model_fields if f not in but]


# The 360's statements, built once (building a statement costs more CPU than running it).
# They are Core selects of the columns the answer shows, run on the session's connection:
# for a read-only page, loading ORM objects (identity map, instrumented attributes) cost
# more CPU than running the queries, and every column read costs the driver a description.
@functools.cache
def _archive(shape: ScopeShape) -> Select[Any]:
    """The customer's archive if the viewer may see it (the scope of ``visible_customer``),
    and whether it has any open task, contact, complaint or survey: the 360 reads only the
    lists that are not empty (most customers have no complaint or survey)."""
    cols = [getattr(Customer, _ARCHIVE_SOURCE.get(f, f)).label(f) for f in Archive.model_fields]
    cid = Customer.customer_id
    has = {
        "open_tasks": exists().where(Task.customer_id == cid, Task.state == "open"),
        "contacts": exists().where(ContactLog.customer_id == cid),
        "complaints": exists().where(Complaint.customer_id == cid),
        "surveys": exists().where(SatisfactionSurvey.customer_id == cid),
    }
    flags = [e.label(f"has_{k}") for k, e in has.items()]
    return select(*cols, *flags).where(visible_clause(shape))


_TIERS = (
    select(
        *_cols(TierSnapshot, TierOut, but=("explanation",)),
        TierSnapshot.level_index,
        TierSnapshot.below_run,
        TierSnapshot.class_averages,
    )
    .where(TierSnapshot.run_no == _RUN, TierSnapshot.customer_id == _CID)
    .order_by(TierSnapshot.ladder_id)
)
_HOLDINGS = (
    select(*_cols(Holding, HoldingOut))
    .where(Holding.run_no == _RUN, Holding.customer_id == _CID)
    .order_by(Holding.account_id)
)
_HISTORY = (
    select(AumHistory.ladder_id, AumHistory.periods)
    .where(AumHistory.run_no == _RUN, AumHistory.customer_id == _CID)
    .order_by(AumHistory.ladder_id)
)
_STAFF = (
    select(
        StaffAssignment.role,
        StaffAssignment.staff_id,
        Staff.name,
        StaffAssignment.band,
        StaffAssignment.valid_from.label("since"),
    )
    .join(Staff, Staff.staff_id == StaffAssignment.staff_id)
    .where(StaffAssignment.customer_id == _CID, StaffAssignment.valid_to.is_(None))
    .order_by(StaffAssignment.role)
)
_OPEN_TASKS = (
    select(*_cols(Task, TaskOut))
    .where(Task.customer_id == _CID, Task.state == "open")
    .order_by(Task.due_date, Task.id)
)
_CONTACTS = (
    select(*_cols(ContactLog, ContactOut))
    .where(ContactLog.customer_id == _CID)
    .order_by(ContactLog.contacted_at.desc(), ContactLog.id.desc())
    .limit(CONTACTS_SHOWN)
)
_COMPLAINTS = (
    select(*_cols(Complaint, ComplaintDetail, but=("overdue", "escalated_to")))
    .where(Complaint.customer_id == _CID)
    .order_by(Complaint.received_at.desc())
)
_SURVEYS = (
    select(*_cols(SatisfactionSurvey, SurveyOut))
    .where(SatisfactionSurvey.customer_id == _CID)
    .order_by(SatisfactionSurvey.surveyed_on.desc())
)
_LISTS = {
    "open_tasks": _OPEN_TASKS,
    "contacts": _CONTACTS,
    "complaints": _COMPLAINTS,
    "surveys": _SURVEYS,
}
"""The lists about the customer the 360 reads only when ``_archive`` says they have rows."""


def customer_360(ctx: Context, customer_id: str) -> dict[str, Any]:
    shape, scope = scope_params(ctx.viewer)
    db = ctx.db.connection()
    found = db.execute(_archive(shape), {"customer_id": customer_id, **scope}).first()
    if found is None:
        raise no_customer(customer_id)
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    row = found._asdict()
    has = {k: row.pop(f"has_{k}") for k in _LISTS}
    cid = row["customer_id"]
    per_run = {"run_no": run.no, "customer_id": cid}
    about = {"customer_id": cid}

    def rows(name: str) -> Sequence[Row[Any]]:
        return db.execute(_LISTS[name], about).all() if has[name] else ()

    tiers = db.execute(_TIERS, per_run).all()
    holdings = db.execute(_HOLDINGS, per_run).all()
    history = db.execute(_HISTORY, per_run).all()
    staff = db.execute(_STAFF, about).all()
    surveys = [r._asdict() for r in rows("surveys")]
    scores = [float(x["score"]) for x in surveys if x["score"] is not None]
    avg = sum(scores) / len(scores) if scores else None
    audit.record(ctx, "read", "customer", cid)
    return {
        "archive": _shown(ctx, row),
        "as_of": run.as_of,
        "rulebook": f"{run.rulebook_id} {run.rulebook_version}",
        "tiers": [_tier(rb, t) for t in tiers],
        "holdings": [r._asdict() for r in holdings],
        "aum_history": [p for h in history for p in _history_points(h)],
        "staff": [r._asdict() for r in staff],
        "open_tasks": [r._asdict() for r in rows("open_tasks")],
        "contacts": [r._asdict() for r in rows("contacts")],
        "complaints": [complaint_row(x, ctx.now) for x in rows("complaints")],
        "surveys": surveys,
        "satisfaction_avg": None if avg is None else round(avg, 2),
    }


def _history_points(h: Any) -> list[dict[str, Any]]:
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
