"""The API's PostgreSQL connections run without JIT (``tierbook.store.db.SERVING_OPTIONS``)
and leave plan caching as the server has it; other engines keep all the server's settings."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from tierbook.store.db import make_engine

SETTINGS = ("plan_cache_mode", "jit")


def _settings(url: str, **kw: bool) -> dict[str, str]:
    engine = make_engine(url, **kw)
    try:
        with engine.connect() as conn:
            return {name: conn.execute(text(f"SHOW {name}")).scalar_one() for name in SETTINGS}
    finally:
        engine.dispose()


@pytest.fixture
def server(postgres_admin: str) -> dict[str, str]:
    import psycopg

    with psycopg.connect(postgres_admin) as raw:
        return {name: raw.execute(f"SHOW {name}").fetchone()[0] for name in SETTINGS}


def test_the_api_engine_turns_jit_off_and_leaves_plan_caching_alone(postgres_admin, server):
    assert _settings(postgres_admin, serving=True) == server | {"jit": "off"}


def test_a_batch_engine_keeps_the_servers_settings(postgres_admin, server):
    assert _settings(postgres_admin) == server
