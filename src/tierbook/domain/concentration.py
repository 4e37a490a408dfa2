"""Concentration of profit (SPEC §3.5): Pareto curve, share of the top customers, Gini, and
the 20/60/20 split. Pure.

The Pareto curve orders customers by profit, highest first; with loss-making customers the
cumulative share rises above 100% and falls back to exactly 100% at the end (the "whale
curve"): it is concave, and monotone wherever profits are non-negative.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Vec = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

VALUABLE, KEEP, COSTLY = 0, 1, 2
GROUP_NAMES: tuple[str, ...] = ("valuable", "break_even", "costly")


def pareto_curve(values: Vec) -> tuple[Vec, Vec]:
    """(share of customers, cumulative share of the total) after each customer, in order
    of value, highest first. The total must be positive."""
    n = len(values)
    total = float(np.sum(values))
    if n == 0 or total <= 0:
        raise ValueError(f"a Pareto curve needs a positive total; got {total:g} over {n}")
    ordered = np.sort(values)[::-1]
    return np.arange(1, n + 1) / n, np.cumsum(ordered) / total


def top_share(values: Vec, share: float) -> float:
    """Share of the total from the first ``ceil(share × n)`` customers by value."""
    _, cum = pareto_curve(values)
    k = max(1, math.ceil(share * len(values) - 1e-9))
    return float(cum[k - 1])


def gini(values: Vec) -> float:
    """Gini coefficient (mean absolute difference ÷ twice the mean), losses counted as 0."""
    x = np.sort(np.clip(np.asarray(values, dtype=float), 0.0, None))
    n = len(x)
    total = float(x.sum())
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1)
    return float(np.sum((2 * i - n - 1) * x) / (n * total))


def split_groups(values: Vec, top: float, bottom: float) -> Ints:
    """``VALUABLE`` for the top ``round(top × n)`` by value, ``COSTLY`` for the bottom
    ``round(bottom × n)``, ``KEEP`` for the rest (ties in input order)."""
    n = len(values)
    k_top = round(top * n)
    k_bottom = min(round(bottom * n), n - k_top)
    order = np.argsort(-np.asarray(values, dtype=float), kind="stable")
    group = np.full(n, KEEP, dtype=np.int64)
    group[order[:k_top]] = VALUABLE
    if k_bottom:
        group[order[n - k_bottom :]] = COSTLY
    return group
