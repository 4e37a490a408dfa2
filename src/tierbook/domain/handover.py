"""Handing a departing colleague's customers over to the others of the same role. Pure.

Each customer goes, in order, to the colleague whose book is the smallest share of their
capacity after the hand-overs so far (ties: the smaller book, then the staff id), so the
books end up as even as the capacities allow.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Colleague:
    staff_id: str
    book: int
    capacity: int


def hand_over(customers: Sequence[str], colleagues: Sequence[Colleague]) -> Mapping[str, str]:
    """``customer_id → staff_id``; empty when there is no colleague to take them."""
    if not colleagues:
        return {}
    books = {c.staff_id: c.book for c in colleagues}
    caps = {c.staff_id: max(c.capacity, 1) for c in colleagues}
    out: dict[str, str] = {}
    for cid in customers:
        sid = min(books, key=lambda s: (books[s] / caps[s], books[s], s))
        out[cid] = sid
        books[sid] += 1
    return out
