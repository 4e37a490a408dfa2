"""Alerts of the current run (large flows, maturities …) and their acknowledgement."""

from __future__ import annotations

from sqlalchemy import select

from tierbook.api.deps import Context
from tierbook.api.errors import Conflict
from tierbook.api.scope import about_visible_customer
from tierbook.api.services import audit
from tierbook.api.services.common import visible_record
from tierbook.domain.access import Permission
from tierbook.store.models import Alert


def list_alerts(
    ctx: Context, acknowledged: bool | None, mine: bool, limit: int, offset: int
) -> list[Alert]:
    run = ctx.current_run()
    stmt = select(Alert).where(
        Alert.last_run_id == run.run_id, about_visible_customer(ctx.viewer, Alert.customer_id)
    )
    if mine and ctx.viewer.staff_id is not None:
        stmt = stmt.where(Alert.staff_id == ctx.viewer.staff_id)
    if acknowledged is not None:
        cond = (
            Alert.acknowledged_at.is_not(None) if acknowledged else Alert.acknowledged_at.is_(None)
        )
        stmt = stmt.where(cond)
    stmt = stmt.order_by(Alert.date.desc(), Alert.id).limit(limit).offset(offset)
    return list(ctx.db.scalars(stmt))


def acknowledge(ctx: Context, alert_id: int) -> Alert:
    ctx.actor.require(Permission.ACK_ALERT)
    alert = visible_record(ctx, Alert, alert_id, "alert")
    if alert.acknowledged_at is not None:
        raise Conflict(f"alert {alert_id} was acknowledged at {alert.acknowledged_at}")
    alert.acknowledged_at, alert.acknowledged_by = ctx.now, ctx.actor.user_id
    audit.record(ctx, "acknowledge", "alert", alert.id, after={"customer_id": alert.customer_id})
    return alert
