"""A departing colleague's book goes to the others by spare capacity."""

from __future__ import annotations

from collections import Counter

from tierbook.domain.handover import Colleague, hand_over


def test_no_colleague_means_no_hand_over() -> None:
    assert hand_over(["C1"], []) == {}


def test_equal_colleagues_share_alike() -> None:
    got = hand_over([f"C{i}" for i in range(10)], [Colleague("A", 0, 100), Colleague("B", 0, 100)])
    assert Counter(got.values()) == {"A": 5, "B": 5}


def test_books_end_proportional_to_capacity() -> None:
    # A: 10 of 100, B: 0 of 50. 50 customers: both end at 40 % → A 40, B 20.
    got = hand_over([f"C{i}" for i in range(50)], [Colleague("A", 10, 100), Colleague("B", 0, 50)])
    counts = Counter(got.values())
    assert counts["A"] + 10 == 40 and counts["B"] == 20


def test_the_emptier_colleague_gets_the_first_customer() -> None:
    got = hand_over(["C1"], [Colleague("A", 9, 10), Colleague("B", 1, 10)])
    assert got == {"C1": "B"}
