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
SHAPE_CUSTOMER_DAYS_PER_MIB = 20_000
"""Customer-days per block of the balance shape, per MiB of DuckDB's working memory: its
customer × day step groups a block's balances by customer and day, one group per
customer-day. At 200k customers (73M customer-days) under 224MB, blocks of 10M and 20M ran
and 40M ran out of memory; under 1GB, blocks of 20M took 18.3 s where one block took 24.6 s
(a smaller block spills less). Each block reads only the row groups of its accounts' ids
(``fx.customer_levels(account_range=…)``) when the balance files are ordered by account."""
SHAPE_BLOCK_CUSTOMER_DAYS = 100_000_000
"""Customer-days per block on an engine without a DuckDB memory limit."""


def shape_block_customer_days(con: Any) -> int:
    limit = duck.memory_limit_bytes(con)
    if limit is None:
        return SHAPE_BLOCK_CUSTOMER_DAYS
    return max(1, int(SHAPE_CUSTOMER_DAYS_PER_MIB * limit / (1 << 20)))


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
    consecutive customer ids (``block_customers``, by default as many as make
    ``shape_block_customer_days``): each block is one query over the balances of its
    customers' accounts (asked also by their account id range, see ``fx.account_range``),
    and a customer's shape depends on its own balances only, so the blocks together are the
    one-query result. The blocks start at every ``block``-th customer id in order, taken
    once; each block ranks only its own customers."""
    ids = accounts.select("customer_id").distinct().order_by("customer_id")
    every = ids.to_pyarrow().column("customer_id")
    block = block_customers or max(1, shape_block_customer_days(con) // win.days)
    starts = [every[k].as_py() for k in range(0, len(every), block)] or [None]
    del every
    parts = []
    for k, lo in enumerate(starts):  # the customers from one start up to the next
        own = accounts
        if lo is not None:
            own = own.filter(own.customer_id >= lo)
        if k + 1 < len(starts):
            own = own.filter(own.customer_id < starts[k + 1])
        part = fx.customer_keys(own)
        levels = fx.customer_levels(
            balances, own, form, win.start, win.as_of, weights, part, fx.account_range(own)
        )
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
    for column in frame.columns.difference(["flow_day", "peak_day", "period_end_day"], sort=False):
        frame[column] = frame[column].fillna(0.0)  # a column at a time: no copy of the frame
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
