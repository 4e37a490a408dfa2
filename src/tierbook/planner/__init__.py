"""Planner: turns the maintenance policy and the batch's results into dated tasks, alerts
and next month's birthday list (SPEC §3.4)."""

from tierbook.planner.core import Plan, plan

__all__ = ["Plan", "plan"]
