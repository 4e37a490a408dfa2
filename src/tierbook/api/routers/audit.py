"""The audit log (administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy import select

from tierbook.api.deps import Ctx
from tierbook.api.errors import ERROR_RESPONSES
from tierbook.api.routers.params import Limit, Offset
from tierbook.api.schemas.common import PLAIN, Out
from tierbook.domain.access import Permission
from tierbook.store.models import AuditEntry

router = APIRouter(prefix="/audit", tags=["audit"], responses=ERROR_RESPONSES)


class AuditOut(Out):
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    reason: str | None


@router.get("", response_model=list[AuditOut])
def audit_log(
    ctx: Ctx,
    entity: Annotated[str | None, Query(max_length=64, pattern=PLAIN)] = None,
    entity_id: Annotated[str | None, Query(max_length=64, pattern=PLAIN)] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Any:
    ctx.actor.require(Permission.VIEW_AUDIT)
    stmt = select(AuditEntry)
    if entity is not None:
        stmt = stmt.where(AuditEntry.entity == entity)
    if entity_id is not None:
        stmt = stmt.where(AuditEntry.entity_id == entity_id)
    stmt = stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(ctx.db.scalars(stmt))
