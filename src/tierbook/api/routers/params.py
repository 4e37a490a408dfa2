"""Query parameters shared by the list endpoints."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Query

Limit = Annotated[int, Query(ge=1, le=200, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
OnDay = Annotated[date | None, Query(description="the working day; default today (UTC)")]
