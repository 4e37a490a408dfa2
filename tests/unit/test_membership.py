"""Membership analysis (seed 004) on four hand-made members, checked against a hand count."""

from __future__ import annotations

from datetime import date

import ibis
import pandas as pd
import pytest

from tierbook.batch.membership import analyse_membership
from tierbook.domain.membership import PurchaseHistory, abc_classes, is_dead, purchase_types
from tierbook.domain.periods import review_calendar
from tierbook.rules.analyses import MembershipAnalysis, PurchaseTypes

RULES = MembershipAnalysis(dead_after_months=6, abc_a_share=0.7, abc_b_share=0.9)
AS_OF = date(2025, 6, 30)  # review window: July 2024 – June 2025
ROWS = [
    # member, date, amount, category, items, discount, new arrival
    ("A", date(2024, 3, 10), 20.0, "上衣", 1, 0.0, True),  # joined before the window
    ("A", date(2025, 1, 5), 100.0, "上衣", 2, 0.2, False),
    ("A", date(2025, 1, 20), 50.0, "裤装", 1, 0.3, False),
    ("A", date(2025, 6, 1), 300.0, "上衣", 3, 0.0, False),
    ("B", date(2024, 8, 15), 200.0, "外套", 1, 0.0, False),  # silent since August 2024
    ("C", date(2025, 6, 10), 80.0, "裤装", 1, 0.0, False),  # new in June
    ("D", date(2024, 12, 31), 40.0, "配饰", 1, 0.0, False),
    ("D", date(2025, 1, 31), 60.0, "配饰", 2, 0.0, False),
    ("E", date(2025, 7, 1), 999.0, "外套", 1, 0.0, False),  # after the as-of date: unseen
]
LEVELS = pd.Series({"A": "VIP会员", "B": "普通会员", "C": "普通会员", "D": "普通会员"})


@pytest.fixture(scope="module")
def result():  # type: ignore[no-untyped-def]
    frame = pd.DataFrame(
        ROWS,
        columns=["customer_id", "date", "amount", "category", "items", "discount", "new_arrival"],
    )
    frame.insert(0, "purchase_id", [f"P{i}" for i in range(len(frame))])
    return analyse_membership(ibis.memtable(frame), review_calendar(AS_OF, 12), RULES, LEVELS)


def _month(result, d: date) -> dict[str, object]:  # type: ignore[no-untyped-def]
    m = result.monthly
    return m[m["month"] == d].iloc[0].to_dict()


def test_june_base_new_active_dead_and_baskets_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    june = _month(result, date(2025, 6, 30))
    assert (june["base"], june["new"], june["active"], june["dead"]) == (4, 1, 2, 1)
    assert june["dead_rate"] == 0.25
    assert (june["sales"], june["purchases"], june["frequency"]) == (380.0, 2, 1.0)
    assert (june["basket_amount"], june["basket_items"], june["unit_price"]) == (190.0, 2.0, 95.0)
    # new members joined inside the window (B, C, D); A is old
    assert (june["sales_new_members"], june["sales_old_members"]) == (80.0, 300.0)


def test_january_counts_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    jan = _month(result, date(2025, 1, 31))
    assert (jan["base"], jan["new"], jan["active"], jan["dead"]) == (3, 0, 2, 0)
    assert (jan["sales"], jan["purchases"], jan["basket_items"]) == (210.0, 3, round(5 / 3, 4))


def test_card_is_dead_six_months_after_the_last_purchase(result) -> None:  # type: ignore[no-untyped-def]
    # B bought in August 2024: five months later (January) alive, six (February) dead
    assert _month(result, date(2025, 1, 31))["dead"] == 0
    assert _month(result, date(2025, 2, 28))["dead"] == 1
    assert _month(result, date(2024, 7, 31))["base"] == 1  # only A had joined


def test_abc_classes_and_contribution_rates_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    m = result.members.set_index("customer_id")
    # window sales A 450, B 200, D 100, C 80 (830): A starts at 0%, B at 54%, D at 78%, C at 90%
    assert m["sales_in_window"].to_dict() == {"A": 450.0, "B": 200.0, "C": 80.0, "D": 100.0}
    assert m["abc_class"].to_dict() == {"A": "A", "B": "A", "C": "C", "D": "B"}
    c = result.contribution.set_index(["by", "group"])
    assert c.loc[("level", "VIP会员"), "contribution_rate"] == round(450 / 830, 4)
    assert c.loc[("abc_class", "A"), "contribution_rate"] == round(650 / 830, 4)
    assert "E" not in m.index


def test_purchase_types_only_after_three_purchases(result) -> None:  # type: ignore[no-untyped-def]
    m = result.members.set_index("customer_id")
    # A: 4 purchases, 2 with a discount (50% → 促销型), 1.75 items, every 149 days
    assert m.loc["A", "purchase_types"] == "促销型"
    assert m.loc["D", "purchase_types"] == ""


def test_category_trend_shares_by_hand(result) -> None:  # type: ignore[no-untyped-def]
    c = result.categories
    june = c[c["month"] == date(2025, 6, 30)].set_index("category")
    assert june["sales"].to_dict() == {"上衣": 300.0, "裤装": 80.0}
    assert june.loc["上衣", "share_of_month"] == round(300 / 380, 4)


@pytest.mark.parametrize(
    ("sales", "classes"),
    [
        ([70.0, 20.0, 10.0], ["A", "B", "C"]),  # the member reaching exactly 70% is A
        ([69.0, 21.0, 10.0], ["A", "A", "C"]),  # 69% is below the line: the next is A too
        ([50.0, 0.0, 50.0], ["A", "C", "A"]),
        ([0.0, 0.0], ["C", "C"]),
    ],
)
def test_abc_lines(sales: list[float], classes: list[str]) -> None:
    assert abc_classes(sales, RULES) == classes


def test_dead_card_line_is_inclusive() -> None:
    assert not is_dead(5, RULES) and is_dead(6, RULES) and is_dead(None, RULES)


PT = PurchaseTypes()


def history(n: int = 3, *, gap: int = 60, amount: float = 100.0, items: int = 1,
            discounted: bool = False, new: bool = False) -> PurchaseHistory:  # fmt: skip
    return PurchaseHistory([k * gap for k in range(n)], [amount] * n, [items] * n,
                           [discounted] * n, [new] * n)  # fmt: skip


@pytest.mark.parametrize(
    ("h", "types"),
    [
        (history(2), []),
        (history(), ["single_item"]),
        (history(items=3, amount=30.0), ["bulk"]),
        (history(gap=30, items=2), ["frequent"]),
        (history(gap=31, items=2), []),
        (history(discounted=True, items=2), ["promotion"]),
        (history(new=True, items=2), ["new_arrival"]),
        (history(amount=500.0, items=2), ["high_price"]),
    ],
)
def test_purchase_type_rules(h: PurchaseHistory, types: list[str]) -> None:
    assert purchase_types(h, unit_price_line=200.0, rules=PT) == types
