"""Referrals: a teller refers an upgradeable customer to an RM, who accepts or declines.
Accepting makes the RM the customer's RM (the previous RM assignment becomes history)."""

from __future__ import annotations

from sqlalchemy import or_, select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict, Invalid, NotFound
from tierbook.api.schemas.work import ReferralIn
from tierbook.api.scope import about_visible_customer, staff_scope
from tierbook.api.services import audit
from tierbook.api.services.assignments import move
from tierbook.api.services.common import visible_customer
from tierbook.domain.access import Permission
from tierbook.rules.models import Role
from tierbook.store.models import Customer, Referral, Staff


def _refer_to_role(ctx: Context) -> str:
    rb = ctx.rulebook()
    return (rb.maintenance.upgrade_referral.refer_to if rb.maintenance else Role.RM).value


def refer(ctx: Context, customer_id: str, data: ReferralIn) -> Referral:
    ctx.actor.require(Permission.REFER)
    cust: Customer = visible_customer(ctx, customer_id)
    if ctx.viewer.staff_id is None:
        raise Invalid("only a staff member refers customers", "NOT_STAFF", ("user",))
    role = _refer_to_role(ctx)
    rm = ctx.db.scalar(select(Staff).where(Staff.staff_id == data.to_staff_id))
    if rm is None or rm.role != role or rm.end_date is not None or rm.branch_id != cust.branch_id:
        raise Invalid(
            f"refer to an active {role} of the customer's branch {cust.branch_id}",
            "REFER_TARGET",
            ("body", "to_staff_id"),
        )
    pending = ctx.db.scalar(
        select(Referral.id).where(
            Referral.customer_id == cust.customer_id,
            Referral.to_staff_id == rm.staff_id,
            Referral.state == "offered",
        )
    )
    if pending is not None:
        raise Conflict(f"referral {pending} to {rm.staff_id} is still open")
    ref = Referral(
        customer_id=cust.customer_id,
        from_staff_id=ctx.viewer.staff_id,
        to_staff_id=rm.staff_id,
        note=data.note,
        state="offered",
        created_at=ctx.now,
    )
    ctx.db.add(ref)
    ctx.db.flush()
    audit.record(
        ctx,
        "create",
        "referral",
        ref.id,
        after={"customer_id": ref.customer_id, "to_staff_id": ref.to_staff_id},
    )
    return ref


def _visible(ctx: Context):  # type: ignore[no-untyped-def]
    me = ctx.viewer.staff_id
    mine = [Referral.to_staff_id == me, Referral.from_staff_id == me] if me else []
    return or_(about_visible_customer(ctx.viewer, Referral.customer_id), *mine)


def list_referrals(ctx: Context, state: str | None, limit: int, offset: int) -> list[Referral]:
    stmt = select(Referral).where(_visible(ctx))
    if state is not None:
        stmt = stmt.where(Referral.state == state)
    stmt = stmt.order_by(Referral.created_at.desc(), Referral.id.desc()).limit(limit)
    return list(ctx.db.scalars(stmt.offset(offset)))


def decide(ctx: Context, referral_id: int, accept: bool, note: str | None) -> Referral:
    """The RM it was made to (or a manager over that RM) accepts or declines."""
    ctx.actor.require(Permission.ANSWER_REFERRAL)
    ref = ctx.db.scalar(
        select(Referral)
        .join(Staff, Staff.staff_id == Referral.to_staff_id)
        .where(Referral.id == referral_id, staff_scope(ctx.viewer))
    )
    if ref is None:
        raise NotFound(f"no referral {referral_id}")
    if ref.state != "offered":
        raise Conflict(f"referral {referral_id} is already {ref.state}")
    ref.state = "accepted" if accept else "declined"
    ref.decided_at, ref.decision_note = ctx.now, note
    audit.record(
        ctx, ref.state, "referral", ref.id, before={"state": "offered"}, after={"state": ref.state}
    )
    if accept:
        move(ctx, _refer_to_role(ctx), {ref.customer_id: ref.to_staff_id}, "referral accepted")
    return ref
