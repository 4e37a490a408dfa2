"""Value-step features on DuckDB: the balance shape (年日均, peak, days above the tier
threshold, balances on measurement dates) from daily snapshots and from change events equals
a day-by-day recomputation in plain Python; flows around measurement dates and activity
equal a plain sum over hand-made transactions."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings

from tests.integration.test_aum_engine import AS_OF, WEIGHTS, _frames, books
from tierbook.analytics import features as fx
from tierbook.analytics.backends.duckdb import connect
from tierbook.batch.value_inputs import (
    SHAPE_BLOCK_CUSTOMER_DAYS,
    SHAPE_CUSTOMER_DAYS_PER_MIB,
    shape_block_customer_days,
    shape_frame,
    window,
)
from tierbook.domain.periods import review_calendar

THRESHOLDS = (0.0, 5_000.0, 10_000.0, 15_000.0)
CUSTOMERS = ["C0", "C1", "C2"]
START = date(2025, 1, 1)
DAYS = 365


@pytest.fixture(scope="module")
def con():
    return connect(threads=1)


def _levels(accounts, daily: pd.DataFrame) -> dict[str, np.ndarray]:
    """Each customer's weighted AUM, day by day."""
    owner = {a[0]: (a[1], WEIGHTS.get(a[2], 0.0)) for a in accounts}
    level = {c: np.zeros(DAYS) for c in CUSTOMERS}
    for row in daily.itertuples():
        if not START <= row.date <= AS_OF:
            continue
        cust, w = owner[row.account_id]
        level[cust][(row.date - START).days] += w * row.balance
    return level


def _reference(accounts, daily: pd.DataFrame, measurement: list[int]) -> pd.DataFrame:
    rows = {}
    for c, x in _levels(accounts, daily).items():
        nz = np.flatnonzero(x > 0)
        first = int(nz[0]) if len(nz) else 0
        peak = float(x.max())
        pt = max(t for t in THRESHOLDS if peak >= t)
        ends = x[measurement]
        rows[c] = {
            "year_avg": x.sum() / DAYS,
            "held_avg": x.sum() / (DAYS - first),
            "peak": peak,
            "start_balance": x[0],
            "end_balance": x[-1],
            "peak_threshold": pt,
            "days_above": float((x >= pt).sum()) if pt > 0 else 0.0,
            "period_end_max": float(ends.max()),
            "dressed_dates": float((ends >= pt).sum()) if pt > 0 else 0.0,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _engine(con, acc, table, form, measurement) -> pd.DataFrame:
    accounts = ibis.memtable(acc).cast({"open_date": "date", "close_date": "date"})
    t = ibis.memtable(table).cast({"date": "date"})
    keys = fx.customer_keys(accounts)
    levels = fx.customer_levels(t, accounts, form, START, AS_OF, WEIGHTS, keys)
    expr = fx.balance_shape(
        levels, keys, DAYS, DAYS - 1, measurement, THRESHOLDS, single_days=form == "daily"
    )
    out = con.to_pyarrow(expr).to_pandas().set_index("customer_id")
    return out.reindex(CUSTOMERS).fillna(0.0)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_balance_shape_from_either_form_equals_the_day_by_day_recomputation(con, book) -> None:
    accounts, paths = book
    acc, daily, events = _frames(accounts, paths)
    if daily.empty:
        return
    win = window(review_calendar(AS_OF, 12), "month_end")
    ref = _reference(accounts, daily, win.measurement_days)
    for form, table in (("daily", daily), ("events", events)):
        got = _engine(con, acc, table, form, win.measurement_days)
        cols = list(ref.columns)
        np.testing.assert_allclose(
            got[cols].to_numpy(float), ref[cols].to_numpy(float), rtol=1e-9, atol=1e-4,
            err_msg=form,
        )  # fmt: skip
        # The peak day is a day at the peak; the measurement date given is one of the
        # measurement dates, at the highest balance among them (which of tied days: the
        # test below — here, sums of several accounts tie only to within rounding).
        level = _levels(accounts, daily)
        for c in CUSTOMERS:
            if ref.loc[c, "peak"] > 0:
                day = int(got.loc[c, "peak_day"])
                assert level[c][day] == pytest.approx(ref.loc[c, "peak"], abs=1e-4), (form, c)
            if ref.loc[c, "period_end_max"] > 0:
                day = int(got.loc[c, "period_end_day"])
                assert day in win.measurement_days, (form, c)
                assert level[c][day] == pytest.approx(ref.loc[c, "period_end_max"], abs=1e-4)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(books())
def test_the_balance_shape_in_blocks_of_customers_is_the_one_query_result(con, book) -> None:
    """A big bank's shape is taken a block of customers at a time (its customer × day step
    would not fit the analysis memory at once); any block size gives the same rows."""
    accounts, paths = book
    acc, daily, events = _frames(accounts, paths)
    if daily.empty:
        return
    win = window(review_calendar(AS_OF, 12), "month_end")
    con.con.register("shape_accounts", acc)
    acc_t = con.table("shape_accounts").cast({"open_date": "date", "close_date": "date"})
    for form, table in (("daily", daily), ("events", events)):
        con.con.register("shape_balances", table)
        t = con.table("shape_balances").cast({"date": "date"})
        one = _engine(con, acc, table, form, win.measurement_days)
        for block in (1, 2, 3, 1000):
            got = shape_frame(con, t, acc_t, form, win, WEIGHTS, THRESHOLDS, block_customers=block)
            assert got.index.is_unique, (form, block)
            got = got.reindex(CUSTOMERS).fillna(0.0)
            pd.testing.assert_frame_equal(got[one.columns], one, check_dtype=False, obj=form)


def test_measurement_dates_are_the_month_ends_before_the_as_of_date() -> None:
    win = window(review_calendar(AS_OF, 12), "month_end")
    assert [START + timedelta(days=d) for d in win.measurement_days][:3] == [
        date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31),
    ]  # fmt: skip
    assert len(win.measurement_days) == 11  # 31 December is the as-of date itself
    quarters = window(review_calendar(AS_OF, 12), "quarter_end").measurement_days
    assert [START + timedelta(days=d) for d in quarters] == [
        date(2025, 3, 31), date(2025, 6, 30), date(2025, 9, 30),
    ]  # fmt: skip


def test_flows_around_the_busiest_measurement_date_and_activity(con) -> None:
    acc = pd.DataFrame(
        [("A", "C0", "demand_deposit"), ("L", "C0", "loan"), ("B", "C1", "demand_deposit")],
        columns=["account_id", "customer_id", "product_type"],
    )
    d = date
    txns = pd.DataFrame(
        [
            ("t1", "A", d(2025, 3, 28), 800_000.0, "in", "other_bank"),  # 3 days before 31 Mar
            ("t2", "A", d(2025, 4, 2), 790_000.0, "out", "other_bank"),  # 2 days after
            ("t3", "A", d(2025, 3, 20), 50_000.0, "in", "other_bank"),  # too early
            ("t4", "A", d(2025, 6, 30), 10_000.0, "in", "salary"),
            ("t5", "A", d(2025, 7, 1), 10_000.0, "out", "merchant"),
            ("t6", "A", d(2025, 3, 30), 999_999.0, "in", "own"),  # own transfer: ignored
            ("t7", "L", d(2025, 3, 30), 999_999.0, "in", "other_bank"),  # loan: ignored
            ("t8", "B", d(2025, 5, 5), 1_000.0, "out", "merchant"),
        ],
        columns=["txn_id", "account_id", "date", "amount", "direction", "counterparty_type"],
    )
    t = ibis.memtable(txns).cast({"date": "date"})
    a = ibis.memtable(acc)
    win = window(review_calendar(AS_OF, 12), "month_end")
    flows = fx.period_flows(t, a, START, AS_OF, win.measurement_days, 5, 3)
    got = con.to_pyarrow(flows).to_pandas().set_index("customer_id")
    assert START + timedelta(days=int(got.loc["C0", "flow_day"])) == date(2025, 3, 31)
    assert got.loc["C0", "inflow_before"] == 800_000.0
    assert got.loc["C0", "outflow_after"] == 790_000.0
    assert "C1" not in got.index or got.loc["C1", "inflow_before"] == 0.0
    act = con.to_pyarrow(fx.activity(t, a, START, AS_OF)).to_pandas().set_index("customer_id")
    assert act.loc["C0", "txn_count"] == 5
    assert act.loc["C0", "volume"] == pytest.approx(800_000 + 790_000 + 50_000 + 20_000)
    assert act.loc["C1", "volume"] == 1_000.0


@pytest.mark.parametrize("form", ["daily", "events"])
def test_the_peak_day_and_the_measurement_date_are_the_first_of_tied_days_in_any_order(
    con, form: str
) -> None:
    """C0 holds 20,000 on 10–19 March and again on 2–20 June (peak: 10 March) and 8,000
    at the ends of January and April (the first of the tied measurement dates: 31 Jan);
    the rows reach the engine newest first."""
    steps = [(date(2025, 1, 1), 8_000.0), (date(2025, 2, 1), 1_000.0),
             (date(2025, 3, 10), 20_000.0), (date(2025, 3, 20), 1_000.0),
             (date(2025, 4, 30), 8_000.0), (date(2025, 5, 1), 1_000.0),
             (date(2025, 6, 2), 20_000.0), (date(2025, 6, 21), 1_000.0)]  # fmt: skip
    accounts = [("A0", "C0", "demand_deposit", date(2025, 1, 1), None)]
    acc, daily, events = _frames(accounts, {"A0": steps})
    table = (daily if form == "daily" else events).iloc[::-1].reset_index(drop=True)
    win = window(review_calendar(AS_OF, 12), "month_end")
    got = _engine(connect(threads=2), acc, table, form, win.measurement_days).loc["C0"]
    assert START + timedelta(days=int(got["peak_day"])) == date(2025, 3, 10)
    assert got["period_end_max"] == 8_000.0
    assert START + timedelta(days=int(got["period_end_day"])) == date(2025, 1, 31)


def test_a_blocks_account_range_spans_exactly_its_customers_accounts(con) -> None:
    """The range each block also asks of the balances (so that a reader skips the row
    groups of other accounts) runs from the block's lowest to its highest account id, other
    customers' accounts between them included: the join keeps only the block's own."""
    acc = pd.DataFrame(
        [("A07", "C0"), ("A02", "C1"), ("A11", "C1"), ("A05", "C2"), ("A09", "C0")],
        columns=["account_id", "customer_id"],
    )
    con.con.register("range_accounts", acc)
    a = con.table("range_accounts")
    assert fx.account_range(a.filter(a.customer_id == "C0")) == ("A07", "A09")
    assert fx.account_range(a.filter(a.customer_id <= "C1")) == ("A02", "A11")
    assert fx.account_range(a.filter(a.customer_id == "C2")) == ("A05", "A05")
    assert fx.account_range(a.filter(a.customer_id > "C2")) is None


def test_shape_blocks_grow_with_the_working_memory() -> None:
    """The customer × day step of a block must fit DuckDB's working memory: blocks are
    sized from the limit in force (the default 224MB: about 4.3M customer-days, 11.7k
    customers over a year), and another engine takes the fixed default."""
    small, large = connect(memory_limit="224MB"), connect(memory_limit="1GB")
    per_mib = SHAPE_CUSTOMER_DAYS_PER_MIB  # DuckDB's MB are 10^6 bytes
    assert shape_block_customer_days(small) == pytest.approx(224e6 / 2**20 * per_mib, rel=0.01)
    assert shape_block_customer_days(large) == pytest.approx(1e9 / 2**20 * per_mib, rel=0.01)
    assert shape_block_customer_days(object()) == SHAPE_BLOCK_CUSTOMER_DAYS
