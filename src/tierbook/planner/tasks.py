"""Recurring and event tasks of SPEC §3.4: monthly contact, festival greetings, maturing
products and profile-data collection. Each function returns task rows (see ``common``)."""

from __future__ import annotations

import hashlib
from datetime import date, timedelta

import numpy as np
import pandas as pd

from tierbook.domain.calendar import festival_name, festivals_between, month_end
from tierbook.planner.common import day_text, fan_out, money, ts
from tierbook.rules.models import DataCollection, FestivalGreeting, MaturityFollowUp, MonthlyContact

_SUBJECT = ["customer_id", "branch_id", "aum"]


def _phase(customer_ids: pd.Series, every_days: int) -> np.ndarray:
    """A fixed day of the cycle per customer, spreading first contacts over the cycle."""
    return np.array(
        [
            int.from_bytes(hashlib.blake2b(str(c).encode(), digest_size=4).digest(), "big")
            % every_days
            for c in customer_ids.tolist()
        ],
        dtype=np.int64,
    )


def monthly_contact(
    as_of: date,
    rule: MonthlyContact,
    horizon_days: int,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
    *,
    contacts: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Every ``every_days`` a contact by each assigned staff of ``roles`` with aum ≥ min_aum.

    Schedule: after a logged contact (``contacts``: customer_id, staff_id, date) the next is
    due ``every_days`` later, kept even when overdue. With no contact logged the cycle is
    anchored on a fixed day per customer (a hash of its id modulo ``every_days``), so the
    first contacts of a new book spread evenly over the cycle and a daily re-plan keeps the
    same due dates and task ids.
    """
    subj = customers.loc[customers["aum"] >= rule.min_aum, _SUBJECT]
    rows = fan_out(subj, rule.roles, assignments, unassigned=True)
    if rows.empty:
        return rows
    every, today = rule.every_days, as_of.toordinal()
    phase = _phase(rows["customer_id"], every)
    first = today + 1 + (phase - (today + 1)) % every
    last = _last_contact(rows, contacts)
    logged = last.notna().to_numpy()
    first = np.where(logged, last.fillna(0).to_numpy(dtype=np.int64) + every, first)
    reps = horizon_days // every + 1
    rows = rows.loc[rows.index.repeat(reps)].reset_index(drop=True)
    step = np.tile(np.arange(reps), len(rows) // reps)
    due = np.repeat(first, reps) + step * every
    keep = (due <= today + horizon_days) & ((due > today) | (step == 0))
    rows = rows.loc[keep].copy()
    rows["due_date"] = ts(as_of) + pd.to_timedelta(due[keep] - today, unit="D")
    rows["kind"] = "monthly_contact"
    rows["rule"] = "maintenance.monthly_contact"
    rows["reason"] = (
        f"月度联系 (每 {every} 天至少一次): AUM " + money(rows["aum"]) + f" ≥ {rule.min_aum:,.0f}"
    )
    return rows


def _last_contact(rows: pd.DataFrame, contacts: pd.DataFrame | None) -> pd.Series:
    """Ordinal of the latest logged contact of each row's customer by its staff, or NA."""
    if contacts is None or contacts.empty:
        return pd.Series(np.nan, index=rows.index)
    c = contacts.assign(date=pd.to_datetime(contacts["date"]))
    last = c.groupby(["customer_id", "staff_id"], as_index=False)["date"].max()
    last["ordinal"] = last["date"].map(lambda d: float(d.toordinal()))
    merged = rows[["customer_id", "staff_id"]].merge(
        last, on=["customer_id", "staff_id"], how="left"
    )
    return merged["ordinal"].set_axis(rows.index)


def festival_greetings(
    as_of: date,
    rule: FestivalGreeting,
    horizon_days: int,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
) -> pd.DataFrame:
    """Greetings ``days_before`` each festival in the window: by ``roles`` for aum ≥ min_aum,
    by ``head_office_role`` for aum ≥ head_office_min_aum. Festivals on one day (国庆 and 中秋
    in 2020) make one greeting."""
    found = festivals_between(
        as_of + timedelta(days=1), as_of + timedelta(days=horizon_days), rule.festivals
    )
    if not found:
        return pd.DataFrame()
    fest = pd.DataFrame(found, columns=["day", "key"])
    fest["name"] = fest["key"].map(festival_name)
    fest = fest.groupby("day", as_index=False)["name"].agg("、".join)
    fest["day"] = pd.to_datetime(fest["day"])
    parts = []
    for roles, floor, path, who in (
        (rule.roles, rule.min_aum, "maintenance.festival_greeting", "已联系客户"),
        (
            (rule.head_office_role,),
            rule.head_office_min_aum,
            "maintenance.festival_greeting.head_office_min_aum",
            "总行统一问候",
        ),
    ):
        subj = customers.loc[customers["aum"] >= floor, _SUBJECT]
        rows = fan_out(subj, roles, assignments, unassigned=True).merge(fest, how="cross")
        rows["due_date"] = rows["day"] - pd.Timedelta(days=rule.days_before)
        rows["rule"] = path
        rows["reason"] = (
            "节日问候 "
            + rows["name"]
            + " "
            + day_text(rows["day"])
            + f" ({who}): AUM "
            + money(rows["aum"])
            + f" ≥ {floor:,.0f}"
        )
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)
    out["kind"] = "festival_greeting"
    return out


def maturity_follow_up(
    as_of: date,
    rule: MaturityFollowUp,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
    maturities: pd.DataFrame,
) -> pd.DataFrame:
    """Products maturing in the next ``within_days`` days with balance ≥ min_balance: one task
    per customer and maturity date (all its products of that day), due on that date."""
    m = maturities.assign(maturity_date=pd.to_datetime(maturities["maturity_date"]))
    start, end = ts(as_of), ts(as_of + timedelta(days=rule.within_days))
    m = m.loc[(m["maturity_date"] > start) & (m["maturity_date"] <= end)]
    m = m.loc[m["balance"] >= rule.min_balance]
    m = m.merge(customers[["customer_id", "branch_id"]], on="customer_id")
    if m.empty:
        return pd.DataFrame()
    m = m.assign(item=m["product_type"].astype(str) + " " + money(m["balance"]))
    grouped = m.groupby(["customer_id", "branch_id", "maturity_date"], as_index=False)
    g = grouped.agg(n=("item", "size"), total=("balance", "sum"), items=("item", "; ".join))
    rows = fan_out(g, rule.roles, assignments, unassigned=True)
    rows["due_date"] = rows["maturity_date"]
    rows["kind"] = "maturity_follow_up"
    rows["rule"] = "maintenance.maturity"
    rows["reason"] = (
        "到期产品 "
        + rows["n"].astype(str)
        + " 笔 ("
        + rows["items"]
        + "), 合计 "
        + money(rows["total"])
        + ", 到期日 "
        + day_text(rows["maturity_date"])
        + f"; 单笔 ≥ {rule.min_balance:,.0f}"
    )
    return rows


def data_collection(
    as_of: date, rule: DataCollection, customers: pd.DataFrame, assignments: pd.DataFrame
) -> pd.DataFrame:
    """Missing profile fields: the VIP counter collects them for vip_min_aum ≤ aum <
    vip_max_aum, the high-counter teller for every other customer with aum ≥ teller_min_aum
    (one collector per customer). Only individuals have a birth date to collect. Due at the
    end of the month of ``as_of + 1``; unassigned tasks go to the branch's pool of the role."""
    lowest = min(rule.teller_min_aum, rule.vip_min_aum)
    c = customers.loc[customers["aum"] >= lowest]
    wanted = [
        tuple(f for f in rule.fields if f != "birth_date" or kind == "individual")
        for kind in ("individual", "other")
    ]
    missing = [
        ", ".join(f for f in wanted[k != "individual"] if f in mf)
        for mf, k in zip(_as_lists(c["missing_fields"]), c["kind"].tolist(), strict=True)
    ]
    c = c.assign(missing=pd.Series(missing, index=c.index, dtype=object))
    c = c.loc[c["missing"] != ""]
    if c.empty:
        return pd.DataFrame()
    vip = (c["aum"] >= rule.vip_min_aum) & (c["aum"] < rule.vip_max_aum)
    teller = (c["aum"] >= rule.teller_min_aum) & ~vip
    parts = []
    for mask, role, floor, ceiling in (
        (vip, rule.vip_role, rule.vip_min_aum, rule.vip_max_aum),
        (teller, rule.teller_role, rule.teller_min_aum, None),
    ):
        rows = fan_out(c.loc[mask, [*_SUBJECT, "missing"]], (role,), assignments, unassigned=True)
        lo, hi = f"{floor:,.0f} ≤ AUM ", (f" < {ceiling:,.0f}" if ceiling is not None else "")
        rows["reason"] = (
            "补全客户资料, 缺 " + rows["missing"] + f" ({lo}" + money(rows["aum"]) + hi + ")"
        )
        parts.append(rows)
    out = pd.concat(parts, ignore_index=True)
    out["due_date"] = ts(month_end(as_of + timedelta(days=1)))
    out["kind"] = "data_collection"
    out["rule"] = "maintenance.data_collection"
    return out


def _as_lists(values: pd.Series) -> list[list[str]]:
    """missing_fields cells (tuple, list, array, comma-separated text or empty) as lists."""
    out: list[list[str]] = []
    for v in values.tolist():
        if isinstance(v, str):
            out.append([p.strip() for p in v.split(",") if p.strip()])
        elif v is None or (isinstance(v, float) and np.isnan(v)):
            out.append([])
        else:
            out.append([str(p) for p in v])
    return out
