"""The analyses of a run, each switched on by its rulebook section: churn with cohort
retention and the early warning (``churn``), corporate segmentation
(``corporate_segments``), membership analysis (``membership``) and the purchase lifecycle
(``lifecycle``). One call from the batch; results as frames and metrics.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tierbook.batch.churn import (
    churn_frame,
    cohort_retention,
    followed_customers,
    onset_months,
    verdicts,
)
from tierbook.batch.measures import BucketSums, review_averages
from tierbook.batch.monthly import MonthlyBook, build_monthly_book
from tierbook.batch.tiering import LadderResult
from tierbook.domain.periods import ReviewCalendar
from tierbook.ingest.dataset import Dataset
from tierbook.rules.loader import LoadedRulebook
from tierbook.rules.models import Rulebook


@dataclass
class Analyses:
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)  # written as Parquet
    metrics: dict[str, Any] = field(default_factory=dict)  # written to analyses.json


def analysis_tables(rb: Rulebook) -> set[str]:
    """Input tables the rulebook's analyses read."""
    needed: set[str] = set()
    if rb.churn is not None:
        needed |= {"transactions", "contacts"}
    if rb.corporate_segments is not None:
        needed |= {"transactions", "income"}
    if rb.membership is not None or rb.lifecycle is not None:
        needed.add("purchases")
    return needed


def run_analyses(
    ds: Dataset,
    as_of: date,
    loaded: LoadedRulebook,
    customers: pd.DataFrame,
    results: dict[str, LadderResult],
    sums: BucketSums,
    cal: ReviewCalendar,
) -> Analyses:
    rb = loaded.rulebook
    out = Analyses()
    book: MonthlyBook | None = None
    if rb.churn is not None or rb.corporate_segments is not None:
        ladder = rb.churn.ladder if rb.churn else rb.aum_ladders()[0].id
        rows = book_rows(rb, customers, sums, cal)
        book = build_monthly_book(ds, customers, sums, cal, results[ladder].path, rows)
    if rb.churn is not None and book is not None:
        _churn(out, ds, book, list(results[rb.churn.ladder].ladder.level_names()), rb)
    if rb.corporate_segments is not None and book is not None:
        from tierbook.batch.segments import client_frame, rank_segments, segment_clients

        clients = segment_clients(client_frame(ds, book, sums, cal), rb.corporate_segments)
        out.frames["segment_clients"] = clients
        out.frames["segments"] = rank_segments(clients, rb.corporate_segments)
    if "purchases" in ds.tables:
        _purchases(out, ds, as_of, rb, customers, cal)
    return out


def book_rows(
    rb: Rulebook, customers: pd.DataFrame, sums: BucketSums, cal: ReviewCalendar
) -> np.ndarray:
    """Positions of the customers the monthly book needs: those churn follows (baseline at
    least its minimum) and, for segmentation, every corporate and institutional client.
    The rest are never read, and at a million customers their months would cost gigabytes.
    """
    keep = np.zeros(len(customers), dtype=bool)
    if rb.churn is not None:
        keep |= followed_customers(review_averages(sums, cal, "month"), rb.churn)
    if rb.corporate_segments is not None:
        keep |= (customers["kind"] != "individual").to_numpy()
    return np.flatnonzero(keep)


def _churn(out: Analyses, ds: Dataset, book: MonthlyBook, names: list[str], rb: Rulebook) -> None:
    rules = rb.churn
    assert rules is not None
    vs = verdicts(book, rules)
    frame = churn_frame(ds, book, names, vs, rules)
    out.frames["churn_cohorts"] = cohort_retention(book, names, vs)
    from tierbook.batch.early_warning import fit_and_evaluate  # scikit-learn: only when run

    ew = fit_and_evaluate(book, rules, onset_months(vs))
    if ew is None:
        out.metrics["early_warning"] = {"status": "not enough months or no churn to learn from"}
    else:
        out.metrics["early_warning"] = ew.metrics
        out.frames["early_warning_coefficients"] = ew.coefficients
        frame = frame.merge(ew.scores, on="customer_id", how="left")
    out.frames["churn"] = frame
    leaving = frame[frame["leaving"]] if len(frame) else frame
    out.metrics["churn"] = {
        "followed": len(frame),
        "leaving": len(leaving),
        "by_signal": leaving["signal"].value_counts().to_dict() if len(leaving) else {},
        "by_reason": leaving["reason_code"].value_counts().to_dict() if len(leaving) else {},
    }


def _purchases(
    out: Analyses,
    ds: Dataset,
    as_of: date,
    rb: Rulebook,
    customers: pd.DataFrame,
    cal: ReviewCalendar,
) -> None:
    purchases = ds.tables["purchases"]
    if rb.membership is not None:
        from tierbook.batch.membership import analyse_membership

        col = f"{rb.membership.ladder}_level"
        levels = customers.set_index("customer_id")[col]
        m = analyse_membership(purchases, cal, rb.membership, levels)
        out.frames.update(
            membership_monthly=m.monthly, membership_members=m.members,
            membership_categories=m.categories, membership_contribution=m.contribution,
        )  # fmt: skip
    if rb.lifecycle is not None:
        from tierbook.batch.lifecycle import score_lifecycle

        try:
            lc = score_lifecycle(purchases, as_of, rb.lifecycle)
        except ValueError as exc:
            out.metrics["lifecycle"] = {"status": str(exc)}
            return
        out.frames["lifecycle"] = lc.customers
        out.metrics["lifecycle"] = lc.parameters()


def write_analyses(result: Any, out: Path) -> dict[str, str]:
    """Write the analyses of ``result`` (a ``RunResult``) to ``out``: one Parquet file per
    frame, ``analyses.json`` with the metrics, and the PNG charts; returns name → file."""
    from tierbook.report import charts

    a: Analyses = result.analyses
    files: dict[str, str] = {}
    for name, frame in a.frames.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
        files[name] = f"{name}.parquet"
    (out / "analyses.json").write_text(
        json.dumps(a.metrics, ensure_ascii=False, indent=2, default=str), encoding="utf-8"
    )
    files["analyses"] = "analyses.json"
    rb = result.rulebook.rulebook
    tiers = result.frame("tiers", ["ladder_id", "level"])
    counts = {
        lad.id: tiers[tiers["ladder_id"] == lad.id]["level"]
        .value_counts()
        .reindex(list(lad.level_names()), fill_value=0)
        for lad in rb.ladders
    }
    mins = {lad.id: list(lad.thresholds()) for lad in rb.ladders}
    files["chart_tier_distribution"] = charts.tier_distribution(
        counts, mins, out / "chart-tier-distribution.png"
    ).name
    if rb.churn is not None and len(a.frames.get("churn_cohorts", ())):
        lad = rb.ladder(rb.churn.ladder)
        files["chart_churn_by_cohort"] = charts.churn_by_cohort(
            a.frames["churn_cohorts"], list(lad.level_names()), list(lad.thresholds()),
            out / "chart-churn-by-cohort.png",
        ).name  # fmt: skip
    return files
