"""The append-only audit log: who did what to which record, with before and after.

Append-only three times over: the ORM refuses to flush an update or delete of an entry
(``tierbook.store.audit``), and triggers on SQLite and PostgreSQL refuse UPDATE and DELETE
from any client (created by the migration)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from tierbook.store.base import Base, BigId, Json, UtcDateTime, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity_entity_id", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(Json)
    after: Mapped[dict[str, Any] | None] = mapped_column(Json)
    reason: Mapped[str | None] = mapped_column(Text)


class AppendOnlyError(RuntimeError):
    """An update or delete of an audit entry was attempted."""


@event.listens_for(AuditEntry, "before_update")
@event.listens_for(AuditEntry, "before_delete")
def _refuse_change(_mapper: object, _connection: object, target: AuditEntry) -> None:
    raise AppendOnlyError(f"audit_log is append-only (entry {target.id} cannot be changed)")
