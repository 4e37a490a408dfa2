"""Errors the services raise and how the API answers them. Bad input is 422 with the field
path and a stable code; nothing the client sends may turn into a 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DataError, IntegrityError

log = logging.getLogger("tierbook.api")


class ApiError(Exception):
    status = 400
    code = "BAD_REQUEST"

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(ApiError):  # noqa: N818 - named as the HTTP answer
    status = 404
    code = "NOT_FOUND"


class Forbidden(ApiError):  # noqa: N818 - named as the HTTP answer
    status = 403
    code = "FORBIDDEN"


class Unauthorized(ApiError):  # noqa: N818 - named as the HTTP answer
    status = 401
    code = "NOT_AUTHENTICATED"


class Conflict(ApiError):  # noqa: N818 - named as the HTTP answer
    status = 409
    code = "CONFLICT"


class Invalid(ApiError):  # noqa: N818 - named as the HTTP answer
    """A request that is well-formed but breaks a rule; ``loc`` names the field."""

    status = 422
    code = "INVALID"

    def __init__(self, message: str, code: str, loc: tuple[str | int, ...]) -> None:
        super().__init__(message, code)
        self.loc = loc


class FieldError(BaseModel):
    loc: list[str | int]
    code: str
    msg: str


class ErrorBody(BaseModel):
    code: str
    detail: str | list[FieldError]


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorBody, "description": "not logged in or session ended"},
    403: {"model": ErrorBody, "description": "the role lacks the permission"},
    404: {"model": ErrorBody, "description": "no such record within the caller's scope"},
    409: {"model": ErrorBody, "description": "the record's state does not allow the change"},
    422: {"model": ErrorBody, "description": "bad input: field path and code"},
}


def _code(err: dict[str, Any]) -> str:
    kind = str(err.get("type", "invalid"))
    return kind if kind.isupper() else kind.upper()


def _field_errors(errors: Any) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "code": _code(e), "msg": str(e.get("msg", ""))}
        for e in errors
    ]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(
            {"code": "VALIDATION", "detail": _field_errors(exc.errors())}, status_code=422
        )

    @app.exception_handler(ApiError)
    async def _api(_req: Request, exc: ApiError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, Invalid):
            body: dict[str, Any] = {
                "code": "VALIDATION",
                "detail": [{"loc": list(exc.loc), "code": exc.code, "msg": exc.message}],
            }
        else:
            body = {"code": exc.code, "detail": exc.message}
        return JSONResponse(body, status_code=exc.status, headers=headers)

    @app.exception_handler(DataError)
    async def _data(_req: Request, exc: DataError) -> JSONResponse:
        log.warning("value refused by the database: %s", exc.orig)
        return JSONResponse(
            {
                "code": "VALIDATION",
                "detail": [
                    {
                        "loc": ["request"],
                        "code": "VALUE_REFUSED",
                        "msg": "a value is not storable (control characters, range)",
                    }
                ],
            },
            status_code=422,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_req: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        return JSONResponse(
            {"code": "CONFLICT", "detail": "the change conflicts with stored data"},
            status_code=409,
        )
