"""The API's PostgreSQL connections plan every statement with its own values, without JIT
(``tierbook.store.db.SERVING_OPTIONS``); other engines keep the server's settings."""

from __future__ import annotations

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


def test_the_api_engine_forces_custom_plans_and_turns_jit_off(postgres_admin):
    assert _settings(postgres_admin, serving=True) == {
        "plan_cache_mode": "force_custom_plan",
        "jit": "off",
    }


def test_a_batch_engine_keeps_the_servers_settings(postgres_admin):
    import psycopg

    with psycopg.connect(postgres_admin) as raw:
        server = {name: raw.execute(f"SHOW {name}").fetchone()[0] for name in SETTINGS}
    assert _settings(postgres_admin) == server
