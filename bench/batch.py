"""``make bench``: the batch against references, alternating in one run, at several sizes.

For each bank size, each balance form (daily snapshots, change events) and each round,
every variant runs in its own process: tierbook's engine (load + validate + 12 months of
年日均 + ladders), a hand-written DuckDB SQL query computing the same as-of month's tiers,
a straightforward pandas version (daily form, up to ``BENCH_PANDAS_MAX`` customers) and
hand-written Spark SQL plus tierbook on Spark (local[2]). Prints median and min seconds,
rows/s, peak RSS and the ratio to the DuckDB reference (of wall seconds, and of CPU
seconds: on a shared machine the CPU ratio moves less with the other jobs); checks that
every variant finds the same tier counts. Every run is appended to a JSON file with the
load averages before and after it, and the scaling chart (seconds and peak RSS against
rows, per variant) is drawn from that file.

Environment:

- ``BENCH_SIZES`` (default ``20000,200000,2000000``; ``BENCH_CUSTOMERS=N`` alone means
  one size);
- ``BENCH_DATA_DIR`` (``bench-data``: the bank of N customers is ``BENCH_DATA_DIR/N``,
  generated there when missing) or, for a single size, ``BENCH_DATA`` (its folder);
- ``BENCH_ROUNDS`` (3) up to 200k customers, ``BENCH_ROUNDS_LARGE`` (1) above;
- ``BENCH_FORMS`` (``daily,events``); ``BENCH_SPARK`` (1: include the Spark variants) and
  ``BENCH_SPARK_MAX`` (2000000: largest bank they run on); ``BENCH_PANDAS_MAX`` (200000);
- ``BENCH_VARIANTS`` (all: a comma list to run only some; their earlier runs at these sizes
  are replaced, the other variants' kept);
- ``TIERBOOK_MEMORY_LIMIT`` for tierbook's engine: 224MB (the default) up to 200k customers,
  ``LARGE_MEMORY_LIMIT`` above unless set;
- ``BENCH_TIMEOUT`` (1800 s: a variant still running is stopped and recorded as such);
- ``BENCH_RESULTS`` (``bench/results/batch.json``; the runs of the sizes measured now replace
  that file's runs of the same sizes, the others are kept) and ``BENCH_CHART``
  (``docs/scaling.png``).

``python -m bench.batch chart`` redraws the chart and prints the Markdown table from the
JSON file without running anything.
"""

from __future__ import annotations

import json
import math
import os
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

AS_OF = "2025-12-31"
SPARK_VARIANTS = ["spark_sql", "tierbook_spark"]
"""Hand-written Spark SQL and tierbook on Spark, local[2] (BENCH_SPARK=0 leaves them out)."""
LABELS = {
    "tierbook": "tierbook",
    "duckdb_sql": "hand-written DuckDB SQL",
    "pandas": "pandas",
    "spark_sql": "hand-written Spark SQL",
    "tierbook_spark": "tierbook on Spark",
}
FORM_ROWS = {"daily": "balances_daily", "events": "balance_events"}


def ensure_bank(n: int, path: Path, console: Console, branches: int = 8) -> None:
    if (path / "accounts.csv").exists():
        return
    console.print(f"generating a demo bank of {n:,} customers, {branches} branches, in {path}…")
    t0 = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tierbook.cli",
            "demo-data",
            "--customers",
            str(n),
            "--branches",
            str(branches),
            "--out",
            str(path),
            "--no-flaws",
        ],
        check=True,
    )
    console.print(f"  generated in {time.perf_counter() - t0:.0f}s")


def run_variant(
    name: str, data: Path, form: str, timeout: float | None = None, env: dict | None = None
) -> dict:
    """Run one variant in its own process (and session, so that a Spark JVM it starts is
    stopped with it on timeout). ``rss_mb`` is the peak RSS from ``wait4``: the child's, or
    that of a descendant it waited for, whichever is larger; ``cpu_process`` its CPU
    seconds (user + system, start-up included, waited-for descendants included)."""
    cmd = [sys.executable, "-m", "bench.variants", name, str(data), AS_OF, form]
    load_before = os.getloadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, start_new_session=True, env=env)
    # The child prints one short line, so waiting before reading cannot fill the pipe;
    # wait4 gives this child's own peak RSS.
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if timeout is not None and time.perf_counter() - t0 > timeout:
            os.killpg(proc.pid, signal.SIGKILL)
            _, status, usage = os.wait4(proc.pid, 0)
            return {
                "status": "timeout",
                "wall": time.perf_counter() - t0,
                "rss_mb": usage.ru_maxrss / 1024,
                "load_before": load_before,
                "load_after": os.getloadavg(),
            }
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out = proc.stdout.read() if proc.stdout else ""
    if proc.returncode:
        return {
            "status": f"failed (exit code {proc.returncode})",
            "wall": wall,
            "rss_mb": usage.ru_maxrss / 1024,
            "load_before": load_before,
            "load_after": os.getloadavg(),
        }
    result = json.loads(out.strip().splitlines()[-1])
    result.update(
        status="ok",
        wall=wall,
        rss_mb=usage.ru_maxrss / 1024,
        cpu_process=usage.ru_utime + usage.ru_stime,
        load_before=load_before,
        load_after=os.getloadavg(),
    )
    return result


def rows_of(data: Path, form: str) -> int:
    folder = data / FORM_ROWS[form]
    return sum(pq.ParquetFile(p).metadata.num_rows for p in folder.glob("*.parquet"))


def sizes() -> list[int]:
    if "BENCH_SIZES" in os.environ or "BENCH_CUSTOMERS" not in os.environ:
        text = os.environ.get("BENCH_SIZES", "20000,200000,2000000")
        return [int(s) for s in text.split(",") if s.strip()]
    return [int(os.environ["BENCH_CUSTOMERS"])]


def data_for(n: int, single: bool) -> Path:
    if single and "BENCH_DATA" in os.environ:
        return Path(os.environ["BENCH_DATA"])
    return Path(os.environ.get("BENCH_DATA_DIR", "bench-data")) / str(n)


def variants_for(n: int, form: str) -> list[str]:
    env = os.environ.get
    variants = ["tierbook", "duckdb_sql"]
    if form == "daily" and n <= int(env("BENCH_PANDAS_MAX", "200000")):
        variants.append("pandas")
    if env("BENCH_SPARK", "1") == "1" and n <= int(env("BENCH_SPARK_MAX", "2000000")):
        variants += SPARK_VARIANTS
    return variants


LARGE_MEMORY_LIMIT = "1GB"
"""tierbook's DuckDB working memory above 200k customers, unless TIERBOOK_MEMORY_LIMIT says
otherwise: the default 224MB is too little for the aggregation of 2M customers' year."""


def memory_env(n: int) -> dict[str, str]:
    if "TIERBOOK_MEMORY_LIMIT" in os.environ:
        return {"TIERBOOK_MEMORY_LIMIT": os.environ["TIERBOOK_MEMORY_LIMIT"]}
    return {"TIERBOOK_MEMORY_LIMIT": LARGE_MEMORY_LIMIT} if n > 200_000 else {}


def main() -> None:
    console = Console(width=150)
    env = os.environ.get
    results_path = Path(env("BENCH_RESULTS", "bench/results/batch.json"))
    chart_path = Path(env("BENCH_CHART", "docs/scaling.png"))
    if sys.argv[1:] == ["chart"]:
        doc = json.loads(results_path.read_text())
        chart(doc["runs"], chart_path)
        print(markdown_table(doc["runs"]))
        return
    todo = sizes()
    forms = [f for f in env("BENCH_FORMS", "daily,events").split(",") if f]
    timeout = float(env("BENCH_TIMEOUT", "1800"))
    only = [v for v in env("BENCH_VARIANTS", "").split(",") if v]

    def replaced(r: dict) -> bool:  # an earlier run that this one measures again
        return r["customers"] in todo and (not only or r["variant"] in only)

    mine: list[dict] = []
    doc = _save(results_path, mine, replaced)
    for n in todo:
        data = data_for(n, single=len(todo) == 1)
        ensure_bank(n, data, console)
        rounds = int(env("BENCH_ROUNDS", "3") if n <= 200_000 else env("BENCH_ROUNDS_LARGE", "1"))
        child_env = memory_env(n)
        for form in forms:
            variants = [v for v in variants_for(n, form) if not only or v in only]
            rows = rows_of(data, form)
            runs: dict[str, list[dict]] = {v: [] for v in variants}
            stopped: set[str] = set()
            for r in range(rounds):
                order = variants if r % 2 == 0 else list(reversed(variants))
                for v in order:
                    if v in stopped:
                        continue
                    res = run_variant(v, data, form, timeout, {**os.environ, **child_env})
                    res.update(customers=n, form=form, rows=rows, variant=v, round=r)
                    res["memory_limit"] = child_env.get("TIERBOOK_MEMORY_LIMIT", "224MB (default)")
                    res["at"] = datetime.now(UTC).isoformat(timespec="seconds")
                    mine.append(res)
                    doc = _save(results_path, mine, replaced)
                    if res["status"] != "ok":  # stopped or failed: once is enough to know
                        stopped.add(v)
                        console.print(f"  {v}: {res['status']} after {res['wall']:.0f}s")
                    else:
                        runs[v].append(res)
            done = {v: rs for v, rs in runs.items() if rs}
            if "duckdb_sql" in done:
                show(console, form, n, rows, done)
    chart(doc["runs"], chart_path)
    console.print(f"figures in {results_path}, chart in {chart_path}")
    print(markdown_table(doc["runs"]))


def _mem_gib() -> float:
    return round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)


def _save(path: Path, mine: list[dict], replaced: Callable[[dict], bool]) -> dict:
    """Write this run's results into ``path``, keeping the runs other bench processes wrote
    there meanwhile (re-read at every save), minus those this run replaces."""
    doc = json.loads(path.read_text()) if path.exists() else {"runs": []}
    doc["runs"] = [r for r in doc["runs"] if not replaced(r) and r not in mine] + mine
    doc["machine"] = {"cpus": os.cpu_count(), "mem_gib": _mem_gib()}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(doc, indent=1, ensure_ascii=False))
    tmp.replace(path)
    return doc


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
        "load avg",
    ):
        table.add_column(col, justify="left" if col == "variant" else "right")
    expected = runs["duckdb_sql"][0]["tiers"]
    for v, rs in runs.items():
        secs = [r["seconds"] for r in rs]
        cpu = [r["cpu"] for r in rs if "cpu" in r]
        med = statistics.median(secs)
        same = all(r["tiers"] == expected for r in rs)
        table.add_row(
            v,
            f"{med:.2f}",
            f"{min(secs):.2f}",
            f"{rows / med:,.0f}",
            f"{max(r['rss_mb'] for r in rs):,.0f}",
            f"{med / ref:.2f}",
            f"{statistics.median(cpu):.2f}" if cpu else "—",
            f"{statistics.median(cpu) / ref_cpu:.2f}" if cpu else "—",
            "yes" if same else "NO",
            _load(rs),
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


def _load(rs: list[dict]) -> str:
    """The 1-minute load averages seen before and after the runs: lowest–highest."""
    seen = [x for r in rs for x in (r["load_before"][0], r["load_after"][0])]
    return f"{min(seen):.1f}–{max(seen):.1f}"


def summary(runs: list[dict]) -> list[dict]:
    """One row per (customers, form, variant) with medians over the completed rounds;
    variants that never completed appear with ``stopped`` (timeout or failure) set."""
    groups: dict[tuple[int, str, str], list[dict]] = {}
    for r in runs:
        groups.setdefault((r["customers"], r["form"], r["variant"]), []).append(r)
    out = []
    order = list(LABELS)
    for (n, form, v), rs in sorted(groups.items(), key=lambda g: (*g[0][:2], order.index(g[0][2]))):
        ok = [r for r in rs if r["status"] == "ok"]
        row: dict = {"customers": n, "form": form, "variant": v, "rows": rs[0]["rows"]}
        row["load"] = _load(rs)
        row["memory_limit"] = rs[-1].get("memory_limit", "")
        if not ok:
            row["stopped"] = f"{rs[-1]['status']} after {rs[-1]['wall']:.0f} s"
            out.append(row)
            continue
        row.update(
            rounds=len(ok),
            seconds=statistics.median(r["seconds"] for r in ok),
            cpu=statistics.median(r["cpu"] for r in ok) if all("cpu" in r for r in ok) else None,
            rss_mb=max(r["rss_mb"] for r in ok),
            tiers=ok[0]["tiers"],
            same=all(r["tiers"] == ok[0]["tiers"] for r in ok),
        )
        out.append(row)
    refs = {(r["customers"], r["form"]): r for r in out if r["variant"] == "duckdb_sql"}
    for row in out:
        ref = refs.get((row["customers"], row["form"]))
        if ref and "seconds" in row and "seconds" in ref:
            row["ratio"] = row["seconds"] / ref["seconds"]
            row["same"] = row["same"] and row["tiers"] == ref["tiers"]
            if row["cpu"] is not None and ref["cpu"]:
                row["cpu_ratio"] = row["cpu"] / ref["cpu"]
    return out


def growth(rows: list[dict], key: str = "seconds") -> dict[tuple[str, str], float]:
    """The exponent k of ``key`` (seconds or cpu) ∝ rows**k between the smallest and the
    largest size measured (1 = linear), per (form, variant)."""
    by: dict[tuple[str, str], list[dict]] = {}
    for r in rows:
        if r.get(key):
            by.setdefault((r["form"], r["variant"]), []).append(r)
    out = {}
    for k, rs in by.items():
        rs.sort(key=lambda r: r["rows"])
        if len(rs) >= 2 and rs[-1]["rows"] > rs[0]["rows"]:
            a, b = rs[0], rs[-1]
            out[k] = math.log(b[key] / a[key]) / math.log(b["rows"] / a["rows"])
    return out


def markdown_table(runs: list[dict]) -> str:
    rows = summary(runs)
    k = growth(rows)
    lines = [
        "| customers | form, rows | variant | rounds | median s | rows/s | peak RSS MB "
        "| × DuckDB SQL | CPU s | CPU × | same tiers | load avg |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        head = (
            f"| {r['customers']:,} | {r['form']}, {r['rows'] / 1e6:,.1f}M | {LABELS[r['variant']]}"
        )
        if "stopped" in r:
            lines.append(f"{head} | 0 | {r['stopped']} | | | | | | | {r['load']} |")
            continue
        cpu = f"{r['cpu']:.1f}" if r["cpu"] is not None else "—"
        cpu_x = f"{r['cpu_ratio']:.2f}" if "cpu_ratio" in r else "—"
        ratio = f"{r['ratio']:.2f}" if "ratio" in r else "—"
        lines.append(
            f"{head} | {r['rounds']} | {r['seconds']:.2f} | {r['rows'] / r['seconds'] / 1e6:.2f}M "
            f"| {r['rss_mb']:,.0f} | {ratio} | {cpu} | {cpu_x} "
            f"| {'yes' if r['same'] else 'NO'} | {r['load']} |"
        )
    cpu_k = growth(rows, "cpu")
    if k:
        lines.append("")
        lines.append(
            "Growth from the smallest to the largest bank, seconds ∝ rows^k (k = 1 is linear; "
            "wall, then CPU where measured): "
            + "; ".join(
                f"{LABELS[v]} ({f}) k = {x:.2f}"
                + (f" / {cpu_k[(f, v)]:.2f}" if (f, v) in cpu_k else "")
                for (f, v), x in sorted(k.items())
            )
        )
    return "\n".join(lines)


def chart(runs: list[dict], path: Path) -> None:
    """Seconds and peak RSS against balance rows, log–log, one line per variant and form."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in summary(runs) if "seconds" in r]
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.8))
    colors = {
        "tierbook": "tab:blue",
        "duckdb_sql": "tab:orange",
        "pandas": "tab:green",
        "spark_sql": "tab:red",
        "tierbook_spark": "tab:purple",
    }
    for form, style in (("daily", "-"), ("events", "--")):
        for v, name in LABELS.items():
            pts = sorted((r["rows"], r["seconds"], r["rss_mb"]) for r in rows
                         if r["form"] == form and r["variant"] == v)  # fmt: skip
            if not pts:
                continue
            x = [p[0] for p in pts]
            label = f"{name} ({form})"
            ax_t.plot(x, [p[1] for p in pts], style, marker="o", color=colors[v], label=label)
            ax_m.plot(x, [p[2] for p in pts], style, marker="o", color=colors[v], label=label)
    for ax, title, unit in ((ax_t, "median seconds", "s"), (ax_m, "peak RSS", "MB")):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("balance rows (daily snapshots, or change events)")
        ax.set_ylabel(unit)
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    ax_m.axhline(2048, color="grey", linestyle=":", linewidth=1)
    ax_m.annotate("2 GB", (ax_m.get_xlim()[0], 2048), fontsize=8, color="grey")
    ax_t.legend(fontsize=7, loc="upper left")
    fig.suptitle("tierbook batch vs references, 20k / 200k / 2M customers (make bench)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
