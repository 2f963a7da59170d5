"""Serving the HTTP API with uvicorn as a task on meterd's event loop (the one grpc.aio runs on).

No thread per connection: a connection costs a socket and a small buffer until its request is complete; only
the domain work runs on the worker pool. Limits (README "The HTTP API"):
- a request head (line and headers) is at most MAX_HEAD_BYTES (h11's bound; beyond: 400, connection closed);
- a connection must send a complete request head within IDLE_TIMEOUT_SECONDS of opening or of its previous
  response, else it is closed: an idle keep-alive connection and a slow-header client (slowloris) alike;
- at most MAX_CONNECTIONS connections (and requests in flight) at once; beyond, 503;
- bodies: at most ``server.max_message_bytes``, each chunk within the app's BODY_IDLE_TIMEOUT_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger("meterd.http")
# uvicorn warns of every request its HTTP parser refuses (answered 400): a client's mistake, not the server's;
# at this level one port scanner would flood the log. Its errors (an exception escaping the app) still show.
logging.getLogger("uvicorn.error").setLevel(logging.ERROR)

MAX_HEAD_BYTES = 64 * 1024
IDLE_TIMEOUT_SECONDS = 30.0
MAX_CONNECTIONS = 4096


class _Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head (uvicorn arms its keep-alive timer only
    after a response, and clears it on any byte received: a connection that never completes a request would
    stay open forever)."""

    _head_timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._head_timer = self.loop.call_later(IDLE_TIMEOUT_SECONDS, self._head_timeout)

    def _disarm(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.cycle is None or self.cycle.response_complete:
            self.timeout_keep_alive_handler()

    def connection_made(self, transport: Any) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not cycle:  # a complete request head arrived
            self._disarm()

    def on_response_complete(self) -> None:
        if not self.transport.is_closing():
            self._arm()  # before super(): it may start a pipelined request, which disarms
        super().on_response_complete()

    def timeout_keep_alive_handler(self) -> None:
        if not self.transport.is_closing() and self.conn.our_state in (h11.IDLE, h11.DONE):
            super().timeout_keep_alive_handler()
        elif not self.transport.is_closing():
            self.transport.close()


def bind(listen: str) -> socket.socket:
    """A listening socket for ``host:port`` (port 0 picks one); OSError when it cannot be bound."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP named: asyncio disables Nagle's algorithm only on sockets whose proto says TCP, and an
    # accepted socket inherits it. Without it a response's headers and body left in two segments, the body
    # waiting for the client's delayed ACK: every call on a kept-alive connection took 40 ms more.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, int(port)))
        sock.listen(1024)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock


class HttpServer:
    """The HTTP API on a bound socket; ``start`` and ``stop`` run on the event loop."""

    def __init__(self, app: Any, sock: socket.socket) -> None:
        self.sock = sock
        self.port: int = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            http=_Protocol,
            lifespan="off",
            log_config=None,
            access_log=False,
            server_header=False,
            timeout_keep_alive=int(IDLE_TIMEOUT_SECONDS),
            limit_concurrency=MAX_CONNECTIONS,
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
            ws="none",
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Serves until ``stop``; returns once the socket accepts connections."""
        self._task = asyncio.ensure_future(self._server.serve(sockets=[self.sock]))
        while not self._server.started:  # startup is a few awaits on this loop, bounded
            if self._task.done():
                self._task.result()  # raises what startup raised
                raise RuntimeError("the HTTP server stopped while starting")
            await asyncio.sleep(0.001)

    async def stop(self, grace: float) -> None:
        """Stops accepting, lets requests in flight finish for ``grace`` seconds, closes every connection."""
        if self._task is None:
            self.sock.close()
            return
        self._server.config.timeout_graceful_shutdown = max(grace, 0.001)  # type: ignore[assignment]  # seconds, a float works
        self._server.should_exit = True
        try:
            await self._task
        except Exception:
            log.exception("the HTTP server failed while stopping")
        self.sock.close()
