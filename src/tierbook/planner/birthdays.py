"""Birthdays: the visit of 100万–300万 customers and next month's birthday list (seed 004).

Only individuals have birthdays. An anniversary of Feb 29 falls on Feb 28 in non-leap years
(the same rule as ``tierbook.domain.calendar.birthday_in_year``, here over whole columns).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from tierbook.domain.calendar import month_end, next_month
from tierbook.planner.common import day_text, fan_out, money, ts
from tierbook.rules.models import BirthdayList, BirthdayVisit

LIST_COLUMNS = ("customer_id", "branch_id", "band", "aum", "birthday", "list_month")


def anniversaries(birth: pd.Series, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    """Each anniversary of each birth date in ``start … end`` (inclusive), after the birth.

    Returns columns ``row`` (index label of ``birth``) and ``birthday``.
    """
    b = pd.to_datetime(birth, errors="coerce").dropna()
    parts = []
    for year in range(start.year, end.year + 1):
        leap = year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)
        day = b.dt.day.where(~((b.dt.month == 2) & (b.dt.day == 29)) | leap, 28)
        when = pd.to_datetime(
            pd.DataFrame({"year": year, "month": b.dt.month, "day": day}, index=b.index)
        )
        parts.append(pd.DataFrame({"row": b.index, "birthday": when.to_numpy()}))
    if not parts:
        return pd.DataFrame({"row": [], "birthday": pd.Series(dtype="datetime64[ns]")})
    out = pd.concat(parts, ignore_index=True)
    born = b.reindex(out["row"]).to_numpy()
    keep = (out["birthday"] >= start) & (out["birthday"] <= end) & (out["birthday"] > born)
    return out.loc[keep].reset_index(drop=True)


def _individuals(customers: pd.DataFrame) -> pd.DataFrame:
    return customers.loc[(customers["kind"] == "individual") & customers["birth_date"].notna()]


def birthday_visits(
    as_of: date,
    rule: BirthdayVisit,
    horizon_days: int,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
) -> pd.DataFrame:
    """Individuals with min_aum ≤ aum < max_aum whose birthday lies in the window: one visit
    task per role (each assigned staff, or unassigned), due ``days_before`` the birthday."""
    c = _individuals(customers)
    c = c.loc[c["aum"] >= rule.min_aum]
    if rule.max_aum is not None:
        c = c.loc[c["aum"] < rule.max_aum]
    start, end = ts(as_of + timedelta(days=1)), ts(as_of + timedelta(days=horizon_days))
    ann = anniversaries(c["birth_date"], start, end)
    subj = c.loc[ann["row"], ["customer_id", "branch_id", "aum"]].reset_index(drop=True)
    subj["birthday"] = ann["birthday"].to_numpy()
    rows = fan_out(subj, rule.roles, assignments, unassigned=True)
    rows["due_date"] = rows["birthday"] - pd.Timedelta(days=rule.days_before)
    rows["kind"] = "birthday_visit"
    rows["rule"] = "maintenance.birthday_visit"
    ceiling = f" < {rule.max_aum:,.0f}" if rule.max_aum is not None else ""
    rows["reason"] = (
        "生日拜访 " + day_text(rows["birthday"]) + f" (提前 {rule.days_before} 天): "
        f"{rule.min_aum:,.0f} ≤ AUM " + money(rows["aum"]) + ceiling
    )
    return rows


def birthday_list(
    as_of: date, rule: BirthdayList, customers: pd.DataFrame, assignments: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Next month's birthday list (individuals with aum ≥ min_aum whose birthday falls in the
    month after ``as_of``'s month), and one task per branch on it for ``rule.role`` due at the
    end of ``as_of``'s month. Produced whatever day ``as_of`` is."""
    year, month = next_month(as_of)
    first = pd.Timestamp(year, month, 1)
    c = _individuals(customers).loc[lambda d: d["aum"] >= rule.min_aum]
    ann = anniversaries(c["birth_date"], first, ts(month_end(first.date())))
    lst = c.loc[ann["row"], ["customer_id", "branch_id", "band", "aum"]].reset_index(drop=True)
    lst["birthday"] = ann["birthday"].to_numpy()
    lst = lst.sort_values(["branch_id", "birthday", "customer_id"], kind="stable")
    lst["list_month"] = f"{year:04d}-{month:02d}"
    tasks = _list_tasks(as_of, rule, lst, customers, assignments)
    lst["birthday"] = lst["birthday"].dt.date
    return lst.reset_index(drop=True)[list(LIST_COLUMNS)], tasks


def _list_tasks(
    as_of: date,
    rule: BirthdayList,
    lst: pd.DataFrame,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
) -> pd.DataFrame:
    """One task per branch: staff of ``rule.role`` found in the branch's assignments."""
    if lst.empty:
        return pd.DataFrame()
    counts = lst.groupby("branch_id", as_index=False).agg(n=("customer_id", "size"))
    holders = assignments.loc[
        assignments["role"].astype(str) == str(rule.role), ["customer_id", "staff_id"]
    ]
    holders = holders.merge(customers[["customer_id", "branch_id"]], on="customer_id")
    holders = holders[["branch_id", "staff_id"]].drop_duplicates()
    rows = counts.merge(holders, on="branch_id", how="left")
    rows["customer_id"] = np.nan
    rows["role"] = str(rule.role)
    rows["due_date"] = ts(month_end(as_of))
    rows["kind"] = "birthday_list"
    rows["rule"] = "maintenance.birthday_list"
    rows["reason"] = (
        f"下月 ({lst['list_month'].iloc[0]}) 生日客户名单: "
        + rows["n"].astype(str)
        + f" 位 (AUM ≥ {rule.min_aum:,.0f}), 月底张贴并准备祝贺"
    )
    return rows
