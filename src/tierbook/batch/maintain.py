"""Maintenance step of the batch: named staff per customer, then dated tasks and alerts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from tierbook.analytics import aum as aum_expr
from tierbook.batch.tiering import LadderResult
from tierbook.domain.periods import ReviewCalendar
from tierbook.ingest.dataset import Dataset
from tierbook.planner import plan
from tierbook.planner.assign import assign_frame
from tierbook.rules.loader import LoadedRulebook

PROFILE_FIELDS = ("birth_date", "address", "phone")


@dataclass(frozen=True)
class Maintenance:
    assignments: pd.DataFrame
    departures: pd.DataFrame
    tasks: pd.DataFrame
    alerts: pd.DataFrame
    birthday_list: pd.DataFrame


def _empty() -> pd.DataFrame:
    return pd.DataFrame()


def assign_and_plan(
    ds: Dataset,
    as_of: date,
    loaded: LoadedRulebook,
    customers: pd.DataFrame,
    results: dict[str, LadderResult],
    cal: ReviewCalendar,
    previous: pd.DataFrame | None,
    staff_ends: Mapping[str, date] | None = None,
) -> Maintenance:
    """Staff assignment and the planner. ``staff_ends``: end dates known outside the staff
    file (departures recorded in the store through the API); each counts where the file
    gives that person no end date, as the store keeps it (``publish``)."""
    rb = loaded.rulebook
    m = rb.maintenance
    if m is None:  # nobody is assigned: an empty book, with its columns for later steps
        book = pd.DataFrame(columns=["customer_id", "role", "staff_id"])
        return Maintenance(book, _empty(), _empty(), _empty(), _empty())
    band = results[m.band_ladder]
    book = customers[["customer_id", "branch_id", "kind"]].copy()
    book["band"] = band.level_names(band.path.final_levels)
    book["aum"] = np.round(band.measures[:, -1], 2)
    staff = with_ends(ds.tables["staff"].to_pandas(), staff_ends or {})
    frames = assign_frame(book, rb.ladder(m.band_ladder), staff, as_of, previous)
    book = book.merge(_profile(ds), on="customer_id", how="left")
    history = _referral_history(
        m.upgrade_referral.ladder, m.upgrade_referral.rising_periods, customers, results, cal
    )
    result = plan(
        as_of,
        m,
        customers=book,
        assignments=frames.assignments[["customer_id", "role", "staff_id"]].dropna(),
        maturities=_maturities(ds, as_of, m.maturity.within_days),
        flows=_flows(ds, as_of, m.large_flow.lookback_days),
        history=history,
        ladders={lad.id: lad for lad in rb.ladders},
        stamp=loaded.stamp,
    )
    return Maintenance(
        frames.assignments, frames.departures, result.tasks, result.alerts, result.birthday_list
    )


def with_ends(staff: pd.DataFrame, ends: Mapping[str, date]) -> pd.DataFrame:
    """``staff`` with each person's end date from ``ends`` where the file has none."""
    if not ends:
        return staff
    out = staff.copy()
    known = pd.to_datetime(out["staff_id"].map(ends))
    out["end_date"] = pd.to_datetime(out["end_date"]).fillna(known)
    return out


def _referral_history(
    ladder_id: str,
    periods: int,
    customers: pd.DataFrame,
    results: dict[str, LadderResult],
    cal: ReviewCalendar,
) -> pd.DataFrame:
    """The monthly measures the upgrade-referral rule reads: its ladder, last months only."""
    r = results[ladder_id]
    keep = min(periods + 1, r.measures.shape[1])
    ends = [cal.month_ends[i] for i in cal.review_months][-keep:]
    n = len(customers)
    return pd.DataFrame(
        {
            "customer_id": customers["customer_id"].array.take(np.repeat(np.arange(n), keep)),
            "ladder_id": ladder_id,
            "period_end": np.tile(np.asarray(ends, dtype=object), n),
            "measure": r.measures[:, -keep:].reshape(-1),
        }
    )


SPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
"""The characters ``str.isspace`` holds true (``str.strip`` removes), written out: finding
them among every code point costs 0.15 s at each start (a test keeps the two equal)."""
_BLANK = "^[" + "".join(f"\\x{{{ord(c):x}}}" for c in SPACE) + "]*$"
"""A text of Python's whitespace only (what ``str.strip`` leaves empty), as an RE2 pattern."""


def _profile(ds: Dataset) -> pd.DataFrame:
    """Birth date and which profile fields are missing (the values themselves stay behind):
    a field is missing when null or only whitespace, judged in Arrow (no Python strings)."""
    table = ds.tables["customers"].select("customer_id", *PROFILE_FIELDS).to_pyarrow()
    pieces = []
    for f in PROFILE_FIELDS:
        col = table.column(f)
        text = col if pa.types.is_string(col.type) else col.cast(pa.string())
        blank = pc.match_substring_regex(text, _BLANK).fill_null(True)  # null: missing too
        pieces.append(pc.if_else(blank, f + ",", ""))
    missing = pc.utf8_rtrim(pc.binary_join_element_wise(*pieces, ""), characters=",")
    birth = table.column("birth_date")
    return pd.DataFrame(
        {
            "customer_id": table.column("customer_id").to_pandas(),
            "birth_date": pd.to_datetime(birth.to_pandas()),  # the planner reads timestamps
            "missing_fields": missing.to_pandas(),
        }
    )


def _maturities(ds: Dataset, as_of: date, within_days: int) -> pd.DataFrame:
    acc = ds.tables["accounts"]
    last = as_of + timedelta(days=within_days)
    due = acc.filter(
        acc.maturity_date.notnull(),
        acc.maturity_date > as_of,
        acc.maturity_date <= last,
        acc.product_type != "loan",
    )
    form = ds.balance_form
    table = ds.tables["balances_daily" if form == "daily" else "balance_events"]
    bal = aum_expr.balances_at(table, acc, as_of, form)
    j = due.left_join(bal, due.account_id == bal.account_id)
    j = j.select(
        account_id=due.account_id,
        customer_id=due.customer_id,
        product_type=due.product_type,
        maturity_date=due.maturity_date,
        balance=j.balance.fill_null(0.0),
    )
    return j.to_pandas()


def _flows(ds: Dataset, as_of: date, lookback_days: int) -> pd.DataFrame:
    if "transactions" not in ds.tables:
        return pd.DataFrame(columns=["customer_id", "date", "inflow", "outflow"])
    expr: Any = aum_expr.daily_flows(
        ds.tables["transactions"], ds.tables["accounts"], as_of, lookback_days
    )
    return expr.to_pandas()
