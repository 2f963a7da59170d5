"""A loopback proxy in front of PostgreSQL that cuts a connection at a chosen statement, for the fault tests.

It reads PostgreSQL's frontend protocol (after the startup packet: a type byte and a length per message) and
counts statements: a simple ``Query``, or the extended protocol's messages up to their ``Sync``. Once armed,
the ``nth`` counted statement of any connection is not delivered (``when="before"``: the connection is
closed instead, so the database never runs it) or delivered and its answer never returned (``when="after"``:
the database runs it, a COMMIT included, and the connection is closed before the reply reaches meterd).

Statements that run on their own schedule (the health probe ``SELECT 1``, a pooled connection's setup, the
change listener's LISTEN) are not counted, so that N names the same statement of the path under test from
run to run.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from dataclasses import dataclass, field

# Statements that are never counted (see the module docstring).
UNCOUNTED = ("SELECT 1", "SET TIME ZONE", "LISTEN", "UNLISTEN")
_BOUNDARY = {b"S", b"Q"}  # Sync ends a group of extended-protocol messages; Query is a group of its own
_PASSED_AT_ONCE = {b"d", b"c", b"f", b"X", b"p"}  # COPY data, Terminate, password: never held back


@dataclass
class Cut:
    """What happened: the statement that was cut (its text) and how."""

    statement: str
    when: str


@dataclass
class PgProxy:
    """Listens on 127.0.0.1 (``port``) and forwards to ``upstream`` (host, port)."""

    upstream: tuple[str, int]
    nth: int = 0
    when: str = "before"
    armed: bool = False
    count: int = 0
    cut: Cut | None = None
    statements: list[str] = field(default_factory=list)  # counted statements since armed (their text)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._closing = False
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, name="pgproxy", daemon=True).start()

    def url(self, database_url: str) -> str:
        """``database_url`` (postgresql://user@host:port/db) pointed at the proxy, without TLS."""
        scheme, rest = database_url.split("://", 1)
        userinfo, _, tail = rest.rpartition("@")
        path = tail[tail.index("/") :]
        sep = "&" if "?" in path else "?"
        return f"{scheme}://{userinfo}@127.0.0.1:{self.port}{path}{sep}sslmode=disable&gssencmode=disable"

    def arm(self, nth: int, when: str) -> None:
        with self._lock:
            self.nth, self.when, self.armed, self.count, self.cut = nth, when, True, 0, None
            self.statements = []

    def close(self) -> None:
        self._closing = True
        self._listener.close()
        for s in list(self._sockets):
            with contextlib.suppress(OSError):
                s.close()

    # -- plumbing --------------------------------------------------------------------------------------------
    def _accept(self) -> None:
        while not self._closing:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            self._sockets += [client, server]
            link = _Link(self, client, server)
            threading.Thread(target=link.upstream_pump, daemon=True).start()
            threading.Thread(target=link.downstream_pump, daemon=True).start()

    def _decide(self, text: str) -> str | None:
        """Counts a statement; "before"/"after" if it is the one to cut, else None."""
        if any(text.lstrip().upper().startswith(prefix) for prefix in UNCOUNTED):
            return None
        with self._lock:
            if not self.armed or self.cut is not None:
                return None
            self.count += 1
            self.statements.append(text)
            if self.count != self.nth:
                return None
            self.cut = Cut(text, self.when)
            return self.when


class _Link:
    """One client connection and its upstream connection."""

    def __init__(self, proxy: PgProxy, client: socket.socket, server: socket.socket) -> None:
        self.proxy, self.client, self.server = proxy, client, server
        self.mute = threading.Event()  # set: the database's answers are no longer passed on
        self.prepared: dict[bytes, str] = {}

    def close(self) -> None:
        self.mute.set()
        for s in (self.client, self.server):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                s.close()

    def downstream_pump(self) -> None:
        # Muted (a cut "after"): the first bytes of the database's answer show it ran the statement; the
        # connection is closed then, so meterd never sees the answer.
        try:
            while True:
                data = self.server.recv(65536)
                if not data or self.mute.is_set():
                    break
                self.client.sendall(data)
        except OSError:
            pass
        self.close()

    def upstream_pump(self) -> None:
        buffer = b""
        started = False
        held: list[bytes] = []  # messages of the current group, until its boundary
        text = ""
        try:
            while True:
                data = self.client.recv(65536)
                if not data:
                    break
                buffer += data
                while True:
                    if not started:  # startup packet, SSL or GSS request: a length, no type byte
                        if len(buffer) < 8:
                            break
                        length, code = struct.unpack("!ii", buffer[:8])
                        if len(buffer) < length:
                            break
                        packet, buffer = buffer[:length], buffer[length:]
                        self.server.sendall(packet)
                        started = code not in (80877103, 80877104)  # SSLRequest, GSSENCRequest
                        continue
                    if len(buffer) < 5:
                        break
                    kind = buffer[:1]
                    length = struct.unpack("!i", buffer[1:5])[0]
                    if len(buffer) < 1 + length:
                        break
                    message, buffer = buffer[: 1 + length], buffer[1 + length :]
                    body = message[5:]
                    if kind in _PASSED_AT_ONCE:
                        self.server.sendall(message)
                        continue
                    if kind == b"P":  # Parse: statement name, query
                        name, _, rest = body.partition(b"\0")
                        query = rest.partition(b"\0")[0].decode("utf-8", "replace")
                        self.prepared[name] = query
                        text = query
                    elif kind == b"B":  # Bind: portal name, statement name
                        statement = body.split(b"\0", 2)[1]
                        text = self.prepared.get(statement, text)
                    elif kind == b"Q":
                        text = body.rstrip(b"\0").decode("utf-8", "replace")
                    held.append(message)
                    if kind not in _BOUNDARY:
                        continue
                    cut = self.proxy._decide(text)
                    group, held, text = b"".join(held), [], ""
                    if cut == "before":
                        self.close()
                        return
                    if cut == "after":  # the downstream pump closes the link once the answer starts
                        self.mute.set()
                        self.server.sendall(group)
                        return
                    self.server.sendall(group)
        except OSError:
            pass
        self.close()
