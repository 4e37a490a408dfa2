"""Membership analysis rules (seed 004, VIP 客户管理与维护). Pure.

- ABC classes (ABC类VIP): members ranked by sales; A are the top members whose sales reach
  ``abc_a_share`` of the total (the member crossing the line is A), B go on to
  ``abc_b_share``, C are the rest (members without sales are C).
- Dead card (死卡): a member whose last purchase is ``dead_after_months`` or more months
  before the month in question.
- Purchase types after ``min_purchases`` purchases (在顾客购买三次后 … 划分类型): 新货型
  new-arrival, 促销型 promotion, 批量型 bulk, 多次型 frequent, 单品型 single-item,
  高价型 high-price; a member takes every type whose rule it meets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tierbook.rules.analyses import MembershipAnalysis, PurchaseTypes

TYPE_LABELS: dict[str, str] = {
    "new_arrival": "新货型",
    "promotion": "促销型",
    "bulk": "批量型",
    "frequent": "多次型",
    "single_item": "单品型",
    "high_price": "高价型",
}


def abc_classes(sales: Sequence[float], rules: MembershipAnalysis) -> list[str]:
    """A/B/C per member, in the order given."""
    total = sum(s for s in sales if s > 0)
    order = sorted(range(len(sales)), key=lambda i: (-sales[i], i))
    out = ["C"] * len(sales)
    running = 0.0
    for i in order:
        if sales[i] <= 0 or total <= 0:
            break
        before = running / total
        running += sales[i]
        if before < rules.abc_a_share:
            out[i] = "A"
        elif before < rules.abc_b_share:
            out[i] = "B"
    return out


def is_dead(months_since_last: int | None, rules: MembershipAnalysis) -> bool:
    """``months_since_last``: whole months from the last purchase's month; None: never."""
    return months_since_last is None or months_since_last >= rules.dead_after_months


@dataclass(frozen=True)
class PurchaseHistory:
    """One member's purchases to date (same length, in date order)."""

    days: Sequence[int]  # day numbers (any epoch)
    amounts: Sequence[float]
    items: Sequence[int]
    discounted: Sequence[bool]
    new_arrival: Sequence[bool]


def purchase_types(h: PurchaseHistory, unit_price_line: float, rules: PurchaseTypes) -> list[str]:
    """The member's purchase types; empty before ``min_purchases`` purchases.
    ``unit_price_line``: the ``high_price_quantile`` of all members' mean unit prices."""
    n = len(h.days)
    if n < rules.min_purchases:
        return []
    items = sum(h.items)
    gaps = (h.days[-1] - h.days[0]) / (n - 1)
    checks = {
        "new_arrival": sum(h.new_arrival) / n >= rules.new_arrival_share,
        "promotion": sum(h.discounted) / n >= rules.promotion_share,
        "bulk": items / n >= rules.bulk_items,
        "frequent": gaps <= rules.frequent_days,
        "single_item": sum(1 for k in h.items if k == 1) / n >= rules.single_item_share,
        "high_price": items > 0 and sum(h.amounts) / items > unit_price_line,
    }
    return [t for t in TYPE_LABELS if checks[t]]
