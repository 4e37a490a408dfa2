"""Event invitees chosen by rule (seed 004, 日常维护服务细则). Pure rules.

A salon invites about 15 customers, a seminar about 100, the VIP dinner every customer with
100万+ assets: the counts and amounts come from the rulebook's ``maintenance.events``. Among
customers whose AUM lies in the rule's range (and, when asked, at one of the given tier
levels), those sharing most of the event's interests come first, then larger AUM, then the
customer id, so the same inputs always give the same list.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from tierbook.rules.models import EventRule


@dataclass(frozen=True)
class Candidate:
    customer_id: str
    aum: float
    level: str | None = None
    interests: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Invitee:
    customer_id: str
    shared_interests: tuple[str, ...]
    aum: float


def eligible(c: Candidate, rule: EventRule, levels: Collection[str] | None) -> bool:
    if c.aum < rule.min_aum or (rule.max_aum is not None and c.aum >= rule.max_aum):
        return False
    return not levels or c.level in levels


def select_invitees(
    candidates: Iterable[Candidate],
    rule: EventRule,
    *,
    interests: Collection[str] = (),
    levels: Collection[str] | None = None,
    limit: int | None = None,
    exclude: Collection[str] = (),
) -> list[Invitee]:
    """The invitees of one event, best fit first. ``limit`` overrides the rule's count;
    customers in ``exclude`` (already invited) are skipped."""
    wanted = frozenset(interests)
    cap = limit if limit is not None else rule.invitees
    ranked = sorted(
        (
            Invitee(c.customer_id, tuple(sorted(c.interests & wanted)), c.aum)
            for c in candidates
            if c.customer_id not in exclude and eligible(c, rule, levels)
        ),
        key=lambda i: (-len(i.shared_interests), -i.aum, i.customer_id),
    )
    return ranked if cap is None else ranked[:cap]
