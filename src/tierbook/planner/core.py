"""``plan``: the maintenance policy of a rulebook (SPEC §3.4) turned into dated tasks, alerts
and next month's birthday list for one ``as_of`` date.

Inputs are pandas DataFrames prepared by the engine (columns in ``plan``'s docstring); the
rules' numbers and roles all come from ``Maintenance``. Every output row carries the rule's
dotted path and the rulebook stamp.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import pandas as pd

from tierbook.planner.alerts import large_flows
from tierbook.planner.birthdays import LIST_COLUMNS, birthday_list, birthday_visits
from tierbook.planner.common import STAMP_COLUMNS, empty_frame, finish_alerts, finish_tasks
from tierbook.planner.referral import upgrade_referrals
from tierbook.planner.tasks import (
    data_collection,
    festival_greetings,
    maturity_follow_up,
    monthly_contact,
)
from tierbook.rules.models import Ladder, Maintenance

_CUSTOMER_COLUMNS = (
    "customer_id",
    "branch_id",
    "kind",
    "birth_date",
    "aum",
    "band",
    "missing_fields",
)


@dataclass(frozen=True)
class Plan:
    """What the planner produced for one date. See ``common.TASK_COLUMNS`` / ``ALERT_COLUMNS``
    and ``birthdays.LIST_COLUMNS`` (+ the stamp) for the columns."""

    tasks: pd.DataFrame
    alerts: pd.DataFrame
    birthday_list: pd.DataFrame


def plan(
    as_of: date,
    maintenance: Maintenance,
    *,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
    maturities: pd.DataFrame,
    flows: pd.DataFrame,
    history: pd.DataFrame,
    stamp: Mapping[str, str],
    ladders: Mapping[str, Ladder] | None = None,
    contacts: pd.DataFrame | None = None,
) -> Plan:
    """Plan tasks, alerts and the birthday list at ``as_of``.

    - customers: customer_id, branch_id, kind, birth_date, aum, band, missing_fields
    - assignments: customer_id, role, staff_id
    - maturities: account_id, customer_id, product_type, maturity_date, balance
    - flows: customer_id, date, inflow, outflow (daily sums)
    - history: customer_id, ladder_id, period_end, measure (month ends)
    - ladders: by id; needs ``maintenance.upgrade_referral.ladder`` when history has rows
    - contacts (optional work log): customer_id, staff_id, date — anchors monthly contacts
    """
    m = maintenance
    c = _customers(customers)
    a = assignments.astype({"role": str})
    h = m.horizon_days
    alerts, flow_tasks = large_flows(as_of, m.large_flow, c, a, flows)
    lst, list_tasks = birthday_list(as_of, m.birthday_list, c, a)
    task_frames = [
        monthly_contact(as_of, m.monthly_contact, h, c, a, contacts=contacts),
        birthday_visits(as_of, m.birthday_visit, h, c, a),
        festival_greetings(as_of, m.festival_greeting, h, c, a),
        maturity_follow_up(as_of, m.maturity, c, a, maturities),
        flow_tasks,
        _referrals(as_of, m, c, a, history=history, ladders=ladders),
        data_collection(as_of, m.data_collection, c, a),
        list_tasks,
    ]
    st = dict(stamp)
    return Plan(
        tasks=finish_tasks(task_frames, st),
        alerts=finish_alerts([alerts], st),
        birthday_list=_stamp_list(lst, st),
    )


def _customers(customers: pd.DataFrame) -> pd.DataFrame:
    missing = sorted(set(_CUSTOMER_COLUMNS) - set(customers.columns))
    if missing:
        raise ValueError(f"customers lacks column(s) {', '.join(missing)}")
    c = customers[list(_CUSTOMER_COLUMNS)].copy()
    c["aum"] = pd.to_numeric(c["aum"], errors="coerce").fillna(0.0).astype(float)
    c["birth_date"] = pd.to_datetime(c["birth_date"], errors="coerce")
    c["kind"] = c["kind"].astype(str)
    return c.reset_index(drop=True)


def _referrals(
    as_of: date,
    m: Maintenance,
    c: pd.DataFrame,
    a: pd.DataFrame,
    *,
    history: pd.DataFrame,
    ladders: Mapping[str, Ladder] | None,
) -> pd.DataFrame:
    if history.empty:
        return pd.DataFrame()
    ladder_id = m.upgrade_referral.ladder
    if ladders is None or ladder_id not in ladders:
        raise ValueError(
            f"maintenance.upgrade_referral.ladder: ladder {ladder_id!r} not passed in ladders"
        )
    return upgrade_referrals(as_of, m.upgrade_referral, ladders[ladder_id], c, a, history=history)


def _stamp_list(lst: pd.DataFrame, stamp: dict[str, str]) -> pd.DataFrame:
    columns = (*LIST_COLUMNS, *STAMP_COLUMNS)
    if lst.empty:
        return empty_frame(columns)
    for key in STAMP_COLUMNS:
        lst[key] = stamp.get(key, "")
    return lst[list(columns)]
