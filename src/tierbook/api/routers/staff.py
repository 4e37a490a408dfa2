"""Staff, reassignment, departures (branch manager) and compliance (supervisors)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from tierbook.api.deps import Ctx
from tierbook.api.errors import ERROR_RESPONSES
from tierbook.api.routers.params import Limit, Offset
from tierbook.api.schemas.common import PLAIN
from tierbook.api.schemas.work import ComplianceRow, DepartureIn, MovedOut, ReassignIn, StaffOut
from tierbook.api.services import staff
from tierbook.domain.access import Permission

router = APIRouter(prefix="/staff", tags=["staff"], responses=ERROR_RESPONSES)
StaffId = Annotated[str, Path(min_length=1, max_length=32, pattern=PLAIN)]


@router.get("", response_model=list[StaffOut])
def list_staff(
    ctx: Ctx,
    role: Annotated[str | None, Query(max_length=32, pattern=PLAIN)] = None,
    limit: Limit = 200,
    offset: Offset = 0,
) -> Any:
    """Staff in scope with the size of their current book."""
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return staff.list_staff(ctx, role, limit, offset)


@router.get("/compliance", response_model=list[ComplianceRow])
def compliance(ctx: Ctx, since: date | None = None, until: date | None = None) -> Any:
    """Tasks due vs done per person in the period (default: this month to date)."""
    return staff.compliance(ctx, since, until)


@router.post("/reassign", response_model=MovedOut)
def reassign(ctx: Ctx, data: ReassignIn) -> Any:
    return staff.reassign(ctx, data)


@router.post("/{staff_id}/departure", response_model=MovedOut)
def record_departure(ctx: Ctx, staff_id: StaffId, data: DepartureIn) -> Any:
    """The staff member leaves; their customers go to one colleague or are balanced."""
    return staff.record_departure(ctx, staff_id, data)
