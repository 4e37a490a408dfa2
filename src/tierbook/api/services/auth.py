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

from sqlalchemy import bindparam, select
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


_SESSION_BY_TOKEN = (
    select(UserSession, User)
    .join(User, User.id == UserSession.user_id)
    .where(UserSession.token_hash == bindparam("token_hash"))
)
"""Built once: every request resolves its session, and building a statement costs more
CPU than running it (SQLAlchemy's coercions; the compiled form is cached either way)."""


def resolve_session(
    db: Session, token: str, rules: SessionRules, now: datetime
) -> tuple[UserSession, User] | None:
    """The live session and its user for ``token``, touched; ``None`` when unknown, revoked,
    idle too long or past its lifetime (an expired session is revoked on the way)."""
    row = db.execute(_SESSION_BY_TOKEN, {"token_hash": token_hash(token)}).first()
    if row is None:
        return None
    sess, user = row
    if sess.revoked_at is not None or not user.active:
        return None
    if now >= sess.expires_at or now - sess.last_seen_at > rules.idle:
        sess.revoked_at = now
        return None
    if now - sess.last_seen_at >= TOUCH_EVERY:
        sess.last_seen_at = now
    return sess, user


def close_session(sess: UserSession, now: datetime) -> None:
    sess.revoked_at = now
