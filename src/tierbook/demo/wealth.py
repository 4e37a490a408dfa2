"""How wealth is spread over the demo bank's customers.

Individuals' target weighted AUM (deposits × 1.0, other assets × 0.5) is log-normal;
its two parameters are chosen so that the card-tier shares look like a retail bank's:
about 80% under 5万, 10–15% at 10万 or more, 2–5% at 50万+, about 1% at 100万+ and a
few per ten thousand at 300万+ and 600万+. ``tier_shares`` gives the expected share of
each level; ``sample_wealth`` draws and guarantees every level above 普通 is populated
in every chunk so that even a small demo has a private-banking client.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

WEALTH_MU = 9.15  # median target weighted AUM e^9.15 ≈ 9,400 CNY
WEALTH_SIGMA = 2.05
CORPORATE_MU = math.log(800_000.0)
CORPORATE_SIGMA = 1.6

# Levels whose presence is guaranteed per chunk: card tiers and branch bands together.
GUARANTEED_FLOORS: tuple[float, ...] = (
    1_000.0,
    50_000.0,
    100_000.0,
    200_000.0,
    300_000.0,
    500_000.0,
    1_000_000.0,
    3_000_000.0,
    6_000_000.0,
)


def _norm_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def share_at_least(amount: float, mu: float = WEALTH_MU, sigma: float = WEALTH_SIGMA) -> float:
    """Expected share of customers whose target weighted AUM is at least ``amount``."""
    if amount <= 0:
        return 1.0
    return _norm_sf((math.log(amount) - mu) / sigma)


def tier_shares(
    thresholds: Sequence[float], mu: float = WEALTH_MU, sigma: float = WEALTH_SIGMA
) -> list[float]:
    """Expected share of each level of a ladder given its ascending level minimums."""
    above = [share_at_least(t, mu, sigma) for t in thresholds] + [0.0]
    return [above[i] - above[i + 1] for i in range(len(thresholds))]


def sample_wealth(rng: np.random.Generator, n: int) -> np.ndarray:
    """Target weighted AUM of ``n`` individuals, every guaranteed level present once."""
    aum = np.exp(rng.normal(WEALTH_MU, WEALTH_SIGMA, n))
    aum = np.minimum(aum, 60_000_000.0)
    if n < 4 * len(GUARANTEED_FLOORS):
        return np.round(aum, 2)
    taken = np.zeros(n, dtype=bool)
    uppers = (*GUARANTEED_FLOORS[1:], math.inf)
    for lo, hi in reversed(list(zip(GUARANTEED_FLOORS, uppers, strict=True))):
        inside = (aum >= lo * 1.1) & (aum < hi * 0.9) & ~taken
        if inside.any():
            taken |= inside
            continue
        free = np.flatnonzero(~taken & (aum < lo))
        pick = free[np.argmax(aum[free])]
        top = min(hi * 0.9, lo * 2.0)
        aum[pick] = rng.uniform(lo * 1.1, top)
        taken[pick] = True
    return np.round(aum, 2)


def sample_corporate_wealth(rng: np.random.Generator, n: int) -> np.ndarray:
    """Target deposit AUM of corporate and institutional clients."""
    return np.round(np.exp(rng.normal(CORPORATE_MU, CORPORATE_SIGMA, n)), 2)
