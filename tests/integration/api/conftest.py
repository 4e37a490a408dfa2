"""API test fixtures: every test runs on SQLite and on PostgreSQL, on its own database
cloned from a migrated, seeded template."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.integration.api import bank
from tests.integration.api.databases import Template, template
from tierbook.api.app import create_app
from tierbook.api.settings import ApiSettings
from tierbook.store.crypto import FieldCipher
from tierbook.store.db import Store, make_engine, session_factory


@dataclass
class Clock:
    now: datetime = bank.NOW

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> None:
        self.now += timedelta(**kw)


def _seed(url: str) -> None:
    engine = make_engine(url)
    try:
        with session_factory(engine)() as db:
            bank.seed_base(db)
            db.commit()
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def bank_template(request, tmp_path_factory) -> Iterator[Template]:
    with template(request.param, tmp_path_factory.mktemp(request.param), _seed) as t:
        yield t


@dataclass
class Api:
    """A running app on a fresh database, with its clock and store."""

    client: TestClient
    store: Store
    clock: Clock
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, role: str) -> dict[str, str]:
        if role not in self.tokens:
            r = self.client.post(
                "/auth/login", json={"login": role, "password": bank.password(role)}
            )
            assert r.status_code == 200, r.text
            self.tokens[role] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[role]}"}

    def db(self):
        return self.store.factory()


def open_api(url: str, clock: Clock | None = None) -> Api:
    settings = ApiSettings(env="test", database_url=url, secret_key=bank.SECRET)
    engine = make_engine(url, serving=True)  # as open_store makes the API's
    store = Store(url, engine, session_factory(engine), FieldCipher(bank.SECRET))
    clock = clock or Clock()
    app = create_app(settings, store=store, clock=clock)
    return Api(TestClient(app, raise_server_exceptions=False), store, clock)


@pytest.fixture
def api(bank_template: Template) -> Iterator[Api]:
    a = open_api(bank_template.clone())
    try:
        yield a
    finally:
        a.client.close()
        a.store.dispose()
