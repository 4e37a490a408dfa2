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

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import aliased

from tierbook.api.deps import Context
from tierbook.api.schemas.customers import BookSort, Flag
from tierbook.api.scope import customer_scope
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


def _columns(ctx: Context, on: date) -> tuple[Select[Any], dict[str, Any]]:
    run = ctx.current_run()
    rb = ctx.rulebook(run)
    tier, band = _aliases()
    cid = Customer.customer_id
    open_task = and_(Task.customer_id == cid, Task.state == "open")
    next_due = select(func.min(Task.due_date)).where(open_task).scalar_subquery()
    flags = {
        Flag.WATCH: or_(tier.step.in_(WATCH_STEPS), band.step.in_(WATCH_STEPS)),
        Flag.ALERT: exists().where(
            Alert.customer_id == cid,
            Alert.last_run_id == run.run_id,
            Alert.acknowledged_at.is_(None),
        ),
        Flag.COMPLAINT: exists().where(Complaint.customer_id == cid, Complaint.state == "open"),
        Flag.DUE: exists().where(open_task, Task.due_date <= on),
    }
    band_id = band_ladder_id(rb) or ""
    stmt = (
        select(
            cid,
            Customer.name,
            Customer.branch_id,
            Customer.id_number_masked,
            Customer.phone_masked,
            tier.level.label("tier"),
            band.level.label("band"),
            tier.measure.label("aum"),
            CustomerSnapshot.ytd_avg,
            next_due.label("next_due"),
            *(expr.label(f"flag_{f.value}") for f, expr in flags.items()),
        )
        .outerjoin(
            tier,
            and_(
                tier.customer_id == cid,
                tier.run_id == run.run_id,
                tier.ladder_id == tier_ladder_id(rb),
            ),
        )
        .outerjoin(
            band,
            and_(band.customer_id == cid, band.run_id == run.run_id, band.ladder_id == band_id),
        )
        .outerjoin(
            CustomerSnapshot,
            and_(CustomerSnapshot.customer_id == cid, CustomerSnapshot.run_id == run.run_id),
        )
        .where(customer_scope(ctx.viewer))
    )
    cols = {"tier": tier, "band": band, "next_due": next_due, "flags": flags}
    return stmt, cols


def _where(ctx: Context, f: BookFilter, cols: dict[str, Any]) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if f.tier is not None:
        out.append(cols["tier"].level == f.tier)
    if f.band is not None:
        out.append(cols["band"].level == f.band)
    out.extend(cols["flags"][flag] for flag in f.flags)
    if f.due_by is not None:
        out.append(
            exists().where(
                Task.customer_id == Customer.customer_id,
                Task.state == "open",
                Task.due_date <= f.due_by,
            )
        )
    if f.staff_id is not None:
        out.append(
            exists().where(
                StaffAssignment.customer_id == Customer.customer_id,
                StaffAssignment.valid_to.is_(None),
                StaffAssignment.staff_id == f.staff_id,
            )
        )
    if f.id_number is not None:
        out.append(Customer.id_number_hash == ctx.cipher.lookup_hash(f.id_number))
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


def _filtered(ctx: Context, f: BookFilter) -> tuple[Select[Any], dict[str, Any]]:
    on = f.on or ctx.now.date()
    stmt, cols = _columns(ctx, on)
    return stmt.where(*_where(ctx, f, cols)), cols


def count(ctx: Context, f: BookFilter) -> int:
    stmt, _cols = _filtered(ctx, f)
    return int(ctx.db.scalar(select(func.count()).select_from(stmt.subquery())) or 0)


def page(ctx: Context, f: BookFilter, limit: int, offset: int) -> dict[str, Any]:
    stmt, cols = _filtered(ctx, f)
    rows = ctx.db.execute(stmt.order_by(*_order(f.sort, cols)).limit(limit).offset(offset))
    items = [_row(r) for r in rows]
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
    stmt, cols = _filtered(ctx, f)
    rows = ctx.db.execute(stmt.order_by(*_order(f.sort, cols)).limit(EXPORT_MAX))
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
