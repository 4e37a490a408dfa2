"""JSON answers validated and serialised in the route's own thread.

FastAPI validates a synchronous route's return value against its ``response_model`` in a
second hand-over to the thread pool, then serialises it. For the hot reads (my book, the
customer 360) the route does both itself with the same pydantic model and returns the
bytes; the route keeps ``response_model`` for the OpenAPI document, which the answer still
follows exactly (the same model made it)."""

from __future__ import annotations

import functools
from typing import Any

from fastapi.responses import Response
from pydantic import TypeAdapter


@functools.cache
def _adapter(schema: Any) -> TypeAdapter[Any]:
    return TypeAdapter(schema)


def json_response(schema: Any, content: Any) -> Response:
    """``content`` (dicts, rows or objects) as ``schema`` in JSON."""
    adapter = _adapter(schema)
    body = adapter.dump_json(adapter.validate_python(content, from_attributes=True))
    return Response(body, media_type="application/json")
