"""Settings of the workbench API, from ``TIERBOOK_*`` environment variables.

Development runs on safe-enough defaults; any other environment refuses to start with the
development secret key, a short key, or a session idle timeout above 30 minutes.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
MAX_IDLE_MINUTES = 30
MIN_SECRET_LENGTH = 32


class UnsafeSettingsError(ValueError):
    pass


class ApiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TIERBOOK_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(default="sqlite:///tierbook.db", description="SQLAlchemy URL")
    secret_key: SecretStr = SecretStr(DEV_SECRET_KEY)
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1, description="absolute session lifetime")
    cookie_name: str = "tierbook_session"
    cookie_secure: bool = False
    rulebook: str | None = Field(default=None, description="rulebook file or preset name")
    page_size_max: int = Field(default=200, ge=1)

    @model_validator(mode="after")
    def _safe_outside_development(self) -> ApiSettings:
        if self.environment == "development":
            return self
        key = self.secret_key.get_secret_value()
        problems = []
        if key == DEV_SECRET_KEY:
            problems.append("TIERBOOK_SECRET_KEY is the development default; set a secret")
        elif len(key) < MIN_SECRET_LENGTH:
            problems.append(f"TIERBOOK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} chars")
        if self.session_idle_minutes > MAX_IDLE_MINUTES:
            problems.append(
                f"TIERBOOK_SESSION_IDLE_MINUTES must be at most {MAX_IDLE_MINUTES} "
                f"(got {self.session_idle_minutes})"
            )
        if problems:
            raise UnsafeSettingsError(
                f"unsafe settings for environment {self.environment}: " + "; ".join(problems)
            )
        return self
