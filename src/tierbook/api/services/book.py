"""My book: the customers in the caller's scope with tier, band, flags and next due task.

One query for the page and one for the count, however many rows: flags and the next due
date are correlated sub-selects of the same statement, never a query per row.
"""

from __future__ import annotations

import csv
import functools
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    Select,
    and_,
    bindparam,
    exists,
    func,
    or_,
    select,
)
from sqlalchemy.orm import aliased

from tierbook.api.deps import Context
from tierbook.api.schemas.customers import BookSort, Flag
from tierbook.api.scope import ScopeShape, bound_customer_scope, scope_params
from tierbook.api.services import audit
from tierbook.api.services.common import band_ladder_id, tier_ladder_id
from tierbook.store.models import (
    Alert,
    Complaint,
    Customer,
    CustomerSnapshot,
    StaffAssignment,
    Task,
    TierSnapshot,
)

WATCH_STEPS = ("below", "watch")
EXPORT_MAX = 100_000


@dataclass(frozen=True)
class BookFilter:
    tier: str | None = None
    band: str | None = None
    flags: tuple[Flag, ...] = ()
    due_by: date | None = None
    staff_id: str | None = None
    id_number: str | None = None
    on: date | None = None
    sort: BookSort = BookSort.AUM_DESC


@functools.cache
def _aliases() -> tuple[Any, Any]:
    """The tier and band rows of ``tier_snapshots``, built once (aliasing is not cheap)."""
    return aliased(TierSnapshot, name="tier"), aliased(TierSnapshot, name="band")


# The book's statements are built once per shape (scope terms, filter terms, sort) with
# every value a bound parameter, and run with the request's values: building a statement
# of this size costs several times the CPU of running it.
_RUN = bindparam("run_no")
_ON = bindparam("on", type_=Date)


@functools.cache
def _columns() -> dict[str, Any]:
    """The pieces of the book's statements: the tier and band rows, the flags and the next
    due date (correlated to ``Customer``), and ``join`` adding the per-run outer joins."""
    tier, band = _aliases()
    cid = Customer.customer_id
    open_task = and_(Task.customer_id == cid, Task.state == "open")
    flags = {
        Flag.WATCH: or_(tier.step.in_(WATCH_STEPS), band.step.in_(WATCH_STEPS)),
        Flag.ALERT: exists().where(
            Alert.customer_id == cid,
            Alert.last_run_no == _RUN,
            Alert.acknowledged_at.is_(None),
        ),
        Flag.COMPLAINT: exists().where(Complaint.customer_id == cid, Complaint.state == "open"),
        Flag.DUE: exists().where(open_task, Task.due_date <= _ON),
    }

    def join(stmt: Select[Any], *, snapshot: bool = True) -> Select[Any]:
        stmt = stmt.outerjoin(
            tier,
            and_(
                tier.customer_id == cid,
                tier.run_no == _RUN,
                tier.ladder_id == bindparam("tier_ladder"),
            ),
        ).outerjoin(
            band,
            and_(
                band.customer_id == cid,
                band.run_no == _RUN,
                band.ladder_id == bindparam("band_ladder"),
            ),
        )
        if not snapshot:
            return stmt
        return stmt.outerjoin(
            CustomerSnapshot,
            and_(CustomerSnapshot.customer_id == cid, CustomerSnapshot.run_no == _RUN),
        )

    next_due = select(func.min(Task.due_date)).where(open_task).scalar_subquery()
    return {"tier": tier, "band": band, "next_due": next_due, "flags": flags, "join": join}


def _row_columns(cols: dict[str, Any]) -> tuple[Any, ...]:
    tier, band = cols["tier"], cols["band"]
    return (
        Customer.customer_id,
        Customer.name,
        Customer.branch_id,
        Customer.id_number_masked,
        Customer.phone_masked,
        tier.level.label("tier"),
        band.level.label("band"),
        tier.measure.label("aum"),
        CustomerSnapshot.ytd_avg,
        cols["next_due"].label("next_due"),
        *(expr.label(f"flag_{f.value}") for f, expr in cols["flags"].items()),
    )


@dataclass(frozen=True)
class _FilterShape:
    """Which terms a :class:`BookFilter` sets (its values are bound parameters)."""

    tier: bool
    band: bool
    flags: tuple[Flag, ...]
    due_by: bool
    staff_id: bool
    id_number: bool

    @property
    def needs_ladders(self) -> bool:
        """Whether the matching rows depend on the tier and band rows (the outer joins
        are one row or none per customer, so otherwise they cannot change a count)."""
        return self.tier or self.band or Flag.WATCH in self.flags


def _filter_params(ctx: Context, f: BookFilter) -> tuple[_FilterShape, dict[str, Any]]:
    shape = _FilterShape(
        f.tier is not None,
        f.band is not None,
        tuple(f.flags),
        f.due_by is not None,
        f.staff_id is not None,
        f.id_number is not None,
    )
    params: dict[str, Any] = {}
    if f.tier is not None:
        params["f_tier"] = f.tier
    if f.band is not None:
        params["f_band"] = f.band
    if f.due_by is not None:
        params["f_due_by"] = f.due_by
    if f.staff_id is not None:
        params["f_staff"] = f.staff_id
    if f.id_number is not None:
        params["f_id_hash"] = ctx.cipher.lookup_hash(f.id_number)
    return shape, params


def _where(shape: _FilterShape, cols: dict[str, Any]) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if shape.tier:
        out.append(cols["tier"].level == bindparam("f_tier"))
    if shape.band:
        out.append(cols["band"].level == bindparam("f_band"))
    out.extend(cols["flags"][flag] for flag in shape.flags)
    if shape.due_by:
        out.append(
            exists().where(
                Task.customer_id == Customer.customer_id,
                Task.state == "open",
                Task.due_date <= bindparam("f_due_by", type_=Date),
            )
        )
    if shape.staff_id:
        out.append(
            exists().where(
                StaffAssignment.customer_id == Customer.customer_id,
                StaffAssignment.valid_to.is_(None),
                StaffAssignment.staff_id == bindparam("f_staff"),
            )
        )
    if shape.id_number:
        out.append(Customer.id_number_hash == bindparam("f_id_hash"))
    return out


def _order(sort: BookSort, cols: dict[str, Any]) -> list[Any]:
    tier = cols["tier"]
    keys: dict[BookSort, Any] = {
        BookSort.AUM: tier.measure.asc().nulls_first(),
        BookSort.AUM_DESC: tier.measure.desc().nulls_last(),
        BookSort.YTD: CustomerSnapshot.ytd_avg.asc().nulls_first(),
        BookSort.YTD_DESC: CustomerSnapshot.ytd_avg.desc().nulls_last(),
        BookSort.NAME: Customer.name.asc(),
        BookSort.CUSTOMER: Customer.customer_id.asc(),
        BookSort.NEXT_DUE: cols["next_due"].asc().nulls_last(),
        BookSort.TIER: tier.level_index.asc().nulls_first(),
        BookSort.TIER_DESC: tier.level_index.desc().nulls_last(),
    }
    return [keys[sort], Customer.customer_id.asc()]


def _row(r: Any) -> dict[str, Any]:
    m = r._mapping
    return {
        "customer_id": m["customer_id"],
        "name": m["name"],
        "branch_id": m["branch_id"],
        "id_number": m["id_number_masked"],
        "phone": m["phone_masked"],
        "tier": m["tier"],
        "band": m["band"],
        "aum": m["aum"],
        "ytd_avg": m["ytd_avg"],
        "next_due": m["next_due"],
        "flags": [f for f in Flag if m[f"flag_{f.value}"]],
    }


def _matching(scope: ScopeShape, shape: _FilterShape, *, snapshot: bool = True) -> Select[Any]:
    """The ids of the customers in scope matching the filter (no per-row columns)."""
    cols = _columns()
    stmt = select(Customer.customer_id)
    if snapshot or shape.needs_ladders:
        stmt = cols["join"](stmt, snapshot=snapshot)
    return stmt.where(bound_customer_scope(scope), *_where(shape, cols))


@functools.cache
def _count_statement(scope: ScopeShape, shape: _FilterShape) -> Select[Any]:
    """The count of the matching customers; joins only what the filter reads."""
    ids = _matching(scope, shape, snapshot=False)
    return select(func.count()).select_from(ids.subquery())


@functools.cache
def _page_statement(scope: ScopeShape, shape: _FilterShape, sort: BookSort) -> Select[Any]:
    """The rows of one page (``limit``, ``offset``): the page's ids are found first, then
    flags and the next due date are computed for those rows only."""
    cols = _columns()
    order = _order(sort, cols)
    page_ids = (
        _matching(scope, shape)
        .order_by(*order)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    stmt = cols["join"](
        select(*_row_columns(cols)).join(page_ids, page_ids.c.customer_id == Customer.customer_id)
    )
    return stmt.order_by(*order)


def _params(ctx: Context, f: BookFilter) -> tuple[ScopeShape, _FilterShape, dict[str, Any]]:
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    scope, params = scope_params(ctx.viewer)
    shape, filter_params = _filter_params(ctx, f)
    params |= filter_params
    params |= {
        "run_no": run.no,
        "tier_ladder": tier_ladder_id(rb),
        "band_ladder": band_ladder_id(rb) or "",
        "on": f.on or ctx.now.date(),
    }
    return scope, shape, params


def count(ctx: Context, f: BookFilter) -> int:
    scope, shape, params = _params(ctx, f)
    return int(ctx.db.scalar(_count_statement(scope, shape), params) or 0)


def _rows(ctx: Context, f: BookFilter, limit: int, offset: int) -> Any:
    scope, shape, params = _params(ctx, f)
    stmt = _page_statement(scope, shape, f.sort)
    return ctx.db.execute(stmt, {**params, "limit": limit, "offset": offset})


def page(ctx: Context, f: BookFilter, limit: int, offset: int) -> dict[str, Any]:
    items = [_row(r) for r in _rows(ctx, f, limit, offset)]
    return {"total": count(ctx, f), "limit": limit, "offset": offset, "items": items}


EXPORT_COLUMNS = (
    "customer_id",
    "name",
    "branch_id",
    "id_number",
    "phone",
    "tier",
    "band",
    "aum",
    "ytd_avg",
    "next_due",
    "flags",
)


def export_csv(ctx: Context, f: BookFilter) -> str:
    """The whole filtered book as CSV, masked like the list; the export is audited."""
    rows = _rows(ctx, f, EXPORT_MAX, 0)
    buf = io.StringIO()
    out = csv.DictWriter(buf, fieldnames=EXPORT_COLUMNS)
    out.writeheader()
    n = 0
    for r in rows:
        row = _row(r)
        row["flags"] = " ".join(flag.value for flag in row["flags"])
        out.writerow(row)
        n += 1
    audit.record(ctx, "export", "customers", None, after={"rows": n, "filter": _describe(f)})
    return buf.getvalue()


def _describe(f: BookFilter) -> dict[str, Any]:
    return {
        "tier": f.tier,
        "band": f.band,
        "flags": [x.value for x in f.flags],
        "due_by": f.due_by.isoformat() if f.due_by else None,
        "staff_id": f.staff_id,
        "sort": f.sort.value,
    }
