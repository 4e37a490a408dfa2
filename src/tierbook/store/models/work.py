"""The daily work on customers: the contact log (我的客户 工作日志), referrals from tellers
to RMs, events with invitations, RSVPs and attendance, complaints and satisfaction scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tierbook.store.base import Base, BigId, Json, UtcDateTime, utcnow
from tierbook.store.models.org import in_list

CONTACT_CHANNELS = ("branch", "phone", "wechat", "app", "email", "sms", "visit")
REFERRAL_STATES = ("offered", "accepted", "declined")
EVENT_KINDS = ("salon", "seminar", "vip_dinner")
RSVP_STATES = ("pending", "yes", "no")
SEVERITIES = ("A", "B", "C", "D")
COMPLAINT_STATES = ("open", "responded", "closed")


class ContactLog(Base):
    __tablename__ = "contact_log"
    __table_args__ = (
        CheckConstraint(in_list("channel", CONTACT_CHANNELS), name="channel"),
        Index("ix_contact_log_customer_id_contacted_at", "customer_id", "contacted_at"),
        Index("ix_contact_log_staff_id_contacted_at", "staff_id", "contacted_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"))
    contacted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    channel: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(Text)
    outcome: Mapped[str] = mapped_column(Text)
    next_step: Mapped[str | None] = mapped_column(Text)
    next_contact_date: Mapped[date | None] = mapped_column(Date)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"), index=True)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class Referral(Base):
    """A teller (or lobby manager) refers a customer to an RM, who accepts or declines."""

    __tablename__ = "referrals"
    __table_args__ = (CheckConstraint(in_list("state", REFERRAL_STATES), name="state"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    from_staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    to_staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    note: Mapped[str | None] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="offered")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)


class Event(Base):
    """A salon (about 15 guests), seminar (about 100) or VIP dinner."""

    __tablename__ = "events"
    __table_args__ = (CheckConstraint(in_list("kind", EVENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    branch_id: Mapped[str | None] = mapped_column(ForeignKey("branches.branch_id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    venue: Mapped[str | None] = mapped_column(String(200))
    capacity: Mapped[int] = mapped_column(Integer)
    invitee_rule: Mapped[dict[str, Any] | None] = mapped_column(Json)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)


class EventInvitation(Base):
    __tablename__ = "event_invitations"
    __table_args__ = (
        UniqueConstraint("event_id", "customer_id"),
        CheckConstraint(in_list("rsvp", RSVP_STATES), name="rsvp"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    invited_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utcnow)
    rsvp: Mapped[str] = mapped_column(String(16), default="pending")
    rsvp_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    attended: Mapped[bool | None] = mapped_column(Boolean)
    follow_up_task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id"))


class Complaint(Base):
    """A complaint; its response deadline follows from the severity and the customer's tier."""

    __tablename__ = "complaints"
    __table_args__ = (
        CheckConstraint(in_list("severity", SEVERITIES), name="severity"),
        CheckConstraint(in_list("state", COMPLAINT_STATES), name="state"),
        Index("ix_complaints_state_response_due_at", "state", "response_due_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    severity: Mapped[str] = mapped_column(String(1))
    summary: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    response_due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default="open")
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    responded_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SatisfactionSurvey(Base):
    __tablename__ = "satisfaction_surveys"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 10", name="score"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.customer_id"), index=True)
    surveyed_on: Mapped[date] = mapped_column(Date)
    score: Mapped[int] = mapped_column(SmallInteger)
    channel: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
