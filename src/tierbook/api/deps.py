"""Request dependencies as ``Annotated`` aliases: ``Ctx`` (a logged-in request: its
transaction, committed when the route returns, the actor, the clock, the cipher and the
current run), ``CurrentUser`` (its actor), ``SessionDep`` (a transaction without a login,
for ``POST /auth/login``) and ``Now``.

A request costs CPU for every dependency FastAPI solves, and a synchronous one runs in the
thread pool (a hand-over to a worker thread and back, each costing about as much as a
query). So the logged-in request is one dependency (:func:`open_context`) with one
hand-over: it opens the transaction and reads the session, the user, the viewer's branch
and team and the current run in one statement; the cheap checks around it (:func:`get_now`,
permission checks) are ``async`` and run on the event loop without a thread."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session, aliased

from tierbook.api.errors import Forbidden, NotFound, Unauthorized
from tierbook.api.services.auth import SessionRules, session_state, token_hash
from tierbook.domain.access import Permission, Viewer
from tierbook.rules.models import Role, Rulebook
from tierbook.store.crypto import FieldCipher
from tierbook.store.models import Run, Staff, User, UserSession

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


async def get_now(request: Request) -> datetime:
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


@dataclass(frozen=True)
class CurrentRun:
    """What requests read of the current run (its rulebook, JSON, only when not cached)."""

    no: int
    run_id: str
    as_of: date
    rulebook_id: str
    rulebook_version: str


_RUN_COLUMNS = (Run.no, Run.run_id, Run.as_of, Run.rulebook_id, Run.rulebook_version)
_CURRENT_RUN = select(*_RUN_COLUMNS).where(Run.is_current.is_(True))
_RULEBOOK = select(Run.rulebook).where(Run.no == bindparam("run_no"))
_STAFF_AND_TEAM = select(Staff.staff_id, Staff.branch_id, Staff.supervisor_id).where(
    or_(Staff.staff_id == bindparam("sid"), Staff.supervisor_id == bindparam("sid"))
)
_own, _member = aliased(Staff), aliased(Staff)
_REQUEST = (
    select(
        UserSession.id.label("session_id"),
        UserSession.revoked_at,
        UserSession.expires_at,
        UserSession.last_seen_at,
        User.id.label("user_id"),
        User.login,
        User.role,
        User.staff_id,
        User.active,
        _own.branch_id,
        _member.staff_id.label("member_id"),
        *(c.label(f"run_{c.key}") for c in _RUN_COLUMNS),
    )
    .join(User, User.id == UserSession.user_id)
    .outerjoin(_own, _own.staff_id == User.staff_id)
    .outerjoin(_member, _member.supervisor_id == User.staff_id)
    .outerjoin(Run, Run.is_current.is_(True))
    .where(UserSession.token_hash == bindparam("token_hash"))
)
"""A request's session, its user, the user's branch, one row per member of the user's
team (none: one row), and the current run (``NULL`` columns before the first publish)."""
_TOUCH = update(UserSession).where(UserSession.id == bindparam("sid"))
_SEEN = _TOUCH.values(last_seen_at=bindparam("now"))
_REVOKE = _TOUCH.values(revoked_at=bindparam("now"))
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

    _run: CurrentRun | None = field(default=None, repr=False)

    def current_run(self) -> CurrentRun:
        """The current run (read with the session when the request began)."""
        if self._run is None:
            row = self.db.execute(_CURRENT_RUN).first()
            self._run = None if row is None else CurrentRun(*row)
        if self._run is None:
            raise NotFound("no run has been published yet: tierbook run … --publish")
        return self._run

    def commit(self) -> None:
        """Commit now, in the route's thread: a hot read's route ends with this, and the
        request then needs no further hand-over to the thread pool to finish."""
        self.db.commit()

    def rulebook(self, run: CurrentRun | None = None) -> Rulebook:
        run = run or self.current_run()
        cache: dict[str, Rulebook] = self._app_state.rulebooks
        if run.run_id not in cache:
            data = self.db.scalar(_RULEBOOK, {"run_no": run.no})
            cache[run.run_id] = Rulebook.model_validate(data)
        return cache[run.run_id]


def _authenticate(request: Request, db: Session, now: datetime) -> Context:
    """The request's context; 401 for no token or a session unknown, revoked, idle too
    long or past its lifetime (an expired session is revoked on the way)."""
    token = session_token(request)
    if token is None:
        raise Unauthorized("log in first: POST /auth/login")
    state = request.app.state
    rows = db.execute(_REQUEST, {"token_hash": token_hash(token)}).all()
    if not rows:
        raise Unauthorized("session ended or unknown; log in again")
    r = rows[0]
    rules: SessionRules = state.session_rules
    found = session_state(r.revoked_at, r.expires_at, r.last_seen_at, r.active, rules, now)
    if found == "expired":
        db.connection().execute(_REVOKE, {"sid": r.session_id, "now": now})
        db.commit()  # keep the revocation of an expired session
    if found in ("expired", "ended"):
        raise Unauthorized("session ended or unknown; log in again")
    if found == "touch":
        db.connection().execute(_SEEN, {"sid": r.session_id, "now": now})
    role = Role(r.role)
    if r.staff_id is None:
        viewer = Viewer(role=role)
    else:
        team = frozenset(x.member_id for x in rows if x.member_id is not None)
        viewer = Viewer(role=role, staff_id=r.staff_id, branch_id=r.branch_id, team=team)
    run = None
    if r.run_no is not None:
        run = CurrentRun(
            r.run_no, r.run_run_id, r.run_as_of, r.run_rulebook_id, r.run_rulebook_version
        )
    actor = Actor(r.user_id, r.login, viewer, r.session_id)
    return Context(db, actor, now, state.store.cipher, state, run)


def _begin(request: Request) -> Context:
    state = request.app.state
    db: Session = state.store.factory()
    try:
        return _authenticate(request, db, state.clock())
    except BaseException:
        _end(db, commit=False)
        raise


def _end(db: Session, *, commit: bool) -> None:
    try:
        if commit:
            db.commit()
        else:
            db.rollback()
    finally:
        db.close()


async def open_context(
    request: Request,
    _b: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)] = None,
    _c: Annotated[str | None, Depends(_cookie)] = None,
) -> AsyncIterator[Context]:
    """A logged-in request: one transaction, committed when the route returns (or by the
    route itself, :meth:`Context.commit`). The session is read in the thread pool; after a
    route that committed, closing the session sends nothing and needs no thread."""
    ctx = await run_in_threadpool(_begin, request)
    try:
        yield ctx
    except BaseException:
        await run_in_threadpool(_end, ctx.db, commit=False)
        raise
    if ctx.db.in_transaction():
        await run_in_threadpool(_end, ctx.db, commit=True)
    else:
        ctx.db.close()


Ctx = Annotated[Context, Depends(open_context, scope="function")]


async def current_actor(ctx: Ctx) -> Actor:
    return ctx.actor


CurrentUser = Annotated[Actor, Depends(current_actor)]


def requires(permission: Permission) -> Any:
    """A route dependency refusing (403) roles without ``permission``."""

    async def check(ctx: Ctx) -> Context:
        ctx.actor.require(permission)
        return ctx

    return Depends(check)
