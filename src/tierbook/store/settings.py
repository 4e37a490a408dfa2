"""Store settings from the environment (``TIERBOOK_*``), refusing unsafe defaults outside
development."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///tierbook.db"
"""A SQLite file ``tierbook.db`` in the working directory (``make demo`` uses the repo root)."""

DEV_SECRET_KEY = "tierbook-development-key-not-for-production"


class StoreSettings(BaseSettings):
    """``TIERBOOK_DATABASE_URL`` (SQLite path or ``postgresql+psycopg://…``),
    ``TIERBOOK_SECRET_KEY`` (encrypts ID numbers and phones, keys their look-up hashes),
    ``TIERBOOK_ENV`` (``development`` allows a built-in key; any other value requires one)."""

    model_config = SettingsConfigDict(env_prefix="TIERBOOK_", extra="ignore")

    database_url: str = DEFAULT_DATABASE_URL
    secret_key: SecretStr | None = None
    env: Literal["development", "test", "production"] = "development"

    @model_validator(mode="after")
    def _key_outside_development(self) -> StoreSettings:
        if self.secret_key is None:
            if self.env != "development":
                raise ValueError(
                    f"TIERBOOK_SECRET_KEY must be set when TIERBOOK_ENV={self.env} "
                    "(the built-in key is for development only)"
                )
        elif len(self.secret_key.get_secret_value()) < 16:
            raise ValueError("TIERBOOK_SECRET_KEY must be at least 16 characters")
        return self

    def key(self) -> str:
        return self.secret_key.get_secret_value() if self.secret_key else DEV_SECRET_KEY


class SettingsError(ValueError):
    """The store's settings are unusable (message names the variable and the reason)."""


def load_settings() -> StoreSettings:
    """``StoreSettings`` from the environment, or a ``SettingsError`` with plain messages."""
    try:
        return StoreSettings()
    except ValidationError as exc:
        reasons = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
        raise SettingsError(reasons) from None
