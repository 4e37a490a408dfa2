"""API settings refuse unsafe defaults outside development."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tierbook.api.settings import ApiSettings

GOOD_KEY = "k" * 32


def test_development_runs_on_the_built_in_key() -> None:
    assert ApiSettings(env="development").session_idle_minutes == 30


@pytest.mark.parametrize("env", ["test", "production"])
def test_outside_development_a_secret_key_is_required(env) -> None:
    with pytest.raises(ValidationError, match="TIERBOOK_SECRET_KEY"):
        ApiSettings(env=env)


def test_a_short_secret_key_is_refused_in_production() -> None:
    with pytest.raises(ValidationError, match="at least 32"):
        ApiSettings(env="production", secret_key="k" * 20)


def test_idle_timeout_above_30_minutes_is_refused_in_production() -> None:
    assert ApiSettings(env="production", secret_key=GOOD_KEY, session_idle_minutes=30)
    with pytest.raises(ValidationError, match="at most 30"):
        ApiSettings(env="production", secret_key=GOOD_KEY, session_idle_minutes=31)


def test_settings_come_from_the_environment(monkeypatch) -> None:
    monkeypatch.setenv("TIERBOOK_ENV", "production")
    monkeypatch.setenv("TIERBOOK_SECRET_KEY", GOOD_KEY)
    monkeypatch.setenv("TIERBOOK_SESSION_IDLE_MINUTES", "15")
    s = ApiSettings()
    assert s.env == "production" and s.session_idle_minutes == 15
