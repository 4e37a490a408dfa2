"""POST /auth/login, POST /auth/logout, GET /auth/me."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from tierbook.api.deps import Ctx, CurrentUser, Now, SessionDep, viewer_of
from tierbook.api.errors import Unauthorized
from tierbook.api.schemas.auth import LoginIn, LoginOut, MeOut
from tierbook.api.services.auth import authenticate, close_session, open_session
from tierbook.domain.access import ROLE_PERMISSIONS, Viewer
from tierbook.store.models import UserSession

router = APIRouter(prefix="/auth", tags=["auth"])


def me_out(login: str, v: Viewer) -> MeOut:
    return MeOut(
        login=login,
        role=v.role.value,
        staff_id=v.staff_id,
        branch_id=v.branch_id,
        scope=v.scope.value,
        team=sorted(v.team),
        permissions=sorted(p.value for p in ROLE_PERMISSIONS[v.role]),
    )


@router.post("/login", response_model=LoginOut)
def login(
    data: LoginIn, request: Request, response: Response, db: SessionDep, now: Now
) -> LoginOut:
    user = authenticate(db, data.login, data.password)
    if user is None:
        raise Unauthorized("wrong login or password")
    rules = request.app.state.session_rules
    token = open_session(db, user, rules, now)
    settings = request.app.state.settings
    response.set_cookie(
        settings.cookie_name,
        token,
        httponly=True,
        samesite="strict",
        secure=settings.cookie_secure,
        max_age=int(rules.max_age.total_seconds()),
    )
    return LoginOut(
        token=token,
        idle_minutes=int(rules.idle.total_seconds() // 60),
        expires_at=now + rules.max_age,
        user=me_out(user.login, viewer_of(db, user)),
    )


@router.post("/logout", status_code=204)
def logout(ctx: Ctx, request: Request, response: Response) -> Response:
    sess = ctx.db.scalar(select(UserSession).where(UserSession.id == ctx.actor.session_id))
    if sess is not None:
        close_session(sess, ctx.now)
    response.status_code = 204
    response.delete_cookie(request.app.state.settings.cookie_name)
    return response


@router.get("/me", response_model=MeOut)
async def me(actor: CurrentUser) -> MeOut:
    return me_out(actor.login, actor.viewer)
