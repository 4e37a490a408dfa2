"""Tier ladders: classification and the upgrade/downgrade policies. Pure.

Everything works on whole books at once: a measure matrix ``[customers, review periods]``
goes in, a level-index matrix and the policy step of every period come out. The loops run
over review periods (a dozen), never over customers.

Steps recorded per period (the explanation of a tier decision names the last one):
``initial`` first period; ``upgrade`` measure reached a higher level; ``keep`` measure at or
above the current level; ``below`` under the level's minimum, not yet on watch; ``watch`` on
watch (slow-down policy); ``downgrade`` level lowered; ``hold`` annual policy between reviews.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tierbook.rules.models import (
    AnnualKeepPolicy,
    ImmediatePolicy,
    Ladder,
    Level,
    SlowDownPolicy,
)

STEPS = ("initial", "upgrade", "keep", "below", "watch", "downgrade", "hold")
INITIAL, UPGRADE, KEEP, BELOW, WATCH, DOWNGRADE, HOLD = range(len(STEPS))

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int16]
"""Levels, steps and runs: small integers (a quarter of int64's memory per customer)."""


def classify(measure: float, ladder: Ladder) -> Level:
    """The highest level whose (inclusive) minimum the measure reaches."""
    idx = int(classify_array(np.asarray([measure], dtype=np.float64), ladder)[0])
    return ladder.levels[idx]


def classify_array(measures: FloatArray, ladder: Ladder) -> IntArray:
    """Level index of every measure: ``searchsorted`` over the inclusive minimums.

    Measures are rounded to cents first, so 99,999.995 of floating-point noise is not
    mistaken for 100,000 and 100,000 computed as 99,999.99999999 still is."""
    thresholds = np.asarray(ladder.thresholds(), dtype=np.float64)
    cents = np.round(np.nan_to_num(measures, nan=0.0), 2)
    idx = np.searchsorted(thresholds, cents, side="right") - 1
    return np.clip(idx, 0, len(thresholds) - 1).astype(np.int16)


@dataclass(frozen=True)
class TierPath:
    """Levels and policy steps per customer (rows) and review period (columns)."""

    levels: IntArray
    steps: IntArray
    below_runs: IntArray  # consecutive periods below the held level, at each period

    @property
    def final_levels(self) -> IntArray:
        return self.levels[:, -1]

    @property
    def final_steps(self) -> IntArray:
        return self.steps[:, -1]


def apply_policy(ladder: Ladder, measures: FloatArray) -> TierPath:
    """Run the ladder's policy over AUM measures ``[customers, periods]``."""
    if measures.ndim != 2 or measures.shape[1] == 0:
        raise ValueError("measures must be a [customers, periods] matrix with a period")
    qualified = np.stack(
        [classify_array(measures[:, t], ladder) for t in range(measures.shape[1])], axis=1
    )
    policy = ladder.policy
    if isinstance(policy, ImmediatePolicy):
        return immediate(qualified)
    if isinstance(policy, SlowDownPolicy):
        return slow_down(qualified, policy.watch_after, policy.drop_after, policy.lookback)
    raise ValueError(f"ladder {ladder.id}: policy {policy.kind} needs purchase measures")


def immediate(qualified: IntArray) -> TierPath:
    n, t_count = qualified.shape
    steps = np.full((n, t_count), KEEP, dtype=np.int16)
    steps[:, 0] = INITIAL
    if t_count > 1:
        diff = qualified[:, 1:] - qualified[:, :-1]
        steps[:, 1:][diff > 0] = UPGRADE
        steps[:, 1:][diff < 0] = DOWNGRADE
    return TierPath(qualified.copy(), steps, np.zeros_like(qualified))


def slow_down(qualified: IntArray, watch_after: int, drop_after: int, lookback: int) -> TierPath:
    """Fast up, slow down.

    Up at once when the period's measure qualifies for a higher level. Each period below the
    held level's minimum adds one to a run; at ``watch_after`` the customer is on watch; at
    ``watch_after + drop_after`` it drops to the best level it qualified for in the last
    ``lookback`` periods of the run, and the run starts again. A period at or above the held
    level ends the run.
    """
    n, t_count = qualified.shape
    levels = np.empty((n, t_count), dtype=np.int16)
    steps = np.empty((n, t_count), dtype=np.int16)
    runs = np.zeros((n, t_count), dtype=np.int16)
    level = qualified[:, 0].copy()
    run = np.zeros(n, dtype=np.int16)
    levels[:, 0], steps[:, 0] = level, INITIAL
    drop_at = watch_after + drop_after
    for t in range(1, t_count):
        q = qualified[:, t]
        up, below = q > level, q < level
        run = np.where(below, run + 1, 0)
        step = np.where(up, UPGRADE, np.where(below, BELOW, KEEP))
        step = np.where(below & (run >= watch_after), WATCH, step)
        drop = below & (run >= drop_at)
        if drop.any():
            window = min(lookback, drop_at)
            lo = max(0, t - window + 1)
            best = qualified[:, lo : t + 1].max(axis=1)
            level = np.where(drop, np.minimum(best, level), level)
            step = np.where(drop, DOWNGRADE, step)
            run = np.where(drop, 0, run)
        level = np.where(up, q, level)
        levels[:, t], steps[:, t], runs[:, t] = level, step, run
    return TierPath(levels, steps, runs)


def annual_keep(
    ladder: Ladder,
    period_spend: FloatArray,
    period_max: FloatArray,
    policy: AnnualKeepPolicy,
) -> TierPath:
    """Purchase ladders (retail membership, seed 004).

    Per customer and month: ``period_spend`` — purchases within the month; ``period_max`` —
    the largest single purchase within the month. Up at once when a level's cumulative
    minimum (``min``) or single-purchase minimum is met, counting only purchases since the
    last downgrade, so a customer who dropped must qualify afresh. Every ``review_months``
    the spend of those months must reach the held level's ``keep_min``; if it does not, the
    level falls to the highest one whose ``keep_min`` that spend meets.
    """
    n, t_count = period_spend.shape
    thresholds = np.asarray(ladder.thresholds(), dtype=np.float64)
    singles = np.asarray(
        [lv.single_purchase if lv.single_purchase is not None else np.inf for lv in ladder.levels]
    )
    keeps = np.asarray([lv.keep_min or 0.0 for lv in ladder.levels], dtype=np.float64)
    levels = np.empty((n, t_count), dtype=np.int16)
    steps = np.empty((n, t_count), dtype=np.int16)
    level = np.zeros(n, dtype=np.int16)
    cum = np.zeros(n)  # purchases since joining or since the last downgrade
    best_single = np.zeros(n)  # largest single purchase over the same span
    for t in range(t_count):
        cum = cum + period_spend[:, t]
        best_single = np.maximum(best_single, period_max[:, t])
        by_cum = np.searchsorted(thresholds, np.round(cum, 2), side="right") - 1
        by_single = np.searchsorted(singles, np.round(best_single, 2), side="right") - 1
        qualify = np.maximum(by_cum, by_single).clip(0)
        up = qualify > level
        level = np.where(up, qualify, level)
        step = np.where(up, UPGRADE, HOLD if t else INITIAL)
        if (t + 1) % policy.review_months == 0:
            lo = max(0, t - policy.review_months + 1)
            spent = np.round(period_spend[:, lo : t + 1].sum(axis=1), 2)
            kept = np.searchsorted(keeps, spent, side="right") - 1
            drop = (spent < keeps[level]) & ~up
            level = np.where(drop, np.minimum(kept, level), level)
            step = np.where(drop, DOWNGRADE, np.where(up, UPGRADE, KEEP))
            cum = np.where(drop, 0.0, cum)
            best_single = np.where(drop, 0.0, best_single)
        levels[:, t], steps[:, t] = level, step
    return TierPath(levels, steps, np.zeros((n, t_count), dtype=np.int16))
