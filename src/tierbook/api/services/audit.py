"""Audit entries: every read of a customer record, every unmasking and every change."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert

from tierbook.api.deps import Context
from tierbook.store.models import AuditEntry

_INSERT = insert(AuditEntry)
"""A Core insert run at once on the request's connection: an audit row is never read back
in the request, and the ORM's flush of one object (unit of work, identity map, the new id
returned) costs more CPU than the insert itself."""


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
    ctx.db.connection().execute(
        _INSERT,
        {
            "at": ctx.now,
            "user_id": ctx.actor.user_id,
            "actor": ctx.actor.login,
            "action": action,
            "entity": entity,
            "entity_id": None if entity_id is None else str(entity_id),
            "before": before,
            "after": after,
            "reason": reason,
        },
    )
