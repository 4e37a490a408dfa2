"""Start a close state from a full run: one scan of the history as of the run's date.

Month sums come from the engine's own bucket sums (``tierbook.analytics.aum``) over a
calendar of whole months, the last 365 days' weighted sums from the same expressions over a
calendar of single days, and the events form's last balance per account from one group-by.
Call it on a dataset a run has used (``run_batch`` has already set duplicate days aside).
"""

from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierbook.analytics import aum as aum_expr
from tierbook.analytics.aum import CLASSES
from tierbook.analytics.backends import duckdb as duck
from tierbook.batch.close_state import FORMAT, CloseState, save_state
from tierbook.batch.close_sums import calendars, span_calendar, weight_vector, weights_of
from tierbook.domain.closing import ROLLING_DAYS, first_month_needed, month_number, month_start
from tierbook.domain.periods import ReviewCalendar
from tierbook.ingest.dataset import Dataset
from tierbook.rules.loader import LoadedRulebook


def accounts_fingerprint(ds: Dataset) -> str:
    """sha256 over the accounts table's input files."""
    h = hashlib.sha256()
    for f in sorted(ds.files, key=lambda r: str(r.path)):
        if f.table == "accounts":
            h.update(f.sha256.encode())
    return h.hexdigest()


def account_frame(ds: Dataset, customers: np.ndarray) -> pd.DataFrame:
    """The clean accounts with their customer slot and asset class, sorted by account."""
    acc = (
        ds.tables["accounts"]
        .select("account_id", "customer_id", "product_type", "close_date")
        .to_pandas()
    )
    acc = acc.sort_values("account_id", ignore_index=True)
    frame = pd.DataFrame(
        {
            "account_id": acc["account_id"].astype(str),
            "slot": pd.Index(customers).get_indexer(acc["customer_id"]).astype(np.int64),
            "klass": acc["product_type"].map({c: k for k, c in enumerate(CLASSES)}),
            "close_date": pd.to_datetime(acc["close_date"]).to_numpy("datetime64[D]"),
        }
    )
    frame["klass"] = frame["klass"].fillna(-1).astype(np.int64)
    return frame


def init_state(ds: Dataset, as_of: date, loaded: LoadedRulebook, root: Path) -> CloseState:
    """Write the close state of ``ds`` as of ``as_of`` to ``root`` and return it."""
    cal, cal_next = calendars(loaded, as_of)
    first = first_month_needed(cal, cal_next)
    customers = np.asarray(
        sorted(ds.tables["customers"].select("customer_id").to_pandas()["customer_id"]),
        dtype=object,
    )
    n, weights = len(customers), weights_of(loaded)
    month_cal = span_calendar(as_of, month_start(first), monthly=True)
    per_month = _sums(ds, month_cal, n)  # [buckets, classes, slots] int64
    day_cal = span_calendar(as_of, as_of - timedelta(days=ROLLING_DAYS - 1), monthly=False)
    per_day = _weighted_days(ds, day_cal, n, weight_vector(weights))
    accounts = account_frame(ds, customers)
    accounts["last_cents"], accounts["last_date"] = _last_balances(ds, accounts, as_of)
    current = np.zeros((len(CLASSES), n), np.int64)
    if ds.balance_form == "events":
        live = ~np.isnat(accounts["last_date"].to_numpy("datetime64[D]"))
        close = accounts["close_date"].to_numpy("datetime64[D]")
        live &= np.isnat(close) | (np.datetime64(as_of, "D") < close)
        live &= accounts["klass"].to_numpy() >= 0
        a = accounts[live]
        np.add.at(current, (a["klass"].to_numpy(), a["slot"].to_numpy()), a["last_cents"])
    meta: dict[str, Any] = {
        "format": FORMAT,
        "balance_form": ds.balance_form,
        "rulebook_sha256": loaded.sha256,
        "rulebook": f"{loaded.rulebook.id} {loaded.rulebook.version}",
        "initial": as_of.isoformat(),
        "last_closed": as_of.isoformat(),
        "fingerprints": {},
        "accounts_sha256": accounts_fingerprint(ds),
    }
    root.mkdir(parents=True, exist_ok=True)
    months = {month_number(b.start): per_month[i] for i, b in enumerate(month_cal.buckets)}
    state = CloseState(root, meta, customers, accounts, months, current)
    state.new_days = {b.start.isoformat(): per_day[i] for i, b in enumerate(day_cal.buckets)}
    save_state(state, first)
    return state


def _batches(ds: Dataset, cal: ReviewCalendar) -> Any:
    if ds.balance_form == "events":
        acct = aum_expr.account_bucket_sums_events(ds.balances, ds.tables["accounts"], cal)
    else:
        acct = aum_expr.account_bucket_sums_daily(ds.balances, cal)
    expr = aum_expr.keyed_bucket_sums(acct, ds.tables["accounts"], ds.tables["customers"])
    return duck.record_batches(ds.con, expr)


def _columns(batch: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = batch.column("row").to_numpy(zero_copy_only=False).astype(np.int64)
    k = batch.column("klass").to_numpy(zero_copy_only=False).astype(np.int64)
    b = batch.column("bucket").to_numpy(zero_copy_only=False).astype(np.int64)
    bd = batch.column("bd").to_numpy(zero_copy_only=False).astype(np.float64)
    keep = k >= 0
    cents = np.round(bd[keep] * 100.0).astype(np.int64)
    return rows[keep], k[keep], b[keep], cents


def _sums(ds: Dataset, cal: ReviewCalendar, n: int) -> np.ndarray:
    out = np.zeros((len(cal.buckets), len(CLASSES), n), np.int64)
    for batch in _batches(ds, cal):
        rows, k, b, cents = _columns(batch)
        np.add.at(out, (b, k, rows), cents)
    return out


def _weighted_days(ds: Dataset, cal: ReviewCalendar, n: int, w: np.ndarray) -> np.ndarray:
    out = np.zeros((len(cal.buckets), n))
    for batch in _batches(ds, cal):
        rows, k, b, cents = _columns(batch)
        np.add.at(out, (b, rows), cents * w[k])
    return out


def _last_balances(
    ds: Dataset, accounts: pd.DataFrame, as_of: date
) -> tuple[np.ndarray, np.ndarray]:
    """Events form: each account's last balance (cents) and its date on or before ``as_of``."""
    n = len(accounts)
    cents, dates = np.zeros(n, np.int64), np.full(n, np.datetime64("NaT"), "datetime64[D]")
    if ds.balance_form != "events":
        return cents, dates
    t = ds.balances.filter(ds.balances.date <= as_of)
    last = t.group_by("account_id").aggregate(
        last_date=t.date.max(), balance=t.balance.argmax(t.date)
    )
    got = last.to_pandas()
    pos = pd.Index(accounts["account_id"]).get_indexer(got["account_id"].astype(str))
    ok = pos >= 0
    cents[pos[ok]] = np.round(got["balance"].to_numpy(np.float64)[ok] * 100.0).astype(np.int64)
    dates[pos[ok]] = pd.to_datetime(got["last_date"]).to_numpy("datetime64[D]")[ok]
    return cents, dates
