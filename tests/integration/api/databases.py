"""Test databases for the API: a migrated template per backend, cloned per test.

SQLite: the template file is copied. PostgreSQL (127.0.0.1:5432, user postgres): every
database is created with a unique name ``tierbook_test_<uuid>`` and dropped afterwards; an
unreachable server skips, except under ``CI=true``, where it fails the run.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tierbook.store.migrate import upgrade

PG_ADMIN = os.environ.get(
    "TIERBOOK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin():
    return create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT", pool_pre_ping=True)


def postgres_available() -> bool:
    try:
        with _pg_admin().connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:
        if os.environ.get("CI") == "true":
            raise RuntimeError(f"PostgreSQL unreachable under CI=true: {exc}") from exc
        return False


def _pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


class Template:
    """A migrated, seeded database; ``clone()`` gives a fresh copy's URL."""

    def __init__(self, backend: str, workdir: Path) -> None:
        self.backend = backend
        self.workdir = workdir
        self.created: list[str] = []
        if backend == "sqlite":
            self.url = f"sqlite:///{workdir / 'template.db'}"
        else:
            self.name = f"tierbook_test_{uuid.uuid4().hex[:16]}"
            with _pg_admin().connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
            self.created.append(self.name)
            self.url = _pg_url(self.name)
        upgrade(self.url)

    def clone(self) -> str:
        if self.backend == "sqlite":
            target = self.workdir / f"case_{uuid.uuid4().hex[:12]}.db"
            shutil.copyfile(self.workdir / "template.db", target)
            return f"sqlite:///{target}"
        name = f"tierbook_test_{uuid.uuid4().hex[:16]}"
        with _pg_admin().connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"'))
        self.created.append(name)
        return _pg_url(name)

    def drop_all(self) -> None:
        if self.backend != "postgresql":
            return
        with _pg_admin().connect() as conn:
            for name in reversed(self.created):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@contextmanager
def template(backend: str, workdir: Path, seed: Callable[[str], None]) -> Iterator[Template]:
    if backend == "postgresql" and not postgres_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not reachable")
    t = Template(backend, workdir)
    try:
        seed(t.url)
        yield t
    finally:
        t.drop_all()
