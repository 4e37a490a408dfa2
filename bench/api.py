"""``make bench`` (API part): my-book and customer-360 latency at 50 concurrent clients.

Publishes a demo bank into a PostgreSQL database of its own (``tierbook_bench_<uuid>``,
dropped at the end; the publish is timed), starts ``tierbook serve`` on 127.0.0.1 and runs
Locust headless against it; prints p50/p95/p99 and requests per second per endpoint.

Environment: BENCH_API_CUSTOMERS (default 20000), BENCH_API_USERS (50), BENCH_API_SECONDS
(60), BENCH_API_WORKERS (uvicorn workers, 2), BENCH_PG (admin URL of the server).
"""

from __future__ import annotations

import csv
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

PG = os.environ.get("BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "bench-password-1"


def _sh(args: list[str], env: dict[str, str], console: Console) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(args, env=env, check=True, capture_output=True, text=True)
    took = time.perf_counter() - t0
    console.print(f"  {' '.join(args[3:5])} … {took:.1f} s")
    return took, done.stdout


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


def _stats(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return [r for r in csv.DictReader(f) if r["Name"] in ("my-book", "customer-360")]


def main() -> None:
    console = Console()
    n = int(os.environ.get("BENCH_API_CUSTOMERS", "20000"))
    users = os.environ.get("BENCH_API_USERS", "50")
    seconds = os.environ.get("BENCH_API_SECONDS", "60")
    workers = os.environ.get("BENCH_API_WORKERS", "2")
    name = f"tierbook_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG.rsplit("/", 1)[0] + f"/{name}"
    tool = [sys.executable, "-m", "tierbook.cli"]
    env = {**os.environ, "TIERBOOK_DATABASE_URL": url}
    server = None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            bank, out = Path(tmp) / "bank", Path(tmp) / "out"
            console.print(f"API bench: {n:,} customers into PostgreSQL {name}")
            _sh(
                [*tool, "demo-data", "--customers", str(n), "--seed", "7", "--out", str(bank)],
                env,
                console,
            )
            _sh([*tool, "db", "upgrade"], env, console)
            total, said = _sh(
                [
                    *tool,
                    "run",
                    "--data",
                    str(bank),
                    "--as-of",
                    "2025-12-31",
                    "--out",
                    str(out),
                    "--no-excel",
                    "--quiet",
                    "--publish",
                ],
                env,
                console,
            )
            found = re.search(r"published \(([\d.]+)s\)", said)
            publish = float(found.group(1)) if found else float("nan")
            _sh([*tool, "db", "seed-demo-users", "--password", PASSWORD], env, console)
            port = _free_port()
            server = subprocess.Popen(
                [*tool, "serve", "--port", str(port), "--workers", workers],
                env=env,
                stdout=subprocess.DEVNULL,
            )
            _wait(port)
            prefix = Path(tmp) / "locust"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(Path(__file__).with_name("locustfile.py")),
                    "--headless",
                    "-u",
                    users,
                    "-r",
                    users,
                    "-t",
                    f"{seconds}s",
                    "--host",
                    f"http://127.0.0.1:{port}",
                    "--csv",
                    str(prefix),
                    "--only-summary",
                ],
                env={**os.environ, "BENCH_PASSWORD": PASSWORD},
                check=False,  # locust exits 1 when some requests failed: they are counted
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            rows = _stats(Path(f"{prefix}_stats.csv"))
    finally:
        if server is not None:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    table = Table(
        title=f"API at {users} clients, {seconds}s, {workers} workers, {n:,} customers "
        f"(batch + publish {total:.1f} s, of which publish {publish:.1f} s)"
    )
    for col in ("endpoint", "requests", "failures", "p50 ms", "p95 ms", "p99 ms", "req/s"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(
            r["Name"],
            r["Request Count"],
            r["Failure Count"],
            r["50%"],
            r["95%"],
            r["99%"],
            f"{float(r['Requests/s']):.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
