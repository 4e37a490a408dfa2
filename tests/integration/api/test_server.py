"""``tierbook serve`` answers on kept-alive connections without Nagle's delay, however many
workers: each accepted connection gets ``TCP_NODELAY`` even when the listening socket was
bound the way uvicorn's worker supervisor binds it (``proto`` 0), where asyncio would leave
Nagle's algorithm on and each response's body would wait ~40 ms for the client's ACK."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvicorn
from uvicorn.protocols.http.auto import AutoHTTPProtocol
from uvicorn.server import ServerState

from tierbook.api.server import PROTOCOL, NoDelayHTTPProtocol


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:  # never called
    raise AssertionError("no request is sent")


def _nodelay_after_accept(protocol: type[asyncio.Protocol]) -> int:
    """TCP_NODELAY of a connection accepted on a ``proto`` 0 listener and handed to
    ``protocol`` by asyncio, as uvicorn's workers do."""
    config = uvicorn.Config(_app, http=PROTOCOL)
    config.load()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:  # proto left at 0
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        with socket.create_connection(listener.getsockname()):
            conn, _ = listener.accept()
            assert conn.proto == 0

            async def accept() -> int:
                loop = asyncio.get_running_loop()
                transport, _ = await loop.connect_accepted_socket(
                    lambda: protocol(config, ServerState(), {}),  # type: ignore[call-arg]
                    conn,
                )
                try:
                    return conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
                finally:
                    transport.close()

            return asyncio.run(accept())


def test_the_served_protocol_is_the_one_without_nagle() -> None:
    config = uvicorn.Config(_app, http=PROTOCOL)
    config.load()
    assert config.http_protocol_class is NoDelayHTTPProtocol


def test_a_connection_accepted_on_a_workers_socket_sends_at_once() -> None:
    assert _nodelay_after_accept(AutoHTTPProtocol) == 0  # uvicorn's own: Nagle stays on
    assert _nodelay_after_accept(NoDelayHTTPProtocol) != 0
