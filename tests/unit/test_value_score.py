"""Value score parts, key-customer rule, referral influence, key-account types and cross-sell
on hand-made customers."""

from __future__ import annotations

import numpy as np
import pytest

from tierbook.domain import scoring
from tierbook.domain.key_accounts import (
    EXTRINSIC,
    INTRINSIC,
    PRODUCTS,
    STRATEGIC,
    account_types,
    next_best_products,
)
from tierbook.domain.referrals import referral_influence
from tierbook.rules.models import AssetClass
from tierbook.rules.value import AccountTypes, CrossSell, KeyCustomerSelection, ValueScore

RULE = ValueScore()


def _inputs(**kw: list[float]) -> scoring.ValueInputs:
    n = len(next(iter(kw.values())))
    base = {f: [0.0] * n for f in scoring.ValueInputs.__dataclass_fields__}
    base.update(kw)
    return scoring.ValueInputs(**{k: np.array(v, dtype=float) for k, v in base.items()})


def test_percentile_rank_smallest_zero_largest_one_ties_share() -> None:
    got = scoring.percentile_rank(np.array([5.0, 1.0, 3.0, 3.0, 9.0]))
    # below 5: 1, 3, 3 → 3 of 4 others; 3 and 3: one below, one tie (half) → 1.5 / 4
    assert got.tolist() == [0.75, 0.0, 0.375, 0.375, 1.0]
    assert scoring.percentile_rank(np.array([42.0])).tolist() == [1.0]


@pytest.mark.parametrize(
    ("field", "values", "part", "expected"),
    [
        ("product_types", [0, 2, 4, 7], "product_depth", [0.0, 0.5, 1.0, 1.0]),
        ("tenure_years", [0, 5, 10, 30], "tenure", [0.0, 0.5, 1.0, 1.0]),
        ("referral_value", [-10, 0, 2500, 9000], "referral", [0.0, 0.0, 0.5, 1.0]),
        ("aum_cv", [0.0, 0.25, 1.0, float("nan")], "stability", [1.0, 0.75, 0.0, 0.0]),
        ("profit", [-500, 10, 20, 30], "profit", [0.0, 1 / 3, 2 / 3, 1.0]),
        ("txn_count", [3, 3, 0, 9], "frequency", [0.5, 0.5, 0.0, 1.0]),
    ],
)
def test_score_part_scale(
    field: str, values: list[float], part: str, expected: list[float]
) -> None:
    parts = scoring.score_parts(_inputs(**{field: values}), RULE)
    assert parts[part].tolist() == pytest.approx(expected)


def test_score_is_the_weighted_sum_of_parts_out_of_100() -> None:
    best = _inputs(
        profit=[1.0, 9.0], txn_count=[1.0, 9.0], product_types=[0.0, 4.0],
        tenure_years=[0.0, 10.0], referral_value=[0.0, 5000.0], aum_cv=[np.nan, 0.0],
    )  # fmt: skip
    points, total = scoring.value_score(best, RULE)
    assert total.tolist() == pytest.approx([0.0, 100.0])
    assert points["profit"][1] == pytest.approx(35.0)
    assert points["stability"][1] == pytest.approx(15.0)


def test_coefficient_of_variation_of_monthly_aum() -> None:
    m = np.array([[100.0, 100.0, 100.0], [50.0, 150.0, 100.0], [0.0, 0.0, 0.0]])
    cv = scoring.coefficient_of_variation(m)
    assert cv[0] == 0.0
    assert cv[1] == pytest.approx(np.std([50, 150, 100]) / 100)
    assert np.isnan(cv[2])


def test_key_customers_are_top_share_by_score_above_the_profit_floor_and_not_flagged() -> None:
    score = np.array([90.0, 80.0, 70.0, 60.0, 50.0, 40.0, 30.0, 20.0, 10.0, 5.0])
    profit = np.array([5000.0, 999.0, 3000.0, 2000.0, 2000.0, 1, 1, 1, 1, 1])
    flagged = np.zeros(10, dtype=bool)
    flagged[2] = True
    rule = KeyCustomerSelection(top_share=0.4, min_profit=1000.0, exclude_flagged=True)
    key, reasons = scoring.select_key_customers(score, profit, flagged, rule)
    assert np.flatnonzero(key).tolist() == [0, 3]  # 1: below floor, 2: flagged, 4: outside 40%
    assert "floor" in reasons[1] and "fake big" in reasons[2] and "top 40%" in reasons[4]
    keep = KeyCustomerSelection(top_share=0.4, min_profit=1000.0, exclude_flagged=False)
    assert np.flatnonzero(
        scoring.select_key_customers(score, profit, flagged, keep)[0]
    ).tolist() == [0, 2, 3]


def test_referral_influence_counts_generations_with_decay_and_ignores_losses() -> None:
    edges = [("A", "B"), ("A", "C"), ("B", "D"), ("D", "E"), ("E", "A")]  # a cycle back to A
    profit = {"A": 100.0, "B": 1000.0, "C": -400.0, "D": 600.0, "E": 800.0}
    got = referral_influence(edges, profit, decay=0.5, depth=2)
    assert got["A"].value == pytest.approx(1000.0 + 0.0 + 0.5 * 600.0)
    assert (got["A"].direct, got["A"].reached) == (2, 3)
    assert got["B"].value == pytest.approx(600.0 + 0.5 * 800.0)
    assert "C" not in got


def _held(*rows: tuple[AssetClass, ...]) -> np.ndarray:
    out = np.zeros((len(rows), len(PRODUCTS)), dtype=bool)
    for i, row in enumerate(rows):
        for p in row:
            out[i, PRODUCTS.index(p)] = True
    return out


def test_key_account_types_of_corporates() -> None:
    a = AssetClass
    held = _held(
        (a.DEMAND_DEPOSIT, a.TIME_DEPOSIT, a.LOAN, a.WEALTH_MANAGEMENT),  # broad, long, credit
        (a.DEMAND_DEPOSIT, a.TIME_DEPOSIT, a.LOAN, a.WEALTH_MANAGEMENT),  # same, but 2 years
        (a.DEMAND_DEPOSIT, a.FUND),
        (a.DEMAND_DEPOSIT, a.TIME_DEPOSIT),
        (a.DEMAND_DEPOSIT, a.FUND),  # an individual
    )
    tenure = np.array([8.0, 2.0, 9.0, 9.0, 9.0])
    org = np.array([True, True, True, True, False])
    kinds, reasons = account_types(held, tenure, np.zeros(5), org, AccountTypes())
    assert kinds == [STRATEGIC, EXTRINSIC, EXTRINSIC, INTRINSIC, ""]
    assert "with credit" in reasons[0]


def test_next_best_product_is_what_most_tier_peers_hold_and_the_customer_does_not() -> None:
    a = AssetClass
    held = _held(
        (a.DEMAND_DEPOSIT,),  # candidate in 金卡
        (a.DEMAND_DEPOSIT, a.FUND, a.TIME_DEPOSIT),
        (a.DEMAND_DEPOSIT, a.FUND, a.TIME_DEPOSIT),
        (a.DEMAND_DEPOSIT, a.FUND),
        (a.DEMAND_DEPOSIT, a.INSURANCE),
        (a.DEMAND_DEPOSIT,),  # candidate in 白金, alone with one peer
        (a.DEMAND_DEPOSIT, a.LOAN),
    )
    tier = ["金卡"] * 5 + ["白金"] * 2
    cand = np.array([True, False, False, False, False, True, False])
    got = next_best_products(held, tier, cand, CrossSell(min_peer_share=0.5, max_products=2))
    as_pairs = [(s.row, s.product, round(s.peer_share, 2), s.peers) for s in got]
    assert as_pairs == [
        (5, a.LOAN, 1.0, 1),
        (0, a.FUND, 0.75, 4),
        (0, a.TIME_DEPOSIT, 0.5, 4),
    ]
