"""Audit entries: every read of a customer record, every unmasking and every change."""

from __future__ import annotations

from typing import Any

from tierbook.api.deps import Context
from tierbook.store.models import AuditEntry


def record(
    ctx: Context,
    action: str,
    entity: str,
    entity_id: str | int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    ctx.db.add(
        AuditEntry(
            at=ctx.now,
            user_id=ctx.actor.user_id,
            actor=ctx.actor.login,
            action=action,
            entity=entity,
            entity_id=None if entity_id is None else str(entity_id),
            before=before,
            after=after,
            reason=reason,
        )
    )
