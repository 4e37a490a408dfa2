"""Planted, labelled cases: customers whose balances, flows or income tell a known story.

Each case picks a few individuals per chunk (open before the year, so every month is
observable), gives them the holdings the story needs, then shapes their balance paths.
``truth/labels.csv`` records the label and, in ``detail``, the numbers planted; the
engine never reads it. How to recognise each case (as of 31 December of the demo year):

- ``window_dressing``: a small balance plus a large amount parked from 2–5 days before a
  month or quarter end until 1–2 days after it; month-end balance ≫ monthly average.
- ``one_off_bulk``: a small balance with one burst of 80万–500万 lasting 3–10 days, away
  from any month end; the peak is far above every monthly average.
- ``high_volume_low_profit``: 50–150 days a year with in/out pairs of 5万–50万 passing
  through the demand account (turnover in the 亿), contribution 0–5% of gross income.
- ``peeler``: fee waivers + rate premium are 1.3–2.5 × (net interest + fees), every month.
- ``near_threshold_rising``: one demand account whose monthly averages stay below a card
  threshold all year and rise over Oct, Nov, Dec, December being 93–98% of it.
- ``churner_decline``: balances stable in H1, stepping down every month from July to
  25–45% of the H1 level in December.
- ``churner_transfer_out``: 30万–200万 on demand; 1–3 large transfers to other banks on
  consecutive days between June and October leave 3–8% of it.
- ``steady_large``: 120万–500万, 70% in time deposits maturing after the year, demand
  balance barely moving; healthy contribution. Must NOT be flagged by any detector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from tierbook.demo.accounts import DEMAND, FUND, NO_DAY, SCRIPTED, TIME, WM, Holdings
from tierbook.demo.paths import CP, Book, month_of_day

CASES: tuple[str, ...] = (
    "window_dressing",
    "one_off_bulk",
    "high_volume_low_profit",
    "peeler",
    "near_threshold_rising",
    "churner_decline",
    "churner_transfer_out",
    "steady_large",
)
CARD_THRESHOLDS = (100_000.0, 300_000.0, 500_000.0, 1_000_000.0)
PER_CUSTOMERS = 0.0018  # planted customers of each case per individual (≈ 36 at 20k)


@dataclass
class Plan:
    """The planted customers of one chunk and what was done to them."""

    cust: np.ndarray  # customer index within the chunk
    case: np.ndarray  # index into CASES
    detail: dict[int, str] = field(default_factory=dict)
    ratio: dict[int, float] = field(default_factory=dict)  # peeler / HVLP income shaping
    extra: list[tuple[int, int, float, int, int]] = field(
        default_factory=list
    )  # acct, day, amount±, cp, pair

    def of(self, name: str) -> np.ndarray:
        return self.cust[self.case == CASES.index(name)]


def choose(rng: np.random.Generator, eligible: np.ndarray, n_individuals: int) -> Plan:
    per_case = max(2, round(n_individuals * PER_CUSTOMERS))
    per_case = min(per_case, len(eligible) // (2 * len(CASES)))
    picked = rng.choice(eligible, per_case * len(CASES), replace=False)
    case = np.repeat(np.arange(len(CASES)), per_case)
    order = np.argsort(picked, kind="stable")
    return Plan(picked[order], case[order])


def holdings(rng: np.random.Generator, plan: Plan, cust_open: np.ndarray, days: int) -> Holdings:
    parts: list[Holdings] = []

    def add(
        cust: np.ndarray,
        prod: int,
        level: np.ndarray,
        *,
        lam: float = 0.0,
        sigma: float = 0.0,
        style: int | None = None,
        maturity: np.ndarray | None = None,
    ) -> None:
        if len(cust) == 0:
            return
        n = len(cust)
        opened = np.minimum(cust_open[cust], -30)
        kw: dict[str, np.ndarray] = {"lam": np.full(n, lam), "sigma": np.full(n, sigma)}
        if style is not None:
            kw["style"] = np.full(n, style)
        if maturity is not None:
            kw["maturity"] = maturity
            kw["term"] = np.full(n, 365)
            opened = np.minimum(opened, maturity - 365)
        parts.append(Holdings.build(cust, np.full(n, prod), np.round(level, 2), opened, **kw))

    def u(c: np.ndarray, lo: float, hi: float) -> np.ndarray:
        return rng.uniform(lo, hi, len(c))

    def later(c: np.ndarray) -> np.ndarray:
        return days + rng.integers(30, 400, len(c))

    c = plan.of("window_dressing")
    add(c, DEMAND, u(c, 1e4, 4e4), lam=20, sigma=0.3)
    c = plan.of("one_off_bulk")
    add(c, DEMAND, u(c, 5e3, 3e4), lam=15, sigma=0.3)
    c = plan.of("high_volume_low_profit")
    add(c, DEMAND, u(c, 5e4, 3e5), lam=30, sigma=0.25)
    c = plan.of("peeler")
    big = u(c, 3e5, 2e6)
    add(c, DEMAND, big * 0.3, lam=10, sigma=0.2)
    add(c, TIME, big * 0.7, maturity=later(c))
    c = plan.of("near_threshold_rising")
    add(c, DEMAND, np.full(len(c), 1.0), style=SCRIPTED)
    c = plan.of("churner_decline")
    big = u(c, 2e5, 1.5e6)
    add(c, DEMAND, big * 0.5, lam=10, sigma=0.05)
    add(c, WM, big * 0.3 / 0.5, maturity=later(c))
    add(c, FUND, big * 0.2 / 0.5, lam=6, sigma=0.01)
    c = plan.of("churner_transfer_out")
    add(c, DEMAND, u(c, 3e5, 2e6), lam=10, sigma=0.08)
    c = plan.of("steady_large")
    big = u(c, 1.2e6, 5e6)
    add(c, DEMAND, big * 0.3, lam=6, sigma=0.02)
    add(c, TIME, big * 0.7, maturity=later(c))
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return Holdings.build(empty, empty, np.zeros(0), empty)
    out = Holdings.concat(parts)
    out.close[:] = NO_DAY
    return out


def _iso(year: int, day: int) -> str:
    return (date(year, 1, 1) + timedelta(days=int(day))).isoformat()


def _rows(h: Holdings, cust: int, prod: int | None = None) -> np.ndarray:
    sel = h.cust == cust
    if prod is not None:
        sel &= h.prod == prod
    return np.flatnonzero(sel)


def shape(rng: np.random.Generator, plan: Plan, h: Holdings, book: Book, year: int) -> None:
    """Shape the planted customers' balance paths and record what was planted."""
    days = book.days
    month = month_of_day(days)
    month_end = np.flatnonzero(np.r_[month[1:] != month[:-1], True])
    month_start = np.r_[0, month_end[:-1] + 1]

    for c in plan.of("window_dressing"):
        a = _rows(h, c, DEMAND)[0]
        amount = float(np.round(rng.uniform(5e5, 3e6), -3))
        ends = [2, 5, 8] + [m for m in (0, 3, 6, 9, 10) if rng.random() < 0.4]
        spans = []
        for m in sorted(ends):
            e = int(month_end[m])
            s, r = e - int(rng.integers(1, 5)), e + int(rng.integers(1, 3))
            book.B[a, s:r] += amount
            book.cp[a, s] = book.cp[a, r] = CP["other_bank"]
            spans.append(f"{_iso(year, s)}..{_iso(year, r - 1)}")
        plan.detail[c] = f"parked {amount:.0f} around {len(spans)} period ends: " + ", ".join(spans)

    for c in plan.of("one_off_bulk"):
        a = _rows(h, c, DEMAND)[0]
        amount = float(np.round(rng.uniform(8e5, 5e6), -3))
        s = int(month_start[rng.integers(1, 11)] + rng.integers(7, 15))
        length = int(rng.integers(3, 11))
        book.B[a, s : s + length] += amount
        book.cp[a, s] = CP["securities"] if rng.random() < 0.3 else CP["other_bank"]
        book.cp[a, s + length] = CP["other_bank"]
        plan.detail[c] = (
            f"one burst of {amount:.0f} held {length} days "
            f"{_iso(year, s)}..{_iso(year, s + length - 1)}"
        )

    for c in plan.of("high_volume_low_profit"):
        a = _rows(h, c, DEMAND)[0]
        n_days = int(rng.integers(50, 151))
        busy = np.sort(rng.choice(days, n_days, replace=False))
        volume = 0.0
        for d in busy:
            for _ in range(int(rng.integers(1, 4))):
                x = float(np.round(rng.uniform(5e4, 5e5), -2))
                src = CP["merchant"] if rng.random() < 0.3 else CP["other_bank"]
                plan.extra.append((a, int(d), x, src, 1))
                plan.extra.append((a, int(d), -x, CP["other_bank"], 1))
                volume += 2 * x
        plan.ratio[c] = float(rng.uniform(0.0, 0.05))
        plan.detail[c] = (
            f"pass-through turnover {volume:.0f} on {n_days} days; "
            "contribution ≤ 5% of gross income"
        )

    for c in plan.of("peeler"):
        plan.ratio[c] = float(rng.uniform(1.3, 2.5))
        plan.detail[c] = (
            f"fee waivers + rate premium = {plan.ratio[c]:.2f} × (net interest + fees) every month"
        )

    for c in plan.of("near_threshold_rising"):
        a = _rows(h, c, DEMAND)[0]
        t = CARD_THRESHOLDS[rng.integers(0, len(CARD_THRESHOLDS))]
        lv = np.r_[
            rng.uniform(0.70, 0.82, 9),
            rng.uniform(0.84, 0.87),
            rng.uniform(0.88, 0.92),
            rng.uniform(0.93, 0.98),
        ]
        levels = np.round(t * lv, 2)
        book.B[a] = levels[month] * book.mask[a]
        book.cp[a, month_start[1:]] = np.where(np.diff(levels) > 0, CP["salary"], CP["own"])
        plan.detail[c] = (
            f"card threshold {t:.0f}: monthly average Oct {levels[9]:.2f}, Nov {levels[10]:.2f}, "
            f"Dec {levels[11]:.2f} ({lv[11]:.1%} of it)"
        )

    for c in plan.of("churner_decline"):
        rows = _rows(h, c)
        step = rng.uniform(0.09, 0.125)
        factor = np.ones(days)
        for m in range(6, 12):
            factor[month == m] = 1.0 - (m - 5) * step
        book.B[rows] *= factor[None, :]
        for a in rows:
            book.cp[a, month_start[6:]] = (
                CP["other_bank"] if rng.random() < 0.7 else CP["securities"]
            )
        plan.detail[c] = (
            f"AUM steps down monthly from {year}-07 to {1 - 6 * step:.0%} of its H1 level "
            "in December"
        )

    for c in plan.of("churner_transfer_out"):
        a = _rows(h, c, DEMAND)[0]
        d = int(rng.integers(month_start[5], month_start[9] + 15))
        steps = int(rng.integers(1, 4))
        left = rng.uniform(0.03, 0.08)
        before = float(book.B[a, d - 1])
        levels = np.r_[1.0, np.linspace(1.0, left, steps + 1)[1:]]
        for j in range(steps):
            book.B[a, d + j :] *= levels[j + 1] / levels[j]
            book.cp[a, d + j] = CP["other_bank"]
        plan.detail[c] = (
            f"{steps} transfer(s) to other banks {_iso(year, d)}..{_iso(year, d + steps - 1)} "
            f"moved about {before * (1 - left):.0f} out, leaving {left:.0%}"
        )

    for c in plan.of("steady_large"):
        total = float(book.B[_rows(h, c)].sum(axis=0).mean())
        plan.detail[c] = (
            f"steady {total:.0f} (70% time deposits maturing after {year}); must not be flagged"
        )
