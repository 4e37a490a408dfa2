"""On SQLite, two API requests that each read and then write (the session's last use, the
audit log) must both succeed: the second waits for the first instead of failing."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from tierbook.store.db import make_engine


def _race(engine) -> list[BaseException]:
    """Request A reads, then request B reads, writes and commits, then A writes."""
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS hits (n INTEGER)"))
    a_read, b_done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def request_a() -> None:
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT count(*) FROM hits")).scalar()
                a_read.set()
                b_done.wait(timeout=2)  # B holds the lock (immediate) or commits first
                conn.execute(text("INSERT INTO hits VALUES (1)"))
        except BaseException as exc:
            errors.append(exc)

    def request_b() -> None:
        a_read.wait(timeout=5)
        try:
            with engine.begin() as conn:
                conn.execute(text("SELECT count(*) FROM hits")).scalar()
                conn.execute(text("INSERT INTO hits VALUES (2)"))
        except BaseException as exc:
            errors.append(exc)
        finally:
            b_done.set()

    threads = [threading.Thread(target=request_a), threading.Thread(target=request_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return errors


def test_deferred_transactions_fail_with_database_is_locked(tmp_path):
    """The failure the API's engine avoids (the reason for ``serving``: BEGIN IMMEDIATE)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}")
    errors = _race(engine)
    assert len(errors) == 1 and isinstance(errors[0], OperationalError)
    assert "locked" in str(errors[0])


def test_immediate_transactions_wait_their_turn_and_both_write(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", serving=True)
    assert _race(engine) == []
    with engine.connect() as conn:
        assert sorted(conn.execute(text("SELECT n FROM hits")).scalars()) == [1, 2]


@pytest.mark.parametrize("immediate", [True, False])
def test_a_transaction_still_rolls_back(tmp_path, immediate):
    engine = make_engine(f"sqlite:///{tmp_path / 'store.db'}", serving=immediate)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER)"))

    def failing_request() -> None:
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO t VALUES (1)"))
            raise RuntimeError("the request failed")

    with pytest.raises(RuntimeError):
        failing_request()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM t")).scalar() == 0
