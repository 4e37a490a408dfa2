"""Fake-big-customer detectors (SPEC §3.5, seeds 000–002). Pure: arrays in, flags out.

(a) ``bulk``: a weighted-AUM spike that lifts the balance into a tier the 年日均 never
    reaches, held above that tier's threshold only briefly, come within the window and gone
    by the as-of date —
    *window dressing* when a measurement date falls inside it, else a *one-off bulk*;
(b) ``high_volume_low_profit``: turnover in the top percentiles, margin (profit per CNY of
    turnover) in the bottom ones and profit a small share of the gross contribution;
(c) ``peeler`` (扒皮大户): concessions taken exceed the gross contribution.

Every flag keeps its evidence: the caller writes the inputs used next to the flag.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tierbook.domain.scoring import percentile_rank
from tierbook.rules.value import BulkDetector, HighVolumeLowProfit, PeelerDetector

Vec = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.str_]

WINDOW_DRESSING = "window_dressing"
ONE_OFF_BULK = "one_off_bulk"
HIGH_VOLUME_LOW_PROFIT = "high_volume_low_profit"
PEELER = "peeler"
DETECTORS: tuple[str, ...] = (WINDOW_DRESSING, ONE_OFF_BULK, HIGH_VOLUME_LOW_PROFIT, PEELER)


@dataclass(frozen=True)
class BalanceShape:
    """Weighted AUM over the twelve months to the as-of date, one entry per customer."""

    year_avg: Vec  # 年日均
    held_avg: Vec  # average over the days since the first balance in the window
    peak: Vec  # highest day
    start_balance: Vec  # on the first day of the window
    end_balance: Vec  # at the as-of date
    period_end_max: Vec  # highest balance on a measurement date
    peak_threshold: Vec  # highest tier threshold the peak reaches
    avg_threshold: Vec  # highest tier threshold the 年日均 reaches
    days_above: Vec  # days at or above ``peak_threshold``
    dressed_dates: Vec  # measurement dates at or above ``peak_threshold``
    round_trip: Vec  # least of inflow before / outflow after the busiest measurement date


def reached_threshold(values: Vec, thresholds: tuple[float, ...]) -> Vec:
    """The highest threshold each value reaches (thresholds ascending, the first 0)."""
    t = np.asarray(thresholds, dtype=float)
    idx = np.searchsorted(t, values, side="right") - 1
    return np.asarray(t[np.clip(idx, 0, len(t) - 1)], dtype=float)


def bulk(s: BalanceShape, rule: BulkDetector) -> Labels:
    """``window_dressing``, ``one_off_bulk`` or "" per customer."""
    spike = (
        (s.peak >= rule.min_peak_ratio * s.held_avg)
        & (s.peak - s.held_avg >= rule.min_excess)
        & (s.peak_threshold > s.avg_threshold)
        & (s.days_above <= rule.max_days_above)
        & (s.start_balance < rule.max_end_share * s.peak)
        & (s.end_balance < rule.max_end_share * s.peak)
    )
    dressed = (
        spike
        & (s.dressed_dates >= 1)
        & (s.period_end_max >= rule.min_period_end_ratio * s.held_avg)
        & (s.round_trip >= rule.min_round_trip_share * (s.period_end_max - s.held_avg))
    )
    out = np.where(dressed, WINDOW_DRESSING, np.where(spike, ONE_OFF_BULK, ""))
    return np.asarray(out, dtype=np.str_)


@dataclass(frozen=True)
class VolumeMargin:
    flag: Mask
    volume_pct: Vec
    margin: Vec  # profit per CNY of turnover (NaN without turnover)
    margin_pct: Vec
    profit_rate: Vec  # profit ÷ gross contribution (NaN without contribution)


def high_volume_low_profit(
    volume: Vec, profit: Vec, contribution: Vec, peelers: Mask, rule: HighVolumeLowProfit
) -> VolumeMargin:
    """Percentiles are taken among the customers with turnover. A peeler (whose low profit
    is explained by the concessions it takes) is reported as a peeler only."""
    n = len(volume)
    active = volume > 0
    volume_pct = np.zeros(n)
    margin_pct = np.full(n, np.nan)
    margin = np.full(n, np.nan)
    margin[active] = profit[active] / volume[active]
    volume_pct[active] = percentile_rank(volume[active])
    margin_pct[active] = percentile_rank(margin[active])
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(
            contribution > 0, profit / np.where(contribution > 0, contribution, 1), np.nan
        )
    low_rate = np.where(np.isnan(rate), profit <= 0, rate <= rule.max_profit_rate)
    flag = (
        active
        & (volume_pct >= rule.min_volume_pct)
        & (np.nan_to_num(margin_pct, nan=1.0) <= rule.max_margin_pct)
        & low_rate
        & ~peelers
    )
    return VolumeMargin(flag, volume_pct, margin, margin_pct, rate)


def peeler(concessions: Vec, contribution: Vec, rule: PeelerDetector) -> tuple[Mask, Vec]:
    """Flags and the ratio concessions ÷ contribution (inf when nothing is contributed)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(
            contribution > 0,
            concessions / np.where(contribution > 0, contribution, 1.0),
            np.where(concessions > 0, np.inf, 0.0),
        )
    flag = (concessions > rule.min_ratio * contribution) & (concessions >= rule.min_concessions)
    return flag, ratio
