"""Whole-table features of churn and segmentation, as Ibis expressions (engine-neutral).

Money flows per customer, review month, counterparty type and direction; accounts opened
and closed per customer and month; distinct product types held. Month ``m`` is the index
of the calendar month in the review calendar's window (0 = the oldest month).
"""

from __future__ import annotations

from datetime import date

import ibis
import ibis.expr.types as ir

from tierbook.analytics.aum import codes, customer_rows
from tierbook.domain.periods import ReviewCalendar
from tierbook.ingest.contract import COUNTERPARTY_TYPES, DIRECTIONS


def month_index(d: ir.DateValue, cal: ReviewCalendar) -> ir.IntegerValue:
    """Index of ``d``'s calendar month in the window of ``cal``."""
    first = cal.month_ends[0]
    return (d.year() - first.year) * 12 + (d.month() - first.month)


def _window(d: ir.DateValue, cal: ReviewCalendar) -> ir.BooleanValue:
    first = cal.month_ends[0]
    return (d >= date(first.year, first.month, 1)) & (d <= cal.as_of)


def monthly_flows(
    transactions: ir.Table,
    accounts: ir.Table,
    customers: ir.Table,
    cal: ReviewCalendar,
    rows: ir.Table | None = None,
) -> ir.Table:
    """Per customer, month, counterparty type and direction: amount and count — keyed by
    integers (``row`` of ``customer_rows``; ``cp`` and ``di`` the positions in
    ``COUNTERPARTY_TYPES`` and ``DIRECTIONS``), which group in far less memory than text.
    ``rows``: a table of the ``row`` values wanted (the others' transactions are neither
    joined nor grouped)."""
    t = transactions.filter(_window(transactions.date, cal))
    a = accounts.select("account_id", "customer_id").join(customer_rows(customers), "customer_id")
    if rows is not None:
        a = a.join(rows, "row")
    j = t.join(a.select("account_id", "row"), "account_id")
    j = j.mutate(
        month=month_index(j.date, cal).cast("int16"),
        cp=codes(j.counterparty_type, COUNTERPARTY_TYPES),
        di=codes(j.direction, DIRECTIONS),
    )
    return j.group_by(["row", "month", "cp", "di"]).aggregate(
        amount=j.amount.sum(), count=ibis._.count()
    )


def monthly_account_events(accounts: ir.Table, cal: ReviewCalendar) -> ir.Table:
    """Per customer and month: AUM accounts opened and closed in the window."""
    a = accounts.filter(accounts.product_type != "loan")
    opened = a.filter(_window(a.open_date, cal)).mutate(
        month=month_index(a.open_date, cal), opened=1, closed=0
    )
    closed = a.filter(a.close_date.notnull() & _window(a.close_date, cal)).mutate(
        month=month_index(a.close_date, cal), opened=0, closed=1
    )
    cols = ["customer_id", "month", "opened", "closed"]
    u = opened.select(cols).union(closed.select(cols))
    return u.group_by(["customer_id", "month"]).aggregate(
        opened=u.opened.sum(), closed=u.closed.sum()
    )


def open_aum_accounts(accounts: ir.Table, as_of: date) -> ir.Table:
    """Per customer: AUM accounts open at ``as_of`` and AUM accounts ever held by then."""
    a = accounts.filter((accounts.product_type != "loan") & (accounts.open_date <= as_of))
    is_open = a.close_date.isnull() | (a.close_date > as_of)
    return a.group_by("customer_id").aggregate(
        open_accounts=ibis.ifelse(is_open, 1, 0).sum(), accounts=ibis._.count()
    )


def products_held(accounts: ir.Table, as_of: date, start: date) -> ir.Table:
    """Per customer: distinct product types held at some time in [start, as_of]."""
    a = accounts.filter(
        (accounts.open_date <= as_of)
        & (accounts.close_date.isnull() | (accounts.close_date >= start))
    )
    return a.group_by("customer_id").aggregate(products=a.product_type.nunique())


def contribution(income: ir.Table, first: date, last: date) -> ir.Table:
    """Per customer: net interest + fees − concessions over the months ``first``..``last``."""
    lo, hi = f"{first.year:04d}-{first.month:02d}", f"{last.year:04d}-{last.month:02d}"
    t = income.filter((income.month >= lo) & (income.month <= hi))
    net = t.net_interest + t.fees - t.fee_waivers - t.rate_premium
    return t.group_by("customer_id").aggregate(contribution=net.sum())
