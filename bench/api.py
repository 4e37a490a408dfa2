"""``make bench`` (API part): my-book and customer-360 latency at 50 concurrent clients, and
the publish time of the run they read.

1. The demo bank (``BENCH_API_DATA``, generated once when missing) and one batch run of it
   (``BENCH_API_RUN``, its ``out/`` folder, computed once with ``tierbook run --no-excel``
   when it holds no ``manifest.json``) are reused from one bench to the next.
2. A PostgreSQL database of its own (``tierbook_bench_<uuid>``, dropped at the end) is
   migrated and the run is published into it from ``out/`` (timed: wall and CPU of the
   publishing process), then published again (idempotent: nothing written).
3. ``tierbook serve`` starts on 127.0.0.1; the sessions are opened before the measurement
   (argon2 costs ~0.1 s of CPU per login, not counted); every session's first book pages are
   read to know which customers it may open.
4. Each endpoint is measured alone at ``BENCH_API_USERS`` concurrent connections by ``wrk``
   (one thread, C: it leaves the CPU to the server), after a warm-up, twice: each client
   pausing about ``think`` ms between its requests (1 s: a busy user), and with no pause at
   all (saturation: the latency is then the clients over the throughput, Little's law). The
   pause is drawn uniformly from ``think`` ± ``BENCH_API_JITTER`` × ``think`` (0.5): with
   one fixed pause the 50 connections, opened together, stay in step and send their
   requests in bursts of 50, which users working at their own pace do not; ``0`` measures
   that lock-step load (the earlier benches' figures). The 1-minute load average is printed
   with every figure: the machine is shared, and a figure measured under someone else's
   load says so. ``BENCH_API_LOAD=locust`` runs the Locust users of
   ``bench/locustfile.py`` instead (both endpoints mixed; Locust itself needs about a core).

Environment: BENCH_API_CUSTOMERS (20000), BENCH_API_BRANCHES (8, or one per 25,000
customers when more: ``BRANCH_CUSTOMERS``), BENCH_API_DATA (bench-data/N, or
bench-data/N-bB with B branches other than 8), BENCH_API_RUN (bench-data/api-run-N, the
same), BENCH_API_USERS (50), BENCH_API_SECONDS (30 per endpoint), BENCH_API_WORKERS
(uvicorn workers, 2), BENCH_API_THINK_MS (1000,0), BENCH_API_JITTER (0.5), BENCH_API_LOAD
(wrk when it is installed, else locust), BENCH_API_ROLES (rm,branch_manager), BENCH_PG
(admin URL of the server), BENCH_API_STORE (URL of a store published earlier: steps 1–2
are skipped, the demo logins are reset there, the API is measured on it).
"""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from bench.batch import ensure_bank

PG = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"
AS_OF = "2025-12-31"
TOOL = [sys.executable, "-m", "tierbook.cli"]
BRANCH_CUSTOMERS = 25_000
"""The demo bank's customers per branch, beyond 8 branches: the demo generator staffs each
branch with 3–4 RMs whatever its size, so 1M customers in 8 branches give an RM a book of
~4,800 customers, a workload no bank staffs for (an RM contacts each 20万+ customer
monthly); 40 branches of 25,000 give ~960, the 200k demo's shape. ``BENCH_API_BRANCHES=8``
measures the crowded shape."""


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _load() -> str:
    return f"{os.getloadavg()[0]:.1f}"


def _sh(args: list[str], env: dict[str, str], console: Console) -> tuple[float, float, str]:
    """Run a tool command; its wall and CPU seconds and its output."""
    cpu0, t0 = _children_cpu(), time.perf_counter()
    done = subprocess.run(args, check=False, env=env, capture_output=True, text=True)
    took, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[3:])} failed:\n{done.stdout}\n{done.stderr}")
    console.print(f"  {' '.join(args[3:5])} … {took:.1f} s wall, {cpu:.1f} s CPU")
    return took, cpu, done.stdout


def ensure_run(data: Path, out: Path, env: dict[str, str], console: Console) -> None:
    """One batch run of ``data`` into ``out`` (kept: the next bench reuses it)."""
    if (out / "manifest.json").exists():
        console.print(f"  reusing the run in {out} (delete the folder to compute it again)")
        return
    console.print(f"  computing the run once into {out} …")
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    args = [*TOOL, "run", "--data", str(data), "--as-of", AS_OF, "--out", str(tmp)]
    # DuckDB's default limit of the batch (224MB) is too small for 1M customers
    env = {"TIERBOOK_MEMORY_LIMIT": "4GB", **env}
    _sh([*args, "--balances", "events", "--no-excel", "--quiet"], env, console)
    tmp.rename(out)


def publish_saved(url: str, data: Path, out: Path) -> dict[str, float]:
    """Publish the run in ``out`` (master data from ``data``) into ``url``, then again."""
    from tierbook.bootstrap import connect_engine, open_store
    from tierbook.ingest.dataset import load_dataset
    from tierbook.store.frames import master_data
    from tierbook.store.publish import publish_run
    from tierbook.store.run_tables import RESULT_TABLES
    from tierbook.store.saved_run import check_inputs, load_saved_run, parquet_files

    t0, c0 = time.perf_counter(), time.process_time()
    result, manifest = load_saved_run(out, left_on_disk=RESULT_TABLES)
    parquet = parquet_files(out, RESULT_TABLES)
    ds = load_dataset(  # the master tables only: not the transactions or income
        data,
        connect_engine(),
        balances=result.balance_form,  # type: ignore[arg-type]
        tables=(),
    )
    check_inputs(result, ds, out)
    master = master_data(ds, result.as_of)
    read, read_cpu = time.perf_counter() - t0, time.process_time() - c0
    store = open_store(url)
    try:
        c0 = time.process_time()
        first = publish_run(store, result, master, manifest=manifest, parquet=parquet)
        first_cpu = time.process_time() - c0
        again = publish_run(store, result, master, manifest=manifest, parquet=parquet)
    finally:
        store.dispose()
    if not first.published or again.published:
        raise RuntimeError("publish did not behave: the first must publish, the second not")
    return {
        "read": read,
        "read_cpu": read_cpu,
        "publish": first.seconds,
        "publish_cpu": first_cpu,
        "again": again.seconds,
        "rows": float(sum(first.rows.values())),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 60) -> None:
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.5).close()
            return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"the API did not start on port {port}")


def sessions(port: int, n: int, roles: list[str]) -> list[tuple[str, list[str]]]:
    """``n`` sessions, the roles taken in turn, each with the customer ids of its first four
    book pages (the customers its 360 requests open)."""
    out = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        books: dict[str, list[str]] = {}
        for i in range(n):
            role = roles[i % len(roles)]
            r = client.post("/auth/login", json={"login": role, "password": PASSWORD})
            r.raise_for_status()
            token = r.json()["token"]
            if role not in books:
                ids: list[str] = []
                for offset in range(0, 200, 50):
                    page = client.get(
                        f"/customers?limit=50&offset={offset}",
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    page.raise_for_status()
                    ids += [row["customer_id"] for row in page.json()["items"]]
                books[role] = ids
            out.append((token, books[role]))
    return out


def book_paths(ids: list[str]) -> list[str]:
    return [f"/customers?limit=50&offset={o}" for o in range(0, 200, 50)]


def detail_paths(ids: list[str]) -> list[str]:
    return [f"/customers/{i}" for i in ids]


ENDPOINTS = {"my-book": book_paths, "customer-360": detail_paths}

WRK_SCRIPT = """
local reqs = {%s}
local n = #reqs
local i = 0
request = function()
  i = i %% n + 1
  return reqs[i]
end
math.randomseed(7)
delay = function()
  return math.random(%d, %d)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d %%d\\n", summary.requests,
    summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.timeout, e.status))
end
"""


def _lua(text_: str) -> str:
    return '"' + text_.replace("\\", "\\\\").replace('"', '\\"') + '"'


def wrk_script(
    paths: list[tuple[str, str]], path: Path, port: int, think_ms: int, spread_ms: int
) -> None:
    """A wrk script sending the (token, path) requests in a shuffled, fixed order, each
    connection waiting ``think_ms`` ± ``spread_ms`` (uniform) before its next request (the
    Host header is given: at load time wrk does not know it yet, and uvicorn refuses a
    request without one)."""
    import random

    host = _lua(f"127.0.0.1:{port}")
    order = list(paths)
    random.Random(7).shuffle(order)
    reqs = ", ".join(
        f'wrk.format("GET", {_lua(p)}, {{["Host"] = {host}, '
        f'["Authorization"] = {_lua("Bearer " + t)}}})'
        for t, p in order
    )
    path.write_text(WRK_SCRIPT % (reqs, think_ms - spread_ms, think_ms + spread_ms))


def run_wrk(port: int, script: Path, users: int, seconds: int) -> dict[str, Any]:
    args = ["wrk", "-t1", f"-c{users}", f"-d{seconds}s", "--timeout", "60s", "-s", str(script)]
    cpu0 = _children_cpu()
    done = subprocess.run(
        [*args, f"http://127.0.0.1:{port}"], capture_output=True, text=True, check=True
    )
    found = re.search(r"RESULT ([\d ]+)", done.stdout)
    if found is None:
        raise RuntimeError(f"wrk gave no result:\n{done.stdout}\n{done.stderr}")
    n, micros, p50, p95, p99, *errors, bad_status = map(int, found.group(1).split())
    return {
        "requests": n,
        "failures": bad_status,  # answers other than 2xx/3xx
        "socket_errors": dict(zip(("connect", "read", "write", "timeout"), errors, strict=True)),
        "p50": p50 / 1000,
        "p95": p95 / 1000,
        "p99": p99 / 1000,
        "rps": n / (micros / 1e6),
        "load": _load(),
        "client_cpu": _children_cpu() - cpu0,
    }


def run_locust(port: int, tokens: list[str], users: int, seconds: int, tmp: Path) -> list[dict]:
    path = tmp / "tokens.txt"
    path.write_text("\n".join(tokens))
    prefix = tmp / "locust"
    cpu0 = _children_cpu()
    subprocess.run(
        [
            *(sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py"))),
            *("--headless", "-u", str(users), "-r", str(users), "-t", f"{seconds}s"),
            *("--host", f"http://127.0.0.1:{port}", "--csv", str(prefix), "--only-summary"),
        ],
        env={**os.environ, "BENCH_TOKENS": str(path)},
        check=False,  # locust exits 1 when some requests failed: they are counted
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cpu = _children_cpu() - cpu0
    with Path(f"{prefix}_stats.csv").open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["Name"] in ENDPOINTS]
    return [
        {
            "endpoint": r["Name"],
            "requests": int(r["Request Count"]),
            "failures": int(r["Failure Count"]),
            "p50": float(r["50%"]),
            "p95": float(r["95%"]),
            "p99": float(r["99%"]),
            "rps": float(r["Requests/s"]),
            "load": _load(),
            "client_cpu": cpu,
        }
        for r in rows
    ]


def single(port: int, token: str, paths: list[str], n: int = 20) -> float:
    """Median milliseconds of ``n`` requests one after another (no concurrency)."""
    took = []
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as client:
        headers = {"Authorization": f"Bearer {token}"}
        for i in range(n):
            t0 = time.perf_counter()
            client.get(paths[i % len(paths)], headers=headers).raise_for_status()
            took.append((time.perf_counter() - t0) * 1000)
    return statistics.median(took)


@contextmanager
def database() -> Iterator[str]:
    name = f"tierbook_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def server_cpu(pid: int) -> float:
    """CPU seconds (user + system) of the server process and its worker processes so far.
    A figure per request that other work on the machine barely moves, unlike latency."""
    import psutil

    root = psutil.Process(pid)
    total = 0.0
    for p in [root, *root.children(recursive=True)]:
        with contextlib.suppress(psutil.NoSuchProcess):
            t = p.cpu_times()
            total += t.user + t.system
    return total


@contextmanager
def server(env: dict[str, str], workers: str, log: Path) -> Iterator[tuple[int, int]]:
    """The API on a free port; yields (port, server pid)."""
    port = _free_port()
    proc = subprocess.Popen(
        [*TOOL, "serve", "--port", str(port), "--workers", workers],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        _wait(port)
        yield port, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(
    env: dict[str, str],
    workers: str,
    tmp: Path,
    users: int,
    seconds: int,
    roles: list[str],
    thinks: list[int],
    jitter: float,
    load_tool: str,
    console: Console,
) -> list[dict[str, Any]]:
    """Serve the store of ``env`` and measure both endpoints (see the module's step 4)."""
    rows: list[dict[str, Any]] = []
    with server(env, workers, tmp / "server.log") as (port, pid):
        opened = sessions(port, users, roles)
        console.print(f"  {len(opened)} sessions opened ({', '.join(roles)})")
        if load_tool == "locust":
            rows = run_locust(port, [t for t, _ in opened], users, seconds, tmp)
        for name, make in ENDPOINTS.items():
            token, ids = opened[0]
            one = single(port, token, make(ids))
            if load_tool == "locust":
                for r in rows:
                    r["single"] = one if r["endpoint"] == name else r.get("single")
                continue
            reqs = [(t, p) for t, ids in opened for p in make(ids)]
            for think in thinks:
                script = tmp / f"{name}-{think}.lua"
                spread = round(think * jitter)
                wrk_script(reqs, script, port, think, spread)
                run_wrk(port, script, users, min(5, seconds))  # warm-up, not counted
                cpu0 = server_cpu(pid)
                got = run_wrk(port, script, users, seconds)
                got["server_cpu_ms"] = 1000 * (server_cpu(pid) - cpu0) / max(1, got["requests"])
                rows.append(
                    {"endpoint": name, "think": think, "spread": spread, "single": one, **got}
                )
                console.print(f"  {name}, think {think} ms: {json.dumps(rows[-1])}")
    return rows


def _think(row: dict[str, Any]) -> str:
    if "think" not in row:
        return ""
    return f"{row['think']}±{row['spread']}" if row["spread"] else str(row["think"])


def main() -> None:
    console = Console()
    began = time.perf_counter()
    n = int(os.environ.get("BENCH_API_CUSTOMERS", "20000"))
    branches = int(os.environ.get("BENCH_API_BRANCHES", str(max(8, n // BRANCH_CUSTOMERS))))
    bank = f"{n}" if branches == 8 else f"{n}-b{branches}"
    data = Path(os.environ.get("BENCH_API_DATA", f"bench-data/{bank}"))
    out = Path(os.environ.get("BENCH_API_RUN", f"bench-data/api-run-{bank}"))
    users = int(os.environ.get("BENCH_API_USERS", "50"))
    seconds = int(os.environ.get("BENCH_API_SECONDS", "30"))
    workers = os.environ.get("BENCH_API_WORKERS", "2")
    load_tool = os.environ.get("BENCH_API_LOAD", "wrk" if shutil.which("wrk") else "locust")
    roles = os.environ.get("BENCH_API_ROLES", "rm,branch_manager").split(",")
    thinks = [int(t) for t in os.environ.get("BENCH_API_THINK_MS", "1000,0").split(",")]
    jitter = float(os.environ.get("BENCH_API_JITTER", "0.5"))
    if load_tool == "wrk" and shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk), or BENCH_API_LOAD=locust")
    console.print(
        f"API bench: {n:,} customers, {branches} branches, {load_tool}, load average {_load()}"
    )
    store = os.environ.get("BENCH_API_STORE")
    pub: dict[str, float] = {}
    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if store:  # a store published earlier: measure the API only
            url = store
            env = {**os.environ, "TIERBOOK_DATABASE_URL": url}
            console.print(f"  on the published store {url.rsplit('/', 1)[1]} (not published here)")
        else:
            ensure_bank(n, data, console, branches)
            url = stack.enter_context(database())
            env = {**os.environ, "TIERBOOK_DATABASE_URL": url}
            ensure_run(data, out, env, console)
            _sh([*TOOL, "db", "upgrade"], env, console)
            console.print(f"  publishing {out} into {url.rsplit('/', 1)[1]} …")
            pub = publish_saved(url, data, out)
            console.print(
                f"  publish {pub['publish']:.1f} s wall, {pub['publish_cpu']:.1f} s CPU "
                f"({pub['rows']:,.0f} rows; reading out/ and the master data "
                f"{pub['read']:.1f} s); re-publish {pub['again']:.2f} s; load average {_load()}"
            )
        _sh([*TOOL, "db", "seed-demo-users", "--password", PASSWORD], env, console)
        rows = measure(env, workers, tmp, users, seconds, roles, thinks, jitter, load_tool, console)
    table = Table(
        title=f"API at {users} clients ({load_tool}), {seconds}s per row, {workers} uvicorn "
        f"workers, {n:,} customers on PostgreSQL; "
        + (f"publish {pub['publish']:.1f} s (CPU {pub['publish_cpu']:.1f} s); " if pub else "")
        + f"bench {time.perf_counter() - began:.0f} s"
    )
    cols = ("endpoint", "think ms", "requests", "failures", "single ms", "p50 ms", "p95 ms")
    for col in (*cols, "p99 ms", "req/s", "server CPU ms/req", "load avg", "client CPU s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["endpoint"],
            _think(r),
            f"{r['requests']:,}",
            str(r["failures"] + sum(r.get("socket_errors", {}).values())),
            f"{r['single']:.0f}",
            *(f"{r[k]:.0f}" for k in ("p50", "p95", "p99")),
            f"{r['rps']:.1f}",
            f"{r['server_cpu_ms']:.1f}" if "server_cpu_ms" in r else "",
            r["load"],
            f"{r['client_cpu']:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
