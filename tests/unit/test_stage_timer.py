"""The batch's stage timer: seconds per stage, and the between-stages call after each stage
(where the batch gives freed memory back), outside the stage's seconds."""

from __future__ import annotations

import time

import pytest

from tierbook.batch.memory import give_back_memory
from tierbook.batch.run import Timer


def test_each_stage_is_timed_and_followed_by_the_after_call_outside_its_time() -> None:
    calls: list[str] = []
    timer = Timer(calls.append, after=lambda: (calls.append("after"), time.sleep(0.2)))
    with timer.stage("one"):
        calls.append("work")
    with timer.stage("two"):
        pass
    assert calls == ["one", "work", "after", "two", "after"]
    assert set(timer.timings) == {"one", "two"}
    assert timer.timings["two"] < 0.2  # the after call's sleep is not in the stage


def test_a_failed_stage_records_no_time_and_skips_the_after_call() -> None:
    calls: list[str] = []
    timer = Timer(None, after=lambda: calls.append("after"))
    with pytest.raises(RuntimeError), timer.stage("broken"):
        raise RuntimeError("stage failed")
    assert timer.timings == {} and calls == []


def test_memory_is_given_back_with_and_without_an_engine() -> None:
    from tierbook.analytics.backends.duckdb import connect

    give_back_memory()
    con = connect(memory_limit="300MB")
    limit = "SELECT current_setting('memory_limit')"
    before = con.raw_sql(limit).fetchone()
    give_back_memory(con)
    assert con.raw_sql(limit).fetchone() == before  # DuckDB's limit as it was
