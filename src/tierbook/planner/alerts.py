"""Large fund movements (SPEC §3.4: RMs watch the funds of every 10万+ customer daily).

A customer with aum ≥ ``large_flow.min_aum`` whose single-day outflow ≥ ``outflow_min`` or
inflow ≥ ``inflow_min`` on a day of the lookback window (``as_of - lookback_days + 1 …
as_of``) raises one alert per day and direction for each assigned staff of ``roles`` (or one
unassigned), and a follow-up task due the day after the movement. ``flows`` holds one row
per customer and day (the day's sums), as the engine prepares it.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from tierbook.planner.common import day_text, fan_out, money, ts
from tierbook.rules.models import LargeFlow

_WORDS = {"large_outflow": "单日大额流出", "large_inflow": "单日大额流入"}


def large_flows(
    as_of: date,
    rule: LargeFlow,
    customers: pd.DataFrame,
    assignments: pd.DataFrame,
    flows: pd.DataFrame,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(alerts, follow-up tasks)`` for the large movements of the lookback window."""
    f = flows.loc[(flows["outflow"] >= rule.outflow_min) | (flows["inflow"] >= rule.inflow_min)]
    f = f.assign(date=pd.to_datetime(f["date"]).dt.normalize())
    start = ts(as_of - timedelta(days=rule.lookback_days - 1))
    f = f.loc[(f["date"] >= start) & (f["date"] <= ts(as_of))]
    big = customers.loc[customers["aum"] >= rule.min_aum, ["customer_id", "branch_id", "aum"]]
    f = f.merge(big, on="customer_id")
    parts = []
    for kind, column, floor in (
        ("large_outflow", "outflow", rule.outflow_min),
        ("large_inflow", "inflow", rule.inflow_min),
    ):
        hit = f.loc[f[column] >= floor].assign(kind=kind, amount=lambda d, c=column: d[c])
        hit["reason"] = (
            f"{_WORDS[kind]} "
            + money(hit["amount"])
            + f" ≥ {floor:,.0f} 于 "
            + day_text(hit["date"])
            + " (AUM "
            + money(hit["aum"])
            + f" ≥ {rule.min_aum:,.0f})"
        )
        parts.append(hit)
    hits = pd.concat(parts, ignore_index=True)
    alerts = fan_out(hits, rule.roles, assignments, unassigned=True)
    alerts["rule"] = "maintenance.large_flow"
    tasks = alerts.assign(
        kind=alerts["kind"] + "_follow_up",
        due_date=alerts["date"] + pd.Timedelta(days=1),
        reason="跟进: " + alerts["reason"],
    )
    return alerts, tasks
