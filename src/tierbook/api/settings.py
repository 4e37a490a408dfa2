"""Settings of the workbench API, from ``TIERBOOK_*`` environment variables.

The store's settings (``TIERBOOK_DATABASE_URL``, ``TIERBOOK_SECRET_KEY``, ``TIERBOOK_ENV``)
plus the session rules. Development runs on built-in defaults; any other environment refuses
to start without a secret key of its own or with a session idle timeout above 30 minutes.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from tierbook.store.settings import StoreSettings

MAX_IDLE_MINUTES = 30
MIN_SECRET_LENGTH = 32


class ApiSettings(StoreSettings):
    session_idle_minutes: int = Field(default=30, ge=1)
    session_max_hours: int = Field(default=12, ge=1, description="absolute session lifetime")
    cookie_name: str = "tierbook_session"
    cookie_secure: bool = False
    db_pool_size: int = Field(default=20, ge=1, description="connections kept per process")
    db_max_overflow: int = Field(default=20, ge=0)

    @model_validator(mode="after")
    def _safe_outside_development(self) -> ApiSettings:
        if self.env == "development":
            return self
        problems = []
        key = self.secret_key.get_secret_value() if self.secret_key else ""
        if len(key) < MIN_SECRET_LENGTH:
            problems.append(f"TIERBOOK_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters")
        if self.session_idle_minutes > MAX_IDLE_MINUTES:
            problems.append(
                f"TIERBOOK_SESSION_IDLE_MINUTES must be at most {MAX_IDLE_MINUTES} "
                f"(got {self.session_idle_minutes})"
            )
        if problems:
            raise ValueError(f"unsafe settings for TIERBOOK_ENV={self.env}: " + "; ".join(problems))
        return self
