"""Tier ladders: thresholds of every preset, as the seeds state them, and the policies."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.seed_rules import SEED_LADDERS
from tierbook.domain.tiers import (
    DOWNGRADE,
    STEPS,
    UPGRADE,
    WATCH,
    annual_keep,
    apply_policy,
    classify,
    classify_array,
)
from tierbook.rules import load_preset
from tierbook.rules.models import AnnualKeepPolicy, Ladder, Level, SlowDownPolicy

BOUNDARY_CASES = [
    pytest.param(preset, ladder, amount, expected, id=f"{preset}-{ladder}-{amount}")
    for (preset, ladder), levels in SEED_LADDERS.items()
    for (below_name, _), (name, minimum) in itertools.pairwise(levels)
    for amount, expected in ((minimum, name), (round(minimum - 0.01, 2), below_name))
]


@pytest.mark.parametrize(("preset", "ladder_id", "amount", "expected"), BOUNDARY_CASES)
def test_threshold_is_inclusive_and_a_cent_below_is_the_level_under(
    preset: str, ladder_id: str, amount: float, expected: str
) -> None:
    ladder = load_preset(preset).rulebook.ladder(ladder_id)
    assert classify(amount, ladder).name == expected


def test_customer_at_exactly_100000_is_gold_and_99999_99_is_ordinary() -> None:
    card = load_preset().rulebook.ladder("card_tiers")
    assert classify(100_000, card).name == "金卡"
    assert classify(99_999.99, card).name == "普通"


def test_200000_of_funds_alone_weighs_100000_and_is_gold() -> None:
    rb = load_preset().rulebook
    weighted = 200_000 * rb.asset_weights["fund"]
    assert weighted == 100_000
    assert classify(weighted, rb.ladder("card_tiers")).name == "金卡"


def test_floating_point_noise_at_a_threshold_does_not_change_the_level() -> None:
    card = load_preset().rulebook.ladder("card_tiers")
    noisy = np.array([0.1 + 0.2 - 0.3 + 100_000, 99_999.999999999])
    assert list(classify_array(noisy, card)) == [1, 1]


@given(st.lists(st.floats(min_value=0, max_value=2e7, allow_nan=False), min_size=2))
def test_tier_is_monotonic_in_aum(amounts: list[float]) -> None:
    card = load_preset().rulebook.ladder("card_tiers")
    xs = np.sort(np.asarray(amounts))
    assert np.all(np.diff(classify_array(xs, card)) >= 0)


def _ladder(policy: object) -> Ladder:
    return Ladder(
        id="t",
        title="t",
        policy=policy,  # type: ignore[arg-type]
        levels=(Level(name="A", min=0), Level(name="B", min=100), Level(name="C", min=300)),
    )


def _run(policy: object, seq: list[float]) -> tuple[list[str], list[str]]:
    lad = _ladder(policy)
    path = apply_policy(lad, np.asarray([seq], dtype=float))
    names = [lad.levels[i].name for i in path.levels[0]]
    return names, [STEPS[s] for s in path.steps[0]]


def test_immediate_policy_follows_the_measure_up_and_down() -> None:
    names, _ = _run({"kind": "immediate"}, [0, 150, 350, 120, 50])
    assert names == ["A", "B", "C", "B", "A"]


def test_upgrade_is_immediate_under_slow_down() -> None:
    names, steps = _run(SlowDownPolicy(), [50, 320])
    assert names == ["A", "C"]
    assert steps[1] == "upgrade"


def test_downgrade_waits_for_three_months_of_watch_and_three_more() -> None:
    # C held, then 6 months below C's minimum: watch from the 3rd month, drop on the 6th.
    seq = [350, 150, 150, 150, 150, 150, 150]
    names, steps = _run(SlowDownPolicy(watch_after=3, drop_after=3, lookback=6), seq)
    assert names == ["C", "C", "C", "C", "C", "C", "B"]
    assert steps == ["initial", "below", "below", "watch", "watch", "watch", "downgrade"]


def test_drop_goes_to_the_best_level_of_the_last_six_months() -> None:
    # Below C for six months, touching B once and otherwise A: drops to B, not A.
    seq = [350, 50, 50, 150, 50, 50, 50]
    names, _ = _run(SlowDownPolicy(watch_after=3, drop_after=3, lookback=6), seq)
    assert names[-1] == "B"


def test_one_month_back_at_level_resets_the_watch() -> None:
    seq = [350, 150, 150, 150, 310, 150, 150, 150]
    names, steps = _run(SlowDownPolicy(watch_after=3, drop_after=3, lookback=6), seq)
    assert names == ["C"] * 8
    assert steps[4] == "keep" and steps[-1] == "watch"


def test_customer_does_not_flap_around_a_threshold() -> None:
    seq = [310, 290, 310, 290, 310, 290, 310, 290]
    names, _ = _run(SlowDownPolicy(), seq)
    assert set(names) == {"C"}
    immediate, _ = _run({"kind": "immediate"}, seq)
    assert immediate.count("B") == 4


MEMBERSHIP = load_preset("retail_membership").rulebook.ladder("membership")


def _membership(spend: list[float], largest: list[float]) -> list[str]:
    path = annual_keep(
        MEMBERSHIP,
        np.asarray([spend], float),
        np.asarray([largest], float),
        AnnualKeepPolicy(review_months=12),
    )
    return [MEMBERSHIP.levels[i].name for i in path.levels[0]]


def test_single_purchase_of_1000_makes_a_senior_member_at_once() -> None:
    assert _membership([1000.0], [1000.0]) == ["高级会员"]


def test_cumulative_4000_makes_vip_and_single_3500_makes_supreme() -> None:
    assert _membership([2000, 2000], [500, 500])[-1] == "VIP会员"
    assert _membership([3500], [3500]) == ["至尊VIP"]


def test_member_keeps_vip_with_2499_a_year_and_drops_below_it() -> None:
    spend = [4000.0] + [0.0] * 11 + [2499.0] + [0.0] * 11
    largest = [1000.0] + [0.0] * 11 + [1000.0] + [0.0] * 11
    # Year one: 4000 spent → VIP, kept (4000 ≥ 2499). Year two: 2499 → kept exactly.
    assert _membership(spend, largest)[23] == "VIP会员"
    spend[12] = 2498.0
    # 2498 < 2499 but ≥ 1099: falls to 高级会员 at the second review.
    assert _membership(spend, largest)[23] == "高级会员"


def test_a_dropped_member_must_qualify_afresh() -> None:
    spend = [4000.0] + [0.0] * 11 + [1500.0] + [0.0] * 11 + [600.0]
    largest = [1000.0] + [0.0] * 11 + [900.0] + [0.0] * 11 + [600.0]
    levels = _membership(spend, largest)
    assert levels[23] == "高级会员"  # 1500 in year two keeps only 高级会员
    assert levels[24] == "高级会员"  # 600 since the drop does not re-qualify for VIP


def test_steps_are_named_for_each_decision() -> None:
    assert (
        STEPS[UPGRADE] == "upgrade" and STEPS[WATCH] == "watch" and STEPS[DOWNGRADE] == "downgrade"
    )
