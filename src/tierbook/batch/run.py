"""The batch: load → 年日均 → tiers → named staff → dated tasks, for one as-of date.

This is the service layer of the batch: it wires the ingest, the engine (Ibis), the pure
domain rules, assignment and the planner together, and returns every result as frames.
Writing them out is ``tierbook.batch.outputs``.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tierbook.analytics import aum as aum_expr
from tierbook.analytics.backends.duckdb import release_memory
from tierbook.analytics.backends.engine import engine_of
from tierbook.analytics.purchases import monthly_purchases
from tierbook.batch.measures import BucketSums
from tierbook.batch.memory import give_back_memory
from tierbook.batch.parquet import write_parquet
from tierbook.batch.scan import bucket_sums
from tierbook.batch.tiering import (
    LadderResult,
    concat_keeping_categories,
    history_frame,
    level_changes,
    migration_matrix,
    tier_aum_ladder,
    tier_frame,
    tier_purchase_ladder,
)
from tierbook.domain.periods import review_calendar
from tierbook.ingest.dataset import Dataset
from tierbook.rules.loader import LoadedRulebook
from tierbook.rules.models import AumMeasure, PurchaseMeasure

if TYPE_CHECKING:  # the value step, the analyses and planning are imported when they run:
    # their libraries (scikit-learn, SciPy, networkx...) cost seconds and 150+ MB to import,
    # which ``compute_tiers`` alone (the benchmark, the close's tiers) never needs.
    from tierbook.batch.analyses import Analyses
    from tierbook.batch.value import ValueResult

Progress = Callable[[str], None]

IDENTITY = ("name", "id_number", "phone")

VALUE_STAGE = "value score, key customers, fake-big flags"
ANALYSES_STAGE = "analyses: churn, segments, membership"
SPILLED_VALUE_RESULTS = ("value_scores", "key_customers")
"""The value step's results ``run_batch(spill=…)`` writes as soon as they are made: one row
per customer and one per key customer (up to a fifth of the book), read by no later step."""

ANALYSIS_STAGES = (ANALYSES_STAGE,)
"""The stages that run under ``analysis_memory_limit`` (``run_batch``). The value step runs
under the engine's own limit: its customer × day balance shapes go in blocks sized from
that limit (``value_inputs.shape_block_customer_days``)."""


@dataclass
class RunResult:
    as_of: date
    rulebook: LoadedRulebook
    customers: pd.DataFrame  # one row per customer: averages and level per ladder
    identities: pd.DataFrame  # name, ID number, phone: raw, never written unmasked
    tiers: pd.DataFrame  # one row per customer and ladder, with explanation
    history: pd.DataFrame
    changes: pd.DataFrame
    migrations: dict[str, pd.DataFrame]
    assignments: pd.DataFrame
    departures: pd.DataFrame
    tasks: pd.DataFrame
    alerts: pd.DataFrame
    birthday_list: pd.DataFrame
    quarantine: pd.DataFrame
    files: list[dict[str, Any]]
    balance_form: str
    engine: str = "duckdb"  # the engine that computed the sums (capability table name)
    timings: dict[str, float] = field(default_factory=dict)
    value: ValueResult | None = None  # key customers, fake-big flags, concentration
    analyses: Analyses = field(default_factory=lambda: _analyses_module().Analyses())
    """Churn, segments, membership."""
    spilled: dict[str, Path] = field(default_factory=dict)
    """Results the batch wrote to a Parquet file as soon as they were made (``run_batch(
    spill=…)``), by name: their frame here has the file's columns and no rows. ``frame``
    reads them back."""

    def frame(self, name: str, columns: list[str] | None = None) -> pd.DataFrame:
        """The result ``name`` (a field of this result or of ``value``), held or read back
        from its file when the batch spilled it; ``columns``: only those."""
        if name in self.spilled:
            return pd.read_parquet(self.spilled[name], columns=columns)
        held = getattr(self, name) if hasattr(self, name) else getattr(self.value, name)
        return held if columns is None else held[columns]


class Timer:
    """Seconds per stage; ``after``: called at the end of each stage, outside its time."""

    def __init__(self, progress: Progress | None, after: Callable[[], None] | None = None) -> None:
        self.timings: dict[str, float] = {}
        self._progress = progress
        self._after = after

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        if self._progress:
            self._progress(name)
        t0 = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - t0, 3)
        if self._after is not None:
            self._after()


def _analyses_module() -> Any:
    from tierbook.batch import analyses

    return analyses


def tables_needed(loaded: LoadedRulebook) -> set[str]:
    """Input tables this batch reads beyond the required ones and the balances."""
    rb = loaded.rulebook
    needed = {"transactions"} if rb.maintenance is not None else set()
    if any(isinstance(lad.measure, PurchaseMeasure) for lad in rb.ladders):
        needed.add("purchases")
    if rb.key_customers is not None:
        needed |= {"transactions", "income", "referrals"}
    return needed | _analyses_module().analysis_tables(rb)


SumsSource = Callable[[Any, pd.Index], BucketSums]
"""Given the review calendar and the customer ids, the bucket sums (the incremental close
passes its own; by default one scan of the balances)."""


def compute_tiers(
    ds: Dataset,
    as_of: date,
    loaded: LoadedRulebook,
    timer: Timer,
    sums_source: SumsSource | None = None,
) -> tuple[pd.DataFrame, dict[str, LadderResult], BucketSums, Any]:
    """Customers' averages and every ladder's tier path."""
    rb = loaded.rulebook
    periods = tuple(
        lad.measure.period for lad in rb.aum_ladders() if isinstance(lad.measure, AumMeasure)
    )
    cal = review_calendar(as_of, 12, periods)
    customers = ds.tables["customers"].select("customer_id", "branch_id", "kind").to_pandas()
    customers = customers.sort_values("customer_id", ignore_index=True)
    index = pd.Index(customers["customer_id"])
    with timer.stage("aggregate balances"):
        weights = {k.value: v for k, v in rb.asset_weights.items()}
        if sums_source is None:
            sums = bucket_sums(ds, cal, index, weights)
        else:
            sums = sums_source(cal, index)
    release_memory(ds.con)  # the engine idles while the ladders run in numpy
    with timer.stage("tier ladders"):
        results: dict[str, LadderResult] = {}
        for lad in rb.ladders:
            if isinstance(lad.measure, PurchaseMeasure):
                spend, largest = _purchase_matrices(ds, cal, index)
                results[lad.id] = tier_purchase_ladder(lad, spend, largest, cal)
            else:
                results[lad.id] = tier_aum_ladder(lad, sums, cal)
    for label, period in (
        ("ytd_avg", "ytd"),
        ("year_avg", "year"),
        ("rolling_365_avg", "rolling_365"),
    ):
        customers[label] = np.round(sums.average(cal, period), 2)
    customers["month_avg"] = np.round(sums.average(cal, "month"), 2)
    loan_k = aum_expr.CLASSES.index("loan")
    customers["loan_ytd_avg"] = np.round(sums.class_average(cal, "ytd", classes=[loan_k])[:, 0], 2)
    for lad_id, res in results.items():
        customers[f"{lad_id}_level"] = res.level_names(res.path.final_levels)
        customers[f"{lad_id}_measure"] = np.round(res.measures[:, -1], 2)
    return customers, results, sums, cal


def _purchase_matrices(ds: Dataset, cal: Any, index: pd.Index) -> tuple[np.ndarray, np.ndarray]:
    n, nb = len(index), len(cal.buckets)
    spend, largest = np.zeros((n, nb)), np.zeros((n, nb))
    if "purchases" not in ds.tables:
        return spend, largest
    t = monthly_purchases(ds.tables["purchases"], cal).to_pyarrow()
    rows = index.get_indexer(t.column("customer_id").to_numpy(zero_copy_only=False))
    ok = rows >= 0
    b = t.column("bucket").to_numpy()[ok]
    np.add.at(spend, (rows[ok], b), t.column("spend").to_numpy()[ok])
    np.maximum.at(largest, (rows[ok], b), t.column("largest").to_numpy()[ok])
    return spend, largest


def run_batch(
    ds: Dataset,
    as_of: date,
    loaded: LoadedRulebook,
    *,
    previous_assignments: pd.DataFrame | None = None,
    progress: Progress | None = None,
    sums_source: SumsSource | None = None,
    maintenance_ds: Dataset | None = None,
    analysis_memory_limit: str | None = None,
    staff_ends: Mapping[str, date] | None = None,
    spill: Path | None = None,
) -> RunResult:
    """Run the whole chain for ``as_of`` on a loaded dataset (``sums_source`` and
    ``maintenance_ds``: see ``tierbook.batch.close``). With ``sums_source`` (a daily close,
    whose dataset holds only the day's rows) the value step and the analyses, which read the
    whole year's balances and transactions, are left to the next full run.
    ``analysis_memory_limit``: DuckDB's working memory for the analyses (their monthly flows
    over the year's transactions need more than the tier scan; ``bootstrap``). ``staff_ends``: end
    dates recorded outside the staff file (``assign_and_plan``). ``spill``: a folder (made
    afresh) where the results read by no later step are written as they are made instead of
    being held: the history (customers × ladders × review months: 48M rows at 2M
    customers), the tiers and the level changes ladder by ladder, the value scores and the
    key customers (``RunResult.spilled``, ``RunResult.frame``; ``tierbook run`` passes
    ``outputs.spill_folder(out)``, and ``write_outputs`` moves the files into ``out``)."""
    from tierbook.analytics.backends.duckdb import working_memory
    from tierbook.batch.maintain import assign_and_plan

    analyses_module = _analyses_module()
    # what a stage freed goes back to the system before the next (the later stages run
    # beside the frames of the earlier ones: ``give_back_memory``)
    timer = Timer(progress, after=lambda: give_back_memory(ds.con))
    stamp = loaded.stamp
    customers, results, sums, cal = compute_tiers(ds, as_of, loaded, timer, sums_source)
    ds.finish_checks()  # no-op once the scan above settled them: the quarantine is complete
    index = pd.Index(customers["customer_id"])
    spilled: dict[str, Path] = {}
    if spill is not None:
        if spill.exists():
            shutil.rmtree(spill)  # what a run stopped half-way left
        spill.mkdir(parents=True)
    ladders = list(results.values())
    with timer.stage("tier results"):
        tiers = _spilled(
            "tiers", (tier_frame(r, index, sums, cal, stamp) for r in ladders), spill, spilled
        )
        history = _spilled(
            "history", (history_frame(r, index, cal) for r in ladders), spill, spilled
        )
        changes = _spilled(
            "changes", (level_changes(r, index, cal) for r in ladders), spill, spilled, _concat
        )
        migrations = {k: migration_matrix(r) for k, r in results.items()}
    with timer.stage("assign staff and plan tasks"):
        maint = assign_and_plan(
            maintenance_ds or ds,
            as_of,
            loaded,
            customers,
            results,
            cal,
            previous_assignments,
            staff_ends,
        )
    value, analyses = None, analyses_module.Analyses()
    if sums_source is None:  # a daily close sees one day's rows: the analyses need the year
        from tierbook.batch.value import value_step  # networkx: only when it runs

        with timer.stage(VALUE_STAGE):
            value = value_step(ds, as_of, loaded, customers, sums, cal, maint.assignments)
            if value is not None and spill is not None:  # per customer, read by no later step
                for name in SPILLED_VALUE_RESULTS:
                    setattr(
                        value, name, _spilled(name, iter([getattr(value, name)]), spill, spilled)
                    )
        with timer.stage(ANALYSES_STAGE), working_memory(ds.con, analysis_memory_limit):
            analyses = analyses_module.run_analyses(
                ds, as_of, loaded, customers, results, sums, cal
            )
    return RunResult(
        as_of=as_of,
        rulebook=loaded,
        customers=customers,
        identities=ds.tables["customers"].select("customer_id", *IDENTITY).to_pandas(),
        tiers=tiers,
        history=history,
        changes=changes,
        migrations=migrations,
        assignments=maint.assignments,
        departures=maint.departures,
        tasks=maint.tasks,
        alerts=maint.alerts,
        birthday_list=maint.birthday_list,
        quarantine=ds.quarantine,
        files=[dataclasses.asdict(f) for f in ds.files],
        balance_form=ds.balance_form,
        engine=engine_of(ds.con).engine,
        timings=timer.timings,
        value=value,
        analyses=analyses,
        spilled=spilled,
    )


def _concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


def _spilled(
    name: str,
    frames: Iterator[pd.DataFrame],
    spill: Path | None,
    written: dict[str, Path],
    concat: Callable[[list[pd.DataFrame]], pd.DataFrame] = concat_keeping_categories,
) -> pd.DataFrame:
    """``frames`` (e.g. one per ladder) as one frame, or (``spill``) written to
    ``spill/<name>.parquet`` one frame at a time as they are made, recorded in ``written``,
    with a frame of their columns and no rows in its place."""
    if spill is None:
        return concat(list(frames))
    path = spill / f"{name}.parquet"
    columns: list[pd.DataFrame] = []

    def keeping_columns() -> Iterator[pd.DataFrame]:
        for frame in frames:
            if not columns:  # a copy: an empty view would keep the whole frame's arrays
                columns.append(frame.iloc[:0].copy())
            yield frame

    write_parquet(keeping_columns(), path)
    written[name] = path
    return columns[0]


def load_previous_assignments(out: Path) -> pd.DataFrame | None:
    path = out / "assignments.parquet"
    return pd.read_parquet(path) if path.exists() else None
