"""Whole-table AUM computations as Ibis expressions (engine-neutral).

The core output is ``bucket_sums``: per customer and day bucket of the review calendar
(``tierbook.domain.periods``), the sum over the bucket's days of each asset class's balance
("balance-days") and of the weighted balance. Every average of SPEC §3.1 is a ratio of
such sums to calendar days, so one scan of the balances serves all periods and ladders.

From daily snapshots the sum is a plain group-by. From change events it is time-weighted:
each event's balance holds from its date until the next event of the account (or the
account's close date, or the day after the as-of date); the segment is clipped to each
bucket it overlaps — no expansion to one row per day.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir

from tierbook.domain.periods import ReviewCalendar
from tierbook.rules.models import AssetClass

CLASSES: tuple[str, ...] = tuple(c.value for c in AssetClass)


def bucket_index(d: ir.DateValue, cal: ReviewCalendar) -> ir.IntegerValue:
    """The bucket a date falls in (callers filter the date to the window first)."""
    bounds = cal.boundaries()[1:-1]
    if not bounds:
        return ibis.literal(0)
    return ibis.cases(*[(d < b, i) for i, b in enumerate(bounds)], else_=len(bounds))


def account_bucket_sums_daily(
    balances: ir.Table, cal: ReviewCalendar, *, row_flag: str | None = None
) -> ir.Table:
    """Balance-days per account and bucket from daily end-of-day balances.

    Also ``day_or`` and ``day_sum``: the OR and the SUM of ``2 ** (day of the window mod
    31)`` over the bucket's rows (a bucket is at most 31 days). They differ exactly when a
    day appears twice: a duplicate key found in the same scan, with no extra pass. The sum
    is taken in float64, exact below 2**53.

    ``row_flag`` names a boolean column true on rows not to be trusted (unvalidated input,
    ``Dataset.pending_scan``): then every row is scanned, rows outside the window (or
    without a date) fall in bucket -1 with no day bit, and ``n_ok`` counts the rows whose
    flag is false."""
    if row_flag is None:
        t = balances.filter(balances.date >= cal.start, balances.date <= cal.as_of)
        day = _day_number(t.date, cal)
        t = t.mutate(bucket=_bucket_of_day(day, cal), day_bit=_day_bit(day))
        extra: dict[str, Any] = {}
    else:
        t = balances
        inside = (t.date >= cal.start) & (t.date <= cal.as_of)
        day = _day_number(t.date, cal)
        t = t.mutate(
            bucket=ibis.ifelse(inside, _bucket_of_day(day, cal), -1).fill_null(-1).cast("int16"),
            day_bit=ibis.ifelse(inside, _day_bit(day), 0).fill_null(0),
        )
        extra = {"n_ok": (~t[row_flag]).sum().cast("int64")}
    return t.group_by(["account_id", "bucket"]).aggregate(
        bd=t.balance.sum(),
        day_or=bit_or(t.day_bit),
        day_sum=t.day_bit.cast("float64").sum(),
        **extra,
    )


def _day_number(date: ir.DateValue, cal: ReviewCalendar) -> ir.IntegerValue:
    return date.delta(ibis.literal(cal.start), unit="day").cast("int32")  # Spark: INT index


def _day_bit(day: ir.IntegerValue) -> ir.IntegerValue:
    # Bits 0..30: a bucket's (at most 31) consecutive days differ mod 31, and the bit fits
    # the plain INTEGER that ``1 << n`` is on every engine (PostgreSQL has no int << bigint).
    return ibis.literal(1) << (day % 31)


@ibis.udf.agg.builtin(name="bit_or")
def bit_or(x: int) -> int:
    """The engine's own ``bit_or`` aggregate (DuckDB, PostgreSQL and Spark SQL all have one;
    Ibis 12 compiles ``.bit_or()`` for the first two only)."""


def _bucket_of_day(day: ir.IntegerValue, cal: ReviewCalendar) -> ir.IntegerValue:
    """Bucket of the ``day``-th day of the window, by look-up in a constant array."""
    table = [i for i, b in enumerate(cal.buckets) for _ in range(b.days)]
    return ibis.literal(table, type="array<int16>")[day].cast("int16")


def duplicate_day_accounts(
    balances: ir.Table, accounts: ir.Table, customer_ids: list[str], cal: ReviewCalendar
) -> ir.Table:
    """Accounts of ``customer_ids`` with a day given twice (see ``account_bucket_sums_daily``)."""
    own = accounts.filter(accounts.customer_id.isin(customer_ids)).select("account_id")
    sums = account_bucket_sums_daily(balances.semi_join(own, "account_id"), cal)
    t = sums.filter(sums.day_or.cast("float64") != sums.day_sum)
    return t.select("account_id").distinct()


def account_bucket_sums_events(
    events: ir.Table, accounts: ir.Table, cal: ReviewCalendar
) -> ir.Table:
    """Balance-days per account and bucket from balance-change events (time-weighted)."""
    stop_all = cal.as_of + timedelta(days=1)
    w = ibis.window(group_by=events.account_id, order_by=events.date)
    seg = events.filter(events.date <= cal.as_of).mutate(next_date=events.date.lead().over(w))
    closes = accounts.select(acc_id=accounts.account_id, close_date=accounts.close_date)
    seg = seg.left_join(closes, seg.account_id == closes.acc_id)
    stop = ibis.least(
        seg.next_date.fill_null(stop_all),
        seg.close_date.fill_null(stop_all),
        ibis.literal(stop_all),
    )
    seg = seg.select("account_id", "balance", seg_start=seg.date, seg_stop=stop)
    seg = seg.filter(seg.seg_stop > cal.start, seg.seg_stop > seg.seg_start)
    # One row per bucket the segment overlaps: unnest the range of bucket indices.
    first = bucket_index(ibis.greatest(seg.seg_start, ibis.literal(cal.start)), cal)
    last = bucket_index(seg.seg_stop - ibis.interval(days=1), cal)
    seg = seg.mutate(bucket=ibis.range(first, last + 1).unnest())
    starts = ibis.literal([b.start for b in cal.buckets], type="array<date>")
    stops = ibis.literal([b.end + timedelta(days=1) for b in cal.buckets], type="array<date>")
    lo = ibis.greatest(seg.seg_start, starts[seg.bucket])
    hi = ibis.least(seg.seg_stop, stops[seg.bucket])
    seg = seg.mutate(bd=seg.balance * hi.delta(lo, unit="day").cast("float64"))
    return seg.group_by(["account_id", "bucket"]).aggregate(bd=seg.bd.sum())


def customer_bucket_sums(
    account_sums: ir.Table, accounts: ir.Table, customers: ir.Table
) -> ir.Table:
    """Per customer, bucket and asset class: balance-days, as narrow integer-keyed rows —
    ``row`` is the customer's position in ``customer_id`` order, ``klass`` the position of
    its product type in ``CLASSES``. Weights are applied by the caller. With daily
    snapshots, ``duplicate_days`` counts the account-buckets where a day appears twice;
    ``n_ok`` (when the account sums have it) sums the rows passing, of known accounts."""
    ranked = customers.select("customer_id", row=ibis.row_number().over(order_by="customer_id"))
    acc = accounts.select("account_id", "customer_id", "product_type")
    acc = acc.join(ranked, "customer_id").select("account_id", "row", "product_type")
    j = account_sums.join(acc, "account_id")
    klass = ibis.cases(*[(j.product_type == c, k) for k, c in enumerate(CLASSES)], else_=-1)
    metrics: dict[str, Any] = {"bd": j.bd.sum()}
    if "day_or" in account_sums.columns:
        metrics["duplicate_days"] = (j.day_or.cast("float64") != j.day_sum).sum().cast("int64")
    if "n_ok" in account_sums.columns:
        metrics["n_ok"] = j.n_ok.sum()
    return j.group_by(
        [j.row.cast("int32").name("row"), "bucket", klass.cast("int8").name("klass")]
    ).aggregate(**metrics)


def balances_at(table: ir.Table, accounts: ir.Table, as_of: date, form: str) -> ir.Table:
    """Each account's balance at the end of ``as_of`` (0 rows for accounts without one)."""
    if form == "daily":
        t = table.filter(table.date == as_of)
        return t.select("account_id", "balance")
    t = table.filter(table.date <= as_of)
    last = t.group_by("account_id").aggregate(last_date=t.date.max())
    j = t.join(last, [t.account_id == last.account_id, t.date == last.last_date])
    j = j.select(account_id=t.account_id, balance=t.balance)
    closes = accounts.select(acc_id=accounts.account_id, close_date=accounts.close_date)
    j = j.left_join(closes, j.account_id == closes.acc_id)
    closed = j.close_date.notnull() & (j.close_date <= as_of)
    return j.select("account_id", balance=ibis.ifelse(closed, 0.0, j.balance))


def daily_flows(
    transactions: ir.Table, accounts: ir.Table, as_of: date, lookback_days: int
) -> ir.Table:
    """Per customer and day within the lookback: inflow and outflow, transfers between the
    customer's own accounts excluded."""
    first = as_of - timedelta(days=lookback_days - 1)
    t = transactions.filter(
        transactions.date >= first,
        transactions.date <= as_of,
        transactions.counterparty_type != "own",
    )
    acc = accounts.select("account_id", "customer_id", "product_type")
    j = t.join(acc, "account_id").filter(lambda r: r.product_type != "loan")
    return j.group_by(["customer_id", "date"]).aggregate(
        inflow=j.amount.sum(where=j.direction == "in").fill_null(0.0),
        outflow=j.amount.sum(where=j.direction == "out").fill_null(0.0),
    )
