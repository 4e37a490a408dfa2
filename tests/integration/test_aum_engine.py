"""年日均 on DuckDB: daily snapshots and change events give the averages a day-by-day
recomputation in plain Python gives."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierbook.analytics import aum
from tierbook.analytics.backends.duckdb import connect
from tierbook.batch.measures import BucketSums, period_average
from tierbook.domain.periods import review_calendar

AS_OF = date(2025, 12, 31)
WEIGHTS = {"demand_deposit": 1.0, "time_deposit": 1.0, "fund": 0.5, "wealth_management": 0.5}


@pytest.fixture(scope="module")
def con():
    return connect(threads=1)


@st.composite
def books(draw):
    """Accounts with piecewise-constant balances, opened/closed at random days of 2025."""
    n_acc = draw(st.integers(1, 5))
    accounts, paths = [], {}
    for k in range(n_acc):
        cust = f"C{draw(st.integers(0, 2))}"
        ptype = draw(st.sampled_from([*sorted(WEIGHTS), "loan"]))
        open_day = draw(st.integers(-40, 300))
        life = draw(st.integers(1, 500))
        changes = sorted(set(draw(st.lists(st.integers(0, life - 1), max_size=6))) | {0})
        amounts = [draw(st.integers(0, 2_000_000)) / 100 for _ in changes]
        start = date(2025, 1, 1) + timedelta(days=open_day)
        close = start + timedelta(days=life)
        aid = f"A{k}"
        accounts.append((aid, cust, ptype, start, close if close <= AS_OF else None))
        paths[aid] = [(start + timedelta(days=c), a) for c, a in zip(changes, amounts, strict=True)]
    return accounts, paths


def _frames(accounts, paths):
    acc = pd.DataFrame(
        accounts, columns=["account_id", "customer_id", "product_type", "open_date", "close_date"]
    )
    daily, events = [], []
    for aid, _cust, _p, start, close in accounts:
        stop = close or AS_OF + timedelta(days=1)
        events.extend((aid, d, a) for d, a in paths[aid])
        if close:
            events.append((aid, close, 0.0))
        pts = paths[aid]
        d = start
        while d < stop and d <= AS_OF:
            bal = [a for (dd, a) in pts if dd <= d][-1]
            daily.append((aid, d, bal))
            d += timedelta(days=1)
    cols = ["account_id", "date", "balance"]
    return acc, pd.DataFrame(daily, columns=cols), pd.DataFrame(events, columns=cols)


def _reference(accounts, daily: pd.DataFrame, start: date, end: date) -> dict[str, float]:
    """Plain Python: Σ over calendar days of Σ weight × balance, ÷ calendar days."""
    owner = {a[0]: (a[1], WEIGHTS.get(a[2], 0.0)) for a in accounts}
    totals: dict[str, float] = {}
    for row in daily.itertuples():
        if start <= row.date <= end:
            cust, w = owner[row.account_id]
            totals[cust] = totals.get(cust, 0.0) + w * row.balance
    days = (end - start).days + 1
    return {c: v / days for c, v in totals.items()}


def _engine(con, acc, table, form, cal, customers, row_flag=None):
    accounts = ibis.memtable(acc).cast({"open_date": "date", "close_date": "date"})
    t = (
        ibis.memtable(table).cast({"date": "date"})
        if len(table)
        else ibis.memtable({"account_id": ["x"], "date": [AS_OF], "balance": [0.0]}).filter(
            ibis._.balance < 0
        )
    )
    if row_flag is not None:  # every row trusted: the scan that also counts the good rows
        t = t.mutate(**{row_flag: ibis.literal(False)})
    if form == "daily":
        sums = aum.account_bucket_sums_daily(t, cal, row_flag=row_flag)
    else:
        sums = aum.account_bucket_sums_events(t, accounts, cal)
    customer_table = ibis.memtable({"customer_id": customers})
    expr = aum.keyed_bucket_sums(sums, accounts, customer_table)
    out = BucketSums(len(customers), len(cal.buckets), WEIGHTS)
    out.add(con.to_pyarrow(expr), pd.Index(customers))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_daily_and_event_forms_give_the_day_by_day_averages(con, book) -> None:
    accounts, paths = book
    acc, daily, events = _frames(accounts, paths)
    cal = review_calendar(AS_OF, 12)
    customers = ["C0", "C1", "C2"]
    by_form = {
        f: _engine(con, acc, t, f, cal, customers)
        for f, t in (("daily", daily), ("events", events))
    }
    for m in cal.review_months:
        end = cal.month_ends[m]
        ref = _reference(accounts, daily, date(end.year, end.month, 1), end)
        expected = np.array([ref.get(c, 0.0) for c in customers])
        for sums in by_form.values():
            got = period_average(sums.weighted, cal, "month", m)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-6)
    ref_year = _reference(accounts, daily, date(2025, 1, 1), AS_OF)
    for sums in by_form.values():
        got = period_average(sums.weighted, cal, "year")
        np.testing.assert_allclose(got, [ref_year.get(c, 0.0) for c in customers], atol=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books(), st.lists(st.integers(0, 2), unique=True), st.lists(st.integers(0, 6), unique=True))
def test_class_sums_per_month_are_the_plain_sums_for_any_rows_and_classes(
    con, book, rows: list[int], classes: list[int]
) -> None:
    """Balance-days per customer, month and asset class equal a plain sum over the daily
    rows, whichever customers (``rows``) and classes are asked for, in their order."""
    accounts, paths = book
    acc, daily, events = _frames(accounts, paths)
    cal = review_calendar(AS_OF, 12)
    customers = ["C0", "C1", "C2"]
    owner = {a[0]: (customers.index(a[1]), aum.CLASSES.index(a[2])) for a in accounts}
    want = np.zeros((3, 12, len(aum.CLASSES)))
    for row in daily.itertuples():
        if row.date.year == 2025:
            c, k = owner[row.account_id]
            want[c, row.date.month - 1, k] += row.balance
    groups = [list(cal.period_buckets("month", m)) for m in cal.review_months]
    for form, table in (("daily", daily), ("events", events)):
        sums = _engine(con, acc, table, form, cal, customers)
        got = sums.grouped_class_sums(groups, np.asarray(rows, dtype=int), classes)
        np.testing.assert_allclose(got, want[rows][:, :, classes], rtol=1e-12, atol=1e-6)
        whole = sums.grouped_class_sums(groups)
        np.testing.assert_array_equal(got, whole[rows][:, :, classes])


def test_overlapping_groups_of_buckets_are_refused() -> None:
    sums = BucketSums(1, 3, WEIGHTS)
    with pytest.raises(ValueError, match="overlap"):
        sums.grouped_class_sums([[0, 1], [1, 2]])


MID_MONTH = date(2025, 6, 15)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_a_mid_month_as_of_cuts_the_window_at_its_days(con, book) -> None:
    """As of 15 June the rolling 365 days start inside a month (16 June 2024), the last
    month is month-to-date and the rows after the as-of date count for nothing, whether
    the scan also checks the rows or not."""
    accounts, paths = book
    acc, daily, events = _frames(accounts, paths)
    cal = review_calendar(MID_MONTH, 12)
    customers = ["C0", "C1", "C2"]
    by_form = {
        "daily": _engine(con, acc, daily, "daily", cal, customers),
        "daily, rows checked": _engine(con, acc, daily, "daily", cal, customers, "_bad"),
        "events": _engine(con, acc, events, "events", cal, customers),
    }
    for period, start in (
        ("month", date(2025, 6, 1)),
        ("ytd", date(2025, 1, 1)),
        ("rolling_365", MID_MONTH - timedelta(days=364)),
    ):
        ref = _reference(accounts, daily, start, MID_MONTH)
        expected = [ref.get(c, 0.0) for c in customers]
        for sums in by_form.values():
            got = period_average(sums.weighted, cal, period)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-6)


def test_days_without_balance_count_as_zero(con) -> None:
    # 365,000 held for the last 10 days of the year: 年日均 is 10,000, not 365,000.
    acc = pd.DataFrame(
        [("A", "C0", "demand_deposit", date(2025, 12, 22), None)],
        columns=["account_id", "customer_id", "product_type", "open_date", "close_date"],
    )
    daily = pd.DataFrame(
        [("A", date(2025, 12, 22) + timedelta(days=i), 365_000.0) for i in range(10)],
        columns=["account_id", "date", "balance"],
    )
    cal = review_calendar(AS_OF, 12)
    sums = _engine(con, acc, daily, "daily", cal, ["C0"])
    assert period_average(sums.weighted, cal, "year")[0] == pytest.approx(10_000.0)
    assert period_average(sums.weighted, cal, "month")[0] == pytest.approx(365_000 * 10 / 31)


def test_funds_count_half_and_loans_not_at_all(con) -> None:
    acc = pd.DataFrame(
        [("F", "C0", "fund", date(2025, 1, 1), None), ("L", "C0", "loan", date(2025, 1, 1), None)],
        columns=["account_id", "customer_id", "product_type", "open_date", "close_date"],
    )
    events = pd.DataFrame(
        [("F", date(2025, 1, 1), 200_000.0), ("L", date(2025, 1, 1), 9e6)],
        columns=["account_id", "date", "balance"],
    )
    cal = review_calendar(AS_OF, 12)
    sums = _engine(con, acc, events, "events", cal, ["C0"])
    assert period_average(sums.weighted, cal, "year")[0] == pytest.approx(100_000.0)
