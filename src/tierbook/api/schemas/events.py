"""Event schemas: salons, seminars and VIP dinners with invitations, RSVP and attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, Field

from tierbook.api.schemas.common import In, Out, ShortText
from tierbook.rules.models import EventKind


class EventIn(In):
    kind: EventKind
    title: ShortText
    starts_at: AwareDatetime
    venue: ShortText | None = None
    branch_id: ShortText | None = Field(
        default=None, description="head office only; a branch manager's event is their branch's"
    )
    capacity: int | None = Field(default=None, ge=1, le=10_000, description="default: the rule's")


class PickIn(In):
    interests: list[ShortText] = Field(default=[], max_length=20, description="e.g. 理财, 茶艺")
    levels: list[ShortText] | None = Field(default=None, description="tier levels to invite")
    limit: int | None = Field(default=None, ge=1, le=10_000, description="default: the rule's")


class RsvpIn(In):
    rsvp: Literal["pending", "yes", "no"]


class AttendanceIn(In):
    attended: bool


class InvitationOut(Out):
    customer_id: str
    name: str
    staff_id: str | None
    rsvp: str
    attended: bool | None
    follow_up_task_id: int | None


class EventOut(Out):
    id: int
    kind: str
    title: str
    branch_id: str | None
    starts_at: datetime
    venue: str | None
    capacity: int
    invitee_rule: dict[str, object] | None


class EventDetail(EventOut):
    invitations: list[InvitationOut] = Field(description="invitees within the caller's scope")


class PickOut(Out):
    invited: int
    customer_ids: list[str]


class FollowUpOut(Out):
    created: int
    task_ids: list[int]
