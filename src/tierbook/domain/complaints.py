"""Complaint response deadlines and who sees an overdue complaint (issue 3). Pure rules.

The rulebook's ``maintenance.complaints`` gives response hours per severity (A the most
serious) and faster tables from a tier upwards: a customer uses the table of the highest
listed level at or below its own level on the complaint ladder, else the default table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tierbook.rules.models import ComplaintDeadlines, ResponseHours, Severity


def response_table(
    rules: ComplaintDeadlines, levels: Sequence[str], level: str | None
) -> ResponseHours:
    """The response-hours table for a customer at ``level`` of a ladder whose levels, lowest
    first, are ``levels``. An unknown or missing level gets the default table."""
    if level is None or level not in levels:
        return rules.hours
    rank = levels.index(level)
    best: ResponseHours = rules.hours
    for name in levels[: rank + 1]:
        if name in rules.by_level:
            best = rules.by_level[name]
    return best


def response_hours(
    rules: ComplaintDeadlines, levels: Sequence[str], level: str | None, severity: Severity
) -> int:
    return response_table(rules, levels, level)[severity]


def response_deadline(
    rules: ComplaintDeadlines,
    levels: Sequence[str],
    level: str | None,
    severity: Severity,
    received_at: datetime,
) -> datetime:
    """When the bank must have answered a complaint received at ``received_at``."""
    return received_at + timedelta(hours=response_hours(rules, levels, level, severity))


def is_overdue(deadline: datetime, responded_at: datetime | None, now: datetime) -> bool:
    """Open past its deadline, or answered after it. Answering exactly at it is in time."""
    if responded_at is not None:
        return responded_at > deadline
    return now > deadline
