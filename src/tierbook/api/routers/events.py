"""Events: salons, seminars, VIP dinners."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from tierbook.api.deps import Ctx
from tierbook.api.errors import ERROR_RESPONSES
from tierbook.api.routers.params import Limit, Offset
from tierbook.api.schemas.common import PLAIN
from tierbook.api.schemas.events import (
    AttendanceIn,
    EventDetail,
    EventIn,
    EventOut,
    FollowUpOut,
    InvitationOut,
    PickIn,
    PickOut,
    RsvpIn,
)
from tierbook.api.services import events
from tierbook.domain.access import Permission

router = APIRouter(prefix="/events", tags=["events"], responses=ERROR_RESPONSES)
EventId = Annotated[int, Path(ge=1, le=2**62)]
CustomerId = Annotated[str, Path(min_length=1, max_length=32, pattern=PLAIN)]


def _invitation(inv: Any, name: str = "") -> dict[str, Any]:
    return {
        "customer_id": inv.customer_id,
        "name": name,
        "staff_id": inv.staff_id,
        "rsvp": inv.rsvp,
        "attended": inv.attended,
        "follow_up_task_id": inv.follow_up_task_id,
    }


@router.get("", response_model=list[EventOut])
def list_events(ctx: Ctx, limit: Limit = 100, offset: Offset = 0) -> Any:
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return events.list_events(ctx, limit, offset)


@router.post("", response_model=EventOut, status_code=201)
def create_event(ctx: Ctx, data: EventIn) -> Any:
    return events.create(ctx, data)


@router.get("/{event_id}", response_model=EventDetail)
def event_detail(ctx: Ctx, event_id: EventId) -> Any:
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return events.detail(ctx, event_id)


@router.post("/{event_id}/invitations/pick", response_model=PickOut)
def pick_invitees(ctx: Ctx, event_id: EventId, data: PickIn) -> Any:
    """Invite by the rulebook's rule for the event's kind (count, AUM, interests, tier)."""
    return events.pick(ctx, event_id, data)


@router.post("/{event_id}/invitations/{customer_id}/rsvp", response_model=InvitationOut)
def rsvp(ctx: Ctx, event_id: EventId, customer_id: CustomerId, data: RsvpIn) -> Any:
    return _invitation(events.set_rsvp(ctx, event_id, customer_id, data.rsvp))


@router.post("/{event_id}/invitations/{customer_id}/attendance", response_model=InvitationOut)
def attendance(ctx: Ctx, event_id: EventId, customer_id: CustomerId, data: AttendanceIn) -> Any:
    return _invitation(events.set_attendance(ctx, event_id, customer_id, data.attended))


@router.post("/{event_id}/follow-ups", response_model=FollowUpOut)
def follow_ups(ctx: Ctx, event_id: EventId) -> Any:
    """A follow-up contact task for each attendee."""
    return events.follow_ups(ctx, event_id)
