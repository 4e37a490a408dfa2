"""``make bench``: one day's incremental close against the full recompute, alternating.

The bank (``BENCH_CLOSE_CUSTOMERS`` individuals, default 20000) is generated once and its
last week split into day partitions (the close reads the day's balances and the week of
transactions the large-flow alert looks back on). A full run as of the day before writes the close
state once; then, for ``BENCH_ROUNDS`` rounds in alternating order, each in its own
process: the full recompute as of 31 December (``tierbook run``: load + validate the whole
year, 年日均, tiers, tasks, outputs) and the close of 31 December from a fresh copy of the
state (``tierbook close``: load + validate the day, add it, tiers, tasks, outputs) — with
the reference tables unchanged since the last close (validated ones taken from the state's
cache, the usual case) and with new reference files (validated again).

Printed per variant: median seconds in the process (interpreter start-up excluded), wall
seconds and CPU seconds of the whole process, the balance part (full: load + validate +
aggregate the year; close: load + validate the day + add it + rebuild the bucket sums from
the state), peak RSS, and the close's ratios to the full run.

``BENCH_DATA`` may name a shared bank (e.g. ``/work/bench-data/200000``): it is only read —
``BENCH_CLOSE_WORK/bank`` links to its files and holds the day partitions the close reads.
``BENCH_ROUNDS=0`` prepares the bank and the state only.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from rich.console import Console
from rich.table import Table

from bench.batch import ensure_bank

DAY = date(2025, 12, 31)
BEFORE = date(2025, 12, 30)
CLOSE_STAGES = ("load and validate the day", "add the day to the state", "aggregate balances")
BALANCE_STAGES = {
    "full": ("load and validate inputs", "aggregate balances"),
    "close": CLOSE_STAGES,
    "close, new reference files": CLOSE_STAGES,
}
VARIANTS = tuple(BALANCE_STAGES)


def child(variant: str, data: Path, out: Path) -> None:
    """Run one variant in this process and print its timings as one JSON line."""
    from tierbook.batch.outputs import write_outputs
    from tierbook.batch.run import load_previous_assignments, run_batch, tables_needed
    from tierbook.bootstrap import connect_engine
    from tierbook.ingest.dataset import load_dataset
    from tierbook.rules import load_rulebook

    t0 = time.perf_counter()
    loaded = load_rulebook(None)
    con = connect_engine()
    if variant not in VARIANTS:
        raise SystemExit(f"unknown variant {variant!r}")
    if variant == "full":
        ds = load_dataset(data, con, tables=tables_needed(loaded))
        loaded_s = time.perf_counter() - t0
        result = run_batch(ds, DAY, loaded, previous_assignments=load_previous_assignments(out))
        result.timings["load and validate inputs"] = round(loaded_s, 3)
        write_outputs(result, out, excel=False)
    else:
        from tierbook.batch.close import close_day
        from tierbook.batch.close_outputs import write_close_outputs

        prev = load_previous_assignments(out)
        outcome = close_day(data, DAY, loaded, con, out / "state", previous_assignments=prev)
        assert outcome.result is not None, "the day was already closed"
        result = outcome.result
        write_close_outputs(result, out, excel=False)
        outcome.commit()
    total = time.perf_counter() - t0
    balance = sum(result.timings.get(s, 0.0) for s in BALANCE_STAGES[variant])
    print(json.dumps({"seconds": total, "balances": balance, "timings": result.timings}))


def run_child(variant: str, data: Path, out: Path) -> dict:
    kind = "full" if variant == "full" else "close"
    cmd = [sys.executable, "-m", "bench.close", "child", kind, str(data), str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)  # the child prints one short line at its end
    wall = time.perf_counter() - t0
    text = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{variant} failed")
    result = json.loads(text.strip().splitlines()[-1])
    result["rss_mb"] = usage.ru_maxrss / 1024
    result["wall"] = wall  # the whole process, interpreter start-up included
    result["cpu"] = usage.ru_utime + usage.ru_stime  # the whole process
    return result


def mirror(data: Path, bank: Path) -> Path:
    """``bank``: the bank at ``data`` as links (its files are read, never written), plus the
    day partitions of the close's last week written there — ``data`` may be a shared bank."""
    if (bank / "balances_daily" / f"date={DAY.isoformat()}").is_dir():
        return bank
    from tierbook.batch.dayfiles import split_days
    from tierbook.bootstrap import connect_engine

    shutil.rmtree(bank, ignore_errors=True)
    bank.mkdir(parents=True)
    for p in sorted(data.iterdir()):
        if p.is_dir() and any(p.glob("*.parquet")):  # a table of Parquet parts
            (bank / p.name).mkdir()
            for part in sorted(p.glob("*.parquet")):
                (bank / p.name / part.name).symlink_to(part.resolve())
        elif p.is_file():
            (bank / p.name).symlink_to(p.resolve())
    # the day and the week of transactions before it (the large-flow look-back)
    split_days(connect_engine(), bank, DAY - timedelta(days=6), DAY)
    return bank


def prepare(n: int, data: Path, work: Path, console: Console) -> tuple[Path, Path]:
    """The bank with its last day split out (``work/bank``, links to ``data``), and a run as
    of the day before with its state (``work/base``)."""
    ensure_bank(n, data, console)
    data = mirror(data, work / "bank")
    base = work / "base"
    if not (base / "state" / "meta.json").exists():
        console.print(f"full run as of {BEFORE} writing the close state (once)…")
        subprocess.run(
            [sys.executable, "-m", "tierbook.cli", "run", "--data", str(data), "--as-of",
             BEFORE.isoformat(), "--out", str(base), "--quiet", "--no-excel", "--write-state"],
            check=True,
        )  # fmt: skip
    if not (base / "state" / "ref").is_dir():  # a first close validates and caches them
        scratch = work / "warm"
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.copytree(base, scratch)
        run_child("close", data, scratch)
        shutil.copytree(scratch / "state" / "ref", base / "state" / "ref")
    return data, base


def main() -> None:
    console = Console(width=150)
    n = int(os.environ.get("BENCH_CLOSE_CUSTOMERS", "20000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    data = Path(os.environ.get("BENCH_DATA", f"bench-data/{n}"))
    work = Path(os.environ.get("BENCH_CLOSE_WORK", f"bench-data/close-{n}"))
    data, base = prepare(n, data, work, console)
    if rounds < 1:  # BENCH_ROUNDS=0: prepare the bank and the state only
        return
    runs: dict[str, list[dict]] = {v: [] for v in VARIANTS}
    for r in range(rounds):
        for i, variant in enumerate(VARIANTS if r % 2 == 0 else reversed(VARIANTS)):
            out = work / f"round-{i}"
            shutil.rmtree(out, ignore_errors=True)
            shutil.copytree(base, out)  # the day before's outputs and state
            if variant == "close, new reference files":
                shutil.rmtree(out / "state" / "ref")
            runs[variant].append(run_child(variant, data, out))
    show(console, n, runs)


def show(console: Console, n: int, runs: dict[str, list[dict]]) -> None:
    def med(v: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[v])

    table = Table(title=f"one day's close of {DAY} vs the full recompute — {n:,} customers")
    stages = runs["close"][0]["timings"]
    columns = ("variant", "in-process s", "× full", "process wall s", "CPU s", "CPU × full",
               "balances s", "balances × full", "peak RSS MB")  # fmt: skip
    for col in columns:
        table.add_column(col, justify="left" if col == "variant" else "right")
    for v, rs in runs.items():
        table.add_row(
            v,
            f"{med(v, 'seconds'):.2f}",
            f"{med(v, 'seconds') / med('full', 'seconds'):.1%}",
            f"{med(v, 'wall'):.2f}",
            f"{med(v, 'cpu'):.2f}",
            f"{med(v, 'cpu') / med('full', 'cpu'):.1%}",
            f"{med(v, 'balances'):.3f}",
            f"{med(v, 'balances') / med('full', 'balances'):.2%}",
            f"{max(r['rss_mb'] for r in rs):,.0f}",
        )
    console.print(table)
    console.print(f"medians of {len(runs['full'])} round(s), variants alternating")
    console.print("close stages (s): " + ", ".join(f"{k} {v}" for k, v in stages.items()))
    full = runs["full"][0]["timings"]
    console.print("full stages (s): " + ", ".join(f"{k} {v}" for k, v in full.items()))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
    else:
        main()
