"""How ``tierbook serve`` runs the app under uvicorn.

uvicorn's HTTP protocol, with Nagle's algorithm turned off on every accepted connection.
With ``--workers N`` uvicorn binds the listening socket itself with ``proto`` 0; accepted
sockets inherit it, and asyncio enables ``TCP_NODELAY`` only on sockets that say
``IPPROTO_TCP`` (uvicorn issue #3149). Without it the response's body waits for the client's
delayed ACK of its headers: every request on a kept-alive connection after the first took
about 40 ms more (measured: 52 ms against 12 ms for a branch's book page at 200k customers,
curl or httpx, 2 workers). Browsers keep connections alive, so every user paid it.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.auto import AutoHTTPProtocol

PROTOCOL = "tierbook.api.server:NoDelayHTTPProtocol"
"""The ``http`` setting of uvicorn that selects :class:`NoDelayHTTPProtocol`."""


def no_delay(transport: asyncio.BaseTransport) -> None:
    """Send each write of ``transport`` at once (``TCP_NODELAY``) if it is a TCP socket."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayHTTPProtocol(AutoHTTPProtocol):  # type: ignore[misc,valid-type]
    """uvicorn's HTTP protocol (httptools when installed, else h11) without Nagle's delay."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        no_delay(transport)
        super().connection_made(transport)
