"""Churn (流失) rules: is a customer leaving, since which month, and why. Pure.

A customer is followed when its baseline — the mean monthly AUM of the first
``baseline_months`` review months — reaches ``min_baseline_aum``. It is leaving when any of
these signals fires; the onset is the earliest month a signal fires:

- ``aum_decline``: the month's average AUM is at least ``decline_pct`` below the baseline
  and stays there for ``sustained_months`` (or up to the last month observed);
- ``transfer_out``: outflows to other banks in a month reach ``transfer_out_share`` of the
  previous month's AUM, and the next month's AUM (this month's when it is the last) is at
  least ``decline_pct`` below the previous month's;
- ``downgrade``: the customer's level on the churn ladder goes down;
- ``accounts_closed``: every AUM account is closed and stays closed to the last month.

Why: a reason code from a contact record near the onset when there is one; otherwise the
observable driver — where the money went (other banks, securities) and which asset class
fell the most.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tierbook.rules.analyses import ChurnRules

SIGNALS: tuple[str, ...] = ("accounts_closed", "transfer_out", "aum_decline", "downgrade")
"""In the order that wins when two signals fire in the same month."""


@dataclass(frozen=True)
class ChurnInputs:
    """One customer's months (same length, oldest first)."""

    aum: Sequence[float]  # average weighted AUM of each month
    other_bank_out: Sequence[float]  # outflows to other banks in each month
    open_accounts: Sequence[int]  # AUM accounts open at each month end
    downgraded: Sequence[bool]  # level on the churn ladder went down in the month


@dataclass(frozen=True)
class ChurnVerdict:
    followed: bool
    leaving: bool
    onset: int | None  # month index of the earliest signal
    signal: str | None  # the signal that fired first
    signals: tuple[str, ...]  # every signal that fired
    baseline: float
    change: float  # last month's AUM ÷ baseline − 1 (0 when not followed)


def baseline_aum(aum: Sequence[float], rules: ChurnRules) -> float:
    head = list(aum[: rules.baseline_months])
    return sum(head) / len(head) if head else 0.0


def is_followed(baseline: float, rules: ChurnRules) -> bool:
    return baseline >= rules.min_baseline_aum and baseline > 0


def not_followed(baseline: float) -> ChurnVerdict:
    return ChurnVerdict(False, False, None, None, (), baseline, 0.0)


def decline_onset(aum: Sequence[float], baseline: float, rules: ChurnRules) -> int | None:
    floor = (1.0 - rules.decline_pct) * baseline
    n = len(aum)
    for m in range(rules.baseline_months, n):
        span = aum[m : min(m + rules.sustained_months, n)]
        if all(v <= floor for v in span):
            return m
    return None


def transfer_onset(inp: ChurnInputs, rules: ChurnRules) -> int | None:
    n = len(inp.aum)
    for m in range(1, n):
        before = inp.aum[m - 1]
        if before <= 0 or inp.other_bank_out[m] < rules.transfer_out_share * before:
            continue
        after = inp.aum[min(m + 1, n - 1)]
        if after <= (1.0 - rules.decline_pct) * before:
            return m
    return None


def closure_onset(open_accounts: Sequence[int]) -> int | None:
    n = len(open_accounts)
    for m in range(1, n):
        if open_accounts[m - 1] > 0 and all(k == 0 for k in open_accounts[m:]):
            return m
    return None


def downgrade_onset(downgraded: Sequence[bool]) -> int | None:
    return next((m for m, d in enumerate(downgraded) if d), None)


def churn_verdict(inp: ChurnInputs, rules: ChurnRules) -> ChurnVerdict:
    """Apply the churn rules to one customer's months."""
    base = baseline_aum(inp.aum, rules)
    if not is_followed(base, rules):
        return not_followed(base)
    onsets = {
        "accounts_closed": closure_onset(inp.open_accounts),
        "transfer_out": transfer_onset(inp, rules),
        "aum_decline": decline_onset(inp.aum, base, rules),
        "downgrade": downgrade_onset(inp.downgraded),
    }
    fired = tuple(s for s in SIGNALS if onsets[s] is not None)
    change = inp.aum[-1] / base - 1.0
    if not fired:
        return ChurnVerdict(True, False, None, None, (), base, change)
    first = min(fired, key=lambda s: (onsets[s], SIGNALS.index(s)))
    return ChurnVerdict(True, True, onsets[first], first, fired, base, change)


@dataclass(frozen=True)
class ChurnReason:
    source: str  # "contact" or "observed"
    code: str
    label: str


def churn_reason(
    verdict: ChurnVerdict,
    contact_codes: Sequence[str],
    class_drop: Mapping[str, float],
    outflow_to: Mapping[str, float],
    rules: ChurnRules,
) -> ChurnReason | None:
    """Why a leaving customer leaves. ``contact_codes``: reason codes of its contacts near
    the onset, latest first; ``class_drop``: AUM lost per asset class from the baseline to
    the last month (positive = lost); ``outflow_to``: outflows since the onset per
    counterparty type."""
    if not verdict.leaving:
        return None
    if contact_codes:
        code = contact_codes[0]
        return ChurnReason("contact", code, rules.reason_codes.get(code, f"未登记代码 {code}"))
    if verdict.signal == "accounts_closed":
        return ChurnReason("observed", "accounts_closed", "销户 every AUM account closed")
    external = {k: v for k, v in outflow_to.items() if k in ("other_bank", "securities") and v > 0}
    if verdict.signal == "transfer_out" or (
        external and max(external, key=lambda k: external[k]) == "other_bank"
    ):
        return ChurnReason("observed", "transfer_out", "转出他行 money moved to other banks")
    if external:
        return ChurnReason("observed", "to_securities", "转向证券 money moved to securities")
    lost = {k: v for k, v in class_drop.items() if v > 0}
    if lost:
        k = max(lost, key=lambda c: lost[c])
        return ChurnReason("observed", f"decline_{k}", f"{k} 余额下降 balance fell")
    return ChurnReason("observed", verdict.signal or "unknown", "等级下降 level fell")
