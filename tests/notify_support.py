"""Notification test support: a loopback webhook receiver that can answer slowly, fail, never answer or be
down, and small helpers over the generated NotificationService stub."""

from __future__ import annotations

import json
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
import psutil
from standardwebhooks import Webhook

from meterd.server.app import MeterdServer
from meterd.v1 import notifications_pb2 as pb
from meterd.v1 import notifications_pb2_grpc


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() when it arrived

    @property
    def payload(self) -> dict[str, Any]:
        return dict(json.loads(self.body))

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Behaviour:
    """How the receiver answers: ``status``; ``hold`` seconds before answering; ``hang`` never answers (until
    released); ``body`` what it answers with."""

    status: int = 200
    hang: bool = False
    body: bytes = b"ok"
    statuses: list[int] = field(default_factory=list)  # answered in turn first, then ``status``


class Receiver:
    """A webhook endpoint on a loopback port. ``down()`` closes the port (connections are refused) and
    ``up()`` opens it again on the same port."""

    def __init__(self, port: int = 0) -> None:
        self.received: list[Received] = []
        self.behaviour = Behaviour()
        self.release = threading.Event()  # ends every hanging request
        self.hanging = 0  # requests held now (their connections still open)
        self.most_hanging = 0
        self.active: dict[str, int] = {}  # requests in progress per webhook-id
        self.most_at_once = 0  # the most requests of one webhook-id ever in progress together
        self._lock = threading.Condition()
        self.port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.up()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def up(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                b = receiver.behaviour
                headers = {k.lower(): v for k, v in self.headers.items()}
                webhook_id = headers.get("webhook-id", "")
                with receiver._lock:
                    receiver.received.append(Received(headers, body, time.monotonic()))
                    status = b.statuses.pop(0) if b.statuses else b.status
                    active = receiver.active[webhook_id] = receiver.active.get(webhook_id, 0) + 1
                    receiver.most_at_once = max(receiver.most_at_once, active)
                    receiver._lock.notify_all()
                try:
                    self._answer(b, status)
                finally:
                    with receiver._lock:
                        receiver.active[webhook_id] -= 1

            def _answer(self, b: Behaviour, status: int) -> None:
                if b.hang:  # hold the request until released or the sender hangs up
                    with receiver._lock:
                        receiver.hanging += 1
                        receiver.most_hanging = max(receiver.most_hanging, receiver.hanging)
                        receiver._lock.notify_all()
                    try:
                        while not receiver.release.is_set() and not _hung_up(self.connection):
                            pass
                    finally:
                        with receiver._lock:
                            receiver.hanging -= 1
                    if not receiver.release.is_set():  # the sender hung up
                        self.close_connection = True
                        return
                self.send_response(status)
                if 300 <= status < 400:
                    self.send_header("location", "/elsewhere")
                self.send_header("content-length", str(len(b.body)))
                self.end_headers()
                try:
                    self.wfile.write(b.body)
                except (BrokenPipeError, ConnectionResetError):  # the sender stopped reading: it may
                    self.close_connection = True

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def close(self) -> None:
        self.release.set()
        self.down()

    def wait_for(
        self, condition: Callable[[list[Received]], bool], what: str, deadline: float = 60.0
    ) -> None:
        with self._lock:
            if not self._lock.wait_for(lambda: condition(self.received), deadline):
                raise AssertionError(f"timed out waiting for {what}; received {len(self.received)}")

    def wait_count(self, n: int, deadline: float = 60.0) -> list[Received]:
        self.wait_for(lambda r: len(r) >= n, f"{n} requests", deadline)
        return list(self.received)

    def distinct(self) -> dict[str, Received]:
        """The requests by webhook-id (the first of each)."""
        out: dict[str, Received] = {}
        for r in list(self.received):
            out.setdefault(r.webhook_id, r)
        return out


def _hung_up(conn: socket.socket) -> bool:
    """Whether the peer closed the connection (readable with nothing to read), waiting up to 50 ms."""
    ready, _, _ = select.select([conn], [], [], 0.05)
    if not ready:
        return False
    try:
        return conn.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def connections_to(port: int) -> int:
    """This process's open TCP connections to a loopback port (the server under test runs in it)."""
    return sum(
        1
        for c in psutil.Process().net_connections(kind="tcp")
        if c.raddr and c.raddr.port == port and c.status == psutil.CONN_ESTABLISHED
    )


def verify(secret: str, r: Received) -> dict[str, Any]:
    """The payload, after Standard Webhooks verification of the request's signature (raises if it fails)."""
    return dict(Webhook(secret).verify(r.body, r.headers))


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Notifications:
    """The NotificationService through its generated stub (the Python client's methods come later)."""

    def __init__(self, channel: grpc.Channel, metadata: tuple[tuple[str, str], ...] = ()) -> None:
        self.stub = notifications_pb2_grpc.NotificationServiceStub(channel)
        self.metadata = metadata

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.stub, name)
        return lambda request: method(request, timeout=30, metadata=self.metadata)

    def channel(self, url: str, **fields: Any) -> pb.NotificationChannel:
        request = pb.CreateNotificationChannelRequest(
            type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name=fields.pop("name", "hooks"), url=url, **fields
        )
        return self.CreateNotificationChannel(request).channel  # type: ignore[no-any-return]

    def rule(
        self,
        channels: list[str],
        thresholds: list[tuple[str, float]],
        features: list[str] | None = None,
        **fields: Any,
    ) -> pb.NotificationRule:
        request = pb.CreateNotificationRuleRequest(
            type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
            name=fields.pop("name", "rule"),
            channels=channels,
            features=features or [],
            thresholds=[
                pb.NotificationThreshold(value=v, type=getattr(pb, f"NOTIFICATION_THRESHOLD_TYPE_{t}"))
                for t, v in thresholds
            ],
            **fields,
        )
        return self.CreateNotificationRule(request).rule  # type: ignore[no-any-return]

    def events(self, **filters: Any) -> list[pb.NotificationEvent]:
        out: list[pb.NotificationEvent] = []
        token = ""
        while True:
            page = self.ListNotificationEvents(
                pb.ListNotificationEventsRequest(page_size=1000, page_token=token, **filters)
            )
            out.extend(page.events)
            token = page.next_page_token
            if not token:
                return out

    def event(self, event_id: str) -> pb.NotificationEvent:
        return self.GetNotificationEvent(pb.GetNotificationEventRequest(id=event_id)).event  # type: ignore[no-any-return]


def settle(server: MeterdServer) -> None:
    """Waits until every change committed so far has been evaluated by the notification rules (their events
    stored): the change feed flushed, then the evaluator idle twice."""
    server.services.watching.source.flush()
    assert server.services.notifying.evaluator.settle(), "the evaluator did not settle"


def wait_delivered(
    n: Notifications, event_ids: list[str], deadline: float = 60.0
) -> list[pb.NotificationEvent]:
    """Waits until every event's every delivery is SUCCESS or FAILED."""
    end = time.monotonic() + deadline
    while True:
        events = [n.event(e) for e in event_ids]
        if all(
            d.state in (pb.NOTIFICATION_DELIVERY_STATE_SUCCESS, pb.NOTIFICATION_DELIVERY_STATE_FAILED)
            for e in events
            for d in e.delivery_status
        ):
            return events
        if time.monotonic() > end:
            raise AssertionError(f"deliveries not finished: {[list(e.delivery_status) for e in events]}")
        time.sleep(0.02)
