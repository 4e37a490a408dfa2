"""The analyses run with their own DuckDB working memory
(``TIERBOOK_ANALYSIS_MEMORY_LIMIT``); the connection's own limit is put back afterwards."""

from __future__ import annotations

import pytest

from tierbook.analytics.backends.duckdb import connect, release_memory, working_memory
from tierbook.bootstrap import EngineSettings

MIB = 1024 * 1024


UNITS = {"KiB": 1024, "MiB": MIB, "GiB": 1024 * MIB}


def _limit_bytes(con) -> float:
    # DuckDB reports the setting in binary units, e.g. "244.1 MiB".
    number, unit = con.con.execute("SELECT current_setting('memory_limit')").fetchone()[0].split()
    return float(number) * UNITS[unit]


def test_the_block_runs_with_the_larger_limit_and_the_connection_gets_its_own_back():
    con = connect(memory_limit="256MB")
    own = _limit_bytes(con)
    with working_memory(con, "1GB"):
        inside = _limit_bytes(con)
    assert own < 300 * MIB < 900 * MIB < inside
    assert _limit_bytes(con) == own


def test_the_limit_is_put_back_when_the_block_fails():
    con = connect(memory_limit="256MB")
    own = _limit_bytes(con)
    with pytest.raises(RuntimeError), working_memory(con, "1GB"):
        raise RuntimeError("a failing step")
    assert _limit_bytes(con) == own


def test_no_limit_changes_nothing():
    con = connect(memory_limit="256MB")
    own = _limit_bytes(con)
    with working_memory(con, None):
        assert _limit_bytes(con) == own


def test_the_setting_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("TIERBOOK_ANALYSIS_MEMORY_LIMIT", "3GB")
    assert EngineSettings.from_env().analysis_memory_limit == "3GB"
    monkeypatch.delenv("TIERBOOK_ANALYSIS_MEMORY_LIMIT")
    assert EngineSettings.from_env().analysis_memory_limit == "1GB"


def _resident_bytes(con) -> int:
    return con.con.execute("SELECT sum(memory_usage_bytes) FROM duckdb_memory()").fetchone()[0]


def test_releasing_memory_writes_idle_tables_to_disk_and_keeps_the_limit(tmp_path):
    con = connect(memory_limit="512MB", temp_directory=tmp_path)
    own = _limit_bytes(con)
    con.raw_sql("CREATE TEMP TABLE t AS SELECT range AS i, random() AS x FROM range(10000000)")
    before = _resident_bytes(con)
    release_memory(con)
    assert before > 100 * MIB and _resident_bytes(con) < before / 2
    assert _limit_bytes(con) == own
    assert con.con.execute("SELECT count(*) FROM t").fetchone()[0] == 10_000_000


def test_the_limit_in_bytes_is_read_off_the_connection():
    from tierbook.analytics.backends.duckdb import memory_limit_bytes

    assert memory_limit_bytes(connect(memory_limit="256MB")) == pytest.approx(256e6, rel=0.05)
    assert memory_limit_bytes(connect(memory_limit="2GB")) == pytest.approx(
        2e9, rel=0.05
    )  # reported to 0.1 GiB
    assert memory_limit_bytes(object()) is None  # not a DuckDB backend
