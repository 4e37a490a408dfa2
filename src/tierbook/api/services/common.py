"""Look-ups every service shares: a customer within scope, the ladders of the rulebook."""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, bindparam, select

from tierbook.api.deps import Context
from tierbook.api.errors import NotFound
from tierbook.api.scope import (
    ScopeShape,
    about_visible_customer,
    bound_customer_scope,
    scope_params,
)
from tierbook.rules.models import Rulebook
from tierbook.store.frames import band_ladder_id, tier_ladder_id
from tierbook.store.models import Customer

__all__ = ["band_ladder_id", "level_names", "tier_ladder_id", "visible_customer", "visible_record"]


def visible_clause(shape: ScopeShape) -> ColumnElement[bool]:
    """The customer of the bound ``customer_id``, if a viewer of ``shape`` may see it."""
    return and_(Customer.customer_id == bindparam("customer_id"), bound_customer_scope(shape))


def no_customer(customer_id: str) -> NotFound:
    """The 404 of a customer out of scope, exactly as if it did not exist."""
    return NotFound(f"no customer {customer_id}")


@functools.cache
def _visible_customer(shape: ScopeShape) -> Select[tuple[Customer]]:
    return select(Customer).where(visible_clause(shape))


def visible_customer(ctx: Context, customer_id: str) -> Customer:
    """The customer if the caller may see it; otherwise 404, exactly as if it did not exist."""
    shape, params = scope_params(ctx.viewer)
    found = ctx.db.scalar(_visible_customer(shape), {"customer_id": customer_id, **params})
    if found is None:
        raise no_customer(customer_id)
    return found


R = TypeVar("R")


def visible_record(ctx: Context, model: type[R], record_id: int, what: str) -> R:
    """A record about a customer (a ``customer_id`` column) by id, if the customer is in
    the caller's scope; otherwise 404."""
    m: Any = model
    found = ctx.db.scalar(
        select(m).where(m.id == record_id, about_visible_customer(ctx.viewer, m.customer_id))
    )
    if found is None:
        raise NotFound(f"no {what} {record_id}")
    return found  # type: ignore[no-any-return]


def level_names(rb: Rulebook, ladder_id: str) -> tuple[str, ...]:
    return rb.ladder(ladder_id).level_names()
