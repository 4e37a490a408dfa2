"""Fixtures for every store test: each runs on SQLite (a temporary file) and on PostgreSQL
(a database of its own, ``tierbook_test_<uuid>``, dropped afterwards).

PostgreSQL is looked for at ``TIERBOOK_TEST_POSTGRES`` (default
``postgresql://postgres@127.0.0.1:5432/postgres``). When it cannot be reached the PostgreSQL
cases are skipped — except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

ADMIN_URL = os.environ.get(
    "TIERBOOK_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
SMALL_BANK = {"customers": 300, "corporates": 10, "branches": 2, "seed": 11}
AS_OF = date(2025, 12, 31)


def _admin() -> Any:
    import psycopg

    return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)


@pytest.fixture(scope="session")
def postgres_admin() -> str:
    """The admin URL of a reachable PostgreSQL, or a skip (a failure under CI=true)."""
    try:
        with _admin():
            pass
    except Exception as exc:  # any connection failure: refused, timeout, auth
        message = f"PostgreSQL not reachable at {ADMIN_URL}: {exc}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return ADMIN_URL


def _sqlalchemy_url(admin_url: str, database: str) -> str:
    from sqlalchemy.engine import make_url

    return (
        make_url(admin_url)
        .set(drivername="postgresql+psycopg", database=database)
        .render_as_string(hide_password=False)
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database: a SQLite file, or a fresh PostgreSQL database dropped at the end."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin")
    name = f"tierbook_test_{uuid.uuid4().hex}"
    with _admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield _sqlalchemy_url(admin_url, name)
    finally:
        with _admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    _ = admin_url


@pytest.fixture
def store(store_url: str) -> Iterator[Any]:
    """A migrated, open store on ``store_url``."""
    from tierbook.bootstrap import open_store
    from tierbook.store.migrate import upgrade

    upgrade(store_url)
    opened = open_store(store_url)
    yield opened
    opened.dispose()


@dataclass
class BatchRun:
    """A batch run of the small bank, with the dataset it read and its master data."""

    data: Path
    result: Any
    master: Any
    ds: Any


def run_small_bank(data: Path, as_of: date, spill: Path | None = None) -> BatchRun:
    from tierbook.batch.run import run_batch, tables_needed
    from tierbook.bootstrap import connect_engine
    from tierbook.ingest.dataset import load_dataset
    from tierbook.rules import load_rulebook
    from tierbook.store.frames import master_data

    loaded = load_rulebook(None)
    ds = load_dataset(data, connect_engine(), tables=tables_needed(loaded))
    result = run_batch(ds, as_of, loaded, spill=spill)
    return BatchRun(data, result, master_data(ds, as_of), ds)


@pytest.fixture(scope="session")
def small_bank(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A generated demo bank of a few hundred customers (with its planted flaws)."""
    from tierbook.demo.flaws import plant_flaws
    from tierbook.demo.generator import generate

    out = tmp_path_factory.mktemp("bank") / "demo"
    generate(out, balance_forms=("events",), **SMALL_BANK)
    plant_flaws(out, 2025)
    return out


@pytest.fixture(scope="session")
def year_end(small_bank: Path) -> BatchRun:
    return run_small_bank(small_bank, AS_OF)


@pytest.fixture(scope="session")
def year_end_written(small_bank: Path, tmp_path_factory: pytest.TempPathFactory) -> BatchRun:
    """The year-end run as ``tierbook run`` makes it: its history written as it was made
    (``run_batch(spill=…)``), then its files (the history's moved in) into a folder."""
    from tierbook.batch.outputs import spill_folder, write_day_files

    out = tmp_path_factory.mktemp("written")
    run = run_small_bank(small_bank, AS_OF, spill=spill_folder(out))
    write_day_files(run.result, out)
    return run


@pytest.fixture(scope="session")
def march(small_bank: Path) -> BatchRun:
    return run_small_bank(small_bank, date(2025, 3, 31))


def copy_bank(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def leave(data: Path, staff_id: str, last_day: date) -> None:
    """Record in ``staff.csv`` that ``staff_id`` left on ``last_day``."""
    import csv

    path = data / "staff.csv"
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    end = rows[0].index("end_date")
    for row in rows[1:]:
        if row[0] == staff_id:
            row[end] = last_day.isoformat()
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(rows)


@pytest.fixture(scope="session")
def busiest_rm(year_end: BatchRun) -> str:
    """The RM with the most tasks at year end."""
    tasks = year_end.result.tasks
    return str(tasks[tasks["role"] == "rm"]["staff_id"].value_counts().idxmax())


@pytest.fixture(scope="session")
def year_end_after_departure(
    small_bank: Path, busiest_rm: str, tmp_path_factory: pytest.TempPathFactory
) -> BatchRun:
    """The same year-end run after the busiest RM left on 15 December."""
    data = copy_bank(small_bank, tmp_path_factory.mktemp("departure") / "demo")
    leave(data, busiest_rm, date(2025, 12, 15))
    return run_small_bank(data, AS_OF)
