"""Workbook sheets of the value step: key customers, fake-big flags with evidence, Pareto,
20/60/20 profiles and cross-sell tasks. Names are masked like the customers sheet."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierbook.report.excel import Sheet

if TYPE_CHECKING:
    from tierbook.batch.run import RunResult

NAME_MASK = {"name": "name"}


def _named(frame: pd.DataFrame, identities: pd.DataFrame) -> pd.DataFrame:
    if "name" not in identities.columns or frame.empty:
        return frame
    out = frame.merge(identities[["customer_id", "name"]], on="customer_id", how="left")
    cols = list(frame.columns)
    at = cols.index("customer_id") + 1
    return out[[*cols[:at], "name", *cols[at:]]]


def value_sheets(result: RunResult) -> list[Sheet]:
    v = result.value
    if v is None:
        return []
    as_of = result.as_of.isoformat()
    c = v.concentration
    pareto_title = (
        f"帕累托 profit Pareto — {as_of}: top {c.get('top_share', 0):.0%} of customers bring "
        f"{c.get('top_profit_share', float('nan')):.1%} of profit; Gini {c.get('gini', 0):.3f}"
    )
    flags = v.fake_big_flags.dropna(axis=1, how="all")
    return [
        Sheet(
            "大客户 key customers",
            f"大客户 key customers by value score — {as_of}",
            _named(result.frame("key_customers"), result.identities),
            masked_columns=NAME_MASK,
        ),
        Sheet(
            "假大户 fake-big flags",
            f"假大户 fake big customers with evidence — {as_of}",
            _named(flags, result.identities),
            masked_columns=NAME_MASK,
            number_formats={"volume_pct": "0.0%", "margin_pct": "0.0%", "profit_rate": "0.0%"},
        ),
        Sheet(
            "帕累托 Pareto",
            pareto_title,
            v.pareto,
            number_formats={"customer_share": "0%", "profit_share": "0.0%"},
        ),
        Sheet(
            "20-60-20",
            "20/60/20: valuable / break-even to keep / costly — profile of each group",
            v.segments_206020,
            number_formats={"share": "0.0%"},
        ),
        Sheet(
            "交叉销售 cross-sell", "next best product tasks for key customers", v.cross_sell_tasks
        ),
    ]
