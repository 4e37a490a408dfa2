"""Membership analysis of a run (seed 004 VIP分析项目): monthly base, new members, new vs
old, purchase frequency, basket, category trend, contribution rate by level and ABC class,
dead-card rate (死卡率), and every member's ABC class and purchase types.

A member is a customer with at least one purchase; it joins in the month of its first
purchase. "New" members joined inside the review window (12 months), "old" before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierbook.analytics import membership as expr
from tierbook.domain.membership import (
    TYPE_LABELS,
    PurchaseHistory,
    abc_classes,
    is_dead,
    purchase_types,
)
from tierbook.domain.periods import ReviewCalendar
from tierbook.rules.analyses import MembershipAnalysis


@dataclass
class MembershipResult:
    monthly: pd.DataFrame
    members: pd.DataFrame
    categories: pd.DataFrame
    contribution: pd.DataFrame


def _matrix(mm: pd.DataFrame, ids: pd.Index, lo: int, width: int, col: str) -> np.ndarray:
    m = np.zeros((len(ids), width))
    np.add.at(m, (ids.get_indexer(mm["customer_id"]), mm["month"].to_numpy() - lo), mm[col])
    return m


def monthly_table(
    mm: pd.DataFrame, cal: ReviewCalendar, rules: MembershipAnalysis
) -> tuple[pd.DataFrame, pd.Index, np.ndarray]:
    """Per review month: base, new, active, dead, sales of new and old members, baskets.
    ``mm``: ``member_months``; returns also the member ids and their sales in the window."""
    ids = pd.Index(sorted(mm["customer_id"].unique()))
    lo = min(int(mm["month"].min()), 0) if len(mm) else 0
    width = cal.n_months - lo
    sales, count, items = (_matrix(mm, ids, lo, width, c) for c in ("sales", "purchases", "items"))
    active = count > 0
    first = np.where(active.any(axis=1), active.argmax(axis=1), 10**6)
    last = np.maximum.accumulate(np.where(active, np.arange(width), -1), axis=1)
    window = cal.review_months[0] - lo
    new_member = first >= window
    rows = []
    for m in cal.review_months:
        col = m - lo
        base = first <= col
        since = col - last[:, col]
        dead = base & np.asarray(
            [is_dead(None if last[i, col] < 0 else int(since[i]), rules) for i in range(len(ids))],
            dtype=bool,
        )
        act = active[:, col]
        n_p, s_m, i_m = count[:, col].sum(), sales[:, col].sum(), items[:, col].sum()
        rows.append(
            {
                "month": cal.month_ends[m],
                "base": int(base.sum()),
                "new": int((first == col).sum()),
                "active": int(act.sum()),
                "dead": int(dead.sum()),
                "dead_rate": round(float(dead.sum() / max(base.sum(), 1)), 4),
                "sales": round(float(s_m), 2),
                "sales_new_members": round(float(sales[new_member, col].sum()), 2),
                "sales_old_members": round(float(sales[~new_member, col].sum()), 2),
                "purchases": int(n_p),
                "frequency": round(float(n_p / max(act.sum(), 1)), 4),
                "basket_amount": round(float(s_m / n_p), 2) if n_p else 0.0,
                "basket_items": round(float(i_m / n_p), 4) if n_p else 0.0,
                "unit_price": round(float(s_m / i_m), 2) if i_m else 0.0,
            }
        )
    return pd.DataFrame(rows), ids, sales[:, window:].sum(axis=1)


def member_table(
    rows: pd.DataFrame, ids: pd.Index, year_sales: np.ndarray, rules: MembershipAnalysis
) -> pd.DataFrame:
    """Per member: purchases to date, sales in the window, ABC class, purchase types."""
    pt = rules.purchase_types
    epoch = pd.Timestamp("1970-01-01")
    rows = rows.assign(day=(pd.to_datetime(rows["date"]) - epoch).dt.days)
    per_member = rows.groupby("customer_id")
    stats = per_member.agg(
        purchases=("amount", "size"), sales_to_date=("amount", "sum"), items=("items", "sum"),
        first_purchase=("date", "min"), last_purchase=("date", "max"),
    ).reindex(ids)  # fmt: skip
    unit = (stats["sales_to_date"] / stats["items"].where(stats["items"] > 0)).fillna(0.0)
    line = float(unit.quantile(pt.high_price_quantile)) if len(unit) else 0.0
    types = []
    for cid, g in per_member:
        h = PurchaseHistory(
            g["day"].tolist(), g["amount"].tolist(), [int(k) for k in g["items"]],
            [bool(v) for v in g["discounted"]], [bool(v) for v in g["new_arrival"]],
        )  # fmt: skip
        types.append((cid, ",".join(TYPE_LABELS[x] for x in purchase_types(h, line, pt))))
    type_of = dict(types)
    out = stats.reset_index().rename(columns={"index": "customer_id"})
    out["sales_in_window"] = np.round(year_sales, 2)
    out["abc_class"] = abc_classes(year_sales.tolist(), rules)
    out["purchase_types"] = [type_of.get(c, "") for c in out["customer_id"]]
    return out


def contribution_table(members: pd.DataFrame) -> pd.DataFrame:
    """Contribution rate (贡献率): share of the window's sales by level and by ABC class."""
    total = max(float(members["sales_in_window"].sum()), 1e-9)
    parts = []
    for by in ("level", "abc_class"):
        g = members.groupby(by)["sales_in_window"].agg(members="size", sales="sum")
        g["contribution_rate"] = (g["sales"] / total).round(4)
        g["sales_per_member"] = (g["sales"] / g["members"]).round(2)
        parts.append(g.reset_index().rename(columns={by: "group"}).assign(by=by))
    return pd.concat(parts, ignore_index=True)[
        ["by", "group", "members", "sales", "contribution_rate", "sales_per_member"]
    ]


def analyse_membership(
    purchases: object, cal: ReviewCalendar, rules: MembershipAnalysis, levels: pd.Series
) -> MembershipResult:
    """``purchases``: the Ibis purchases table; ``levels``: membership level by customer id."""
    mm = expr.member_months(purchases, cal).to_pandas()  # type: ignore[arg-type]
    monthly, ids, year_sales = monthly_table(mm, cal, rules)
    rows = expr.purchase_rows(purchases, cal.as_of).to_pandas()  # type: ignore[arg-type]
    members = member_table(rows, ids, year_sales, rules)
    members.insert(1, "level", levels.reindex(members["customer_id"]).to_numpy())
    cats = expr.category_months(purchases, cal).to_pandas()  # type: ignore[arg-type]
    cats["month"] = [cal.month_ends[m] for m in cats["month"]]
    month_sales = cats.groupby("month")["sales"].transform("sum")
    cats["share_of_month"] = (cats["sales"] / month_sales).round(4)
    cats = cats.sort_values(["month", "category"], ignore_index=True)
    return MembershipResult(monthly, members, cats, contribution_table(members))
