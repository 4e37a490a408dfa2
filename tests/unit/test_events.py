"""Event invitees by rule: about 15 for a salon, 100 for a seminar, 100万+ for the VIP dinner."""

from __future__ import annotations

import pytest

from tierbook.domain.events import Candidate, select_invitees
from tierbook.rules import load_preset
from tierbook.rules.models import EventKind, EventRule

EVENTS = load_preset("bank_default").rulebook.maintenance.events


def test_preset_counts_and_amounts_are_those_of_seed_004() -> None:
    assert EVENTS[EventKind.SALON].invitees == 15
    assert EVENTS[EventKind.SEMINAR].invitees == 100
    assert EVENTS[EventKind.VIP_DINNER].invitees is None
    assert EVENTS[EventKind.VIP_DINNER].min_aum == 1_000_000


def _many(n: int, aum: float = 500_000) -> list[Candidate]:
    return [Candidate(f"C{i:04d}", aum + i) for i in range(n)]


@pytest.mark.parametrize(("kind", "expected"), [(EventKind.SALON, 15), (EventKind.SEMINAR, 100)])
def test_salon_and_seminar_invite_their_count(kind, expected) -> None:
    assert len(select_invitees(_many(300), EVENTS[kind])) == expected


def test_vip_dinner_invites_every_customer_at_or_above_one_million() -> None:
    people = [Candidate("A", 999_999.99), Candidate("B", 1_000_000), Candidate("C", 5_000_000)]
    got = select_invitees(people, EVENTS[EventKind.VIP_DINNER])
    assert [i.customer_id for i in got] == ["C", "B"]


def test_shared_interests_come_before_aum() -> None:
    people = [
        Candidate("rich", 9_000_000, interests=frozenset({"golf"})),
        Candidate("fit2", 300_000, interests=frozenset({"tea", "wine"})),
        Candidate("fit1", 400_000, interests=frozenset({"tea", "golf"})),
    ]
    got = select_invitees(people, EVENTS[EventKind.SALON], interests={"tea", "wine"})
    assert [i.customer_id for i in got] == ["fit2", "fit1", "rich"]
    assert got[0].shared_interests == ("tea", "wine")


def test_below_min_aum_and_excluded_and_other_levels_are_left_out() -> None:
    people = [
        Candidate("low", 199_999, level="金卡"),
        Candidate("ok", 200_000, level="白金"),
        Candidate("gold", 250_000, level="金卡"),
        Candidate("done", 800_000, level="白金"),
    ]
    got = select_invitees(people, EVENTS[EventKind.SALON], levels={"白金"}, exclude={"done"})
    assert [i.customer_id for i in got] == ["ok"]


def test_max_aum_is_exclusive_and_limit_overrides_the_count() -> None:
    rule = EventRule(invitees=2, min_aum=0, max_aum=100, per_year=1)
    people = [Candidate("a", 99), Candidate("b", 100), Candidate("c", 50)]
    assert [i.customer_id for i in select_invitees(people, rule)] == ["a", "c"]
    assert [i.customer_id for i in select_invitees(people, rule, limit=1)] == ["a"]


def test_same_inputs_give_the_same_list_whatever_the_order() -> None:
    people = [*_many(50, aum=300_000), Candidate("Z", 300_000), Candidate("Y", 300_000)]
    a = select_invitees(people, EVENTS[EventKind.SALON])
    b = select_invitees(list(reversed(people)), EVENTS[EventKind.SALON])
    assert a == b
