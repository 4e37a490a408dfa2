"""Upgrade referral (seed 004: 5–20万 tellers 对可升级的客户向客户经理输送客户资源).

A customer is *upgradeable* when, on ``upgrade_referral.ladder``, its latest measure (at the
latest period end of the history, on or before ``as_of``) lies below the next level's
minimum by at most ``within_pct`` of that minimum, and the measure rose strictly in each of
the last ``rising_periods`` consecutive months. Each staff of ``roles`` assigned to the
customer gets a task to refer it to ``refer_to``; a customer with no such staff is not the
duty of any teller's book and gets none. Due at the end of the month after the latest period.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tierbook.domain.calendar import month_end
from tierbook.planner.common import fan_out, money, ts
from tierbook.rules.models import Ladder, UpgradeReferral


def upgrade_referrals(
    as_of: date,
    rule: UpgradeReferral,
    ladder: Ladder,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    history: pd.DataFrame,
) -> pd.DataFrame:
    h = _ladder_history(as_of, rule, history)
    near = _near_next_level(h, rule, ladder)
    r = near.loc[near["customer_id"].isin(_rising(rule, h, near))]
    r = r.merge(customers[["customer_id", "branch_id"]], on="customer_id")
    rows = fan_out(r, rule.roles, assignments, unassigned=False)
    if rows.empty:
        return rows
    period = rows["period_end"].max().date()
    rows["due_date"] = ts(month_end(period + timedelta(days=1)))
    rows["kind"] = "upgrade_referral"
    rows["rule"] = "maintenance.upgrade_referral"
    pct = (rows["gap"] / rows["next_min"] * 100).map("{:.1f}%".format)
    rows["reason"] = (
        "可升级客户, 推荐给 "
        + str(rule.refer_to)
        + ": "
        + ladder.id
        + " 下一级 "
        + rows["next_name"]
        + " (门槛 "
        + rows["next_min"].map("{:,.0f}".format)
        + "), 当前 "
        + money(rows["measure"])
        + ", 差 "
        + money(rows["gap"])
        + " ("
        + pct
        + f"), 连续 {rule.rising_periods} 期上升"
    )
    return rows


def _ladder_history(as_of: date, rule: UpgradeReferral, history: pd.DataFrame) -> pd.DataFrame:
    """The ladder's rows up to ``as_of``; ``period_end`` as timestamps."""
    h = history.loc[history["ladder_id"] == rule.ladder, ["customer_id", "period_end", "measure"]]
    h = h.assign(period_end=pd.to_datetime(h["period_end"]).dt.normalize())
    return h.loc[h["period_end"] <= ts(as_of)]


def _near_next_level(h: pd.DataFrame, rule: UpgradeReferral, ladder: Ladder) -> pd.DataFrame:
    """Measures at the latest period end lying within ``within_pct`` below the next level."""
    last = h.loc[h["period_end"] == h["period_end"].max()].copy()
    thresholds = np.asarray(ladder.thresholds(), dtype=float)
    idx = np.searchsorted(thresholds, last["measure"].to_numpy(dtype=float), side="right")
    has_next = idx < len(thresholds)
    last, idx = last.loc[has_next], idx[has_next]
    last["next_min"] = thresholds[idx]
    last["next_name"] = np.asarray(ladder.level_names(), dtype=object)[idx]
    last["gap"] = last["next_min"] - last["measure"]
    return last.loc[last["measure"] >= (last["next_min"] * (1 - rule.within_pct)).round(2)]


def _rising(rule: UpgradeReferral, h: pd.DataFrame, near: pd.DataFrame) -> pd.Index:
    """Customers of ``near`` whose measure rose strictly over each of the last
    ``rising_periods`` consecutive months."""
    k = rule.rising_periods
    h = h.loc[h["customer_id"].isin(near["customer_id"])]
    h = h.sort_values(["customer_id", "period_end"]).groupby("customer_id").tail(k + 1)
    month = h["period_end"].dt.year * 12 + h["period_end"].dt.month
    by = h["customer_id"]
    rose = h["measure"] - h["measure"].groupby(by).shift() > 0
    step_ok = rose & (month - month.groupby(by).shift() == 1)
    counts = step_ok.groupby(by).sum()
    return counts.index[counts == k]
