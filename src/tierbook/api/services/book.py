"""My book: the customers in the caller's scope with tier, band, flags and next due task.

One query for the page and one for the count (an own or team book: one for both), however
many rows: flags and the next due date are correlated sub-selects of the same statement,
never a query per row. An own or team book, unfiltered or by tier or band, is read from
``staff_books`` (the customers each staff member holds, with their sort keys), a branch's
or everyone's total from ``book_counts``.
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

from tierbook.api.deps import Context
from tierbook.api.schemas.customers import BookSort, Flag
from tierbook.api.scope import (
    SCOPE_STAFF,
    ScopeShape,
    assigned_to,
    bound_customer_scope,
    scope_params,
)
from tierbook.api.services import audit
from tierbook.store.models import (
    Alert,
    BookCount,
    Complaint,
    Customer,
    CustomerSnapshot,
    StaffAssignment,
    StaffBook,
    Task,
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


# The book's statements are built once per shape (scope terms, filter terms, sort) with
# every value a bound parameter, and run with the request's values: building a statement
# of this size costs several times the CPU of running it.
#
# The book is the current run's customers: its rows are ``customer_snapshots`` (one per
# customer of the run, carrying the tier and band columns), joined to the archive. A
# branch's book by AUM or tier is then a scan of one index of that table.
_RUN = bindparam("run_no")
_ON = bindparam("on", type_=Date)
S = CustomerSnapshot


@functools.cache
def _columns() -> dict[str, Any]:
    """The flags and the next due date, correlated to the snapshot's customer."""
    cid = S.customer_id
    open_task = and_(Task.customer_id == cid, Task.state == "open")
    flags = {
        Flag.WATCH: or_(S.tier_step.in_(WATCH_STEPS), S.band_step.in_(WATCH_STEPS)),
        Flag.ALERT: exists().where(
            Alert.customer_id == cid,
            Alert.last_run_no == _RUN,
            Alert.acknowledged_at.is_(None),
        ),
        Flag.COMPLAINT: exists().where(Complaint.customer_id == cid, Complaint.state == "open"),
        Flag.DUE: exists().where(open_task, Task.due_date <= _ON),
    }
    next_due = select(func.min(Task.due_date)).where(open_task).scalar_subquery()
    return {"next_due": next_due, "flags": flags}


def _row_columns(cols: dict[str, Any]) -> tuple[Any, ...]:
    return (
        Customer.customer_id,
        Customer.name,
        Customer.branch_id,
        Customer.id_number_masked,
        Customer.phone_masked,
        S.tier_level.label("tier"),
        S.band_level.label("band"),
        S.tier_measure.label("aum"),
        S.ytd_avg,
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


def _level_terms(table: Any, shape: _FilterShape) -> list[ColumnElement[bool]]:
    """The filter's tier and band terms on ``table`` (snapshots, book counts or staff
    books: each carries ``tier_level`` and ``band_level``)."""
    out: list[ColumnElement[bool]] = []
    if shape.tier:
        out.append(table.tier_level == bindparam("f_tier"))
    if shape.band:
        out.append(table.band_level == bindparam("f_band"))
    return out


def _levels_only(shape: _FilterShape) -> bool:
    """Whether the filter has no terms other than tier and band (those the publish's
    derived book tables carry; a flag or a due date changes with the day's work)."""
    return not (shape.flags or shape.due_by or shape.staff_id or shape.id_number)


def _where(shape: _FilterShape, cols: dict[str, Any]) -> list[ColumnElement[bool]]:
    out = _level_terms(S, shape)
    out.extend(cols["flags"][flag] for flag in shape.flags)
    if shape.due_by:
        out.append(
            exists().where(
                Task.customer_id == S.customer_id,
                Task.state == "open",
                Task.due_date <= bindparam("f_due_by", type_=Date),
            )
        )
    if shape.staff_id:
        out.append(
            exists().where(
                StaffAssignment.customer_id == S.customer_id,
                StaffAssignment.valid_to.is_(None),
                StaffAssignment.staff_id == bindparam("f_staff"),
            )
        )
    if shape.id_number:
        out.append(Customer.id_number_hash == bindparam("f_id_hash"))
    return out


@functools.cache
def _assigned() -> Any:
    """The customers currently assigned to the viewer's staff ids, computed first (a
    materialised CTE): otherwise PostgreSQL may walk the whole run by AUM probing each
    customer's assignments for an RM's page of 50 (1 s at 200k customers)."""
    ids = select(StaffAssignment.customer_id).where(*assigned_to(SCOPE_STAFF)).distinct()
    return ids.cte("assigned").prefix_with("MATERIALIZED")


def _scoped(stmt: Select[Any], scope: ScopeShape) -> Select[Any]:
    """``stmt`` over the snapshot rows limited to the viewer's scope. A branch scope reads
    the snapshot's own branch (the same as the archive's: both come from the run's customer
    file, and no API call moves a customer between branches) so that the branch index
    serves the page; a staff scope joins the customers assigned to the staff ids."""
    if scope.everything:
        return stmt
    if scope.by_branch and not scope.by_staff:
        return stmt.where(S.branch_id == bindparam("scope_branch"))
    if scope.by_staff and not scope.by_branch:
        assigned = _assigned()
        return stmt.join(assigned, assigned.c.customer_id == S.customer_id)
    return stmt.where(bound_customer_scope(scope))  # joined to the archive by the caller


KEPT_KEYS: dict[BookSort, tuple[str, bool]] = {
    BookSort.AUM: ("tier_measure", False),
    BookSort.AUM_DESC: ("tier_measure", True),
    BookSort.YTD: ("ytd_avg", False),
    BookSort.YTD_DESC: ("ytd_avg", True),
    BookSort.TIER: ("tier_level_index", False),
    BookSort.TIER_DESC: ("tier_level_index", True),
    BookSort.CUSTOMER: ("customer_id", False),
}
"""The sorts by a snapshot column (name, descending), which ``staff_books`` keeps too."""


def _key(columns: Any, sort: BookSort) -> Any:
    name, descending = KEPT_KEYS[sort]
    return columns[name].desc() if descending else columns[name].asc()


def _order(sort: BookSort, cols: dict[str, Any]) -> list[Any]:
    # the tier columns are never NULL (every customer of a run has a row on every ladder)
    if sort in KEPT_KEYS:
        key = _key(S.__table__.c, sort)
    elif sort is BookSort.NAME:
        key = Customer.name.asc()
    else:
        key = cols["next_due"].asc().nulls_last()
    return [key, S.customer_id.asc()]


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


def _needs_archive(shape: _FilterShape, scope: ScopeShape, sort: BookSort | None) -> bool:
    """Whether the matching rows read a column of the archive (``customers``)."""
    mixed = scope.by_branch and scope.by_staff
    return shape.id_number or mixed or sort is BookSort.NAME


def _matching(scope: ScopeShape, shape: _FilterShape, sort: BookSort | None) -> Select[Any]:
    """The ids of the current run's customers in scope matching the filter (no per-row
    columns); the archive is joined only when a term reads it."""
    stmt = select(S.customer_id)
    if _needs_archive(shape, scope, sort):
        stmt = stmt.join(Customer, Customer.customer_id == S.customer_id)
    stmt = _scoped(stmt, scope).where(S.run_no == _RUN)
    return stmt.where(*_where(shape, _columns()))


def _counted_at_publish(scope: ScopeShape, shape: _FilterShape) -> bool:
    """Whether the total is a sum of the run's :class:`BookCount` rows: a branch's or
    everyone's book, unfiltered or filtered by tier or band only (the terms those rows
    are counted by)."""
    by_branch_only = scope.by_branch and not scope.by_staff
    return (scope.everything or by_branch_only) and _levels_only(shape)


def _held_book(scope: ScopeShape, shape: _FilterShape) -> bool:
    """Whether the matching customers are read from ``staff_books``: an own or team book,
    unfiltered or by tier or band only (one index range per staff id; ``_assigned`` and a
    probe of the run's snapshots per customer otherwise)."""
    return scope.by_staff and not scope.by_branch and _levels_only(shape)


def _held(shape: _FilterShape) -> Select[Any]:
    """The customers the viewer's staff ids hold in the run, with their sort keys (one row
    per customer: a team's members may share one), of the filter's tier and band."""
    b = StaffBook
    terms = [b.run_no == _RUN, b.staff_id.in_(SCOPE_STAFF), *_level_terms(b, shape)]
    keys = (b.customer_id, b.tier_measure, b.ytd_avg, b.tier_level_index)
    return select(*keys).where(*terms).distinct()


@functools.cache
def _count_statement(scope: ScopeShape, shape: _FilterShape) -> Select[Any]:
    """The count of the matching customers."""
    if _held_book(scope, shape):
        return select(func.count()).select_from(_held(shape).subquery())
    if not _counted_at_publish(scope, shape):
        return select(func.count()).select_from(_matching(scope, shape, None).subquery())
    b = BookCount
    terms = [b.run_no == _RUN, *_level_terms(b, shape)]
    if not scope.everything:
        terms.append(b.branch_id == bindparam("scope_branch"))
    return select(func.coalesce(func.sum(b.customers), 0)).where(*terms)


def _counted_with_page(scope: ScopeShape) -> bool:
    """Whether the page's statement also counts the matching rows (``count(*) OVER ()``).
    An own or team book's page reads every assigned customer anyway (to sort them), so the
    count over the same rows comes with it instead of a second statement redoing the work;
    a branch's page walks an index in the sort order and stops after the page, which a
    window over all the branch's rows would defeat, so its count stays a statement."""
    return scope.by_staff and not scope.by_branch


@functools.cache
def _page_statement(scope: ScopeShape, shape: _FilterShape, sort: BookSort) -> Select[Any]:
    """The rows of one page (``limit``, ``offset``): the page's ids are found first, then
    flags and the next due date are computed for those rows only."""
    cols = _columns()
    order = _order(sort, cols)
    if _held_book(scope, shape) and sort in KEPT_KEYS:
        held = _held(shape).subquery("held")
        ids = select(held.c.customer_id)
        ids_order = [_key(held.c, sort), held.c.customer_id.asc()]
    else:
        ids, ids_order = _matching(scope, shape, sort), order
    if _counted_with_page(scope):
        ids = ids.add_columns(func.count().over().label("total"))
    page_ids = (
        ids.order_by(*ids_order)
        .limit(bindparam("limit", type_=Integer))
        .offset(bindparam("offset", type_=Integer))
        .subquery("page")
    )
    total = [page_ids.c.total] if _counted_with_page(scope) else []
    stmt = (
        select(*_row_columns(cols), *total)
        .select_from(S)
        .join(page_ids, page_ids.c.customer_id == S.customer_id)
        .join(Customer, Customer.customer_id == S.customer_id)
        .where(S.run_no == _RUN)
    )
    return stmt.order_by(*order)


def _params(ctx: Context, f: BookFilter) -> tuple[ScopeShape, _FilterShape, dict[str, Any]]:
    run = ctx.current_run()
    scope, params = scope_params(ctx.viewer)
    shape, filter_params = _filter_params(ctx, f)
    params |= filter_params
    params |= {"run_no": run.no, "on": f.on or ctx.now.date()}
    return scope, shape, params


def count(ctx: Context, f: BookFilter) -> int:
    scope, shape, params = _params(ctx, f)
    return _count(ctx, scope, shape, params)


def _count(ctx: Context, scope: ScopeShape, shape: _FilterShape, params: dict[str, Any]) -> int:
    return int(ctx.db.connection().execute(_count_statement(scope, shape), params).scalar() or 0)


def _rows(
    ctx: Context, f: BookFilter, limit: int, offset: int
) -> tuple[ScopeShape, _FilterShape, dict[str, Any], Any]:
    """The page's rows, with the scope, filter shape and parameters they were read with."""
    scope, shape, params = _params(ctx, f)
    stmt = _page_statement(scope, shape, f.sort)
    rows = ctx.db.connection().execute(stmt, {**params, "limit": limit, "offset": offset})
    return scope, shape, params, rows.all()


def page(ctx: Context, f: BookFilter, limit: int, offset: int) -> dict[str, Any]:
    scope, shape, params, rows = _rows(ctx, f, limit, offset)
    if rows and _counted_with_page(scope):
        total = int(rows[0].total)
    else:  # a branch's or everyone's book, or a page past the end
        total = _count(ctx, scope, shape, params)
    return {"total": total, "limit": limit, "offset": offset, "items": [_row(r) for r in rows]}


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
    *_, rows = _rows(ctx, f, EXPORT_MAX, 0)
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
