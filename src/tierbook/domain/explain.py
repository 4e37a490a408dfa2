"""Human-readable explanations of tier decisions ("why is this customer 钻石?"). Pure."""

from __future__ import annotations

from collections.abc import Mapping

from tierbook.domain.tiers import STEPS
from tierbook.rules.models import Ladder, SlowDownPolicy

PERIOD_LABEL = {
    "month": "monthly daily average (月日均)",
    "quarter": "quarterly daily average (季日均)",
    "year": "12-month daily average (年日均)",
    "purchases": "purchases",
}


def money(x: float) -> str:
    return f"{x:,.2f}"


def explain_tier(
    ladder: Ladder,
    level: int,
    measure: float,
    period_label: str,
    step: int,
    run: int,
    class_averages: Mapping[str, float],
    weights: Mapping[str, float],
    version: str,
) -> str:
    """One sentence per fact: the level and its threshold, the measure and how it is built,
    the next level and the gap, the policy step, the rulebook version."""
    lv = ladder.levels[level]
    parts = [
        f"{ladder.id}={lv.name}: {PERIOD_LABEL.get(period_label, period_label)} {money(measure)}"
    ]
    if class_averages:
        terms = [
            f"{c} {money(a)}×{weights.get(c, 0):g}"
            for c, a in class_averages.items()
            if a and weights.get(c, 0)
        ]
        if terms:
            parts.append("weighted AUM = " + " + ".join(terms))
    if measure >= lv.min:
        parts.append(f"reaches {lv.name} minimum {money(lv.min)}")
    else:
        parts.append(f"below {lv.name} minimum {money(lv.min)} but the level is held")
    if level + 1 < len(ladder.levels):
        nxt = ladder.levels[level + 1]
        parts.append(f"next {nxt.name} at {money(nxt.min)} (gap {money(nxt.min - measure)})")
    parts.append(_policy_text(ladder, step, run))
    parts.append(f"rulebook version {version}")
    return "; ".join(parts)


def _policy_text(ladder: Ladder, step: int, run: int) -> str:
    name = STEPS[step]
    pol = ladder.policy
    if isinstance(pol, SlowDownPolicy) and name in ("below", "watch"):
        return (
            f"policy {pol.kind}: {name}, {run} period(s) below (watch after "
            f"{pol.watch_after}, drop after {pol.watch_after + pol.drop_after})"
        )
    return f"policy {pol.kind}: {name}"
