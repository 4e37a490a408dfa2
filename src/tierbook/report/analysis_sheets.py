"""Workbook sheets of the analyses: churn, early warning, cohorts, corporate segments and
membership. Names of customers are masked like every other sheet (``report.excel``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from tierbook.report.excel import Sheet

if TYPE_CHECKING:
    from tierbook.batch.run import RunResult

PCT = "0.0%"


def _with_name(frame: pd.DataFrame, result: RunResult) -> pd.DataFrame:
    names = result.identities[["customer_id", "name"]]
    out = frame.merge(names, on="customer_id", how="left")
    return out[["customer_id", "name", *[c for c in frame.columns if c != "customer_id"]]]


def analysis_sheets(result: RunResult) -> list[Sheet]:
    f = result.analyses.frames
    sheets: list[Sheet] = []
    if "churn" in f:
        churn = f["churn"]
        leaving = churn[churn["leaving"]].sort_values(["onset_month", "customer_id"])
        sheets.append(
            Sheet(
                "流失 churn",
                "leaving customers: signal, month of onset, reason",
                _with_name(leaving, result),
                masked_columns={"name": "name"},
                number_formats={"change": PCT},
            )
        )
        if "warning_score" in churn.columns:
            watch = churn[~churn["leaving"] & churn["warning_score"].notna()]
            watch = watch.sort_values("warning_rank").head(500)
            cols = ["customer_id", "level", "last_aum", "change", "warning_score",
                    "warning_rank", "drivers"]  # fmt: skip
            sheets.append(
                Sheet(
                    "流失预警 early warning",
                    _warning_title(result),
                    _with_name(watch[cols], result),
                    masked_columns={"name": "name"},
                    number_formats={"change": PCT, "warning_score": PCT},
                )
            )
        sheets.append(
            Sheet(
                "留存 cohorts",
                "retention by starting tier",
                f["churn_cohorts"],
                number_formats={"retained": PCT, "at_or_above_start": PCT},
            )
        )
    if "segments" in f:
        sheets.append(Sheet("对公细分 segments", "segments ranked by attractiveness",
                            f["segments"]))  # fmt: skip
        sheets.append(
            Sheet(
                "对公客户 segment clients",
                "corporate and institutional clients: segment and two-axis scores",
                _with_name(f["segment_clients"], result),
                masked_columns={"name": "name"},
                number_formats={"share_of_wallet": PCT, "growth": PCT},
            )
        )
    for key, name, title in (
        ("membership_monthly", "会员月报 membership", "membership by month (死卡率 = dead_rate)"),
        ("membership_contribution", "会员贡献 contribution", "contribution rate by level, ABC"),
        ("membership_categories", "品类走势 categories", "category trend"),
        ("membership_members", "会员 members", "members: ABC class and purchase types"),
        ("lifecycle", "生命周期 lifecycle", "BG/NBD + Gamma-Gamma per customer"),
    ):
        if key in f:
            frame = f[key]
            masked = {}
            if "customer_id" in frame.columns:
                frame, masked = _with_name(frame, result), {"name": "name"}
            sheets.append(
                Sheet(name, title, frame, masked_columns=masked,
                      number_formats={"dead_rate": PCT, "contribution_rate": PCT,
                                      "share_of_month": PCT, "p_alive": PCT})
            )  # fmt: skip
    return sheets


def _warning_title(result: RunResult) -> str:
    m = result.analyses.metrics.get("early_warning", {})
    if "auc" not in m:
        return "early-warning scores (not evaluated)"
    return (
        f"early-warning scores; evaluated on {', '.join(m['labels_in_months'])}: "
        f"AUC {m['auc']:.3f}, precision in the top {m['top_share']:.0%} "
        f"{m['precision_at_top']:.1%} (base rate {m['base_rate']:.1%})"
    )
