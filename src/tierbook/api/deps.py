"""Request dependencies as ``Annotated`` aliases: ``SessionDep`` (one transaction per
request, committed when the route returns), ``CurrentUser`` (the logged-in actor),
``Ctx`` (both, with the clock, the cipher and the current run's rulebook)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session, defer

from tierbook.api.errors import Forbidden, NotFound, Unauthorized
from tierbook.api.services.auth import SessionRules, resolve_session
from tierbook.domain.access import Permission, Viewer
from tierbook.rules.models import Role, Rulebook
from tierbook.store.crypto import FieldCipher
from tierbook.store.models import Run, Staff, User

_bearer = HTTPBearer(auto_error=False, description="the token from POST /auth/login")
_cookie = APIKeyCookie(name="tierbook_session", auto_error=False)


def get_db(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.store.factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_db, scope="function")]


def get_now(request: Request) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


Now = Annotated[datetime, Depends(get_now)]


@dataclass(frozen=True)
class Actor:
    user_id: int
    login: str
    viewer: Viewer
    session_id: int

    @property
    def role(self) -> Role:
        return self.viewer.role

    def require(self, permission: Permission) -> None:
        if not self.viewer.can(permission):
            raise Forbidden(f"role {self.role.value} may not {permission.value}")


_STAFF_AND_TEAM = select(Staff.staff_id, Staff.branch_id, Staff.supervisor_id).where(
    or_(Staff.staff_id == bindparam("sid"), Staff.supervisor_id == bindparam("sid"))
)
_CURRENT_RUN = select(Run).where(Run.is_current.is_(True)).options(defer(Run.manifest))
# Statements every request runs are built once (building one costs more CPU than running it).


def viewer_of(db: Session, user: User) -> Viewer:
    """The user's role, branch and team (the staff they supervise), in one query."""
    role = Role(user.role)
    sid = user.staff_id
    if sid is None:
        return Viewer(role=role)
    rows = db.execute(_STAFF_AND_TEAM, {"sid": sid}).all()
    branch = next((r.branch_id for r in rows if r.staff_id == sid), None)
    team = frozenset(r.staff_id for r in rows if r.supervisor_id == sid)
    return Viewer(role=role, staff_id=sid, branch_id=branch, team=team)


def session_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(request.app.state.settings.cookie_name) or None


def current_user(
    request: Request,
    db: SessionDep,
    now: Now,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _c: Annotated[str | None, Depends(_cookie)] = None,
) -> Actor:
    token = session_token(request)
    if token is None:
        raise Unauthorized("log in first: POST /auth/login")
    rules: SessionRules = request.app.state.session_rules
    found = resolve_session(db, token, rules, now)
    if found is None:
        db.commit()  # keep the revocation of an expired session
        raise Unauthorized("session ended or unknown; log in again")
    sess, user = found
    return Actor(user.id, user.login, viewer_of(db, user), sess.id)


CurrentUser = Annotated[Actor, Depends(current_user)]


def requires(permission: Permission) -> Any:
    """A route dependency refusing (403) roles without ``permission``."""

    def check(actor: CurrentUser) -> Actor:
        actor.require(permission)
        return actor

    return Depends(check)


@dataclass
class Context:
    """What a service function needs: the transaction, who asks, when, and the rules."""

    db: Session
    actor: Actor
    now: datetime
    cipher: FieldCipher
    _app_state: Any = field(repr=False)

    @property
    def viewer(self) -> Viewer:
        return self.actor.viewer

    _run: Run | None = field(default=None, repr=False)

    def current_run(self) -> Run:
        """The current run, read once per request; its manifest (JSON, 121 KB at 1M
        customers) is loaded only when asked for."""
        if self._run is None:
            self._run = self.db.scalar(_CURRENT_RUN)
        if self._run is None:
            raise NotFound("no run has been published yet: tierbook run … --publish")
        return self._run

    def rulebook(self, run: Run | None = None) -> Rulebook:
        run = run or self.current_run()
        cache: dict[str, Rulebook] = self._app_state.rulebooks
        if run.run_id not in cache:
            cache[run.run_id] = Rulebook.model_validate(run.rulebook)
        return cache[run.run_id]


def get_context(request: Request, db: SessionDep, actor: CurrentUser, now: Now) -> Context:
    state = request.app.state
    return Context(db=db, actor=actor, now=now, cipher=state.store.cipher, _app_state=state)


Ctx = Annotated[Context, Depends(get_context)]
