"""The HTTP API for browsers against a live server: the entitlement watch as Server-Sent Events (admin and
portal routes, resume by Last-Event-ID, a portal token's limits, the stream cap, shutdown), CORS confined to
the portal routes, and the dashboard directory."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from support import ROOT, Clock, wait_until

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config, ConfigError, load
from meterd.server.http.routes import watch as watch_routes

KEY = "watch-admin-key"
ORIGIN = "https://portal.example.com"
NOW = datetime(2024, 3, 10, 15, 42, 31, tzinfo=UTC)
METERS = [
    {"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.n"},
    {"slug": "calls", "eventType": "call", "aggregation": "COUNT"},
]


@dataclass
class Event:
    """One SSE event as EventSource sees it: its fields, and the comments before it."""

    data: str = ""
    id: str | None = None
    event: str = "message"
    comments: list[str] = field(default_factory=list)

    def json(self) -> Any:
        return json.loads(self.data)


class EventStream:
    """A raw ``GET`` of a watch route, read event by event (the parsing rules of the SSE specification)."""

    def __init__(self, address: str, path: str, headers: dict[str, str] | None = None) -> None:
        host, port = address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=30)  # bounds every read: no hang
        self.conn.request("GET", path, headers=headers or {})
        self.response = self.conn.getresponse()
        self.status = self.response.status
        self.headers = {k.lower(): v for k, v in self.response.getheaders()}
        self.retry: int | None = None

    def problem(self) -> Any:
        return json.loads(self.response.read())

    def next(self) -> Event | None:
        """The next event (a heartbeat included); None when the stream ended."""
        event = Event()
        seen = False
        while True:
            line = self.response.readline()  # the chunked framing decoded
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if text == "":
                if seen:
                    return event
                continue
            seen = True
            name, _, value = text.partition(":")
            value = value.removeprefix(" ")
            if name == "":
                event.comments.append(value)
            elif name == "data":
                event.data = f"{event.data}\n{value}" if event.data else value
            elif name in ("id", "event"):
                setattr(event, name, value)
            elif name == "retry":
                self.retry = int(value)
                seen = bool(event.data or event.id or event.comments)

    def message(self) -> Any:
        """The next event with data (heartbeats skipped), as JSON."""
        while True:
            event = self.next()
            assert event is not None, "the stream ended"
            if event.data and event.event != "heartbeat":
                assert event.event == "message", event
                return event

    def close(self) -> None:
        self.conn.close()


def get(
    server: MeterdServer, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        f"http://{server.http_address}{path}", method=method, headers=headers or {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


def auth(token: str = KEY) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def event(i: int, subject: str = "c1", n: int = 10, kind: str = "prompt") -> dict[str, Any]:
    """An event stamped at its ingestion (usage before an entitlement's creation minute does not count)."""
    return {
        "specversion": "1.0",
        "id": f"{kind}-{subject}-{i}",
        "source": "test",
        "type": kind,
        "subject": subject,
        "data": {"n": n},
    }


def start(tmp_path: Path, clock: Clock | None = None, **settings: Any) -> MeterdServer:
    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        admin_key=KEY,
        grace_seconds=10.0,
        log_format="text",
        meters=METERS,
        **settings,
    )
    return MeterdServer(config, clock=clock).start() if clock else MeterdServer(config).start()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[MeterdServer, OpenMeter]]:
    server = start(tmp_path, cors_allowed_origins=[ORIGIN])
    with OpenMeter(server.address, api_key=KEY, timeout=30) as om:
        om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens"})
        om.features.create({"key": "api_calls", "name": "API calls", "meterSlug": "calls"})
        om.features.create({"key": "sso", "name": "SSO"})
        for subject in ("c1", "c2"):
            om.subjects.create_entitlement(
                subject,
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 1000,
                },
            )
        om.subjects.create_entitlement(
            "c1",
            {
                "type": "metered",
                "featureKey": "api_calls",
                "usagePeriod": {"interval": "MONTH"},
                "issueAfterReset": 50,
            },
        )
        om.subjects.create_entitlement("c1", {"type": "boolean", "featureKey": "sso"})
        yield server, om
    server.stop(0)


def by_feature(message: Any) -> dict[str, Any]:
    return {u["featureKey"]: u for u in message["updates"]}


def test_admin_watch_streams_a_snapshot_then_each_change(api: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = api
    stream = EventStream(
        server.http_address or "", "/api/v1/entitlements/watch?subject=c1&feature=ai_tokens", auth()
    )
    try:
        assert stream.status == 200
        assert stream.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert stream.headers["cache-control"] == "no-cache"
        first = stream.message()
        snapshot = first.json()
        assert (
            first.id == snapshot["position"]
            and snapshot["snapshot"] == "INITIAL"
            and snapshot["snapshotComplete"]
        )
        [update] = snapshot["updates"]
        assert (update["subjectKey"], update["featureKey"], update["type"], update["reasons"]) == (
            "c1",
            "ai_tokens",
            "metered",
            ["SNAPSHOT"],
        )
        assert update["value"] == {"hasAccess": True, "balance": 1000.0, "usage": 0.0, "overage": 0.0}
        assert stream.retry == watch_routes.RETRY_MS
        om.events.ingest([event(1, n=150), event(2, n=100), event(3, "c2", n=999)])
        changed = stream.message()
        [update] = changed.json()["updates"]
        assert update["reasons"] == ["USAGE"] and update["value"]["balance"] == 750.0
        expected = om.subjects.get_entitlement_value("c1", "ai_tokens")
        assert (update["value"]["balance"], update["value"]["usage"]) == (expected.balance, expected.usage)
        assert changed.id == changed.json()["position"] != first.id
        assert as_of(changed) >= as_of(first)  # the change's event is current as of its commit or later
    finally:
        stream.close()


def as_of(event: Event) -> datetime:
    """An event's ``currentAsOf`` (RFC 3339, UTC)."""
    text = event.json()["currentAsOf"]
    assert isinstance(text, str) and text.endswith("Z"), event
    return datetime.fromisoformat(text)


def test_heartbeats_are_named_events_that_advance_the_id_and_current_as_of(
    api: tuple[MeterdServer, OpenMeter],
) -> None:
    server, om = api
    stream = EventStream(
        server.http_address or "", "/api/v1/entitlements/watch?subject=c2&heartbeatInterval=0.2", auth()
    )
    try:
        snapshot = stream.message()
        assert snapshot.json()["snapshotComplete"]
        previous = first = as_of(snapshot)
        om.events.ingest([event(1, "c1", n=5)])  # another subject's usage: no event for c2, a later position
        beats: list[Event] = []
        for _ in range(200):  # at most 40 s of heartbeats
            beat = stream.next()
            assert beat is not None and beat.event == "heartbeat", beat
            assert beat.json()["position"] == beat.id and set(beat.json()) == {"position", "currentAsOf"}
            assert as_of(beat) >= previous  # never backwards
            previous = as_of(beat)
            beats.append(beat)
            if beat.id != snapshot.id and len(beats) >= 3:
                break
        assert beats[-1].id != snapshot.id
        assert as_of(beats[-1]) > first  # the values are current as of later instants as heartbeats go by
    finally:
        stream.close()


def test_resume_by_last_event_id(api: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = api
    path = "/api/v1/entitlements/watch?subject=c1&feature=ai_tokens"
    stream = EventStream(server.http_address or "", path, auth())
    last = stream.message().id
    stream.close()
    om.events.ingest([event(1, n=300)])
    resumed = EventStream(server.http_address or "", path, {**auth(), "Last-Event-ID": last or ""})
    try:
        hello = resumed.message().json()
        assert hello["resumed"] and not hello["updates"] and hello["snapshot"] is None
        [update] = resumed.message().json()["updates"]
        assert update["reasons"] == ["USAGE"] and update["value"]["balance"] == 700.0
    finally:
        resumed.close()
    # A position of another server run: a fresh snapshot says so.
    too_old = EventStream(server.http_address or "", path, {**auth(), "Last-Event-ID": "0123456789ab.5"})
    try:
        message = too_old.message().json()
        assert (
            message["snapshot"] == "RESUME_TOO_OLD"
            and by_feature(message)["ai_tokens"]["value"]["balance"] == 700.0
        )
    finally:
        too_old.close()
    status, headers, body = get(server, path, {**auth(), "Last-Event-ID": "not a position"})
    assert status == 400 and headers["content-type"] == "application/problem+json"
    assert json.loads(body)["invalidParameters"][0]["field"] == "Last-Event-ID"


def test_thresholds_and_selection_parameters(api: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = api
    stream = EventStream(
        server.http_address or "",
        "/api/v1/entitlements/watch?feature=ai_tokens&usageAbove=500&balanceBelow=100",
        auth(),
    )
    try:
        assert {(u["subjectKey"], u["featureKey"]) for u in stream.message().json()["updates"]} == {
            ("c1", "ai_tokens"),
            ("c2", "ai_tokens"),
        }
        om.events.ingest([event(1, "c2", n=600)])
        crossing = None
        while crossing is None:
            message = stream.message().json()
            crossing = message["crossings"][0] if message["crossings"] else None
        assert (crossing["subjectKey"], crossing["thresholdIndex"], crossing["threshold"]) == (
            "c2",
            0,
            {"usageAbove": 500.0},
        )
        assert crossing["value"]["usage"] == 600.0 and not crossing["replayed"]
    finally:
        stream.close()
    for query, field_name in [
        ("", "subject_keys"),
        ("?subject=c1&coalesceInterval=-1", "coalesce_interval"),
        ("?subject=c1&balanceBelowPercent=120", "thresholds[0].balance_below_percent"),
        ("?subject=c1&usageAbove=lots", "usageAbove"),
        ("?subjects=c1", "subjects"),
    ]:
        status, _, body = get(server, f"/api/v1/entitlements/watch{query}", auth())
        assert status == 400, query
        assert json.loads(body)["invalidParameters"][0]["field"] == field_name, (query, body)


def test_a_resume_replays_the_crossings_made_while_disconnected(api: tuple[MeterdServer, OpenMeter]) -> None:
    """A watch with thresholds keeps running on the server after its stream ends (as over gRPC): the
    EventSource's reconnection with Last-Event-ID gets the crossings made meanwhile, flagged replayed."""
    server, om = api
    path = "/api/v1/entitlements/watch?subject=c1&feature=ai_tokens&usageAbove=500"
    stream = EventStream(server.http_address or "", path, auth())
    last = stream.message().id
    stream.close()
    wait_until(lambda: server.serving.open_streams == 0, what="the closed stream released")
    (detached,) = server.services.watch.sessions()  # still computing, with nobody reading
    om.events.ingest([event(1, n=600)])
    wait_until(lambda: len(detached._crossing_log) == 1, what="the crossing made while disconnected")
    resumed = EventStream(server.http_address or "", path, {**auth(), "Last-Event-ID": last or ""})
    try:
        assert resumed.message().json()["resumed"]
        crossing = None
        while crossing is None:
            message = resumed.message().json()
            crossing = message["crossings"][0] if message["crossings"] else None
        assert (crossing["threshold"], crossing["value"]["usage"], crossing["replayed"]) == (
            {"usageAbove": 500.0},
            600.0,
            True,
        )
    finally:
        resumed.close()


def test_a_portal_token_watches_its_own_subject_only(api: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = api
    token = om.portal.create_token(subject="c1").token
    stream = EventStream(server.http_address or "", "/api/v1/portal/entitlements/watch", auth(token))
    try:
        values = by_feature(stream.message().json())
        assert set(values) == {"ai_tokens", "api_calls", "sso"}
        assert {u["subjectKey"] for u in values.values()} == {"c1"}
        assert values["sso"]["value"] == {"hasAccess": True} and values["sso"]["type"] == "boolean"
        om.events.ingest([event(1, "c2", n=10), event(2, "c1", n=40)])
        [update] = stream.message().json()["updates"]
        assert (update["subjectKey"], update["value"]["balance"]) == ("c1", 960.0)
    finally:
        stream.close()
    # In the query string (EventSource cannot send headers), and never both ways at once.
    query_token = EventStream(
        server.http_address or "", f"/api/v1/portal/entitlements/watch?access_token={token}&feature=sso"
    )
    try:
        assert query_token.status == 200 and set(by_feature(query_token.message().json())) == {"sso"}
    finally:
        query_token.close()
    status, _, body = get(server, f"/api/v1/portal/entitlements/watch?access_token={token}", auth(token))
    assert status == 400 and json.loads(body)["invalidParameters"][0]["field"] == "access_token"
    status, _, body = get(server, "/api/v1/portal/entitlements/watch?subject=c2", auth(token))
    assert status == 400 and json.loads(body)["invalidParameters"][0]["field"] == "subject"
    status, _, body = get(server, "/api/v1/entitlements/watch?subject=c1", auth(token))  # the admin route
    assert status == 403 and "GET /api/v1/portal/entitlements/watch" in json.loads(body)["detail"]
    assert get(server, "/api/v1/entitlements/watch?subject=c1&access_token=nope")[0] == 401
    assert (
        get(server, "/api/v1/portal/entitlements/watch", auth())[0] == 401
    )  # the admin key is no portal token
    assert get(server, "/api/v1/portal/entitlements/watch")[0] == 401
    # Read-only: the portal token still may not read a value or change anything.
    assert get(server, "/api/v1/subjects/c1/entitlements/ai_tokens/value", auth(token))[0] == 403


def test_a_token_limited_to_some_meters_sees_only_their_entitlements(
    api: tuple[MeterdServer, OpenMeter],
) -> None:
    server, om = api
    token = om.portal.create_token(subject="c1", allowed_meter_slugs=["calls"]).token
    stream = EventStream(server.http_address or "", "/api/v1/portal/entitlements/watch", auth(token))
    try:
        assert set(by_feature(stream.message().json())) == {"api_calls", "sso"}  # no ai_tokens: meter tokens
        om.events.ingest([event(1, "c1", n=70), event(2, "c1", kind="call")])
        [update] = stream.message().json()["updates"]  # the tokens update is cut; the calls one comes
        assert (update["featureKey"], update["value"]["balance"]) == ("api_calls", 49.0)
    finally:
        stream.close()


def test_an_invalidated_token_ends_its_stream(
    api: tuple[MeterdServer, OpenMeter], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, om = api
    monkeypatch.setattr(watch_routes, "REVALIDATE_SECONDS", 0.05)
    token = om.portal.create_token(subject="c1").token
    stream = EventStream(
        server.http_address or "", "/api/v1/portal/entitlements/watch?heartbeatInterval=0.1", auth(token)
    )
    try:
        stream.message()
        om.portal.invalidate_tokens(subject="c1")
        while (e := stream.next()) is not None and e.event != "problem":
            pass
        assert e is not None
        problem = e.json()
        assert (problem["status"], problem["detail"]) == (401, "portal token: invalidated")
        assert stream.next() is None  # the stream is over; an EventSource reconnecting gets 401 and stops
    finally:
        stream.close()


def test_an_expired_token_ends_its_stream(tmp_path: Path) -> None:
    clock = Clock(NOW)
    server = start(tmp_path, clock)
    try:
        with OpenMeter(server.address, api_key=KEY) as om:
            om.features.create({"key": "sso", "name": "SSO"})
            om.subjects.create_entitlement("c1", {"type": "boolean", "featureKey": "sso"})
            token = om.portal.create_token(subject="c1", expires_at=NOW + timedelta(minutes=5)).token
        stream = EventStream(server.http_address or "", "/api/v1/portal/entitlements/watch", auth(token))
        stream.message()
        clock.advance(minutes=5)
        while (e := stream.next()) is not None and e.event != "problem":
            pass
        assert e is not None and e.json()["detail"] == "portal token: expired"
        stream.close()
    finally:
        server.stop(0)


def test_streams_count_towards_max_streams_and_end_at_shutdown(tmp_path: Path) -> None:
    server = start(tmp_path, max_streams=1)
    stopped = False
    try:
        with OpenMeter(server.address, api_key=KEY) as om:
            om.features.create({"key": "sso", "name": "SSO"})
            om.subjects.create_entitlement("c1", {"type": "boolean", "featureKey": "sso"})
        path = "/api/v1/entitlements/watch?subject=c1"
        first = EventStream(server.http_address or "", path, auth())
        first.message()
        status, _, body = get(server, path, auth())
        assert status == 429 and "max_streams" in json.loads(body)["detail"]
        # The same cap as gRPC's ingest streams.
        with grpc.insecure_channel(server.address) as channel:
            stream_events = channel.stream_stream("/meterd.v1.EventService/StreamEvents")
            with pytest.raises(grpc.RpcError) as refused:
                list(stream_events(iter(()), metadata=(("authorization", f"Bearer {KEY}"),), timeout=10))
            assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        first.close()  # the client leaves: its slot comes back

        def reopened() -> bool:
            return get(server, path, auth(), method="HEAD")[0] == 200 and server.serving.open_streams == 0

        wait_until(reopened, what="the slot of the closed stream")
        again = EventStream(server.http_address or "", path, auth())
        again.message()
        ended = threading.Event()

        def read_to_the_end() -> None:
            while again.next() is not None:
                pass
            ended.set()

        reader = threading.Thread(target=read_to_the_end)
        reader.start()
        started = time.monotonic()
        server.stop()  # grace_seconds=10: the watch ends at once instead of holding the shutdown
        stopped = True
        reader.join(30)
        assert ended.is_set()
        assert time.monotonic() - started < server.config.grace_seconds
    finally:
        if not stopped:
            server.stop(0)


def test_cors_answers_on_the_portal_routes_only(api: tuple[MeterdServer, OpenMeter]) -> None:
    server, om = api
    token = om.portal.create_token(subject="c1").token
    preflight = {
        "Origin": ORIGIN,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization, last-event-id",
    }
    for path in ("/api/v1/portal/entitlements/watch", "/api/v1/portal/meters/tokens/query"):
        status, headers, _ = get(server, path, preflight, method="OPTIONS")
        assert status == 200, path
        assert headers["access-control-allow-origin"] == ORIGIN
        assert headers["access-control-allow-methods"] == "GET"
        assert headers["access-control-max-age"] == "600"
        assert {"authorization", "last-event-id"} <= {
            h.strip().lower() for h in headers["access-control-allow-headers"].split(",")
        }
    status, headers, _ = get(server, "/api/v1/portal/meters/tokens/query", {**auth(token), "Origin": ORIGIN})
    assert status == 200 and headers["access-control-allow-origin"] == ORIGIN
    status, headers, _ = get(server, "/api/v1/portal/meters/tokens/query", {"Origin": ORIGIN})
    assert status == 401 and headers["access-control-allow-origin"] == ORIGIN  # the page can read the problem
    # Another origin, or another method: refused, and no header lets the browser through.
    status, headers, _ = get(
        server,
        "/api/v1/portal/meters/tokens/query",
        {**preflight, "Origin": "https://evil.example"},
        method="OPTIONS",
    )
    assert status == 400 and "access-control-allow-origin" not in headers
    status, headers, _ = get(
        server,
        "/api/v1/portal/meters/tokens/query",
        {**preflight, "Access-Control-Request-Method": "DELETE"},
        method="OPTIONS",
    )
    assert status == 400
    status, headers, _ = get(
        server, "/api/v1/portal/meters/tokens/query", {**auth(token), "Origin": "https://evil.example"}
    )
    assert status == 200 and "access-control-allow-origin" not in headers
    # The admin routes: no CORS at all.
    status, headers, _ = get(server, "/api/v1/entitlements/watch", preflight, method="OPTIONS")
    assert status == 405 and "access-control-allow-origin" not in headers
    status, headers, _ = get(server, "/api/v1/meters", {**auth(), "Origin": ORIGIN})
    assert status == 200 and "access-control-allow-origin" not in headers


def test_cors_on_the_admin_routes_when_configured(tmp_path: Path) -> None:
    server = start(
        tmp_path,
        cors_allowed_origins=["*"],
        cors_admin_routes=True,
        cors_max_age_seconds=60,
        cors_allowed_methods=["GET", "POST"],
    )
    try:
        status, headers, _ = get(
            server,
            "/api/v1/features",
            {
                "Origin": "https://console.internal",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
            method="OPTIONS",
        )
        assert status == 200 and headers["access-control-allow-origin"] == "*"
        assert (headers["access-control-allow-methods"], headers["access-control-max-age"]) == (
            "GET, POST",
            "60",
        )
        status, headers, _ = get(server, "/api/v1/meters", {**auth(), "Origin": "https://console.internal"})
        assert status == 200 and headers["access-control-allow-origin"] == "*"
    finally:
        server.stop(0)


def test_cors_settings_from_the_environment_and_their_checks(tmp_path: Path) -> None:
    config = load(
        None,
        env={
            "METERD_HTTP_CORS_ALLOWED_ORIGINS": "https://a.example, http://localhost:3000",
            "METERD_HTTP_CORS_ALLOWED_METHODS": "get,post",
            "METERD_HTTP_CORS_MAX_AGE_SECONDS": "5",
        },
    )
    assert config.cors_allowed_origins == ["https://a.example", "http://localhost:3000"]
    assert (config.cors_allowed_methods, config.cors_max_age_seconds) == (["GET", "POST"], 5)
    path = tmp_path / "meterd.yaml"
    path.write_text(
        "http:\n  cors:\n    allowed_origins: [https://a.example/app]\n    max_age_seconds: -1\n"
        "    allowed_methods: [FETCH]\n  dashboard_dir: /nowhere/at/all\n"
    )
    with pytest.raises(ConfigError) as refused:
        load(path, env={})
    text = "\n".join(refused.value.lines)
    for setting in (
        "http.cors.allowed_origins",
        "http.cors.max_age_seconds",
        "http.cors.allowed_methods",
        "http.dashboard_dir",
    ):
        assert setting in text, text
    assert "https://a.example/app" not in text


def test_the_dashboard_directory_is_served(tmp_path: Path) -> None:
    server = start(tmp_path, dashboard_dir=str(ROOT / "examples" / "dashboard"))
    try:
        status, headers, body = get(server, "/dashboard/")
        assert (
            status == 200 and headers["content-type"].startswith("text/html") and b"Usage dashboard" in body
        )
        status, headers, body = get(server, "/dashboard/dashboard.js")
        assert status == 200 and b"EventSource" in body
        assert get(server, "/dashboard")[0] == 200  # redirected to /dashboard/
        status, headers, _ = get(server, "/dashboard/../../pyproject.toml")
        assert status == 404 and headers["content-type"] == "application/problem+json"
        assert get(server, "/dashboard/%2e%2e/%2e%2e/pyproject.toml")[0] == 404
    finally:
        server.stop(0)
    (tmp_path / "off").mkdir()
    off = start(tmp_path / "off")
    try:
        assert get(off, "/dashboard/")[0] == 404
    finally:
        off.stop(0)
