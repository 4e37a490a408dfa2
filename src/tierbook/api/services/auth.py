"""Login with argon2 password hashes and server-side sessions.

A session token is 32 random bytes given to the client once; the store keeps only its
SHA-256. A session ends at logout, after ``idle`` without a request, or ``max_age`` after
login, whichever comes first.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from tierbook.store.models import User, UserSession
from tierbook.store.passwords import hash_password, verify_password


@functools.cache
def _dummy_hash() -> str:
    """A hash to verify against for an unknown login (made on first use, not at import)."""
    return hash_password("tierbook-timing-equaliser")


TOUCH_EVERY = timedelta(seconds=30)
"""``last_seen_at`` is written at most this often, so reads do not each cost a write."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SessionRules:
    idle: timedelta
    max_age: timedelta


def authenticate(db: Session, login: str, password: str) -> User | None:
    """The active user with this login and password; a wrong login costs as much time as a
    wrong password."""
    user = db.scalar(select(User).where(User.login == login))
    if user is None or not user.active:
        verify_password(_dummy_hash(), password)
        return None
    return user if verify_password(user.password_hash, password) else None


def open_session(db: Session, user: User, rules: SessionRules, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    db.add(
        UserSession(
            token_hash=token_hash(token),
            user_id=user.id,
            created_at=now,
            last_seen_at=now,
            expires_at=now + rules.max_age,
        )
    )
    user.last_login_at = now
    return token


SessionState = Literal["live", "touch", "expired", "ended"]


def session_state(
    revoked_at: datetime | None,
    expires_at: datetime,
    last_seen_at: datetime,
    user_active: bool,
    rules: SessionRules,
    now: datetime,
) -> SessionState:
    """Whether a session serves a request at ``now``: ``live``; ``touch`` (live, and its
    ``last_seen_at`` is due to be written); ``expired`` (idle too long or past its lifetime:
    to be revoked); ``ended`` (revoked, or its user deactivated)."""
    if revoked_at is not None or not user_active:
        return "ended"
    if now >= expires_at or now - last_seen_at > rules.idle:
        return "expired"
    return "touch" if now - last_seen_at >= TOUCH_EVERY else "live"


def close_session(sess: UserSession, now: datetime) -> None:
    sess.revoked_at = now
