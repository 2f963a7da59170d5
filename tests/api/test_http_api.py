"""The HTTP API's own behaviour against a live server: authentication as gRPC's, problem+json statuses, body
and connection limits, exact event numbers, measureUsageFrom's presets, and what the gRPC API gained with it
(GetEntitlement by id without a subject, the preset)."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import pytest
from support import Clock

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.http import server as http_server
from meterd.v1 import entitlements_pb2, entitlements_pb2_grpc

KEY = "http-admin-key"
NOW = datetime(2024, 3, 10, 15, 42, 31, tzinfo=UTC)


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[MeterdServer, Clock]]:
    clock = Clock(NOW)
    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        admin_key=KEY,
        max_message_bytes=64 * 1024,
        grace_seconds=2.0,
        log_format="text",
        meters=[
            {"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.n"},
            {"slug": "other", "eventType": "other", "aggregation": "COUNT"},
        ],
    )
    server = MeterdServer(config, clock=clock).start()
    yield server, clock
    server.stop(0)


def call(
    server: MeterdServer,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = KEY,
    content_type: str = "application/json",
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], Any]:
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    headers = {"Content-Type": content_type} if data is not None else {}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"http://{server.http_address}{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, dict(response.headers), json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.loads(error.read())


def test_authentication_follows_the_grpc_rules(api: tuple[MeterdServer, Clock]) -> None:
    server, _ = api
    status, headers, problem = call(server, "GET", "/api/v1/meters", token=None)
    assert (status, headers["content-type"], problem["title"]) == (
        401,
        "application/problem+json",
        "Unauthorized",
    )
    assert "missing admin key" in problem["detail"]
    assert call(server, "GET", "/api/v1/meters", token="wrong")[0] == 401
    status, _, token = call(
        server, "POST", "/api/v1/portal/tokens", {"subject": "c1", "allowedMeterSlugs": ["tokens"]}
    )
    assert status == 200 and token["allowedMeterSlugs"] == ["tokens"]
    portal = token["token"]
    status, _, problem = call(server, "GET", "/api/v1/meters", token=portal)
    assert status == 403 and "/api/v1/portal/meters/{meterSlug}/query" in problem["detail"]
    assert call(server, "GET", "/api/v1/portal/meters/tokens/query", token=portal)[0] == 200
    assert call(server, "GET", "/api/v1/portal/meters/other/query", token=portal)[0] == 403
    assert (
        call(server, "GET", "/api/v1/portal/meters/tokens/query", token=KEY)[0] == 401
    )  # not a portal token
    assert call(server, "GET", "/api/v1/portal/meters/tokens/query?subject=c2", token=portal)[0] == 400


def test_statuses_and_problems(api: tuple[MeterdServer, Clock]) -> None:
    server, _ = api
    status, _, problem = call(server, "GET", "/api/v1/nowhere")
    assert (status, problem["status"]) == (404, 404)
    status, headers, problem = call(server, "DELETE", "/api/v1/events")
    assert status == 405 and headers["allow"]  # (Starlette names the first route's methods for the path)
    assert call(server, "POST", "/api/v1/features", raw=b"key=x", content_type="text/plain")[0] == 415
    status, _, problem = call(server, "POST", "/api/v1/features", raw=b"{nope")
    assert status == 400 and problem["invalidParameters"][0]["field"] == "body"
    status, _, problem = call(server, "POST", "/api/v1/features", {"key": "Bad Key", "name": ""})
    assert status == 400 and {p["field"] for p in problem["invalidParameters"]} == {
        "feature.key",
        "feature.name",
    }
    assert (
        call(server, "POST", "/api/v1/features", {"key": "f", "name": "F", "meterSlug": "tokens"})[0] == 201
    )
    assert call(server, "POST", "/api/v1/features", {"key": "f", "name": "F"})[0] == 409
    status, _, problem = call(
        server,
        "POST",
        "/api/v1/events",
        raw=b"[" + b"{}," * 40_000 + b"{}]",
        content_type="application/cloudevents-batch+json",
    )
    assert status == 413 and "max_message_bytes" in problem["detail"]
    events = [
        {"specversion": "1.0", "id": f"e{i}", "source": "s", "type": "prompt", "subject": "c"}
        for i in range(10_001)
    ]
    status, _, problem = call(
        server,
        "POST",
        "/api/v1/events",
        raw=json.dumps(events, separators=(",", ":")).encode()[:60_000],
        content_type="application/cloudevents-batch+json",
    )
    assert status == 400  # cut short: no longer JSON


def test_event_numbers_keep_their_text_and_batches_are_all_or_nothing(
    api: tuple[MeterdServer, Clock],
) -> None:
    server, _ = api
    big = '{"n": 0.1000000000000000055511151231257827, "big": 123456789012345678901234567890, "m": 1.50}'
    raw = (
        '[{"specversion":"1.0","id":"x1","source":"s","type":"prompt","subject":"c","time":"2024-03-10T15:00:00Z",'
        f'"data":{big}}}]'
    ).encode()
    assert (
        call(server, "POST", "/api/v1/events", raw=raw, content_type="application/cloudevents-batch+json")[0]
        == 204
    )
    with OpenMeter(server.address, api_key=KEY) as om:
        [stored] = om.events.list()
        assert json.loads(stored.event.data, parse_float=str, parse_int=str) == {
            "n": "0.1000000000000000055511151231257827",
            "big": "123456789012345678901234567890",
            "m": "1.50",
        }
    bad = [
        {"specversion": "1.0", "id": "ok", "source": "s", "type": "prompt", "subject": "c", "data": {"n": 1}},
        {"specversion": "2.0", "id": "bad", "source": "s", "type": "prompt", "subject": "c", "ext": 1},
    ]
    status, _, problem = call(
        server, "POST", "/api/v1/events", bad, content_type="application/cloudevents-batch+json"
    )
    assert status == 400 and {p["field"] for p in problem["invalidParameters"]} == {"events[1].ext"}
    single = {k: v for k, v in bad[1].items() if k != "ext"}
    status, _, problem = call(
        server, "POST", "/api/v1/events", single, content_type="application/cloudevents+json"
    )
    assert status == 400 and problem["invalidParameters"][0]["field"] == "events[0].specversion"
    assert [e["event"]["id"] for e in call(server, "GET", "/api/v1/events")[2]] == [
        "x1"
    ]  # nothing else stored


def test_measure_usage_from_presets_over_http_and_grpc(api: tuple[MeterdServer, Clock]) -> None:
    server, _ = api
    call(server, "POST", "/api/v1/features", {"key": "f", "name": "F", "meterSlug": "tokens"})
    base = {
        "type": "metered",
        "featureKey": "f",
        "usagePeriod": {"interval": "MONTH", "anchor": "2024-01-31T00:00:00Z"},
    }
    status, _, created = call(server, "POST", "/api/v1/subjects/a/entitlements", base)
    assert status == 201 and created["measureUsageFrom"] == "2024-03-10T15:42:00Z"
    assert created["currentUsagePeriod"] == {"from": "2024-03-10T15:42:00Z", "to": "2024-03-31T00:00:00Z"}
    status, _, created = call(
        server, "POST", "/api/v1/subjects/b/entitlements", base | {"measureUsageFrom": "CURRENT_PERIOD_START"}
    )
    assert status == 201 and created["measureUsageFrom"] == "2024-02-29T00:00:00Z"
    status, _, created = call(
        server, "POST", "/api/v1/subjects/c/entitlements", base | {"measureUsageFrom": "NOW"}
    )
    assert created["measureUsageFrom"] == "2024-03-10T15:42:00Z"
    by_id = created["id"]
    with grpc.insecure_channel(server.address) as channel:
        stub = entitlements_pb2_grpc.EntitlementServiceStub(channel)
        auth = [("authorization", f"Bearer {KEY}")]
        request = entitlements_pb2.CreateEntitlementRequest(
            subject_key="d",
            entitlement=entitlements_pb2.Entitlement(
                feature_key="f",
                metered=entitlements_pb2.MeteredEntitlement(
                    usage_period={"interval": "PERIOD_INTERVAL_MONTH", "anchor": {"seconds": 1706659200}},
                    measure_usage_from_preset=entitlements_pb2.MEASURE_USAGE_FROM_PRESET_CURRENT_PERIOD_START,
                ),
            ),
        )
        made = stub.CreateEntitlement(request, metadata=auth).entitlement
        assert made.metered.measure_usage_from.ToDatetime(tzinfo=UTC) == datetime(2024, 2, 29, tzinfo=UTC)
        # GetEntitlement without a subject: any subject's entitlement by its id (GET /api/v1/entitlements/{id}).
        got = stub.GetEntitlement(
            entitlements_pb2.GetEntitlementRequest(entitlement=by_id), metadata=auth
        ).entitlement
        assert got.subject_key == "c"
        assert call(server, "GET", f"/api/v1/entitlements/{by_id}")[2]["subjectKey"] == "c"
        assert call(server, "DELETE", f"/api/v1/subjects/c/entitlements/{by_id}")[0] == 204
        with pytest.raises(grpc.RpcError) as error:
            stub.GetEntitlement(entitlements_pb2.GetEntitlementRequest(entitlement=by_id), metadata=auth)
        assert error.value.code() == grpc.StatusCode.NOT_FOUND
        assert call(server, "GET", f"/api/v1/entitlements/{by_id}")[0] == 404


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    """Whether the server closes ``sock`` within ``seconds`` (reads until EOF; anything it sends is skipped)."""
    sock.settimeout(seconds)
    deadline = time.monotonic() + seconds
    try:
        while time.monotonic() < deadline:
            if not sock.recv(4096):
                return True
    except TimeoutError:
        return False
    return False


def test_idle_and_slow_connections_are_closed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_server, "IDLE_TIMEOUT_SECONDS", 0.5)
    server = MeterdServer(
        Config(listen="127.0.0.1:0", http_listen="127.0.0.1:0", db=str(tmp_path / "m.db"), log_format="text")
    ).start()
    try:
        assert server.http_address is not None
        host, port = server.http_address.rsplit(":", 1)
        with socket.create_connection((host, int(port))) as idle:  # sends nothing at all
            assert _closed_within(idle, 20)
        with socket.create_connection((host, int(port))) as slow:  # a header that never ends (slowloris)
            slow.sendall(b"GET /api/v1/meters HTTP/1.1\r\nHost: x\r\nX-Slow: a")
            assert _closed_within(slow, 20)
        with socket.create_connection((host, int(port))) as kept:  # answered, then idle on keep-alive
            kept.sendall(b"GET /api/v1/meters HTTP/1.1\r\nHost: x\r\n\r\n")
            assert _closed_within(kept, 20)
        status, _, _ = call(server, "GET", "/api/v1/meters", token=None)
        assert status == 200  # still serving
    finally:
        server.stop(0)
