"""Login and who-am-I."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from tierbook.api.schemas.common import PLAIN, In, Out


class LoginIn(In):
    login: str = Field(min_length=1, max_length=64, pattern=PLAIN)
    password: str = Field(min_length=1, max_length=256)


class MeOut(Out):
    login: str
    role: str
    staff_id: str | None
    branch_id: str | None
    scope: str = Field(description="own, team, branch, all or none")
    team: list[str]
    permissions: list[str]


class LoginOut(Out):
    token: str = Field(description="send as 'Authorization: Bearer <token>' (or the cookie)")
    idle_minutes: int
    expires_at: datetime
    user: MeOut
