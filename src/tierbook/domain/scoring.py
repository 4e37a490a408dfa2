"""Value score of a customer (SPEC §3.5): six parts, each scaled to [0, 1], weighted to
points out of 100, and the key-customer rule. Pure: numpy arrays in, arrays out.

- profit: percentile rank of the year's profit (net interest + fees − concessions);
- frequency: percentile rank of the year's number of transactions with other parties;
- product depth: product types held ÷ ``product_depth_full``;
- tenure: years since the customer opened ÷ ``tenure_full_years``;
- referral: value of the customers it brought in (``tierbook.domain.referrals``) ÷
  ``referral_full``;
- stability: 1 − (coefficient of variation of the monthly AUM averages ÷
  ``stability_cv_full``); a customer without AUM scores 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tierbook.rules.value import SCORE_PARTS, KeyCustomerSelection, ValueScore

Vec = npt.NDArray[np.float64]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ValueInputs:
    """One entry per customer in every array."""

    profit: Vec
    txn_count: Vec
    product_types: Vec
    tenure_years: Vec
    referral_value: Vec
    aum_cv: Vec  # NaN when the customer had no AUM


def percentile_rank(x: Vec) -> Vec:
    """Share of the other values below each value, ties counted half: the smallest value
    is 0, the largest 1 (a single value is 1)."""
    n = len(x)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    s = np.sort(x)
    less = np.searchsorted(s, x, side="left").astype(float)
    leq = np.searchsorted(s, x, side="right").astype(float)
    return np.asarray((less + (leq - less - 1.0) / 2.0) / (n - 1), dtype=float)


def score_parts(inp: ValueInputs, rule: ValueScore) -> dict[str, Vec]:
    """Each part of the score in [0, 1], by part name (``SCORE_PARTS``)."""
    cv = np.where(np.isnan(inp.aum_cv), np.inf, inp.aum_cv)
    parts = {
        "profit": percentile_rank(inp.profit),
        "frequency": percentile_rank(inp.txn_count),
        "product_depth": np.clip(inp.product_types / rule.product_depth_full, 0.0, 1.0),
        "tenure": np.clip(inp.tenure_years / rule.tenure_full_years, 0.0, 1.0),
        "referral": np.clip(inp.referral_value / rule.referral_full, 0.0, 1.0),
        "stability": np.clip(1.0 - cv / rule.stability_cv_full, 0.0, 1.0),
    }
    return {p: parts[p] for p in SCORE_PARTS}


def score_points(parts: dict[str, Vec], rule: ValueScore) -> dict[str, Vec]:
    """Points of each part: 100 × weight × part; the value score is their sum."""
    w = rule.weights.as_dict()
    return {p: 100.0 * w[p] * parts[p] for p in SCORE_PARTS}


def value_score(inp: ValueInputs, rule: ValueScore) -> tuple[dict[str, Vec], Vec]:
    points = score_points(score_parts(inp, rule), rule)
    total = np.sum(np.vstack([points[p] for p in SCORE_PARTS]), axis=0)
    return points, total


def coefficient_of_variation(monthly: Vec) -> Vec:
    """Per row of a customers × months matrix: standard deviation ÷ mean (NaN if mean 0)."""
    mean = monthly.mean(axis=1)
    std = monthly.std(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(mean > 0, std / np.where(mean > 0, mean, 1.0), np.nan)


def top_by_score(score: Vec, share: float) -> Mask:
    """The first ``ceil(share × n)`` customers by score (ties in input order)."""
    n = len(score)
    k = min(n, math.ceil(share * n - 1e-9))
    out = np.zeros(n, dtype=bool)
    out[np.argsort(-score, kind="stable")[:k]] = True
    return out


def select_key_customers(
    score: Vec, profit: Vec, flagged: Mask, rule: KeyCustomerSelection
) -> tuple[Mask, list[str]]:
    """Key customers and, for every customer, why it is or is not one."""
    top = top_by_score(score, rule.top_share)
    floor = profit >= rule.min_profit
    blocked = flagged if rule.exclude_flagged else np.zeros(len(score), dtype=bool)
    key = top & floor & ~blocked
    reasons = []
    for t, f, b in zip(top.tolist(), floor.tolist(), blocked.tolist(), strict=True):
        if not t:
            reasons.append(f"score outside the top {rule.top_share:.0%}")
        elif not f:
            reasons.append(f"profit below the floor {rule.min_profit:,.0f}")
        elif b:
            reasons.append("flagged as a fake big customer")
        else:
            reasons.append(f"top {rule.top_share:.0%} by score, profit ≥ {rule.min_profit:,.0f}")
    return key, reasons
