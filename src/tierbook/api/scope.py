"""The one scope filter: which customers a viewer may see, as a SQLAlchemy where-clause.

Every list, count, detail and export of customers, and of records about customers (tasks,
contacts, alerts, complaints, invitations, referrals), filters through
:func:`customer_scope` or :func:`visible_customers`; the rule itself is
:func:`tierbook.domain.access.scope_of`. An out-of-scope record is simply not found (404).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, exists, false, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute

from tierbook.domain.access import Viewer, scope_of
from tierbook.store.models import Customer, Event, Staff, StaffAssignment, Task


def customer_scope(viewer: Viewer) -> ColumnElement[bool]:
    """Where-clause over ``Customer`` for the customers ``viewer`` may see."""
    f = scope_of(viewer)
    return _scope_clause(f.everything, f.branch_id, sorted(f.staff_ids) or None)


@dataclass(frozen=True)
class ScopeShape:
    """Which terms a viewer's scope clause has, without their values: statements built
    from :func:`bound_customer_scope` are made once per shape and run with
    :func:`scope_params`."""

    everything: bool = False
    by_branch: bool = False
    by_staff: bool = False


def scope_params(viewer: Viewer) -> tuple[ScopeShape, dict[str, Any]]:
    """The shape of ``viewer``'s scope and the values of its bound parameters."""
    f = scope_of(viewer)
    shape = ScopeShape(f.everything, f.branch_id is not None, bool(f.staff_ids))
    params: dict[str, Any] = {}
    if shape.by_branch:
        params["scope_branch"] = f.branch_id
    if shape.by_staff:
        params["scope_staff"] = sorted(f.staff_ids)
    return shape, params


SCOPE_STAFF = bindparam("scope_staff", expanding=True)
"""The staff ids of a scope, bound at execution (a list)."""


@functools.cache
def bound_customer_scope(shape: ScopeShape) -> ColumnElement[bool]:
    """:func:`customer_scope` with the branch and staff ids as bound parameters
    (``scope_branch``, ``scope_staff``): the same rule, the same SQL."""
    branch = bindparam("scope_branch") if shape.by_branch else None
    return _scope_clause(shape.everything, branch, SCOPE_STAFF if shape.by_staff else None)


def assigned_to(staff: Any) -> tuple[ColumnElement[bool], ...]:
    """The open assignments of ``staff`` (a list of staff ids or :data:`SCOPE_STAFF`)."""
    return (StaffAssignment.valid_to.is_(None), StaffAssignment.staff_id.in_(staff))


def _scope_clause(everything: bool, branch: Any, staff: Any) -> ColumnElement[bool]:
    """Every customer; else those of ``branch`` or assigned to one of ``staff`` (values or
    bound parameters; ``None``: no such term); neither: none."""
    if everything:
        return true()
    clauses: list[ColumnElement[bool]] = []
    if branch is not None:
        clauses.append(Customer.branch_id == branch)
    if staff is not None:
        clauses.append(
            exists().where(StaffAssignment.customer_id == Customer.customer_id, *assigned_to(staff))
        )
    return or_(*clauses) if clauses else false()


def visible_customers(viewer: Viewer) -> Select[tuple[str]]:
    """The ids of the customers ``viewer`` may see, as a sub-select."""
    return select(Customer.customer_id).where(customer_scope(viewer))


def about_visible_customer(
    viewer: Viewer, column: InstrumentedAttribute[str]
) -> ColumnElement[bool]:
    """Where-clause for a record about a customer (its ``customer_id`` column)."""
    if scope_of(viewer).everything:
        return true()
    return column.in_(visible_customers(viewer))


def staff_scope(viewer: Viewer) -> ColumnElement[bool]:
    """Staff a viewer may see: head office all; a branch manager the branch; a supervisor
    the team; anyone else themselves."""
    f = scope_of(viewer)
    if f.everything:
        return true()
    if f.branch_id is not None:
        return Staff.branch_id == f.branch_id
    if f.staff_ids:
        return Staff.staff_id.in_(sorted(f.staff_ids))
    return false()


def event_scope(viewer: Viewer) -> ColumnElement[bool]:
    """Events: head office sees all; others those of their branch and head-office events."""
    f = scope_of(viewer)
    if f.everything:
        return true()
    if f.is_empty:
        return false()
    if viewer.branch_id is None:
        return Event.branch_id.is_(None)
    return or_(Event.branch_id.is_(None), Event.branch_id == viewer.branch_id)


def task_scope(viewer: Viewer) -> ColumnElement[bool]:
    """Tasks about a visible customer, and branch-level tasks (no customer, e.g. posting the
    birthday list) of staff the viewer may see."""
    if scope_of(viewer).everything:
        return true()
    return or_(
        Task.customer_id.in_(visible_customers(viewer)),
        and_(
            Task.customer_id.is_(None),
            Task.staff_id.in_(select(Staff.staff_id).where(staff_scope(viewer))),
        ),
    )
