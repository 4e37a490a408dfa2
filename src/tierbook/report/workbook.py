"""The run's Excel workbook: which sheets, in which order, with which masks."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from tierbook.batch.tiering import render_explanations
from tierbook.report.analysis_sheets import analysis_sheets
from tierbook.report.excel import Sheet, about_sheet, write_workbook
from tierbook.report.value_sheets import value_sheets

if TYPE_CHECKING:
    from tierbook.batch.run import RunResult

IDENTITY_MASKS = {"name": "name", "id_number": "id", "phone": "phone"}


def run_sheets(result: RunResult, manifest: dict[str, Any]) -> list[Sheet]:
    as_of = result.as_of.isoformat()
    sheets = [about_sheet(manifest)]
    every_tier = result.frame("tiers")
    for lad in result.rulebook.rulebook.ladders:
        sheets.append(
            Sheet(
                f"分层汇总 {lad.id}",
                f"{lad.title} — {as_of}",
                tier_summary(every_tier, lad.id, list(lad.level_names())),
            )
        )
    customers = result.customers.merge(result.identities, on="customer_id", how="left")
    customers = customers.merge(tier_columns(result, every_tier), on="customer_id", how="left")
    ident = [c for c in IDENTITY_MASKS if c in customers.columns]
    order = ["customer_id", *ident] + [
        c for c in customers.columns if c not in ("customer_id", *ident)
    ]
    sheets.append(
        Sheet(
            "客户 customers",
            f"客户分层与解释 — {as_of}",
            customers[order],
            masked_columns={c: IDENTITY_MASKS[c] for c in ident},
        )
    )  # type: ignore[misc]
    for ladder_id, matrix in result.migrations.items():
        sheets.append(
            Sheet(f"迁移 {ladder_id}", f"{ladder_id}: first review → {as_of}", matrix.reset_index())
        )
    sheets.append(Sheet("升降级 changes", "upgrades and downgrades", result.frame("changes")))
    sheets.append(Sheet("员工客户 staff books", "assignments", result.assignments))
    sheets.append(
        Sheet("离职调整 departures", "customers moved because their staff left", result.departures)
    )
    tasks = (
        result.tasks.sort_values(["staff_id", "due_date"]) if len(result.tasks) else result.tasks
    )
    sheets.append(Sheet("任务 tasks", f"tasks by staff from {as_of}", tasks))
    sheets.append(Sheet("预警 alerts", "alerts", result.alerts))
    sheets.append(Sheet("下月生日 birthdays", "next month's birthday list", result.birthday_list))
    sheets.extend(value_sheets(result))
    sheets.extend(analysis_sheets(result))
    sheets.append(Sheet("隔离 quarantine", "rows set aside by validation", result.quarantine))
    return sheets


def with_explanations(result: RunResult, tiers: pd.DataFrame) -> pd.DataFrame:
    rb = result.rulebook.rulebook
    weights = {k.value: v for k, v in rb.asset_weights.items()}
    parts = []
    for lad in rb.ladders:
        part = tiers[tiers["ladder_id"] == lad.id].copy()
        part["explanation"] = render_explanations(part, lad, weights)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def tier_columns(result: RunResult, tiers: pd.DataFrame) -> pd.DataFrame:
    """Per customer, each ladder's step and explanation (``<ladder>_step``,
    ``<ladder>_explanation``), ladders in the rulebook's order; the customers frame holds
    each ladder's level and measure already."""
    wide = with_explanations(result, tiers).pivot(
        index="customer_id", columns="ladder_id", values=["step", "explanation"]
    )
    wide.columns = [f"{lad}_{col}" for col, lad in wide.columns]
    ladders = [lad.id for lad in result.rulebook.rulebook.ladders]
    order = [f"{lad}_{col}" for lad in ladders for col in ("step", "explanation")]
    return wide[order].reset_index()


def tier_summary(tiers: pd.DataFrame, ladder_id: str, levels: list[str]) -> pd.DataFrame:
    t = tiers[tiers["ladder_id"] == ladder_id]
    g = t.groupby("level")["measure"].agg(customers="count", measure_total="sum")
    g = g.reindex(levels).fillna(0)
    g["customers"] = g["customers"].astype(int)
    g["share"] = g["customers"] / max(len(t), 1)
    g.index.name = "level"
    return g.reset_index()


def write_run_workbook(result: RunResult, manifest: dict[str, Any], path: Path) -> None:
    write_workbook(path, run_sheets(result, manifest))
