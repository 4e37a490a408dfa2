"""Fake-big detectors on hand-made customers: each rule and its boundaries, read as rules."""

from __future__ import annotations

import numpy as np
import pytest

from tierbook.domain import detectors as det
from tierbook.rules.value import BulkDetector, HighVolumeLowProfit, PeelerDetector

CARD = (0.0, 100_000.0, 300_000.0, 500_000.0, 1_000_000.0, 6_000_000.0)
BULK = BulkDetector()


def _shape(**kw: float) -> det.BalanceShape:
    """One customer's balance shape; the thresholds follow from the balances and CARD."""
    year_avg = kw.get("year_avg", 30_000.0)
    held_avg = kw.get("held_avg", year_avg)
    peak = kw["peak"]
    values = {
        "year_avg": year_avg,
        "held_avg": held_avg,
        "peak": peak,
        "start_balance": kw.get("start_balance", year_avg),
        "end_balance": kw.get("end_balance", year_avg),
        "period_end_max": kw.get("period_end_max", year_avg),
        "peak_threshold": float(det.reached_threshold(np.array([peak]), CARD)[0]),
        "avg_threshold": float(det.reached_threshold(np.array([held_avg]), CARD)[0]),
        "days_above": kw.get("days_above", 5.0),
        "dressed_dates": kw.get("dressed_dates", 0.0),
        "round_trip": kw.get("round_trip", 0.0),
    }
    return det.BalanceShape(**{k: np.array([v]) for k, v in values.items()})


# A 2,000,000 parking on a 30,000 account around one month end: in just before, out after.
WINDOW_DRESSING = {
    "peak": 2_030_000.0,
    "period_end_max": 2_030_000.0,
    "dressed_dates": 1.0,
    "round_trip": 2_000_000.0,
    "days_above": 4.0,
}


@pytest.mark.parametrize(
    ("case", "shape", "expected"),
    [
        ("pure window dressing", WINDOW_DRESSING, det.WINDOW_DRESSING),
        ("burst mid-month, no measurement date inside", {"peak": 2_030_000.0}, det.ONE_OFF_BULK),
        (
            "parked over a month end but no round trip of the money: a bulk, not dressing",
            {**WINDOW_DRESSING, "round_trip": 0.0},
            det.ONE_OFF_BULK,
        ),
        (
            "round trip of exactly half the excess is dressing",
            {**WINDOW_DRESSING, "round_trip": 0.5 * (2_030_000.0 - 30_000.0)},
            det.WINDOW_DRESSING,
        ),
        (
            "steady large depositor: 3,000,000 all year",
            {
                "year_avg": 3e6,
                "peak": 3.1e6,
                "end_balance": 3e6,
                "days_above": 365.0,
                "period_end_max": 3.05e6,
                "dressed_dates": 12.0,
                "round_trip": 0.0,
            },
            "",
        ),
        (
            "held above the tier for 61 days in all is not parking",
            {**WINDOW_DRESSING, "days_above": 61.0},
            "",
        ),
        (
            "held for exactly max_days_above days still is",
            {**WINDOW_DRESSING, "days_above": 60.0},
            det.WINDOW_DRESSING,
        ),
        (
            "already high on the first day of the window: not seen to arrive",
            {**WINDOW_DRESSING, "start_balance": 2_030_000.0},
            "",
        ),
        (
            "still there at the as-of date: not gone, not flagged",
            {**WINDOW_DRESSING, "end_balance": 2_000_000.0},
            "",
        ),
        ("peak below 5 × 年日均", {"year_avg": 100_000.0, "peak": 499_999.0}, ""),
        (
            "peak at exactly 5 × 年日均 and 400,000 above it",
            {"year_avg": 100_000.0, "peak": 500_000.0},
            det.ONE_OFF_BULK,
        ),
        (
            "spike inside the same tier as the average",
            {"year_avg": 1_100_000.0, "peak": 5_900_000.0},
            "",
        ),
        ("excess below min_excess", {"year_avg": 2_000.0, "peak": 150_000.0}, ""),
        (
            "joined late: compared with its balance since joining, not with the whole year",
            {"year_avg": 40_000.0, "held_avg": 480_000.0, "peak": 520_000.0},
            "",
        ),
    ],
)
def test_bulk_detector(case: str, shape: dict[str, float], expected: str) -> None:
    assert det.bulk(_shape(**shape), BULK)[0] == expected, case


def test_reached_threshold_is_inclusive() -> None:
    got = det.reached_threshold(np.array([0.0, 99_999.99, 100_000.0, 7e6]), CARD)
    assert got.tolist() == [0.0, 0.0, 100_000.0, 6_000_000.0]


def _population() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """100 ordinary customers (turnover 1–100万, profit 1% of turnover, healthy rate)."""
    volume = np.linspace(10_000, 1_000_000, 100)
    contribution = volume * 0.012
    return volume, volume * 0.01, contribution


HV = HighVolumeLowProfit()


@pytest.mark.parametrize(
    ("case", "volume", "profit", "contribution", "flagged"),
    [
        ("pass-through turnover 1亿 earning 150", 1e8, 150.0, 4_000.0, True),
        ("huge turnover with a healthy margin", 1e8, 1.2e6, 1.4e6, False),
        ("thin margin but ordinary turnover", 50_000.0, 1.0, 40.0, False),
        ("large turnover, low margin, but profit 50% of contribution", 1e8, 150.0, 300.0, False),
        ("large turnover and a loss", 1e8, -500.0, 1_000.0, True),
    ],
)
def test_high_volume_low_profit(
    case: str, volume: float, profit: float, contribution: float, flagged: bool
) -> None:
    v, p, c = _population()
    v, p, c = np.r_[v, volume], np.r_[p, profit], np.r_[c, contribution]
    res = det.high_volume_low_profit(v, p, c, np.zeros(len(v), dtype=bool), HV)
    assert bool(res.flag[-1]) is flagged, case
    assert not res.flag[:-1].any()


def test_a_peeler_with_high_volume_is_reported_as_a_peeler_only() -> None:
    v, p, c = _population()
    v, p, c = np.r_[v, 1e8], np.r_[p, -5_000.0], np.r_[c, 4_000.0]
    peelers = np.zeros(len(v), dtype=bool)
    peelers[-1] = True
    assert not det.high_volume_low_profit(v, p, c, peelers, HV).flag[-1]


def test_volume_percentile_of_the_largest_is_one_and_customers_without_turnover_zero() -> None:
    res = det.high_volume_low_profit(
        np.array([0.0, 10.0, 20.0]), np.zeros(3), np.ones(3), np.zeros(3, dtype=bool), HV
    )
    assert res.volume_pct.tolist() == [0.0, 0.0, 1.0]
    assert np.isnan(res.margin[0])


PEEL = PeelerDetector()


@pytest.mark.parametrize(
    ("case", "concessions", "contribution", "flagged"),
    [
        ("concessions 1.8 × contribution", 18_000.0, 10_000.0, True),
        ("concessions equal to contribution do not exceed it", 10_000.0, 10_000.0, False),
        ("just above", 10_000.01, 10_000.0, True),
        ("ordinary waivers, 20% of contribution", 2_000.0, 10_000.0, False),
        ("exceeds but below min_concessions", 900.0, 100.0, False),
        ("concessions with nothing contributed", 5_000.0, 0.0, True),
    ],
)
def test_peeler(case: str, concessions: float, contribution: float, flagged: bool) -> None:
    flag, ratio = det.peeler(np.array([concessions]), np.array([contribution]), PEEL)
    assert bool(flag[0]) is flagged, case
    if contribution > 0:
        assert ratio[0] == pytest.approx(concessions / contribution)
