"""Churn rules on hand-made customers: who is leaving, since which month, and why."""

from __future__ import annotations

import pytest

from tests.mini_rulebook import MINIMAL_RULEBOOK
from tierbook.domain.churn import ChurnInputs, churn_reason, churn_verdict
from tierbook.rules import parse_rulebook
from tierbook.rules.analyses import ChurnRules

RULES = ChurnRules(
    baseline_months=3,
    min_baseline_aum=50_000,
    decline_pct=0.5,
    sustained_months=3,
    transfer_out_share=0.5,
)
N = 12


def months(*changes: tuple[int, float], base: float = 200_000) -> list[float]:
    """Twelve monthly AUMs at ``base``, from each (month, value) on: that value."""
    out = [base] * N
    for m, v in sorted(changes):
        out[m:] = [v] * (N - m)
    return out


def customer(
    aum: list[float],
    *,
    out: dict[int, float] | None = None,
    open_accounts: list[int] | None = None,
    down: int | None = None,
) -> ChurnInputs:
    return ChurnInputs(
        aum,
        [(out or {}).get(m, 0.0) for m in range(N)],
        open_accounts or [2] * N,
        [m == down for m in range(N)],
    )


@pytest.mark.parametrize(
    ("name", "inp", "leaving", "onset", "signal"),
    [
        ("steady", customer(months()), False, None, None),
        ("exactly half below the baseline from July", customer(months((6, 100_000))), True, 6,
         "aum_decline"),
        ("49% below is not leaving", customer(months((6, 102_000))), False, None, None),
        ("a two-month dip that recovers", customer(months((6, 90_000), (8, 200_000))), False,
         None, None),
        ("a fall in the last two months counts up to the last month",
         customer(months((10, 80_000))), True, 10, "aum_decline"),
        ("stepping down month by month crosses half in the month it does",
         customer([200_000] * 6 + [180_000, 150_000, 120_000, 99_000, 80_000, 60_000]), True, 9,
         "aum_decline"),
        ("transfer to other banks of half the AUM, then gone",
         customer(months((5, 150_000), (6, 10_000)), out={5: 100_000}), True, 5, "transfer_out"),
        ("outflow below the share is no transfer-out",
         customer(months((5, 150_000), (6, 150_000)), out={5: 90_000}), False, None, None),
        ("every account closed in September and stays closed",
         customer(months(), open_accounts=[2] * 8 + [0] * 4), True, 8, "accounts_closed"),
        ("an account closed and a new one opened is no closure",
         customer(months(), open_accounts=[2] * 8 + [0, 1, 1, 1]), False, None, None),
        ("downgrade in June", customer(months(), down=5), True, 5, "downgrade"),
    ],
)  # fmt: skip
def test_churn_onset_and_signal(
    name: str, inp: ChurnInputs, leaving: bool, onset: int | None, signal: str | None
) -> None:
    v = churn_verdict(inp, RULES)
    assert (v.leaving, v.onset, v.signal) == (leaving, onset, signal), name


def test_customer_below_the_baseline_floor_is_not_followed() -> None:
    v = churn_verdict(customer(months((6, 0.0), base=49_999.99)), RULES)
    assert not v.followed and not v.leaving


def test_customer_at_exactly_the_baseline_floor_is_followed() -> None:
    assert churn_verdict(customer(months(base=50_000)), RULES).followed


def test_earliest_signal_wins_and_every_signal_is_listed() -> None:
    inp = customer(months((6, 90_000)), down=8)
    v = churn_verdict(inp, RULES)
    assert (v.onset, v.signal) == (6, "aum_decline")
    assert set(v.signals) == {"aum_decline", "downgrade"}
    assert v.change == pytest.approx(90_000 / 200_000 - 1)


def test_closure_wins_a_tie_with_a_decline_in_the_same_month() -> None:
    inp = customer(months((6, 0.0)), open_accounts=[1] * 6 + [0] * 6)
    assert churn_verdict(inp, RULES).signal == "accounts_closed"


LEAVING = churn_verdict(customer(months((6, 90_000))), RULES)


@pytest.mark.parametrize(
    ("codes", "drop", "outflow", "expected"),
    [
        (["competitor", "rate"], {}, {"other_bank": 1e5}, ("contact", "competitor")),
        (["xyz"], {}, {}, ("contact", "xyz")),
        ([], {"time_deposit": 5e4}, {"other_bank": 9e4, "securities": 1e4},
         ("observed", "transfer_out")),
        ([], {"time_deposit": 5e4}, {"securities": 9e4, "other_bank": 1e4},
         ("observed", "to_securities")),
        ([], {"time_deposit": 5e4, "fund": 8e4}, {"merchant": 3e4},
         ("observed", "decline_fund")),
    ],
)  # fmt: skip
def test_reason_from_contacts_first_else_the_observable_driver(
    codes: list[str], drop: dict[str, float], outflow: dict[str, float], expected: tuple[str, str]
) -> None:
    r = churn_reason(LEAVING, codes, drop, outflow, RULES)
    assert r is not None and (r.source, r.code) == expected


def test_reason_labels_come_from_the_rulebook_and_unknown_codes_say_so() -> None:
    known = churn_reason(LEAVING, ["relocation"], {}, {}, RULES)
    unknown = churn_reason(LEAVING, ["xyz"], {}, {}, RULES)
    assert known is not None and known.label == RULES.reason_codes["relocation"]
    assert unknown is not None and "xyz" in unknown.label


def test_staying_customer_has_no_reason() -> None:
    assert churn_reason(churn_verdict(customer(months()), RULES), ["rate"], {}, {}, RULES) is None


def test_churn_ladder_must_exist_and_warning_must_fit_the_year() -> None:
    with pytest.raises(ValueError, match=r"churn.ladder: unknown ladder 'b'"):
        parse_rulebook(MINIMAL_RULEBOOK + "churn: {ladder: b}\n")
    with pytest.raises(ValueError, match="must fit in the 12 review months"):
        parse_rulebook(MINIMAL_RULEBOOK + "churn: {ladder: a, early_warning: {train_months: 10}}\n")
