"""Concentration: Pareto curve, top share, Gini, 20/60/20 — properties and hand computations."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tierbook.domain import concentration as cc

amounts = st.floats(min_value=0, max_value=1e7, allow_nan=False, allow_infinity=False)
signed = st.floats(min_value=-1e6, max_value=1e7, allow_nan=False, allow_infinity=False)


@given(st.lists(amounts, min_size=1, max_size=200).filter(lambda xs: sum(xs) > 1e-6))
def test_pareto_shares_of_non_negative_profits_are_monotone_and_end_at_100pct(
    xs: list[float],
) -> None:
    share, cum = cc.pareto_curve(np.array(xs))
    assert np.all(np.diff(cum) >= -1e-12)
    assert cum[-1] == pytest.approx(1.0)
    assert share[-1] == 1.0 and np.all(np.diff(share) > 0)


@given(st.lists(signed, min_size=1, max_size=200).filter(lambda xs: sum(xs) > 1.0))
def test_with_losses_the_curve_is_concave_rises_while_profits_are_positive_and_ends_at_100pct(
    xs: list[float],
) -> None:
    _, cum = cc.pareto_curve(np.array(xs))
    steps = np.diff(np.r_[0.0, cum])
    assert np.all(np.diff(steps) <= 1e-9)  # each customer adds no more than the one before
    positive = int((np.array(xs) > 0).sum())
    assert np.all(np.diff(cum[:positive]) >= -1e-12)
    assert cum[-1] == pytest.approx(1.0)


def test_pareto_needs_a_positive_total() -> None:
    with pytest.raises(ValueError, match="positive total"):
        cc.pareto_curve(np.array([-5.0, 3.0]))


def test_top_share_of_an_80_20_bank() -> None:
    # 2 customers of 10 bring 80 of 100
    profits = np.array([50.0, 30.0] + [20.0 / 8] * 8)
    assert cc.top_share(profits, 0.2) == pytest.approx(0.8)
    assert cc.top_share(profits, 0.15) == pytest.approx(0.8)  # ceil(1.5) = 2 customers


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # Σ|xi−xj| over ordered pairs ÷ (2 n² mean): [1,2,3,4] → 20 / 80
        ([1.0, 2.0, 3.0, 4.0], 0.25),
        ([5.0, 5.0, 5.0], 0.0),
        ([0.0, 0.0, 0.0, 10.0], 0.75),  # one holds everything: (n−1)/n
        ([-3.0, 0.0, 0.0, 10.0], 0.75),  # losses count as zero
    ],
)
def test_gini_against_hand_computation(values: list[float], expected: float) -> None:
    assert cc.gini(np.array(values)) == pytest.approx(expected)


@given(st.lists(amounts, min_size=1, max_size=60))
def test_gini_equals_the_mean_absolute_difference_definition(xs: list[float]) -> None:
    x = np.array(xs)
    if x.sum() == 0:
        assert cc.gini(x) == 0.0
        return
    # n² × mean written as n × sum: the mean of tiny amounts underflows to 0 (0 and 5e-324)
    direct = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) * x.sum())
    assert cc.gini(x) == pytest.approx(direct, rel=1e-9, abs=1e-12)


@given(
    st.lists(signed, min_size=0, max_size=300),
    st.floats(min_value=0.01, max_value=0.49),
    st.floats(min_value=0.01, max_value=0.49),
)
def test_206020_groups_partition_the_customers(xs: list[float], top: float, bottom: float) -> None:
    x = np.array(xs, dtype=float)
    g = cc.split_groups(x, top, bottom)
    n = len(x)
    assert len(g) == n and set(g.tolist()) <= {cc.VALUABLE, cc.KEEP, cc.COSTLY}
    k_top = round(top * n)
    assert int((g == cc.VALUABLE).sum()) == k_top
    assert int((g == cc.COSTLY).sum()) == min(round(bottom * n), n - k_top)
    if (g == cc.VALUABLE).any() and (g == cc.KEEP).any():
        assert x[g == cc.VALUABLE].min() >= x[g == cc.KEEP].max()
    if (g == cc.COSTLY).any() and (g == cc.KEEP).any():
        assert x[g == cc.KEEP].min() >= x[g == cc.COSTLY].max()


def test_206020_on_ten_customers() -> None:
    g = cc.split_groups(np.array([5.0, -2.0, 9.0, 1.0, 0.0, 3.0, 7.0, 2.0, -8.0, 4.0]), 0.2, 0.2)
    names = [cc.GROUP_NAMES[i] for i in g]
    assert [i for i, n in enumerate(names) if n == "valuable"] == [2, 6]
    assert [i for i, n in enumerate(names) if n == "costly"] == [1, 8]
