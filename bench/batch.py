"""``make bench``: the batch against references, alternating in one run.

For each balance form (daily snapshots, change events) and each round, every variant runs
in its own process: tierbook's engine (load + validate + 12 months of 年日均 + ladders), a
hand-written DuckDB SQL query computing the same as-of month's tiers, and (daily form) a
straightforward pandas version. Prints median and min seconds, rows/s, peak RSS and the
ratio to the DuckDB reference (of wall seconds, and of CPU seconds: on a shared machine
the CPU ratio moves less with the other jobs); checks that every variant finds the same
tier counts.

Environment: BENCH_CUSTOMERS (default 200000), BENCH_ROUNDS (3), BENCH_DATA (bench-data/N),
BENCH_SPARK (1: also hand-written Spark SQL and tierbook on Spark, local[2]).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

AS_OF = "2025-12-31"
SPARK_VARIANTS = ["spark_sql", "tierbook_spark"]
"""Hand-written Spark SQL and tierbook on Spark, local[2] (BENCH_SPARK=0 leaves them out)."""


def ensure_bank(n: int, path: Path, console: Console) -> None:
    if (path / "accounts.csv").exists():
        return
    console.print(f"generating a demo bank of {n:,} customers in {path} (once)…")
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tierbook.cli",
            "demo-data",
            "--customers",
            str(n),
            "--out",
            str(path),
            "--no-flaws",
        ],
        check=True,
    )
    console.print(f"  generated in {time.perf_counter() - t0:.0f}s")


def run_variant(name: str, data: Path, form: str) -> dict:
    cmd = [sys.executable, "-m", "bench.variants", name, str(data), AS_OF, form]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    # The child prints one short line, so waiting before reading cannot fill the pipe;
    # wait4 gives this child's own peak RSS.
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    out = proc.stdout.read() if proc.stdout else ""
    code = os.waitstatus_to_exitcode(status)
    if code:
        raise SystemExit(f"variant {name} failed with exit code {code}")
    result = json.loads(out.strip().splitlines()[-1])
    result["wall"] = wall
    result["rss_mb"] = usage.ru_maxrss / 1024
    return result


def rows_of(data: Path, form: str) -> int:
    folder = data / ("balances_daily" if form == "daily" else "balance_events")
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))


def main() -> None:
    console = Console(width=150)
    n = int(os.environ.get("BENCH_CUSTOMERS", "200000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    data = Path(os.environ.get("BENCH_DATA", f"bench-data/{n}"))
    ensure_bank(n, data, console)
    for form in ("daily", "events"):
        variants = ["tierbook", "duckdb_sql"] + (
            ["pandas"] if form == "daily" and n <= 200_000 else []
        )
        variants += SPARK_VARIANTS if os.environ.get("BENCH_SPARK", "1") == "1" else []
        rows = rows_of(data, form)
        runs: dict[str, list[dict]] = {v: [] for v in variants}
        for r in range(rounds):
            order = variants if r % 2 == 0 else list(reversed(variants))
            for v in order:
                runs[v].append(run_variant(v, data, form))
        show(console, form, n, rows, runs)


def show(console: Console, form: str, n: int, rows: int, runs: dict[str, list[dict]]) -> None:
    ref = statistics.median(r["seconds"] for r in runs["duckdb_sql"])
    ref_cpu = statistics.median(r["cpu"] for r in runs["duckdb_sql"])
    table = Table(title=f"{form} form — {n:,} customers, {rows:,} rows")
    for col in (
        "variant",
        "median s",
        "min s",
        "rows/s",
        "peak RSS MB",
        "× DuckDB SQL",
        "CPU s",
        "CPU ×",
        "same tiers",
    ):
        table.add_column(col, justify="left" if col == "variant" else "right")
    expected = runs["duckdb_sql"][0]["tiers"]
    for v, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        cpu = [r["cpu"] for r in rs]
        med = statistics.median(secs)
        same = all(r["tiers"] == expected for r in rs)
        table.add_row(
            v,
            f"{med:.2f}",
            f"{min(secs):.2f}",
            f"{rows / med:,.0f}",
            f"{max(r['rss_mb'] for r in rs):,.0f}",
            f"{med / ref:.2f}",
            f"{statistics.median(cpu):.2f}",
            f"{statistics.median(cpu) / ref_cpu:.2f}",
            "yes" if same else "NO",
        )
    console.print(table)
    for v, rs in runs.items():
        if "session" in rs[0]:
            start = statistics.median(r["session"] for r in rs)
            console.print(f"  {v}: plus {start:.2f}s to start the Spark session")
        if "split" in rs[0]:
            val = statistics.median(r["split"]["validate"] for r in rs)
            comp = statistics.median(r["split"]["compute"] for r in rs)
            console.print(
                f"  {v}: load + validate {val:.2f}s, compute (12 months of 年日均 + ladders) "
                f"{comp:.2f}s = {comp / ref:.2f}× the DuckDB SQL reference"
            )


if __name__ == "__main__":
    main()
