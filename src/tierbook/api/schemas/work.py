"""Schemas of the daily work: tasks, contacts, referrals, alerts, complaints, surveys."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import AwareDatetime, Field

from tierbook.api.schemas.common import In, Out, ShortText, Text
from tierbook.rules.models import Severity

Channel = Literal["branch", "phone", "wechat", "app", "email", "sms", "visit"]


class ContactIn(In):
    """One contact with a customer for the work log (我的客户 工作日志)."""

    channel: Channel
    purpose: Text
    outcome: Text
    next_step: Text | None = None
    next_contact_date: date | None = None
    contacted_at: AwareDatetime | None = Field(default=None, description="default: now")


class ReferralIn(In):
    to_staff_id: ShortText = Field(description="the RM the customer is referred to")
    note: Text | None = None


class DecisionIn(In):
    note: Text | None = None


class ReferralOut(Out):
    id: int
    customer_id: str
    from_staff_id: str
    to_staff_id: str
    note: str | None
    state: str
    created_at: datetime
    decided_at: datetime | None
    decision_note: str | None


class AlertOut(Out):
    id: int
    customer_id: str
    staff_id: str | None
    kind: str
    date: date
    amount: Decimal | None
    reason: str
    rule: str
    acknowledged_at: datetime | None


class ComplaintIn(In):
    severity: Severity = Field(description="A most serious … D least")
    summary: Text
    received_at: AwareDatetime | None = Field(default=None, description="default: now")


class ComplaintDetail(Out):
    id: int
    customer_id: str
    severity: str
    summary: str
    received_at: datetime
    response_due_at: datetime
    state: str
    staff_id: str | None
    responded_at: datetime | None
    overdue: bool
    escalated_to: str | None = Field(description="supervisor who sees it once overdue")


class SurveyIn(In):
    score: int = Field(ge=1, le=10)
    surveyed_on: date
    channel: Channel | None = None
    comment: Text | None = None


class ComplianceRow(Out):
    staff_id: str
    name: str
    role: str
    branch_id: str | None
    due: int = Field(description="tasks due in the period")
    done: int = Field(description="of those, done")
    compliance: float | None = Field(description="done ÷ due; empty when nothing was due")
    contacts: int = Field(description="contacts logged in the period")


class ReassignIn(In):
    customer_ids: list[ShortText] = Field(min_length=1, max_length=1000)
    role: ShortText
    to_staff_id: ShortText
    reason: Text


class DepartureIn(In):
    end_date: date
    to_staff_id: ShortText | None = Field(
        default=None, description="colleague taking over the whole book; default: balanced"
    )
    reason: Text = "staff departure"


class MovedOut(Out):
    moved: int
    to: dict[str, int] = Field(description="customers per receiving staff member")


class StaffOut(Out):
    staff_id: str
    name: str
    branch_id: str | None
    role: str
    capacity: int
    end_date: date | None
    supervisor_id: str | None
    book_size: int
