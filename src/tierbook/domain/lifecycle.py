"""Customer lifecycle for purchase-based books: BG/NBD with Gamma-Gamma (pure SciPy).

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive, a
customer buys as a Poisson process with rate λ ~ Gamma(r, α); after every purchase it drops
out with probability p ~ Beta(a, b). From a customer's repeat purchases ``x``, the time of
the last one ``t_x`` and the length of its observation ``T`` (all measured from its first
purchase, in one time unit), the model gives the probability it is still alive and the
purchases to expect in a horizon. Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV")
gives each repeat buyer's expected spend per purchase from its mean spend ``m`` over ``x``
repeat purchases. The customer lifetime value is their product, discounted per period.

Parameters are fitted by maximum likelihood (``scipy.optimize.minimize`` on the log
parameters, so they stay positive). The tests reproduce the published CDNOW estimates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import optimize, special

Floats = NDArray[np.float64]


@dataclass(frozen=True)
class BgNbd:
    """Fitted BG/NBD parameters and the fit's log-likelihood."""

    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float = float("nan")


@dataclass(frozen=True)
class GammaGamma:
    """Fitted Gamma-Gamma spend parameters (``gamma`` is the scale ν of the papers)."""

    p: float
    q: float
    gamma: float
    log_likelihood: float = float("nan")


def _arrays(*values: ArrayLike) -> list[Floats]:
    return [np.asarray(v, dtype=np.float64) for v in values]


def bgnbd_log_likelihood(
    params: tuple[float, float, float, float], x: ArrayLike, t_x: ArrayLike, T: ArrayLike
) -> Floats:
    """Per-customer log-likelihood of (x, t_x, T) under BG/NBD (eq. 6 of the paper)."""
    r, alpha, a, b = params
    xs, tx, Ts = _arrays(x, t_x, T)
    common = special.gammaln(r + xs) - special.gammaln(r) + r * np.log(alpha)
    beta_ab = special.betaln(a, b)
    still = special.betaln(a, b + xs) - beta_ab - (r + xs) * np.log(alpha + Ts)
    repeat = xs > 0
    dropped = np.full_like(xs, -np.inf)
    dropped[repeat] = (
        special.betaln(a + 1, b + xs[repeat] - 1)
        - beta_ab
        - (r + xs[repeat]) * np.log(alpha + tx[repeat])
    )
    out: Floats = common + np.logaddexp(still, dropped)
    return out


def _fit(neg_ll: Any, start: Floats) -> tuple[Floats, float]:
    res = optimize.minimize(neg_ll, np.log(start), method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-8, "maxiter": 20_000})  # fmt: skip
    if not res.success:
        raise ValueError(f"the maximum-likelihood fit did not converge: {res.message}")
    return np.exp(res.x), -float(res.fun)


def fit_bgnbd(x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters from repeat counts, recencies and ages."""
    xs, tx, Ts = _arrays(x, t_x, T)
    if len(xs) == 0:
        raise ValueError("no customers to fit")
    if np.any(xs < 0) or np.any(tx < 0) or np.any(tx > Ts + 1e-9):
        raise ValueError("need x >= 0 and 0 <= t_x <= T for every customer")

    def neg_ll(theta: Floats) -> float:
        p = np.exp(theta)
        return -float(bgnbd_log_likelihood((p[0], p[1], p[2], p[3]), xs, tx, Ts).sum())

    est, ll = _fit(neg_ll, np.array([1.0, max(float(Ts.mean()), 1.0), 1.0, 1.0]))
    return BgNbd(float(est[0]), float(est[1]), float(est[2]), float(est[3]), ll)


def _dropout_odds(m: BgNbd, xs: Floats, tx: Floats, Ts: Floats) -> Floats:
    """δ(x>0) · a/(b+x−1) · ((α+T)/(α+t_x))^(r+x): odds of 'dropped out after the last buy'."""
    odds = np.zeros_like(xs)
    rep = xs > 0
    odds[rep] = (m.a / (m.b + xs[rep] - 1)) * np.exp(
        (m.r + xs[rep]) * (np.log(m.alpha + Ts[rep]) - np.log(m.alpha + tx[rep]))
    )
    return odds


def probability_alive(m: BgNbd, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """P(alive at T | x, t_x, T) (eq. 12); 1 for a customer with no repeat purchase."""
    xs, tx, Ts = _arrays(x, t_x, T)
    out: Floats = 1.0 / (1.0 + _dropout_odds(m, xs, tx, Ts))
    return out


def expected_purchases(m: BgNbd, t: float, x: ArrayLike, t_x: ArrayLike, T: ArrayLike) -> Floats:
    """Expected purchases in (T, T + t] given the history (eq. 10)."""
    xs, tx, Ts = _arrays(x, t_x, T)
    z = t / (m.alpha + Ts + t)
    hyp = special.hyp2f1(m.r + xs, m.b + xs, m.a + m.b + xs - 1, z)
    ratio = np.exp((m.r + xs) * (np.log(m.alpha + Ts) - np.log(m.alpha + Ts + t)))
    head = (m.a + m.b + xs - 1) / (m.a - 1)
    out: Floats = head * (1.0 - ratio * hyp) / (1.0 + _dropout_odds(m, xs, tx, Ts))
    return out


def expected_purchases_new(m: BgNbd, t: float) -> float:
    """Expected purchases in (0, t] of a new customer (eq. 9)."""
    z = t / (m.alpha + t)
    head = (m.a + m.b - 1) / (m.a - 1)
    tail = (m.alpha / (m.alpha + t)) ** m.r * special.hyp2f1(m.r, m.b, m.a + m.b - 1, z)
    return float(head * (1.0 - tail))


def gamma_gamma_log_likelihood(
    params: tuple[float, float, float], x: ArrayLike, mean_spend: ArrayLike
) -> Floats:
    """Per-customer log-likelihood of the mean spend of ``x`` > 0 repeat purchases."""
    p, q, g = params
    xs, ms = _arrays(x, mean_spend)
    px = p * xs
    out: Floats = (
        special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q)
        + q * np.log(g) + (px - 1) * np.log(ms) + px * np.log(xs)
        - (px + q) * np.log(g + xs * ms)
    )  # fmt: skip
    return out


def fit_gamma_gamma(x: ArrayLike, mean_spend: ArrayLike) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters on the repeat buyers (``x > 0``)."""
    xs, ms = _arrays(x, mean_spend)
    keep = (xs > 0) & (ms > 0)
    if not keep.any():
        raise ValueError("Gamma-Gamma needs customers with repeat purchases and spend > 0")
    xs, ms = xs[keep], ms[keep]

    def neg_ll(theta: Floats) -> float:
        p = np.exp(theta)
        return -float(gamma_gamma_log_likelihood((p[0], p[1], p[2]), xs, ms).sum())

    est, ll = _fit(neg_ll, np.array([1.0, 1.0, max(float(ms.mean()), 1.0)]))
    return GammaGamma(float(est[0]), float(est[1]), float(est[2]), ll)


def expected_spend(g: GammaGamma, x: ArrayLike, mean_spend: ArrayLike) -> Floats:
    """E[spend per purchase | x, m]: a weighted mean of the population mean and the
    customer's own mean; the population mean for customers without repeat purchases."""
    xs, ms = _arrays(x, mean_spend)
    if g.q <= 1:
        raise ValueError("Gamma-Gamma q must exceed 1 for a finite mean spend")
    population = g.p * g.gamma / (g.q - 1)
    w = g.p * xs / (g.p * xs + g.q - 1)
    out: Floats = np.where(xs > 0, (1 - w) * population + w * ms, population)
    return out


def lifetime_value(
    m: BgNbd,
    spend: ArrayLike,
    x: ArrayLike,
    t_x: ArrayLike,
    T: ArrayLike,
    *,
    periods: int,
    period_length: float,
    discount_rate: float,
    margin: float,
) -> Floats:
    """Σ over ``periods`` future periods of (expected purchases in the period × spend ×
    margin) ÷ (1 + discount_rate)^k; ``period_length`` in the model's time unit."""
    sp = np.asarray(spend, dtype=np.float64)
    total = np.zeros_like(sp)
    before = np.zeros_like(sp)
    for k in range(1, periods + 1):
        upto = expected_purchases(m, k * period_length, x, t_x, T)
        total += (upto - before) * sp * margin / (1.0 + discount_rate) ** k
        before = upto
    return total
