"""The FastAPI app factory. ``create_app(settings)`` opens the store when the app starts
and closes it when the app stops; nothing is connected at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI

from tierbook.api import docs, errors
from tierbook.api.routers import ROUTERS
from tierbook.api.services.auth import SessionRules
from tierbook.api.settings import ApiSettings
from tierbook.store.crypto import FieldCipher
from tierbook.store.db import Store, make_engine, session_factory


def open_store(settings: ApiSettings) -> Store:
    engine = make_engine(
        settings.database_url,
        serving=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    return Store(
        settings.database_url, engine, session_factory(engine), FieldCipher(settings.key())
    )


def _utcnow() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: ApiSettings | None = None,
    *,
    store: Store | None = None,
    clock: Callable[[], datetime] = _utcnow,
) -> FastAPI:
    """The workbench API. ``store`` (else one opened from ``settings``) must be migrated;
    ``clock`` gives the current UTC time (tests move it to expire sessions)."""
    settings = settings or ApiSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = store is None
        app.state.store = store or open_store(settings)
        try:
            yield
        finally:
            if own:
                app.state.store.dispose()

    app = FastAPI(
        title="tierbook workbench",
        version="1",
        summary="Customer tiering and key-customer maintenance: books, tasks, contacts, events",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
        responses=errors.ERROR_RESPONSES,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.rulebooks = {}
    app.state.session_rules = SessionRules(
        idle=timedelta(minutes=settings.session_idle_minutes),
        max_age=timedelta(hours=settings.session_max_hours),
    )
    if store is not None:
        app.state.store = store
    errors.install(app)
    docs.install(app)
    for router in ROUTERS:
        app.include_router(router)
    return app
