"""Complaint response deadlines by severity and tier, from the rulebook (issue 3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import yaml

from tierbook.domain.complaints import is_overdue, response_deadline, response_hours
from tierbook.rules import RulebookError, load_preset, parse_rulebook
from tierbook.rules.loader import preset_text
from tierbook.rules.models import Severity

RB = load_preset("bank_default").rulebook
RULES = RB.maintenance.complaints
LEVELS = RB.ladder("card_tiers").level_names()
T0 = datetime(2025, 6, 2, 9, 0)

# The preset's tables, typed in by hand from bank_default.yaml.
DEFAULT = {"A": 24, "B": 72, "C": 168, "D": 360}
DIAMOND = {"A": 8, "B": 24, "C": 72, "D": 168}
PRIVATE = {"A": 4, "B": 12, "C": 48, "D": 120}


@pytest.mark.parametrize(
    ("level", "table"),
    [
        ("普通", DEFAULT),
        ("金卡", DEFAULT),
        ("黑金", DEFAULT),
        ("钻石", DIAMOND),
        ("私人银行", PRIVATE),
        (None, DEFAULT),
        ("no-such-level", DEFAULT),
    ],
)
def test_response_hours_by_tier_and_severity(level, table) -> None:
    for sev in Severity:
        assert response_hours(RULES, LEVELS, level, sev) == table[sev.value]


def test_a_tier_between_listed_ones_inherits_the_table_below_it() -> None:
    doc = yaml.safe_load(preset_text("bank_default"))
    doc["maintenance"]["complaints"]["by_level"] = {"白金": DIAMOND}
    rb = parse_rulebook(yaml.safe_dump(doc, allow_unicode=True)).rulebook
    c = rb.maintenance.complaints
    assert response_hours(c, LEVELS, "金卡", Severity.A) == 24
    assert response_hours(c, LEVELS, "白金", Severity.A) == 8
    assert response_hours(c, LEVELS, "私人银行", Severity.A) == 8


def test_deadline_is_received_time_plus_hours() -> None:
    assert response_deadline(RULES, LEVELS, "钻石", Severity.B, T0) == T0 + timedelta(hours=24)
    assert response_deadline(RULES, LEVELS, "普通", Severity.D, T0) == datetime(2025, 6, 17, 9)


def test_answer_exactly_at_the_deadline_is_in_time() -> None:
    deadline = T0 + timedelta(hours=24)
    assert not is_overdue(deadline, deadline, deadline + timedelta(days=9))
    assert is_overdue(deadline, deadline + timedelta(seconds=1), deadline)
    assert not is_overdue(deadline, None, deadline)
    assert is_overdue(deadline, None, deadline + timedelta(seconds=1))


def _problems(mutate) -> list[tuple[str, str]]:
    doc = yaml.safe_load(preset_text("bank_default"))
    mutate(doc["maintenance"]["complaints"])
    with pytest.raises(RulebookError) as info:
        parse_rulebook(yaml.safe_dump(doc, allow_unicode=True))
    return info.value.problems


def test_missing_severity_is_refused() -> None:
    [(path, reason)] = _problems(lambda c: c["hours"].pop("C"))
    assert path == "maintenance.complaints.hours" and "severity C" in reason


def test_less_serious_severity_may_not_be_answered_sooner() -> None:
    [(_path, reason)] = _problems(lambda c: c["hours"].update(A=100))
    assert "A ≤ B ≤ C ≤ D" in reason


def test_unknown_tier_level_is_refused() -> None:
    [(_path, reason)] = _problems(lambda c: c["by_level"].update({"黄金": DIAMOND}))
    assert "unknown level 黄金" in reason


def test_a_higher_tier_may_not_wait_longer() -> None:
    [(_path, reason)] = _problems(lambda c: c["by_level"].update({"私人银行": DEFAULT}))
    assert "私人银行" in reason and "must not wait longer" in reason
