"""Shared schema pieces: pages, identity inputs validated with ``tierbook.domain.identity``."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

from tierbook.domain.identity import (
    IdentityError,
    normalize_mobile,
    parse_resident_id,
    validate_uscc,
)

T = TypeVar("T")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Page(Out, Generic[T]):
    total: int = Field(description="records matching the filter within the caller's scope")
    limit: int
    offset: int
    items: list[T]


class Count(Out):
    total: int


def _mobile(value: str) -> str:
    try:
        return normalize_mobile(value)
    except IdentityError as exc:
        raise PydanticCustomError(exc.code, exc.reason) from None


def _id_number(value: str) -> str:
    """A resident ID (18 digits, GB 11643) or a unified social credit code (GB 32100)."""
    v = value.strip().upper()
    try:
        if v[:17].isdigit():
            parse_resident_id(v)
            return v
        return validate_uscc(v)
    except IdentityError as exc:
        raise PydanticCustomError(exc.code, exc.reason) from None


PLAIN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f]*$"
"""Text without NUL and other control characters (PostgreSQL refuses NUL in text)."""

Mobile = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_mobile)]
IdNumber = Annotated[str, Field(min_length=1, max_length=32), AfterValidator(_id_number)]
Text = Annotated[str, Field(min_length=1, max_length=2000, pattern=PLAIN)]
ShortText = Annotated[str, Field(min_length=1, max_length=200, pattern=PLAIN)]
