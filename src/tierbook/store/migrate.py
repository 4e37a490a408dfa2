"""Run the shipped Alembic migrations against a database URL."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from tierbook.store.db import make_engine

SCRIPT_LOCATION = "tierbook.store:migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` to ``revision`` (creating a SQLite file if needed)."""
    command.upgrade(alembic_config(url), revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(url: str) -> str | None:
    return ScriptDirectory.from_config(alembic_config(url)).get_current_head()


def upgrade_engine_url(url: str) -> tuple[str | None, str | None]:
    """Upgrade and return (revision before, revision after)."""
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade(url)
        return before, current_revision(engine)
    finally:
        engine.dispose()
