"""Tier every customer on every ladder, with history and explanations."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tierbook.analytics.aum import CLASSES
from tierbook.batch.measures import BucketSums, ladder_history
from tierbook.domain.explain import explain_tier
from tierbook.domain.periods import ReviewCalendar
from tierbook.domain.tiers import STEPS, TierPath, annual_keep, apply_policy
from tierbook.rules.models import AnnualKeepPolicy, AumMeasure, Ladder


@dataclass(frozen=True)
class LadderResult:
    ladder: Ladder
    measures: np.ndarray  # [customers, reviews]
    path: TierPath
    period_label: str

    def level_names(self, idx: np.ndarray) -> np.ndarray:
        return np.asarray(self.ladder.level_names(), dtype=object)[idx]


def tier_aum_ladder(ladder: Ladder, sums: BucketSums, cal: ReviewCalendar) -> LadderResult:
    measures = ladder_history(ladder, sums, cal)
    assert isinstance(ladder.measure, AumMeasure)
    return LadderResult(ladder, measures, apply_policy(ladder, measures), ladder.measure.period)


def tier_purchase_ladder(
    ladder: Ladder, spend: np.ndarray, largest: np.ndarray, cal: ReviewCalendar
) -> LadderResult:
    """``spend``/``largest``: ``[customers, buckets]`` purchase sums and maxima."""
    months = cal.review_months
    per_month_spend = np.stack(
        [spend[:, list(cal.period_buckets("month", m))].sum(axis=1) for m in months], axis=1
    )
    per_month_max = np.stack(
        [largest[:, list(cal.period_buckets("month", m))].max(axis=1) for m in months], axis=1
    )
    assert isinstance(ladder.policy, AnnualKeepPolicy)
    path = annual_keep(ladder, per_month_spend, per_month_max, ladder.policy)
    return LadderResult(ladder, np.cumsum(per_month_spend, axis=1), path, "purchases")


def tier_frame(
    result: LadderResult,
    customer_ids: pd.Index,
    sums: BucketSums | None,
    cal: ReviewCalendar,
    stamp: Mapping[str, str],
) -> pd.DataFrame:
    """One row per customer: final level, measure, threshold, gap to the next level, policy
    step and per-class averages — everything its explanation is rendered from."""
    lad = result.ladder
    final = result.path.final_levels
    measure = result.measures[:, -1]
    mins = np.asarray(lad.thresholds())
    next_idx = np.minimum(final + 1, len(mins) - 1)
    has_next = final + 1 < len(mins)
    names = list(lad.level_names())
    n = len(final)
    columns = {
        "customer_id": customer_ids,
        "ladder_id": _repeat(lad.id, n),
        "level": pd.Categorical.from_codes(final, names),
        "level_index": final,
        "measure": np.round(measure, 2),
        "period": _repeat(result.period_label, n),
        "level_min": mins[final],
        "next_level": pd.Categorical.from_codes(np.where(has_next, next_idx, -1), names),
        "gap_to_next": np.where(has_next, np.round(mins[next_idx] - measure, 2), np.nan),
        "step": pd.Categorical.from_codes(result.path.final_steps, list(STEPS)),
        "below_run": result.path.below_runs[:, -1],
    }
    if sums is not None and result.period_label in ("month", "quarter", "year"):
        class_avg = sums.class_average(cal, result.period_label)  # [customers, classes]
        for k, c in enumerate(CLASSES):
            columns[f"avg_{c}"] = np.round(class_avg[:, k], 2)
    for k, v in stamp.items():
        columns[k] = _repeat(v, n)
    return pd.DataFrame(columns)  # names as categoricals: a byte a row, not a string


def _repeat(value: str, n: int) -> pd.Categorical:
    """``value`` ``n`` times as a categorical column (one category)."""
    return pd.Categorical.from_codes(np.zeros(n, dtype=np.int8), [value])


def render_explanations(
    frame: pd.DataFrame, ladder: Ladder, weights: Mapping[str, float]
) -> list[str]:
    """The explanation sentence of every row of a ``tier_frame`` (rendered on demand: the
    structured columns are what is stored)."""
    avg_cols = [c for c in CLASSES if f"avg_{c}" in frame.columns]
    step_index = {name: i for i, name in enumerate(STEPS)}
    texts = []
    for row in frame.itertuples(index=False):
        per_class = {c: float(getattr(row, f"avg_{c}")) for c in avg_cols}
        texts.append(
            explain_tier(
                ladder,
                int(row.level_index),
                float(row.measure),
                str(row.period),
                step_index[str(row.step)],
                int(row.below_run),
                per_class,
                weights,
                str(row.rulebook_version),
            )
        )
    return texts


def history_frame(
    result: LadderResult, customer_ids: pd.Index, cal: ReviewCalendar
) -> pd.DataFrame:
    """Long form: customer × review month with measure, level and policy step."""
    n, t = result.measures.shape
    ends = [cal.month_ends[m] for m in cal.review_months]
    levels = result.path.levels.reshape(-1)
    names = list(result.ladder.level_names())
    # customer × month rows: the customer id and the month end as codes into the customers
    # and the months (4 bytes and 1 a row instead of 16 and 8: at 2M customers and the
    # default rulebook's two AUM ladders the frame has 48M rows); the files hold the values
    # (``write_parquet``)
    months = pd.DatetimeIndex(np.asarray(ends, dtype="datetime64[D]"))
    return pd.DataFrame(
        {
            "customer_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n, dtype=np.int32), t), customer_ids
            ),
            "ladder_id": pd.Categorical.from_codes(
                np.zeros(n * t, dtype=np.int8), [result.ladder.id]
            ),
            "period_end": pd.Categorical.from_codes(
                np.tile(np.arange(t, dtype=np.int8 if t < 128 else np.int16), n), months
            ),
            "measure": np.round(result.measures.reshape(-1), 2),
            "level": pd.Categorical.from_codes(levels, names),
            "level_index": levels.astype(np.int8),
            "step": pd.Categorical.from_codes(result.path.steps.reshape(-1), list(STEPS)),
        }
    )


def concat_keeping_categories(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """``pd.concat`` of the ladders' frames (tiers, history): the same values, with every
    categorical column kept categorical. Where the ladders' categories differ (ladder id,
    level) the column takes the union of them, in order of appearance; ``pd.concat`` would
    turn it into text, 15–19 bytes a row instead of one (a third of the history's memory,
    the largest frame of a run: customers × ladders × review months)."""
    if len(frames) > 1:
        cats = [c for c in frames[0].columns if isinstance(frames[0][c].dtype, pd.CategoricalDtype)]
        for c in cats:
            first = frames[0][c].cat.categories
            if all(f[c].cat.categories.equals(first) for f in frames[1:]):
                continue  # e.g. the customer ids: one set for every ladder
            names = list(dict.fromkeys(x for f in frames for x in f[c].cat.categories))
            frames = [f.assign(**{c: f[c].cat.set_categories(names)}) for f in frames]
    return pd.concat(frames, ignore_index=True)


def migration_matrix(result: LadderResult, start: int = 0) -> pd.DataFrame:
    """Customers by level at review ``start`` (rows) and at the last review (columns): the
    frame of ``pd.crosstab`` over the two levels as categoricals, counted with numpy."""
    names = list(result.ladder.level_names())
    k = len(names)
    a, b = result.path.levels[:, start], result.path.final_levels
    counts = np.bincount(a.astype(np.int64) * k + b, minlength=k * k).reshape(k, k)
    cats = pd.CategoricalDtype(pd.Index(names))
    return pd.DataFrame(
        counts.astype(np.int64),
        index=pd.CategoricalIndex(names, dtype=cats, name="from"),
        columns=pd.CategoricalIndex(names, dtype=cats, name="to"),
    )


def level_changes(
    result: LadderResult, customer_ids: pd.Index, cal: ReviewCalendar
) -> pd.DataFrame:
    """Every upgrade and downgrade in the review history, dated at the review month end."""
    lv = result.path.levels
    rows, cols = np.nonzero(lv[:, 1:] != lv[:, :-1])
    names = np.asarray(result.ladder.level_names(), dtype=object)
    ends = np.asarray([cal.month_ends[m] for m in cal.review_months], dtype="datetime64[D]")
    before, after = lv[rows, cols], lv[rows, cols + 1]
    return pd.DataFrame(
        {
            "customer_id": customer_ids.to_numpy()[rows],
            "ladder_id": result.ladder.id,
            "date": ends[cols + 1],
            "direction": np.where(after > before, "upgrade", "downgrade"),
            "from_level": names[before],
            "to_level": names[after],
            "measure": np.round(result.measures[rows, cols + 1], 2),
        }
    ).sort_values(["date", "customer_id"], ignore_index=True)
