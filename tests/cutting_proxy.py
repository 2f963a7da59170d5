"""A loopback TCP proxy that cuts connections where a test says: every connection at once, or after a given
number of bytes from the server (so at any point of a stream: inside a message, between a snapshot's
messages, inside a heartbeat). gRPC runs through it unchanged; a cut looks to both sides like a dropped
network connection."""

from __future__ import annotations

import contextlib
import select
import socket
import threading


class CuttingProxy:
    """Forwards connections made to ``address`` to ``target`` (host:port)."""

    def __init__(self, target: str) -> None:
        self.target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._cut_after: int | None = None  # server-to-client bytes still let through before a cut
        self.cuts = 0
        self.refusing = False  # new connections are refused (the server looks down)
        self._closed = False
        threading.Thread(target=self._accept, name="cutting-proxy", daemon=True).start()

    def cut(self) -> None:
        """Drops every open connection now."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
            self._cut_after = None
            self.cuts += 1
        for a, b in pairs:
            _close(a)
            _close(b)

    def cut_after(self, server_bytes: int) -> None:
        """Drops every open connection once ``server_bytes`` more bytes went from the server to clients."""
        with self._lock:
            self._cut_after = server_bytes

    def close(self) -> None:
        self._closed = True
        _close(self._listener)
        self.cut()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.refusing:
                _close(client)
                continue
            host, port = self.target.rsplit(":", 1)
            try:
                server = socket.create_connection((host, int(port)), timeout=5)
            except OSError:  # the server is down (restarting): the client sees a refused connection
                _close(client)
                continue
            server.settimeout(None)
            with self._lock:
                self._pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()

    def _pump(self, client: socket.socket, server: socket.socket) -> None:
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [], 1.0)
                with self._lock:
                    if (client, server) not in self._pairs:
                        return
                for sock in readable:
                    data = sock.recv(65536)
                    if not data:
                        return
                    if sock is server:
                        with self._lock:
                            budget = self._cut_after
                            if budget is not None and len(data) >= budget:
                                data = data[:budget]
                                self._cut_after = 0
                            elif budget is not None:
                                self._cut_after = budget - len(data)
                        client.sendall(data)
                        if budget is not None and self._cut_after == 0:
                            self.cut()
                            return
                    else:
                        server.sendall(data)
        except (OSError, ValueError):  # a socket closed by a cut while this thread was using it
            return
        finally:
            with self._lock:
                if (client, server) in self._pairs:
                    self._pairs.remove((client, server))
            _close(client)
            _close(server)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
