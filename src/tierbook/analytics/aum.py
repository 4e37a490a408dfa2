"""Whole-table AUM computations as Ibis expressions (engine-neutral).

The core output is ``account_bucket_sums_daily`` / ``_events``: per account and day bucket of
the review calendar (``tierbook.domain.periods``), the sum over the bucket's days of the
balance ("balance-days"); ``keyed_bucket_sums`` keys them by customer row and asset class for
the per-customer sums (``tierbook.batch.measures``). Every average of SPEC §3.1 is a ratio of
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
    without a date) fall in bucket -1 (whose day bits mean nothing), and ``n_ok`` counts
    the rows whose flag is false."""
    if row_flag is None:
        t = balances.filter(balances.date >= cal.start, balances.date <= cal.as_of)
        day = _day_number(t.date, cal)
        t = t.mutate(bucket=_bucket_of_day(day, cal), day_bit=_day_bit(day))
        extra: dict[str, Any] = {}
    else:
        # The day clamped to -1 .. n (n days in the window): one look-up in a table with a
        # -1 at each end gives the bucket, no test of the window per row.
        t = balances
        n = len(_day_table(cal))
        day = ibis.greatest(ibis.least(_day_number(t.date, cal), n), -1) + 1
        edged = ibis.literal([-1, *_day_table(cal), -1], type="array<int16>")
        t = t.mutate(bucket=edged[day].fill_null(-1), day_bit=_day_bit(day.fill_null(0)))
        extra = {"n_ok": t.count(where=~t[row_flag])}
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


def _day_table(cal: ReviewCalendar) -> list[int]:
    """The bucket of each day of the window, by day number."""
    return [i for i, b in enumerate(cal.buckets) for _ in range(b.days)]


def _bucket_of_day(day: ir.IntegerValue, cal: ReviewCalendar) -> ir.IntegerValue:
    """Bucket of the ``day``-th day of the window, by look-up in a constant array."""
    return ibis.literal(_day_table(cal), type="array<int16>")[day].cast("int16")


def duplicate_day_accounts(
    balances: ir.Table, accounts: ir.Table, customer_ids: list[str], cal: ReviewCalendar
) -> ir.Table:
    """Accounts of ``customer_ids`` with a day given twice (see ``account_bucket_sums_daily``)."""
    own = accounts.filter(accounts.customer_id.isin(customer_ids)).select("account_id")
    sums = account_bucket_sums_daily(balances.semi_join(own, "account_id"), cal)
    t = sums.filter(sums.day_or.cast("float64") != sums.day_sum)
    return t.select("account_id").distinct()


def account_bucket_sums_events(
    events: ir.Table, accounts: ir.Table, cal: ReviewCalendar, *, row_flag: str | None = None
) -> ir.Table:
    """Balance-days per account and bucket from balance-change events (time-weighted).

    Dates become day numbers of the window (``_day_number``): a segment is the days
    ``[s, e)``, clipped to each bucket it overlaps by integer arithmetic.

    ``row_flag`` names a boolean column true on rows not to be trusted (unvalidated input,
    ``Dataset.pending_scan``): then every row is scanned, each counted once (in the first
    bucket its segment overlaps, or in bucket -1 when it overlaps none: before the window,
    after the as-of date, without a date): ``n_ok`` counts the rows whose flag is false,
    ``repeated`` the rows whose next event of the account has the same date (a key given
    twice, found by the same window that ends the segments)."""
    stop_all = cal.as_of + timedelta(days=1)
    w = ibis.window(group_by=events.account_id, order_by=events.date)
    seg = events if row_flag is not None else events.filter(events.date <= cal.as_of)
    seg = seg.mutate(next_date=events.date.lead().over(w))
    closes = accounts.select(acc_id=accounts.account_id, close_date=accounts.close_date)
    seg = seg.left_join(closes, seg.account_id == closes.acc_id)
    stop = ibis.least(
        seg.next_date.fill_null(stop_all),
        seg.close_date.fill_null(stop_all),
        ibis.literal(stop_all),
    )
    extra = {}
    if row_flag is not None:
        extra = {"bad": seg[row_flag], "again": (seg.next_date == seg.date).fill_null(False)}
    seg = seg.select(
        "account_id", "balance", s=_day_number(seg.date, cal), e=_day_number(stop, cal), **extra
    )
    live = (seg.e > 0) & (seg.e > seg.s)
    if row_flag is None:
        seg = seg.filter(live)
    # One row per bucket the segment overlaps: unnest the range of bucket indices.
    first = _bucket_of_day(ibis.greatest(seg.s, 0), cal)
    last = _bucket_of_day(seg.e - 1, cal)
    if row_flag is not None:  # a segment overlapping no bucket: one row in bucket -1
        live = live.fill_null(False)
        first = ibis.ifelse(live, first, -1).cast("int16")
        last = ibis.ifelse(live, last, -1).cast("int16")
        seg = seg.mutate(live=live, first=first)
    seg = seg.mutate(bucket=ibis.range(first, last + 1).unnest())
    starts = ibis.literal([(b.start - cal.start).days for b in cal.buckets], type="array<int32>")
    stops = ibis.literal([(b.end - cal.start).days + 1 for b in cal.buckets], type="array<int32>")
    days = ibis.least(seg.e, stops[seg.bucket]) - ibis.greatest(seg.s, starts[seg.bucket])
    bd = seg.balance * days.cast("float64")
    if row_flag is None:
        seg = seg.mutate(bd=bd)
        return seg.group_by(["account_id", "bucket"]).aggregate(bd=seg.bd.sum())
    seg = seg.mutate(bd=ibis.ifelse(seg.live, bd, 0.0), once=seg.bucket == seg.first)
    return seg.group_by(["account_id", "bucket"]).aggregate(
        bd=seg.bd.sum(),
        n_ok=seg.count(where=seg.once & ~seg.bad),
        repeated=seg.count(where=seg.once & seg.again),
    )


def keyed_bucket_sums(account_sums: ir.Table, accounts: ir.Table, customers: ir.Table) -> ir.Table:
    """The account sums as narrow integer-keyed rows, one per account and bucket: ``row`` is
    the account's customer's position in ``customer_id`` order, ``klass`` the position of its
    product type in ``CLASSES`` (-1 for none). The caller sums them per customer (a second
    GROUP BY in the engine would cost more than the numpy sum) and applies the weights. With
    daily snapshots, ``duplicate_day`` is true on the account-buckets where a day appears
    twice; ``n_ok`` and ``repeated`` are kept when the account sums have them. Accounts of
    no known customer are left out."""
    ranked = customers.select("customer_id", row=ibis.row_number().over(order_by="customer_id"))
    acc = accounts.select("account_id", "customer_id", "product_type")
    acc = acc.join(ranked, "customer_id")
    klass = ibis.cases(*[(acc.product_type == c, k) for k, c in enumerate(CLASSES)], else_=-1)
    acc = acc.select("account_id", row=acc.row.cast("int32"), klass=klass.cast("int8"))
    j = account_sums.join(acc, "account_id")
    columns: dict[str, Any] = {"row": j.row, "bucket": j.bucket, "klass": j.klass, "bd": j.bd}
    if "day_or" in account_sums.columns:
        columns["duplicate_day"] = j.day_or.cast("float64") != j.day_sum
    for count in ("n_ok", "repeated"):
        if count in account_sums.columns:
            columns[count] = j[count]
    return j.select(**columns)


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
