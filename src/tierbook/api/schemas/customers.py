"""Customer schemas. Output schemas carry the masked ID number and phone only; the full
values come from ``POST /customers/{id}/unmask`` (``CustomerIdentity``), which is audited."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from tierbook.api.schemas.common import In, Mobile, Out, ShortText, Text
from tierbook.api.schemas.work import ComplaintDetail


class Flag(StrEnum):
    WATCH = "watch"  # below its level's minimum on the tier or band ladder (hysteresis)
    ALERT = "alert"  # an active alert not yet acknowledged
    COMPLAINT = "complaint"  # an open complaint
    DUE = "due"  # an open task due on or before the day asked about


class BookSort(StrEnum):
    AUM = "aum"
    AUM_DESC = "-aum"
    YTD = "ytd_avg"
    YTD_DESC = "-ytd_avg"
    NAME = "name"
    CUSTOMER = "customer_id"
    NEXT_DUE = "next_due"
    TIER = "tier"
    TIER_DESC = "-tier"


class CustomerRow(Out):
    customer_id: str
    name: str
    branch_id: str
    id_number: str = Field(description="masked: first 4 and last 4")
    phone: str | None = Field(description="masked: first 3 and last 4")
    tier: str | None
    band: str | None
    aum: Decimal | None = Field(description="the tier ladder's measure (weighted daily average)")
    ytd_avg: Decimal | None = Field(description="weighted AUM year-to-date daily average")
    next_due: date | None
    flags: list[Flag]


class Archive(Out):
    """The hard and soft archive (seed 004); ID number, phone and address masked."""

    customer_id: str
    kind: str
    name: str
    branch_id: str
    open_date: date
    birth_date: date | None
    id_number: str
    phone: str | None
    address: str | None
    occupation: str | None
    annual_income: Decimal | None
    family: str | None
    hobbies: str | None
    risk_preference: str | None
    preferred_channel: str | None
    preferred_service: str | None


class HoldingOut(Out):
    account_id: str
    product_type: str
    product_name: str | None
    open_date: date
    maturity_date: date | None
    balance: Decimal


class AumPoint(Out):
    ladder_id: str
    period_end: date
    measure: Decimal
    level: str
    step: str


class TierOut(Out):
    ladder_id: str
    level: str
    measure: Decimal
    period: str
    level_min: Decimal
    next_level: str | None
    gap_to_next: Decimal | None
    step: str
    explanation: str = Field(description="why the customer is at this level")


class AssignedStaff(Out):
    role: str
    staff_id: str
    name: str
    band: str
    since: date


class TaskOut(Out):
    id: int
    customer_id: str | None = Field(description="empty for a branch-level task")
    staff_id: str | None
    role: str
    kind: str
    due_date: date
    reason: str
    rule: str
    state: str
    closed_reason: str | None
    done_at: datetime | None


class ContactOut(Out):
    id: int
    staff_id: str
    customer_id: str
    contacted_at: datetime
    channel: str
    purpose: str
    outcome: str
    next_step: str | None
    next_contact_date: date | None
    task_id: int | None


class SurveyOut(Out):
    id: int
    customer_id: str
    surveyed_on: date
    score: int
    channel: str | None
    comment: str | None


class Customer360(Out):
    archive: Archive
    as_of: date
    rulebook: str
    tiers: list[TierOut]
    holdings: list[HoldingOut]
    aum_history: list[AumPoint]
    staff: list[AssignedStaff]
    open_tasks: list[TaskOut]
    contacts: list[ContactOut]
    complaints: list[ComplaintDetail]
    surveys: list[SurveyOut]
    satisfaction_avg: float | None


class CustomerIdentity(Out):
    customer_id: str
    id_number: str
    phone: str | None


class UnmaskIn(In):
    reason: Text = Field(description="why the full ID number and phone are needed (audited)")


class ArchiveIn(In):
    """Profile data staff collect (seed 004): only the fields given are changed."""

    phone: Mobile | None = None
    address: Text | None = None
    birth_date: date | None = None
    occupation: ShortText | None = None
    family: Text | None = None
    hobbies: Text | None = None
    preferred_channel: ShortText | None = None
    preferred_service: ShortText | None = None
