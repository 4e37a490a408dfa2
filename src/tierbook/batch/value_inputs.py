"""Gather the value step's per-customer inputs from the engine, aligned to the batch's
customer order (missing customers get zeros)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from tierbook.analytics import features as fx
from tierbook.analytics.backends import duckdb as duck
from tierbook.batch.measures import BucketSums, review_averages
from tierbook.domain.detectors import BalanceShape
from tierbook.domain.key_accounts import PRODUCTS
from tierbook.domain.periods import ReviewCalendar
from tierbook.ingest.dataset import Dataset
from tierbook.rules.value import KeyCustomerRules


@dataclass(frozen=True)
class Window:
    start: date
    as_of: date
    months: list[str]
    measurement_days: list[int]

    @property
    def days(self) -> int:
        return (self.as_of - self.start).days + 1

    def to_date(self, day: pd.Series) -> pd.Series:
        d = pd.to_numeric(day, errors="coerce")
        return (pd.Timestamp(self.start) + pd.to_timedelta(d, unit="D")).dt.date


def window(cal: ReviewCalendar, measurement: str) -> Window:
    ends = [cal.month_ends[m] for m in cal.review_months]
    start = date(ends[0].year, ends[0].month, 1)
    months = [f"{e.year}-{e.month:02d}" for e in ends]
    quarter = measurement == "quarter_end"
    days = [
        (e - start).days
        for e in ends
        if e < cal.as_of and (e + timedelta(days=1)).day == 1 and (not quarter or e.month % 3 == 0)
    ]
    return Window(start, cal.as_of, months, days)


@dataclass
class ValueInputs:
    frame: pd.DataFrame  # one row per customer, batch order
    held: np.ndarray  # customers × PRODUCTS, bool
    shape: BalanceShape
    monthly_aum: np.ndarray  # customers × review months
    edges: list[tuple[str, str]]


def _aligned(index: pd.Index, expr: Any, columns: list[str]) -> pd.DataFrame:
    frame = expr.to_pandas().set_index("customer_id")
    return frame.reindex(index)[columns]


SHAPE_COLUMNS = [
    "year_avg", "held_avg", "peak", "peak_day", "start_balance", "end_balance",
    "period_end_max", "period_end_day", "peak_threshold", "avg_threshold", "days_above",
    "dressed_dates",
]  # fmt: skip
# Customer-days per block of the balance shape: its customer × day step groups the block's
# customers by day, one group per customer-day (365M at 1M customers); DuckDB ran out of its
# 1 GB analysis memory on one block of 2M customers, and did not at 200k (73M).
SHAPE_BLOCK_CUSTOMER_DAYS = 100_000_000


def shape_frame(
    con: Any,
    balances: Any,
    accounts: Any,
    form: str,
    win: Window,
    weights: dict[str, float],
    thresholds: tuple[float, ...],
    *,
    block_customers: int | None = None,
) -> pd.DataFrame:
    """``fx.balance_shape`` per customer (indexed by ``customer_id``), in blocks of
    consecutive customer keys (``block_customers``, by default as many as make
    ``SHAPE_BLOCK_CUSTOMER_DAYS``): each block is one query over the balances restricted to
    its customers' accounts, and a customer's shape depends on its own balances only, so the
    blocks together are the one-query result. A bank of 200k customers is one block."""
    keys = fx.customer_keys(accounts)  # the same keys in every query: ranks of customer_id
    customers = int(keys.count().execute())
    block = block_customers or max(1, SHAPE_BLOCK_CUSTOMER_DAYS // win.days)
    parts = []
    for lo in range(0, max(customers, 1), block):
        part = keys.filter((keys.cust >= lo) & (keys.cust < lo + block))
        levels = fx.customer_levels(balances, accounts, form, win.start, win.as_of, weights, part)
        if form != "daily":  # runs from events need window functions: computed once for both passes
            levels = duck.materialize(con, levels, "tierbook_value_levels")
        expr = fx.balance_shape(
            levels, part, win.days, (win.as_of - win.start).days, win.measurement_days,
            thresholds, single_days=form == "daily",
        )  # fmt: skip
        parts.append(expr.to_pandas())  # (to_pyarrow: PostgreSQL's sums are decimals)
        duck.drop(con, "tierbook_value_levels")
    return pd.concat(parts, ignore_index=True).set_index("customer_id")


def gather(
    ds: Dataset,
    index: pd.Index,
    rules: KeyCustomerRules,
    thresholds: tuple[float, ...],
    weights: dict[str, float],
    sums: BucketSums,
    cal: ReviewCalendar,
) -> tuple[ValueInputs, Window]:
    win = window(cal, rules.detectors.bulk.measurement)
    t, acc = ds.tables, ds.tables["accounts"]
    frame = pd.DataFrame(index=index)
    money = ["net_interest", "fees", "fee_waivers", "rate_premium", "months_peeled"]
    if "income" in t:
        frame[money] = _aligned(index, fx.income_totals(t["income"], win.months), money)
    else:
        frame[money] = 0.0
    flow_cols = ["flow_day", "inflow_before", "outflow_after"]
    if "transactions" in t:
        act = fx.activity(t["transactions"], acc, win.start, win.as_of)
        frame[["txn_count", "volume"]] = _aligned(index, act, ["txn_count", "volume"])
        b = rules.detectors.bulk
        flows = fx.period_flows(
            t["transactions"], acc, win.start, win.as_of, win.measurement_days,
            b.days_before, b.days_after,
        )  # fmt: skip
        frame[flow_cols] = _aligned(index, flows, flow_cols)
    else:
        frame[["txn_count", "volume"]] = 0.0
        frame[flow_cols] = np.nan
    opened = t["customers"].select("customer_id", "open_date").to_pandas().set_index("customer_id")
    open_ts = pd.to_datetime(opened["open_date"].reindex(index))
    frame["tenure_years"] = ((pd.Timestamp(win.as_of) - open_ts).dt.days / 365.25).clip(lower=0)
    balances = t["balances_daily" if ds.balance_form == "daily" else "balance_events"]
    shape = shape_frame(ds.con, balances, acc, ds.balance_form, win, weights, thresholds)
    frame[SHAPE_COLUMNS] = shape.reindex(index)[SHAPE_COLUMNS]
    frame["round_trip"] = np.minimum(frame["inflow_before"], frame["outflow_after"])
    filled = frame.drop(columns=["flow_day", "peak_day", "period_end_day"]).fillna(0.0)
    frame[filled.columns] = filled
    hold = fx.holdings(acc, win.as_of).to_pandas()
    held = np.zeros((len(index), len(PRODUCTS)), dtype=bool)
    rows = index.get_indexer(hold["customer_id"])
    cols = [PRODUCTS.index(p) for p in hold["product_type"]]  # type: ignore[arg-type]
    ok = rows >= 0
    held[rows[ok], np.asarray(cols, dtype=np.intp)[ok]] = True  # none held: empty ints
    monthly = review_averages(sums, cal, "month")
    edges: list[tuple[str, str]] = []
    if "referrals" in t:
        r = t["referrals"].select("referrer_id", "referred_id").to_pandas()
        edges = list(zip(r["referrer_id"], r["referred_id"], strict=True))
    shape = BalanceShape(**{
        k: frame[k].to_numpy(dtype=float)
        for k in ("year_avg", "held_avg", "peak", "start_balance", "end_balance",
                  "period_end_max", "peak_threshold", "avg_threshold", "days_above",
                  "dressed_dates", "round_trip")
    })  # fmt: skip
    return ValueInputs(frame, held, shape, monthly, edges), win
