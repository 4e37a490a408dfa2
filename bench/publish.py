"""``make bench`` (publish part): publishing a run into the store, against writing the same
results as Parquet (the batch's own output) in the same process, alternating rounds.

Per round and database (SQLite file; PostgreSQL when reachable): a first publish into an
empty store (March run), the next run (year end) on top of it, and a re-publish of the year
end (idempotent: nothing written). The reference writes the year-end results to Parquet.

Environment: BENCH_PUBLISH_CUSTOMERS (default 200000), BENCH_ROUNDS (3), BENCH_DATA
(bench-data/N), TIERBOOK_TEST_POSTGRES (admin URL, default postgres@127.0.0.1:5432).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench.batch import ensure_bank

ADMIN = os.environ.get("TIERBOOK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


def batch(data: Path, as_of: date) -> tuple[Any, Any]:
    from tierbook.batch.run import run_batch, tables_needed
    from tierbook.bootstrap import connect_engine
    from tierbook.ingest.dataset import load_dataset
    from tierbook.rules import load_rulebook
    from tierbook.store.frames import master_data

    loaded = load_rulebook(None)
    ds = load_dataset(data, connect_engine(), balances="events", tables=tables_needed(loaded))
    return run_batch(ds, as_of, loaded), master_data(ds, as_of)


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'bench.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"tierbook_bench_{uuid.uuid4().hex}"
    with psycopg.connect(ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = make_url(ADMIN).set(drivername="postgresql+psycopg", database=name)
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def postgres_reachable() -> bool:
    try:
        import psycopg

        with psycopg.connect(ADMIN, connect_timeout=3):
            return True
    except Exception:
        return False


def one_round(url: str, march: tuple[Any, Any], year_end: tuple[Any, Any]) -> dict[str, float]:
    from tierbook.bootstrap import open_store
    from tierbook.store.migrate import upgrade
    from tierbook.store.publish import publish_run

    upgrade(url)
    store = open_store(url)
    try:
        first = publish_run(store, *march)
        second = publish_run(store, *year_end)
        again = publish_run(store, *year_end)
        if not (first.published and second.published) or again.published:
            raise RuntimeError("publish did not behave: first, next must publish; again must not")
        return {"first": first.seconds, "next": second.seconds, "again": again.seconds}
    finally:
        store.dispose()


def parquet_reference(year_end: tuple[Any, Any]) -> float:
    from tierbook.batch.outputs import write_outputs

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        write_outputs(year_end[0], Path(tmp), excel=False)
        return time.perf_counter() - t0


def main() -> None:
    console = Console()
    n = int(os.environ.get("BENCH_PUBLISH_CUSTOMERS", "200000"))
    rounds = int(os.environ.get("BENCH_ROUNDS", "3"))
    data = Path(os.environ.get("BENCH_DATA", f"bench-data/{n}"))
    ensure_bank(n, data, console)
    console.print(f"batch runs of {n:,} customers (March, year end)…")
    march, year_end = batch(data, date(2025, 3, 31)), batch(data, date(2025, 12, 31))
    targets: dict[str, Callable[[], Any]] = {"SQLite": sqlite_url}
    if postgres_reachable():
        targets["PostgreSQL"] = postgres_url
    times: dict[str, list[dict[str, float]]] = {k: [] for k in targets}
    reference: list[float] = []
    for _ in range(rounds):
        for name, make in targets.items():
            reference.append(parquet_reference(year_end))
            with make() as url:
                times[name].append(one_round(url, march, year_end))
    ref = statistics.median(reference)
    rows = sum(len(getattr(year_end[0], f)) for f in ("tiers", "history", "customers"))
    table = Table(
        title=f"publish, {n:,} customers ({rows:,} result rows per run), median of {rounds}"
    )
    for col in ("store", "first run", "next run", "re-publish", "next / Parquet"):
        table.add_column(col)
    for name, runs in times.items():
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        table.add_row(
            name,
            f"{med['first']:.1f} s",
            f"{med['next']:.1f} s",
            f"{med['again']:.2f} s",
            f"{med['next'] / ref:.1f}×",
        )
    table.add_row("Parquet (reference)", "", f"{ref:.1f} s", "", "1.0×")
    console.print(table)


if __name__ == "__main__":
    main()
