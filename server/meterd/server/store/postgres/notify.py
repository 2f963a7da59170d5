"""LISTEN/NOTIFY between replicas: the channel the watch feed's remote change source publishes on and listens
to (watch/remote.py). Publishing runs ``pg_notify`` on a pooled connection, one transaction per group of
payloads (so they arrive in order); listening holds a dedicated connection in a background thread and
reconnects when it drops, reporting the drop (notifications sent meanwhile are lost)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

import psycopg

log = logging.getLogger("meterd.watch")

CHANNEL = "meterd_changes"
# How often the listener checks whether it should stop (seconds): a server's stop waits for it, so it is short
# (10 idle wake-ups a second cost nothing measurable; at 0.5 s every PostgreSQL test's teardown took 0.5 s more).
POLL_SECONDS = 0.1
# How long it waits before reconnecting after losing its connection.
RECONNECT_SECONDS = 1.0
CONNECT_TIMEOUT_SECONDS = 5


class PgNotifyChannel:
    def __init__(self, db: Any, channel: str = CHANNEL) -> None:
        self._db = db
        self._channel = channel
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.listening = threading.Event()  # set while LISTEN is in effect (tests wait on it)
        self.connects = 0  # connections that have LISTENed so far (more than one: it reconnected)

    def publish(self, payloads: Sequence[str]) -> None:
        if not payloads:
            return
        with self._db.connection() as raw, raw.transaction():
            for payload in payloads:
                raw.execute("SELECT pg_notify(%s, %s)", (self._channel, payload))

    def listen(self, on_payload: Callable[[str], None], on_lost: Callable[[], None]) -> None:
        self._thread = threading.Thread(
            target=self._run, args=(on_payload, on_lost), name="meterd-pg-listen", daemon=True
        )
        self._thread.start()

    def _run(self, on_payload: Callable[[str], None], on_lost: Callable[[], None]) -> None:
        connected_before = False
        failing = False  # logged once per outage (the database may be down for a while)
        while not self._stop.is_set():
            try:
                with psycopg.connect(
                    self._db.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_SECONDS
                ) as conn:
                    conn.execute(f'LISTEN "{self._channel}"')
                    if connected_before:
                        on_lost()  # reconnected: what was sent while disconnected never arrives
                        log.warning("watch: the change listener reconnected; watches resend current values")
                    connected_before = True
                    failing = False
                    self.connects += 1
                    self.listening.set()
                    while not self._stop.is_set():
                        for n in conn.notifies(timeout=POLL_SECONDS):
                            on_payload(n.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                if not self._stop.is_set():
                    if not failing:
                        log.warning(
                            "watch: the change listener lost its database connection (%s); reconnecting",
                            str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__,
                        )
                    failing = True
                    self._stop.wait(RECONNECT_SECONDS)
            except Exception:
                self.listening.clear()
                log.exception("watch: the change listener failed; reconnecting")
                self._stop.wait(RECONNECT_SECONDS)
        self.listening.clear()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
