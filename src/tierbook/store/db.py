"""Engines and the unit of work. Repositories never commit: the service layer opens one
``UnitOfWork`` per business transaction and commits it (or it rolls back on error)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from tierbook.store.crypto import FieldCipher

SERVING_OPTIONS = "-c jit=off"
"""The API's PostgreSQL session settings. JIT compilation is paid per statement and an API
statement runs for milliseconds: a generic plan of a branch's book page at 200k customers
crossed JIT's cost threshold and spent 74 ms compiling. (Generic plans themselves are left
to PostgreSQL: with ``plan_cache_mode=auto`` it kept the book page's custom plan after
psycopg prepared it, measured over 8 executions at 1M; forcing custom plans would replan
every statement of every request.)"""


def make_engine(url: str, *, serving: bool = False, **kwargs: Any) -> Engine:
    """An engine for a SQLite path/URL or a PostgreSQL URL (psycopg 3).

    SQLite gets foreign keys on, WAL (readers keep reading the previous run while a publish
    is running), a busy timeout, and real transactions: ``BEGIN`` is sent by SQLAlchemy,
    not guessed by the sqlite3 module, so DDL and SELECTs are inside the transaction too.

    ``serving`` (the API's engine, whose every request writes: its session's last use,
    the audit log): SQLite transactions start with ``BEGIN IMMEDIATE``, taking the write
    lock first. A deferred transaction that reads and then writes while another request
    has committed fails at once with "database is locked" (SQLite cannot wait there without
    risking a deadlock); one that takes the lock at ``BEGIN`` waits its turn under the
    busy timeout instead. SQLite serves one writer at a time either way; PostgreSQL is
    the store for many concurrent users.

    On PostgreSQL, ``serving`` sets :data:`SERVING_OPTIONS` on every connection.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() != "sqlite":
        if serving:
            kwargs["connect_args"] = {"options": SERVING_OPTIONS} | kwargs.get("connect_args", {})
        return create_engine(parsed, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"timeout": 30}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # autocommit at the driver; SQLAlchemy sends BEGIN
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if serving else "BEGIN")

    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class UnitOfWork:
    """One transaction: ``with UnitOfWork(factory) as uow: …; uow.commit()``. Leaving the
    block without ``commit()`` (or by an exception) rolls everything back."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._factory()
        self.session.begin()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self.session.in_transaction():
                self.session.rollback()
        finally:
            self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()


@dataclass
class Store:
    """An open store: the engine, its session factory and the field cipher."""

    url: str
    engine: Engine
    factory: sessionmaker[Session]
    cipher: FieldCipher

    def unit_of_work(self) -> UnitOfWork:
        return UnitOfWork(self.factory)

    def dispose(self) -> None:
        self.engine.dispose()
