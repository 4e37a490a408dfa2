"""My book, customer 360, unmasking, profile data, and the records filed per customer."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from tierbook.api.deps import Context, Ctx
from tierbook.api.errors import ERROR_RESPONSES
from tierbook.api.responses import json_response
from tierbook.api.routers.params import Limit, Offset, OnDay
from tierbook.api.schemas.common import PLAIN, Count, IdNumber, Page
from tierbook.api.schemas.customers import (
    Archive,
    ArchiveIn,
    BookSort,
    ContactOut,
    Customer360,
    CustomerIdentity,
    CustomerRow,
    Flag,
    SurveyOut,
    UnmaskIn,
)
from tierbook.api.schemas.work import (
    ComplaintDetail,
    ComplaintIn,
    ContactIn,
    ReferralIn,
    ReferralOut,
    SurveyIn,
)
from tierbook.api.services import book, complaints, customers, referrals, tasks
from tierbook.api.services.book import BookFilter
from tierbook.domain.access import Permission

router = APIRouter(prefix="/customers", tags=["customers"], responses=ERROR_RESPONSES)
CustomerId = Annotated[str, Path(min_length=1, max_length=32, pattern=PLAIN)]


async def book_filter(
    tier: Annotated[
        str | None, Query(max_length=64, pattern=PLAIN, description="tier ladder level")
    ] = None,
    band: Annotated[
        str | None, Query(max_length=64, pattern=PLAIN, description="maintenance band")
    ] = None,
    flag: Annotated[list[Flag] | None, Query(description="has all of these flags")] = None,
    due_by: Annotated[date | None, Query(description="has an open task due by")] = None,
    staff_id: Annotated[
        str | None, Query(max_length=32, pattern=PLAIN, description="assigned to")
    ] = None,
    id_number: Annotated[
        IdNumber | None, Query(description="exact ID number or credit code")
    ] = None,
    on: OnDay = None,
    sort: BookSort = BookSort.AUM_DESC,
) -> BookFilter:
    return BookFilter(
        tier=tier,
        band=band,
        flags=tuple(flag or ()),
        due_by=due_by,
        staff_id=staff_id,
        id_number=id_number,
        on=on,
        sort=sort,
    )


Filter = Annotated[BookFilter, Depends(book_filter)]


async def _view(ctx: Ctx) -> Context:
    ctx.actor.require(Permission.VIEW_CUSTOMERS)
    return ctx


Viewing = Annotated[Context, Depends(_view)]


@router.get("", response_model=Page[CustomerRow], summary="My book")
def my_book(ctx: Viewing, f: Filter, limit: Limit = 50, offset: Offset = 0) -> Response:
    out = json_response(Page[CustomerRow], book.page(ctx, f, limit, offset))
    ctx.commit()
    return out


@router.get("/count", response_model=Count, summary="How many customers the book filter matches")
def count(ctx: Viewing, f: Filter) -> Count:
    return Count(total=book.count(ctx, f))


@router.get(
    "/export.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
    summary="The filtered book as CSV (masked)",
)
def export(ctx: Viewing, f: Filter) -> Response:
    ctx.actor.require(Permission.EXPORT)
    return Response(book.export_csv(ctx, f), media_type="text/csv; charset=utf-8")


@router.get("/{customer_id}", response_model=Customer360, summary="Customer 360")
def customer_360(ctx: Viewing, customer_id: CustomerId) -> Response:
    out = json_response(Customer360, customers.customer_360(ctx, customer_id))
    ctx.commit()  # the audit row; in this thread (see Context.commit)
    return out


@router.post("/{customer_id}/unmask", response_model=CustomerIdentity)
def unmask(ctx: Ctx, customer_id: CustomerId, data: UnmaskIn) -> dict[str, Any]:
    """The full ID number and phone; the call and its reason go to the audit log."""
    return customers.unmask(ctx, customer_id, data.reason)


@router.patch("/{customer_id}/archive", response_model=Archive)
def update_archive(ctx: Ctx, customer_id: CustomerId, data: ArchiveIn) -> dict[str, Any]:
    """Profile data collected from the customer (birthday, address, phone, …)."""
    return customers.update_archive(ctx, customer_id, data)


@router.get("/{customer_id}/contacts", response_model=list[ContactOut])
def contacts(ctx: Viewing, customer_id: CustomerId, limit: Limit = 50, offset: Offset = 0) -> Any:
    return tasks.contact_log(
        ctx,
        customer_id=customer_id,
        staff_id=None,
        since=None,
        until=None,
        limit=limit,
        offset=offset,
    )


@router.post("/{customer_id}/contacts", response_model=ContactOut, status_code=201)
def log_contact(ctx: Ctx, customer_id: CustomerId, data: ContactIn) -> Any:
    return tasks.log_contact(ctx, customer_id, data)


@router.post("/{customer_id}/referrals", response_model=ReferralOut, status_code=201)
def refer(ctx: Ctx, customer_id: CustomerId, data: ReferralIn) -> Any:
    """Refer the customer to an RM of its branch (向客户经理输送客户资源)."""
    return referrals.refer(ctx, customer_id, data)


@router.post("/{customer_id}/complaints", response_model=ComplaintDetail, status_code=201)
def record_complaint(ctx: Ctx, customer_id: CustomerId, data: ComplaintIn) -> Any:
    """The response deadline follows from the severity and the customer's tier."""
    return complaints.record_complaint(ctx, customer_id, data)


@router.post("/{customer_id}/surveys", response_model=SurveyOut, status_code=201)
def record_survey(ctx: Ctx, customer_id: CustomerId, data: SurveyIn) -> Any:
    return complaints.record_survey(ctx, customer_id, data)
