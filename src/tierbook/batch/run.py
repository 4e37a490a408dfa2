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
import pyarrow as pa

from tierbook.analytics import aum as aum_expr
from tierbook.analytics.backends.duckdb import memory_limit_bytes, release_memory, stored
from tierbook.analytics.backends.engine import engine_of, record_batches
from tierbook.analytics.purchases import monthly_purchases
from tierbook.batch.measures import BucketSums
from tierbook.batch.memory import give_back_memory
from tierbook.batch.parquet import write_parquet
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
ANALYSIS_STAGES = (VALUE_STAGE, ANALYSES_STAGE)
"""The stages that run under ``analysis_memory_limit`` (``run_batch``)."""


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
    spill=…)``), by name: their frame here has the file's columns and no rows."""


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
            sums = _bucket_sums(ds, cal, index, weights)
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


def _bucket_sums(ds: Dataset, cal: Any, index: pd.Index, weights: dict[str, float]) -> BucketSums:
    """Balance-days per customer and bucket in one scan of the balances. Daily snapshots are
    checked for duplicate days in the same scan; if some customer has one, the ingest checks
    the keys of that customer's accounts (duplicates go to the quarantine) and the sums are
    taken again on the clean rows. When the ingest left the row checks of the balances to
    this scan (``Dataset.pending_scan``), the scan counts the rows passing them (and, for
    events, the keys given twice); unless every row read passed (and no key repeats), the
    ingest checks them all and the sums are retaken."""
    if ds.balance_form == "events":
        unchecked = ds.pending_scan("balance_events")
        if unchecked is not None:
            sums = _stream_events(unchecked, ds, cal, index, weights, row_flag="_bad")
            if ds.settle("balance_events", sums.rows_ok, sums.repeated_keys):
                return sums
        return _stream_events(ds.tables["balance_events"], ds, cal, index, weights)
    sums, flagged = None, []
    unchecked = ds.pending_scan("balances_daily")
    if unchecked is not None:
        acct = aum_expr.account_bucket_sums_daily(unchecked, cal, row_flag="_bad")
        sums, flagged = _stream(acct, ds, cal, index, weights)
        if not ds.settle("balances_daily", sums.rows_ok):
            sums, flagged = None, []
    balances = ds.tables["balances_daily"]
    if sums is None:
        acct = aum_expr.account_bucket_sums_daily(balances, cal)
        sums, flagged = _stream(acct, ds, cal, index, weights)
    if flagged:
        accounts = ds.tables["accounts"]
        dup = aum_expr.duplicate_day_accounts(balances, accounts, sorted(set(flagged)), cal)
        got = dup.to_pyarrow()
        twice = aum_expr.repeated_day(got["day_sum"].to_numpy(), got["n_rows"].to_numpy())
        ids = got["account_id"].filter(pa.array(twice)).unique().to_pylist()
        ds.check_keys_for("balances_daily", ids)
        acct = aum_expr.account_bucket_sums_daily(ds.tables["balances_daily"], cal)
        sums, _ = _stream(acct, ds, cal, index, weights)
    return sums


def _stream(
    acct: Any, ds: Dataset, cal: Any, index: pd.Index, weights: dict[str, float]
) -> tuple[BucketSums, list[str]]:
    """Account sums keyed by customer row, streamed in record batches and summed into the
    matrices as they arrive (no whole result held). In one query; where DuckDB runs out of
    its working memory on it (the join of the account sums with the accounts: at 2M
    customers 33M account sums, over the default ``TIERBOOK_MEMORY_LIMIT``), in two: the
    account sums stored first (spilled to its temporary directory as they grow), then keyed
    — the same batches, the sums started again."""
    import duckdb

    if _one_query_may_fit(ds, "daily"):
        try:
            return _sum_keyed(acct, ds, index, len(cal.buckets), weights)
        except duckdb.OutOfMemoryException:
            pass
    with stored(ds.con, acct, "tb_account_bucket_sums") as table:
        return _sum_keyed(table, ds, index, len(cal.buckets), weights)


ACCOUNTS_PER_MIB = {"daily": 10_000, "events": 3_000}
"""Accounts per MiB of DuckDB's working memory above which the balance scan goes straight
to its fallback (``_stream``: two steps; ``_stream_events``: blocks of accounts) instead of
first failing on the one query. Under the default 224MB (213.6 MiB) the daily one query ran
at 1M customers (1.63M accounts, 7.6k per MiB) and ran out of memory at 2M (3.26M, 15.3k)
after 23 s; the event one ran at 200k (1.5k per MiB) and ran out at 1M after 16 s. Below
the mark the one query is tried, and its failure still falls back."""


def _one_query_may_fit(ds: Dataset, form: str) -> bool:
    limit = memory_limit_bytes(ds.con)
    if limit is None:
        return True  # another engine, or no limit
    accounts = int(ds.tables["accounts"].count().execute())
    return accounts <= ACCOUNTS_PER_MIB[form] * limit / (1 << 20)


EVENT_BLOCKS = 4
"""Blocks of accounts the event form's scan falls back to (``_stream_events``)."""


def _stream_events(
    events: Any,
    ds: Dataset,
    cal: Any,
    index: pd.Index,
    weights: dict[str, float],
    *,
    row_flag: str | None = None,
    blocks: int | None = None,
) -> BucketSums:
    """``_stream`` of the event form's account sums. Each account's segments come from a
    window over its events (the next event's date), which DuckDB does not spill: where it
    runs out of working memory on the one query (at 1M customers, 32M events, under the
    default ``TIERBOOK_MEMORY_LIMIT``), the accounts are taken in ``EVENT_BLOCKS`` blocks
    by a hash of their id (``blocks``: that many at once), one query each over the events
    of its accounts, summed into the same matrices. An account's sums and its rows' counts
    (``n_ok``, ``repeated``) depend on its own events only, so the blocks give the one
    query's sums; each block reads the events again (a twentieth of the daily rows)."""
    import duckdb

    accounts = ds.tables["accounts"]
    n = len(cal.buckets)
    if blocks is None and not _one_query_may_fit(ds, "events"):
        blocks = EVENT_BLOCKS
    if blocks is None:
        try:
            acct = aum_expr.account_bucket_sums_events(events, accounts, cal, row_flag=row_flag)
            return _sum_keyed(acct, ds, index, n, weights)[0]
        except duckdb.OutOfMemoryException:
            blocks = EVENT_BLOCKS
    sums = BucketSums(len(index), n, weights)
    block = (events.account_id.hash() % blocks).abs()  # each id in exactly one block
    for j in range(blocks):
        part = events.filter(block == j)
        acct = aum_expr.account_bucket_sums_events(part, accounts, cal, row_flag=row_flag)
        _sum_keyed(acct, ds, index, n, weights, into=sums)
    return sums


def _sum_keyed(
    acct: Any,
    ds: Dataset,
    index: pd.Index,
    n_buckets: int,
    weights: dict[str, float],
    *,
    into: BucketSums | None = None,
) -> tuple[BucketSums, list[str]]:
    """The account sums ``acct`` keyed by customer row and added to ``into`` (by default
    new matrices); with the ids of the customers flagged with a duplicate day."""
    expr = aum_expr.keyed_bucket_sums(acct, ds.tables["accounts"], ds.tables["customers"])
    sums = into if into is not None else BucketSums(len(index), n_buckets, weights)
    flagged: list[str] = []
    for batch in record_batches(ds.con, expr):
        flagged += sums.add(batch, index)
    return sums, flagged


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
    ``analysis_memory_limit``: DuckDB's working memory for those two steps (their windows
    over the year's days need more than the tier scan; ``bootstrap``). ``staff_ends``: end
    dates recorded outside the staff file (``assign_and_plan``). ``spill``: a folder (made
    afresh) where the history, the largest result (customers × ladders × review months: 48M
    rows at 2M customers) and read by no later step, is written ladder by ladder as it is
    made instead of being held (``RunResult.spilled``; ``tierbook run`` passes
    ``outputs.spill_folder(out)``, and ``write_day_files`` moves the file into ``out``)."""
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
    with timer.stage("tier results"):
        tiers = concat_keeping_categories(
            [tier_frame(r, index, sums, cal, stamp) for r in results.values()]
        )
        history, spilled = _history(results, index, cal, spill)
        changes = pd.concat(
            [level_changes(r, index, cal) for r in results.values()], ignore_index=True
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

        with timer.stage(VALUE_STAGE), working_memory(ds.con, analysis_memory_limit):
            value = value_step(ds, as_of, loaded, customers, sums, cal, maint.assignments)
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


def _history(
    results: Mapping[str, LadderResult], index: pd.Index, cal: Any, spill: Path | None
) -> tuple[pd.DataFrame, dict[str, Path]]:
    """Every ladder's history as one frame, or (``spill``) written to ``spill`` one ladder's
    frame at a time, with a frame of its columns and no rows in its place."""
    frames = (history_frame(r, index, cal) for r in results.values())
    if spill is None:
        return concat_keeping_categories(list(frames)), {}
    if spill.exists():
        shutil.rmtree(spill)  # what a run stopped half-way left
    spill.mkdir(parents=True)
    path = spill / "history.parquet"
    columns: list[pd.DataFrame] = []

    def keeping_columns() -> Iterator[pd.DataFrame]:
        for frame in frames:
            if not columns:
                columns.append(frame.iloc[:0])
            yield frame

    write_parquet(keeping_columns(), path)
    return columns[0], {"history": path}


def load_previous_assignments(out: Path) -> pd.DataFrame | None:
    path = out / "assignments.parquet"
    return pd.read_parquet(path) if path.exists() else None
