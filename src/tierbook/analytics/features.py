"""Whole-table customer features for the value score and the fake-big detectors, as Ibis
expressions (engine-neutral). The window is ``start`` … ``as_of`` (twelve months); days are
counted as integers from ``start``.

- ``income_totals``: net interest, fees and concessions over the window's months;
- ``activity``: number and turnover of transactions with other parties (own transfers and
  loan accounts excluded);
- ``holdings``: the product types each customer holds at the as-of date;
- ``customer_keys``: an integer key per account holder (the customer × day steps group by
  it: DuckDB spills a hash aggregate of fixed-width keys under its ``memory_limit``, but ran
  out of memory grouping 70M customer-days by a text ``customer_id`` at 200k customers);
- ``customer_levels``: each customer's weighted AUM as runs of days at one level
  (``cust``, ``day``, ``length``, ``level``), from daily snapshots or from change events;
- ``balance_shape``: 年日均, the average over the days since the first balance of the
  window (``held_avg``: a customer who joined in the window is not compared with days
  before it joined), the balances on the first and the last day, peak, balance on
  measurement dates and days held at (0 when the peak reaches no tier above the first)
  or above the tier threshold the peak reaches;
- ``period_flows``: inflow in the days up to and outflow in the days after the measurement
  date with the largest round trip.
"""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import ibis.expr.types as ir

from tierbook.analytics.aum import CLASSES


def income_totals(income: ir.Table, months: list[str]) -> ir.Table:
    t = income.filter(income.month.isin(months))
    gross = t.net_interest + t.fees
    conc = t.fee_waivers + t.rate_premium
    return t.group_by("customer_id").aggregate(
        net_interest=t.net_interest.sum(),
        fees=t.fees.sum(),
        fee_waivers=t.fee_waivers.sum(),
        rate_premium=t.rate_premium.sum(),
        months_peeled=(conc > gross).sum().cast("int64"),
    )


def _counterparty_txns(
    transactions: ir.Table, accounts: ir.Table, first: date, last: date
) -> ir.Table:
    t = transactions.filter(
        transactions.date >= first,
        transactions.date <= last,
        transactions.counterparty_type != "own",
    )
    acc = accounts.filter(accounts.product_type != "loan").select("account_id", "customer_id")
    return t.join(acc, "account_id")


def activity(transactions: ir.Table, accounts: ir.Table, start: date, as_of: date) -> ir.Table:
    j = _counterparty_txns(transactions, accounts, start, as_of)
    return j.group_by("customer_id").aggregate(
        txn_count=j.count().cast("int64"), volume=j.amount.sum()
    )


def holdings(accounts: ir.Table, as_of: date) -> ir.Table:
    a = accounts.filter(
        accounts.open_date <= as_of, accounts.close_date.isnull() | (accounts.close_date > as_of)
    )
    return a.select("customer_id", "product_type").distinct()


def _weight(product_type: ir.StringValue, weights: dict[str, float]) -> ir.FloatingValue:
    return ibis.cases(
        *[(product_type == c, float(weights.get(c, 0.0))) for c in CLASSES], else_=0.0
    )


def account_range(accounts: ir.Table) -> tuple[str, str] | None:
    """The lowest and highest ``account_id`` of ``accounts`` (None when it has none): with
    the accounts of a block of customers, a range that keeps every balance row of theirs
    (for ``customer_levels``)."""
    row = accounts.aggregate(lo=accounts.account_id.min(), hi=accounts.account_id.max())
    found = row.to_pyarrow().to_pylist()[0]
    return None if found["lo"] is None else (found["lo"], found["hi"])


def customer_keys(accounts: ir.Table) -> ir.Table:
    """``customer_id`` and ``cust``, a dense integer key (0, 1, … in ``customer_id`` order)
    for every customer holding an account."""
    c = accounts.select("customer_id").distinct()
    return c.mutate(cust=ibis.dense_rank().over(order_by=c.customer_id).cast("int64"))


def customer_levels(
    balances: ir.Table,
    accounts: ir.Table,
    form: str,
    start: date,
    as_of: date,
    weights: dict[str, float],
    keys: ir.Table,
    account_range: tuple[str, str] | None = None,
) -> ir.Table:
    """Runs of days (``day`` from ``start``, ``length``) at one weighted AUM ``level`` per
    customer ``cust`` (the key of ``keys``, from ``customer_keys``). ``account_range``: the
    lowest and highest ``account_id`` of those customers' accounts, also asked of the
    balances (it keeps the same rows: the join keeps only those accounts), so that an engine
    reading files skips the row groups whose account ids lie outside it."""
    acc = accounts.select(
        "account_id", "customer_id", "close_date", w=_weight(accounts.product_type, weights)
    ).filter(lambda a: a.w > 0)
    acc = acc.join(keys, "customer_id").select("account_id", "cust", "close_date", "w")
    if account_range is not None:
        balances = balances.filter(balances.account_id.between(*account_range))
    if form == "daily":
        t = balances.filter(balances.date >= start, balances.date <= as_of)
        j = t.join(acc, "account_id")
        g = j.group_by(["cust", "date"]).aggregate(level=(j.balance * j.w).sum())
        day = g.date.delta(ibis.literal(start), unit="day").cast("int64")
        return g.select("cust", day=day, length=ibis.literal(1, "int64"), level=g.level)
    stop_all = as_of + timedelta(days=1)
    w = ibis.window(group_by=balances.account_id, order_by=balances.date)
    seg = balances.filter(balances.date <= as_of).mutate(next_date=balances.date.lead().over(w))
    seg = seg.join(acc, "account_id")
    stop = ibis.least(
        seg.next_date.fill_null(stop_all),
        seg.close_date.fill_null(stop_all),
        ibis.literal(stop_all),
    )
    lo = ibis.greatest(seg.date, ibis.literal(start)).delta(ibis.literal(start), unit="day")
    hi = stop.delta(ibis.literal(start), unit="day")
    seg = seg.select("cust", lo=lo.cast("int64"), hi=hi.cast("int64"), v=seg.balance * seg.w)
    seg = seg.filter(seg.hi > seg.lo)
    deltas = seg.select("cust", day=seg.lo, d=seg.v).union(seg.select("cust", day=seg.hi, d=-seg.v))
    g = deltas.group_by(["cust", "day"]).aggregate(d=deltas.d.sum())
    cw = ibis.window(group_by=g.cust, order_by=g.day)
    g = g.mutate(level=g.d.cumsum().over(cw), next_day=g.day.lead().over(cw))
    g = g.filter(g.next_day.notnull())
    return g.select("cust", "day", length=g.next_day - g.day, level=g.level)


def _reached(value: ir.FloatingValue, thresholds: tuple[float, ...]) -> ir.FloatingValue:
    ordered = sorted(thresholds, reverse=True)
    return ibis.cases(*[(value >= t, float(t)) for t in ordered], else_=0.0)


def _on_measurement_date(
    lv: ir.Table, days: list[int], single_days: bool
) -> tuple[ir.BooleanValue, ir.IntegerValue]:
    """Whether a run covers a measurement date, and the first one it covers."""
    if not days:
        return ibis.literal(False), ibis.null("int64")
    if single_days:
        return lv.day.isin(days), lv.day
    covers = [(lv.day <= m) & (lv.day + lv.length > m) for m in days]
    return ibis.or_(*covers), ibis.cases(*[(c, m) for c, m in zip(covers, days, strict=True)])


def balance_shape(
    levels: ir.Table,
    keys: ir.Table,
    window_days: int,
    as_of_day: int,
    measurement_days: list[int],
    thresholds: tuple[float, ...],
    *,
    single_days: bool = False,
) -> ir.Table:
    """One row per customer with AUM in the window (see the module docstring). Two passes
    over ``levels`` (from ``customer_levels`` with ``keys``): one for the sums and the peak,
    one for the days above its threshold and for the first day at the peak and at the
    highest measurement-date balance (the earliest of tied days, so a rerun reports the
    same day); ``customer_id`` is joined on at the end.
    ``single_days``: every run is one day long (daily snapshots), so a run is on a
    measurement date when its day is one — a cheaper test than the overlap."""
    lv = levels
    on_date, _ = _on_measurement_date(lv, measurement_days, single_days)
    stats = lv.group_by("cust").aggregate(
        bal_days=(lv.level * lv.length).sum(),
        peak=lv.level.max(),
        first_day=lv.day.min(where=lv.level > 0),
        end_balance=lv.level.max(where=(lv.day <= as_of_day) & (lv.day + lv.length > as_of_day)),
        start_balance=lv.level.max(where=(lv.day <= 0) & (lv.day + lv.length > 0)),
        period_end_max=lv.level.max(where=on_date),
    )
    held_days = (window_days - stats.first_day.fill_null(0)).cast("float64")
    stats = stats.mutate(year_avg=stats.bal_days / window_days, held_avg=stats.bal_days / held_days)
    stats = stats.mutate(
        peak_threshold=_reached(stats.peak, thresholds),
        avg_threshold=_reached(stats.year_avg, thresholds),
    )
    j = lv.join(stats.select("cust", "peak", "period_end_max", "peak_threshold"), "cust")
    high = (j.level >= j.peak_threshold) & (j.peak_threshold > 0)
    j_on_date, j_first_date = _on_measurement_date(j, measurement_days, single_days)
    if single_days:
        dressed = ibis.ifelse(j.day.isin(measurement_days) & high, 1, 0)
    else:
        dressed = sum(
            (
                ibis.ifelse((j.day <= m) & (j.day + j.length > m) & high, 1, 0)
                for m in measurement_days
            ),
            j.length * 0,
        )
    above = j.group_by("cust").aggregate(
        days_above=j.length.sum(where=high).fill_null(0),
        dressed_dates=dressed.sum(),
        peak_day=j.day.min(where=j.level == j.peak),  # the first day at the peak
        period_end_day=j_first_date.min(where=j_on_date & (j.level == j.period_end_max)),
    )
    out = stats.left_join(above, "cust").join(keys, "cust")
    return out.select(
        "customer_id",
        "year_avg",
        "held_avg",
        "peak",
        "peak_day",
        out.end_balance.fill_null(0.0).name("end_balance"),
        out.start_balance.fill_null(0.0).name("start_balance"),
        out.period_end_max.fill_null(0.0).name("period_end_max"),
        "period_end_day",
        "peak_threshold",
        "avg_threshold",
        out.days_above.fill_null(0).name("days_above"),
        out.dressed_dates.fill_null(0).name("dressed_dates"),
    )


def period_flows(
    transactions: ir.Table,
    accounts: ir.Table,
    start: date,
    as_of: date,
    measurement_days: list[int],
    days_before: int,
    days_after: int,
) -> ir.Table:
    """Per customer: the measurement date with the largest round trip (least of inflow in
    the ``days_before`` days up to it and outflow in the ``days_after`` days after it)."""
    j = _counterparty_txns(transactions, accounts, start, as_of + timedelta(days=days_after))
    j = j.mutate(day=j.date.delta(ibis.literal(start), unit="day").cast("int64"))
    dates = ibis.memtable({"m_day": [int(d) for d in measurement_days]})
    x = j.join(dates, (j.day > dates.m_day - days_before) & (j.day <= dates.m_day + days_after))
    g = x.group_by(["customer_id", "m_day"]).aggregate(
        inflow_before=x.amount.sum(where=(x.direction == "in") & (x.day <= x.m_day)),
        outflow_after=x.amount.sum(where=(x.direction == "out") & (x.day > x.m_day)),
    )
    g = g.mutate(
        inflow_before=g.inflow_before.fill_null(0.0), outflow_after=g.outflow_after.fill_null(0.0)
    )
    g = g.mutate(round_trip=ibis.least(g.inflow_before, g.outflow_after))
    w = ibis.window(group_by=g.customer_id, order_by=[ibis.desc(g.round_trip), g.m_day])
    g = g.mutate(rank=ibis.row_number().over(w))
    g = g.filter(g.rank == 0)
    return g.select(
        "customer_id",
        flow_day=g.m_day,
        inflow_before=g.inflow_before,
        outflow_after=g.outflow_after,
    )
