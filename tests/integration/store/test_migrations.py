"""The shipped migrations build exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.integration.store.helpers import tables
from tierbook.store import models  # noqa: F401  (registers the tables)
from tierbook.store.base import Base
from tierbook.store.db import make_engine
from tierbook.store.migrate import current_revision, head_revision, upgrade


def test_upgrade_from_empty_reaches_head_with_every_table(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        assert current_revision(engine) == head_revision(store_url)
        assert tables(engine) == set(Base.metadata.tables) | {"alembic_version"}
    finally:
        engine.dispose()


def test_migrated_schema_has_no_difference_from_the_models(store_url: str) -> None:
    upgrade(store_url)
    engine = make_engine(store_url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            assert compare_metadata(ctx, Base.metadata) == []
    finally:
        engine.dispose()


def test_upgrade_twice_is_harmless_and_downgrade_removes_every_table(store_url: str) -> None:
    from alembic import command

    from tierbook.store.migrate import alembic_config

    upgrade(store_url)
    upgrade(store_url)
    command.downgrade(alembic_config(store_url), "base")
    engine = make_engine(store_url)
    try:
        assert tables(engine) <= {"alembic_version"}
        assert current_revision(engine) is None
    finally:
        engine.dispose()
