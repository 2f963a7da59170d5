"""`/api/v1/notification/...` on the HTTP front, in OpenMeter's shapes: through plain HTTP requests, and through
the notification client of OpenMeter's own @openmeter/sdk@1.0.0-beta.185 (tests/sdk), against a live meterd
whose rule delivers to a loopback receiver."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from notify_support import Receiver, settle, verify
from support import Clock, wait_until

from meterd.server.app import MeterdServer
from meterd.server.config import Config

KEY = "notify-admin-key"
NOW = datetime(2025, 3, 10, 12, 0, 30, tzinfo=UTC)
SDK_DIR = Path(__file__).resolve().parents[1] / "sdk"


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[MeterdServer, Clock]]:
    clock = Clock(NOW)
    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        admin_key=KEY,
        grace_seconds=2.0,
        log_format="text",
        notifications_allow_private_targets=True,
        meters=[
            {"slug": "tokens_total", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}
        ],
    )
    server = MeterdServer(config, clock=clock).start()
    server.services.notifying.evaluator.interval = 0.0
    yield server, clock
    server.stop(0)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def call(server: MeterdServer, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {KEY}", **({"Content-Type": "application/json"} if data else {})}
    request = urllib.request.Request(
        f"http://{server.http_address}{path}", data=data, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def entitled(server: MeterdServer) -> None:
    assert (
        call(
            server,
            "POST",
            "/api/v1/features",
            {"key": "ai_tokens", "name": "AI", "meterSlug": "tokens_total"},
        )[0]
        == 201
    )
    status, _ = call(
        server,
        "POST",
        "/api/v1/subjects/customer-1/entitlements",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "DAY"},
            "issueAfterReset": 100,
        },
    )
    assert status == 201


def usage(server: MeterdServer, tokens: float, at: datetime) -> None:
    event = {
        "specversion": "1.0",
        "id": f"u-{tokens}-{at.timestamp()}",
        "source": "t",
        "type": "prompt",
        "subject": "customer-1",
        "time": at.isoformat(),
        "data": {"tokens": tokens},
    }
    assert call(server, "POST", "/api/v1/events", event)[0] == 204


def test_routes_answer_in_openmeters_shapes(api: tuple[MeterdServer, Clock], receiver: Receiver) -> None:
    server, clock = api
    entitled(server)
    status, channel = call(
        server,
        "POST",
        "/api/v1/notification/channels",
        {"type": "WEBHOOK", "name": "billing", "url": receiver.url, "customHeaders": {"X-Tenant": "acme"}},
    )
    assert status == 201 and channel["type"] == "WEBHOOK" and channel["signingSecret"].startswith("whsec_")
    assert channel["createdAt"] == "2025-03-10T12:00:30Z" and channel["disabled"] is False
    secret = channel["signingSecret"]
    status, got = call(server, "GET", f"/api/v1/notification/channels/{channel['id']}")
    assert status == 200 and got["signingSecret"] == secret and got["customHeaders"] == {"X-Tenant": "acme"}
    status, listed = call(server, "GET", "/api/v1/notification/channels")
    assert status == 200 and listed["totalCount"] == 1 and (listed["page"], listed["pageSize"]) == (1, 100)
    assert "signingSecret" not in listed["items"][0]
    status, updated = call(
        server,
        "PUT",
        f"/api/v1/notification/channels/{channel['id']}",
        {"type": "WEBHOOK", "name": "billing 2", "url": receiver.url, "customHeaders": {"X-Tenant": "acme"}},
    )
    assert status == 200 and updated["name"] == "billing 2" and "signingSecret" not in updated
    status, rule = call(
        server,
        "POST",
        "/api/v1/notification/rules",
        {
            "type": "entitlements.balance.threshold",
            "name": "80%",
            "channels": [channel["id"]],
            "thresholds": [{"value": 80, "type": "PERCENT"}, {"value": 10, "type": "NUMBER"}],
            "features": ["ai_tokens"],
        },
    )
    assert status == 201, rule
    assert rule["channels"] == [{"id": channel["id"], "type": "WEBHOOK"}]
    assert rule["features"][0]["key"] == "ai_tokens" and rule["thresholds"][0] == {
        "value": 80.0,
        "type": "PERCENT",
    }
    usage(server, 85, NOW.replace(second=0))
    settle(server)
    status, events = call(server, "GET", "/api/v1/notification/events?subject=customer-1&feature=ai_tokens")
    assert status == 200 and events["totalCount"] == 2
    by_threshold = {e["payload"]["data"]["threshold"]["type"]: e for e in events["items"]}
    e = by_threshold["PERCENT"]
    assert e["type"] == "entitlements.balance.threshold" and e["rule"]["id"] == rule["id"]
    assert e["payload"]["id"] == e["id"] and e["payload"]["data"]["value"] == {
        "hasAccess": True,
        "balance": 15,
        "usage": 85,
        "overage": 0,
    }
    assert e["payload"]["data"]["entitlement"]["subjectKey"] == "customer-1"
    assert e["annotations"]["event.feature.key"] == "ai_tokens"
    got = receiver.wait_count(2)
    assert {r.webhook_id for r in got} == {x["id"] for x in events["items"]}
    assert all(verify(secret, r)["type"] == "entitlements.balance.threshold" for r in got)
    assert all(r.headers["x-tenant"] == "acme" for r in got)
    wait_until(
        lambda: (
            call(server, "GET", f"/api/v1/notification/events/{e['id']}")[1]["deliveryStatus"][0]["state"]
            == "SUCCESS"
        ),
        30,
        "SUCCESS",
    )
    status, one = call(server, "GET", f"/api/v1/notification/events/{e['id']}")
    (delivery,) = one["deliveryStatus"]
    assert delivery["channel"]["id"] == channel["id"] and delivery["attempts"][0]["statusCode"] == 200
    assert "nextAttemptAt" not in delivery and "reason" not in delivery
    clock.advance(minutes=5)
    status, test = call(server, "POST", f"/api/v1/notification/rules/{rule['id']}/test")
    assert status == 201 and test["annotations"] == {"notification.rule.test": "true"}
    assert test["payload"]["data"]["threshold"] == {"value": 50, "type": "PERCENT"}
    later = (NOW + timedelta(minutes=1)).isoformat().replace("+00:00", "Z")
    status, recent = call(server, "GET", f"/api/v1/notification/events?from={later}")
    assert status == 200 and [x["id"] for x in recent["items"]] == [test["id"]]
    status, page = call(
        server, "GET", "/api/v1/notification/events?page=2&pageSize=2&order=DESC&orderBy=createdAt"
    )
    assert status == 200 and page["totalCount"] == 3 and len(page["items"]) == 1
    status, filtered = call(
        server, "GET", f"/api/v1/notification/rules?feature=ai_tokens&channel={channel['id']}"
    )
    assert status == 200 and [r["id"] for r in filtered["items"]] == [rule["id"]]
    assert call(server, "GET", "/api/v1/notification/rules?feature=other")[1]["totalCount"] == 0


def test_refusals_are_problems_naming_the_field(api: tuple[MeterdServer, Clock], receiver: Receiver) -> None:
    server, _ = api
    status, problem = call(
        server,
        "POST",
        "/api/v1/notification/channels",
        {"type": "WEBHOOK", "name": "x", "url": "https://u:p@example.com/"},
    )
    assert status == 400 and problem["invalidParameters"][0]["field"] == "url"
    status, problem = call(
        server, "POST", "/api/v1/notification/channels", {"type": "SMS", "name": "x", "url": "x"}
    )
    assert status == 400 and problem["invalidParameters"][0]["field"] == "type"
    status, problem = call(
        server,
        "POST",
        "/api/v1/notification/channels",
        {"type": "WEBHOOK", "name": "x", "url": receiver.url, "colour": "red"},
    )
    assert status == 400 and problem["invalidParameters"][0]["field"] == "colour"
    status, problem = call(
        server,
        "POST",
        "/api/v1/notification/rules",
        {
            "type": "entitlements.balance.threshold",
            "name": "r",
            "channels": ["nope"],
            "thresholds": [{"value": -1, "type": "NUMBER"}, {"value": 5, "type": "RATIO"}],
        },
    )
    assert status == 400 and problem["invalidParameters"][0]["field"] == "thresholds[1].type"
    status, problem = call(
        server,
        "POST",
        "/api/v1/notification/rules",
        {
            "type": "entitlements.balance.threshold",
            "name": "r",
            "channels": ["nope"],
            "thresholds": [{"value": -1, "type": "NUMBER"}],
        },
    )
    assert status == 400 and {p["field"] for p in problem["invalidParameters"]} == {"thresholds[0].value"}
    for path in (
        "/api/v1/notification/channels/nope",
        "/api/v1/notification/rules/nope",
        "/api/v1/notification/events/nope",
    ):
        status, problem = call(server, "GET", path)
        assert status == 404 and problem["status"] == 404
    assert call(server, "GET", "/api/v1/notification/events?orderBy=type")[0] == 400
    assert call(server, "GET", "/api/v1/notification/events?from=yesterday")[0] == 400


def test_openmeters_sdk_notification_client(api: tuple[MeterdServer, Clock], receiver: Receiver) -> None:
    node = shutil.which("node")
    if node is None or not (SDK_DIR / "node_modules" / "openmeter-sdk-beta185").is_dir():
        pytest.skip("node or tests/sdk/node_modules is missing (make setup installs them)")
    server, _ = api
    entitled(server)

    def run(phase: str) -> dict[str, Any]:
        done = subprocess.run(
            [node, "notifications_beta185.mjs", f"http://{server.http_address}", KEY, phase, receiver.url],
            cwd=SDK_DIR,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    a = run("a")
    channel, rule = a["channels.create"]["value"], a["rules.create"]["value"]
    assert a["channels.create"]["ok"] and channel["signingSecret"].startswith("whsec_")
    assert a["rules.create"]["ok"] and rule["thresholds"] == [{"value": 90, "type": "PERCENT"}]
    assert a["channels.create(bad url)"]["status"] == 400
    usage(server, 95, NOW.replace(second=0))
    settle(server)
    (request,) = receiver.wait_count(1)
    assert request.headers["user-agent"] == "OpenMeter"  # the SDK example's custom header
    body = verify(channel["signingSecret"], request)
    b = run("b")
    events = b["events.list"]["value"]
    assert events["totalCount"] == 1 and events["items"][0]["id"] == body["id"]
    assert b["events.get"]["value"]["payload"] == body
    assert b["events.list(filtered)"]["value"]["totalCount"] == 1
    assert [c["id"] for c in b["channels.list"]["value"]["items"]] == [channel["id"]]
    assert b["channels.get"]["value"]["signingSecret"] == channel["signingSecret"]
    assert [r["id"] for r in b["rules.list"]["value"]["items"]] == [rule["id"]]
    assert b["rules.get"]["value"]["name"] == "My rule"
    assert b["rules.delete"]["ok"] and b["rules.get(deleted)"]["value"]["totalCount"] == 0
    assert b["channels.delete"]["ok"]
    assert b["events.get(unknown)"]["status"] == 404
