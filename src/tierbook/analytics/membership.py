"""Membership analysis over the purchases table, as Ibis expressions (engine-neutral).

Months are indexed from the first month of the review window (0); months before the
window have negative indices, so a member's whole history up to the as-of date is seen.
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from tierbook.analytics.churn import month_index
from tierbook.domain.periods import ReviewCalendar


def _items(t: ir.Table) -> ir.IntegerValue:
    return t["items"].fill_null(1) if "items" in t.columns else ibis.literal(1)


def member_months(purchases: ir.Table, cal: ReviewCalendar) -> ir.Table:
    """Per customer and month up to the as-of date: sales, purchases and items."""
    t = purchases.filter(purchases.date <= cal.as_of)
    t = t.mutate(month=month_index(t.date, cal), n_items=_items(t))
    return t.group_by(["customer_id", "month"]).aggregate(
        sales=t.amount.sum(), purchases=t.count(), items=t.n_items.sum()
    )


def category_months(purchases: ir.Table, cal: ReviewCalendar) -> ir.Table:
    """Per month of the window and category: sales, purchases and items."""
    first = cal.month_ends[cal.review_months[0]]
    t = purchases.filter(
        (purchases.date >= date(first.year, first.month, 1)) & (purchases.date <= cal.as_of)
    )
    category = t["category"].fill_null("未分类") if "category" in t.columns else "未分类"
    t = t.mutate(month=month_index(t.date, cal), category=category, n_items=_items(t))
    return t.group_by(["month", "category"]).aggregate(
        sales=t.amount.sum(), purchases=t.count(), items=t.n_items.sum()
    )


def purchase_rows(purchases: ir.Table, as_of: date) -> ir.Table:
    """Every purchase to the as-of date with the fields the purchase types read."""
    t = purchases.filter(purchases.date <= as_of)
    cols = set(t.columns)
    return t.select(
        "customer_id",
        "date",
        "amount",
        items=_items(t),
        discounted=(t["discount"].fill_null(0) > 0) if "discount" in cols else False,
        new_arrival=t["new_arrival"].fill_null(False) if "new_arrival" in cols else False,
    ).order_by(["customer_id", "date"])
