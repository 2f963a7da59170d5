"""OpenMeter's own SDKs, unchanged, against a live meterd's HTTP API: every call of the seed-era README through
``@openmeter/sdk@1.0.0-beta.185`` (npm) and ``openmeter==1.0.0b188`` (PyPI), and the v1 calls of the newest
``@openmeter/sdk``. The SDKs run in their own processes (tests/sdk: installed by ``make setup``); this test
starts the server, runs their scripts and asserts the values they got back.

The server's clock is the test's: phase a creates the entitlement at C0, the clock moves 10 minutes, phase b
ingests usage inside that window and checks balances, grants and resets by hand-computed numbers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import Clock

from meterd.server.app import MeterdServer
from meterd.server.config import Config

SDK_DIR = Path(__file__).resolve().parents[1] / "sdk"
NODE_MODULES = SDK_DIR / "node_modules"
SDK_PYTHON = SDK_DIR / ".venv" / "bin" / "python"
TOKEN = "om_test_token"
C0 = datetime(2025, 3, 10, 12, 0, 30, tzinfo=UTC)  # the entitlement's creation: measured from 12:00
SEED_HOUR = datetime(2025, 3, 10, 9, 0, tzinfo=UTC)
METER = {
    "slug": "tokens_total",
    "eventType": "prompt",
    "aggregation": "SUM",
    "valueProperty": "$.tokens",
    "groupBy": {"model": "$.model"},
}


def _required(what: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing: make setup installs it")
    pytest.skip(f"{what} is missing (make setup installs it)")


@pytest.fixture
def sdk_server(tmp_path: Path) -> Iterator[tuple[MeterdServer, Clock]]:
    clock = Clock(C0)
    config = Config(
        listen="127.0.0.1:0",
        http_listen="127.0.0.1:0",
        db=str(tmp_path / "meterd.db"),
        admin_key=TOKEN,
        meters=[METER],
        grace_seconds=2.0,
        log_format="text",
    )
    server = MeterdServer(config, clock=clock).start()
    yield server, clock
    server.stop(0)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        SEED_HOUR=SEED_HOUR.isoformat().replace("+00:00", "Z"),
        USAGE_TIME=(C0 + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
        BEFORE_USAGE=(C0 + timedelta(minutes=2)).isoformat().replace("+00:00", "Z"),
    )
    return env


def run_node(script: str, server: MeterdServer, phase: str) -> dict[str, Any]:
    node = shutil.which("node")
    if node is None:
        _required("node")
    if not NODE_MODULES.is_dir():
        _required("tests/sdk/node_modules")
    done = subprocess.run(
        [node, script, f"http://{server.http_address}", TOKEN, phase],
        cwd=SDK_DIR,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def run_python(server: MeterdServer, phase: str) -> dict[str, Any]:
    if not SDK_PYTHON.exists():
        _required("tests/sdk/.venv (openmeter==1.0.0b188)")
    done = subprocess.run(
        [str(SDK_PYTHON), "seed_b188.py", f"http://{server.http_address}", TOKEN, phase],
        cwd=SDK_DIR,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def ok(results: dict[str, Any], name: str) -> Any:
    result = results[name]
    assert result["ok"], f"{name}: {result}"
    return result["value"]


def refused(results: dict[str, Any], name: str, status: int) -> dict[str, Any]:
    """The problem+json body of a refused call (its status checked)."""
    result = results[name]
    if result[
        "ok"
    ]:  # b188 returns a 409 problem as create_entitlement's value (its spec lists 409 as a response)
        problem = result["value"]
        assert isinstance(problem, dict) and problem.get("status") == status == 409, f"{name}: {result}"
        return problem
    assert result["status"] == status, f"{name}: {result}"
    problem = result.get("problem") or result.get("body")
    assert problem["status"] == status and problem["title"] and problem["detail"], problem
    return problem  # type: ignore[no-any-return]


def rows_by_model(result: dict[str, Any]) -> dict[str, float]:
    return {row["groupBy"]["model"]: row["value"] for row in result["data"]}


def check_phase_a(r: dict[str, Any], names: dict[str, str]) -> None:
    """Phase a's values, under each SDK's step names (``names`` maps a common name to the SDK's)."""

    def n(key: str) -> str:
        return names.get(key, key)

    ok(r, n("ingest"))
    ok(r, n("ingest batch"))
    listed = ok(r, n("list events"))
    assert {e["event"]["id"] for e in listed} == {"id-1", "seed-2", "seed-3"}
    seed2 = next(e for e in listed if e["event"]["id"] == "seed-2")
    assert seed2["event"]["data"] == {"tokens": 1200, "model": "gpt-4o"} and "validationError" not in seed2
    id1 = next(e for e in listed if e["event"]["id"] == "id-1")
    assert "no meter reads event type my-type" in id1["validationError"]
    assert [m["slug"] for m in ok(r, n("list meters"))] == ["tokens_total"]
    assert "m1" in refused(r, n("get m1"), 404)["detail"]
    meter = ok(r, n("get meter"))
    assert (meter["aggregation"], meter["eventType"], meter["windowSize"]) == ("SUM", "prompt", "MINUTE")
    hourly = ok(r, n("query"))
    assert hourly["windowSize"] == "HOUR" and rows_by_model(hourly) == {"gpt-4o": 1200.0, "llama": 300.0}
    assert {row["subject"] for row in hourly["data"]} == {"customer-1"}
    assert hourly["data"][0]["windowStart"] == "2025-03-10T09:00:00Z"
    assert ok(r, n("subjects of meter")) == ["customer-1"]
    created = ok(r, n("create token"))
    assert created["subject"] == "customer-1" and created["token"] and created["expired"] is False
    assert ok(r, n("create token allowed"))["allowedMeterSlugs"] == ["tokens_total"]
    assert "portal" in refused(r, n("portal token on admin route"), 403)["detail"]
    refused(r, n("portal query invalidated"), 401)
    ok(r, n("invalidate all"))
    upserted = ok(r, n("upsert subjects"))
    assert [(s["key"], s["displayName"]) for s in upserted] == [("customer-1", "ACME")]
    assert [s["key"] for s in ok(r, n("list subjects"))] == ["customer-1"]
    assert ok(r, n("get subject"))["displayName"] == "ACME"
    feature = ok(r, n("create feature"))
    assert (feature["key"], feature["meterSlug"]) == ("ai_tokens", "tokens_total")
    assert ok(r, n("get feature"))["id"] == feature["id"]
    entitlement = ok(r, n("create entitlement"))
    # OpenMeter's defaults: measured from the creation minute, the anchor too; a default grant of 10,000,000.
    assert entitlement["type"] == "metered" and entitlement["subjectKey"] == "customer-1"
    assert entitlement["measureUsageFrom"] == "2025-03-10T12:00:00Z" == entitlement["lastReset"]
    assert entitlement["usagePeriod"] == {"interval": "MONTH", "anchor": "2025-03-10T12:00:00Z"}
    assert entitlement["currentUsagePeriod"] == {"from": "2025-03-10T12:00:00Z", "to": "2025-04-10T12:00:00Z"}
    assert entitlement["issueAfterReset"] == 10_000_000 and entitlement["isSoftLimit"] is False
    refused(r, n("create entitlement again"), 409)


def check_phase_b(r: dict[str, Any], names: dict[str, str]) -> None:
    def n(key: str) -> str:
        return names.get(key, key)

    ok(r, n("ingest usage"))
    entitlement = ok(r, n("get entitlement"))
    assert [e["id"] for e in ok(r, n("list subject entitlements"))] == [entitlement["id"]]
    # 2,500 tokens at 12:05 burn the default grant.
    assert ok(r, n("value")) == {"hasAccess": True, "balance": 9_997_500.0, "usage": 2500.0, "overage": 0.0}
    assert ok(r, n("value at 12:02")) == {
        "hasAccess": True,
        "balance": 10_000_000.0,
        "usage": 0.0,
        "overage": 0.0,
    }
    history = ok(r, n("history"))
    assert sum(w["usage"] for w in history["windowedHistory"]) == 2500.0
    assert history["burndownHistory"][-1]["balanceAtEnd"] == 9_997_500.0
    assert "effectiveAt" in refused(r, n("grant README"), 400)["detail"]
    grant = ok(r, n("grant"))
    assert (grant["amount"], grant["priority"], grant["expiresAt"]) == (100.0, 0, "2025-03-11T00:00:00Z")
    # Priority 0 burns first: the new grant's 100 is used up, the default grant gets 100 back.
    assert ok(r, n("value after grant"))["balance"] == 9_997_600.0
    assert {g["amount"] for g in ok(r, n("list entitlement grants"))} == {10_000_000.0, 100.0}
    after_reset = ok(r, n("value after reset"))
    # Both grants roll over to min = max = their amount; usage starts again at the reset.
    assert after_reset == {"hasAccess": True, "balance": 10_000_100.0, "usage": 0.0, "overage": 0.0}
    ok(r, n("void grant"))
    override = ok(r, n("override"))
    assert override["usagePeriod"]["interval"] == "WEEK" and override["issueAfterReset"] == 2500
    ok(r, n("delete entitlement"))
    ok(r, n("delete feature"))
    ok(r, n("delete subject"))
    refused(r, n("get deleted subject"), 404)


NODE_185 = {
    "ingest": "events.ingest",
    "ingest batch": "events.ingest(batch)",
    "list events": "events.list",
    "list meters": "meters.list",
    "get m1": "meters.get(m1)",
    "get meter": "meters.get",
    "query": "meters.query",
    "subjects of meter": "meters.subjects",
    "create token": "portal.createToken",
    "create token allowed": "portal.createToken(allowed)",
    "portal token on admin route": "portal token on an admin route",
    "invalidate all": "portal.invalidateTokens",
    "upsert subjects": "subjects.upsert",
    "list subjects": "subjects.list",
    "get subject": "subjects.get",
    "create feature": "features.create",
    "get feature": "features.get",
    "create entitlement": "subjects.createEntitlement",
    "create entitlement again": "subjects.createEntitlement(again)",
    "ingest usage": "events.ingest(usage)",
    "get entitlement": "subjects.getEntitlement",
    "list subject entitlements": "subjects.listEntitlements",
    "value": "subjects.getEntitlementValue",
    "value at 12:02": "subjects.getEntitlementValueAt",
    "history": "subjects.getEntitlementHistory(DAY)",
    "grant README": "subjects.createEntitlementGrant(README)",
    "grant": "subjects.createEntitlementGrant",
    "value after grant": "subjects.getEntitlementValue(after grant)",
    "list entitlement grants": "subjects.listEntitlementGrants",
    "value after reset": "subjects.getEntitlementValue(after reset)",
    "void grant": "grants.delete",
    "override": "subjects.overrideEntitlement",
    "delete entitlement": "subjects.deleteEntitlement",
    "delete feature": "features.delete",
    "delete subject": "subjects.delete",
    "get deleted subject": "subjects.get(deleted)",
}


def test_the_seed_readme_through_openmeter_sdk_beta185(sdk_server: tuple[MeterdServer, Clock]) -> None:
    server, clock = sdk_server
    a = run_node("seed_beta185.mjs", server, "a")
    check_phase_a(a, {**NODE_185, "portal query invalidated": "portal query after invalidate"})
    daily = ok(a, "meters.query(filterGroupBy)")
    assert daily["windowSize"] == "DAY" and [row["value"] for row in daily["data"]] == [1200.0]
    assert daily["data"][0]["windowStart"] == "2025-03-09T23:00:00Z"  # midnight in Budapest
    portal = ok(a, "portal query")
    assert portal["status"] == 200 and [(x["subject"], x["value"]) for x in portal["body"]["data"]] == [
        ("customer-1", 1500.0)
    ]
    assert "invalidated" in refused(a, "portal query after invalidate", 401)["detail"]
    assert [f["key"] for f in ok(a, "features.list")] == ["ai_tokens"]
    ok(a, "portal.invalidateTokens(subject)")
    clock.advance(minutes=10)
    b = run_node("seed_beta185.mjs", server, "b")
    check_phase_b(b, NODE_185)
    # The README's history call has no windowSize (OpenMeter requires one): meterd answers daily windows.
    assert (
        ok(b, "subjects.getEntitlementHistory")["windowedHistory"]
        == ok(b, "subjects.getEntitlementHistory(DAY)")["windowedHistory"]
    )
    # The README's reset passes its options as the entitlement id (an SDK defect): that id does not exist.
    assert "[object Object]" in refused(b, "subjects.resetEntitlementUsage(README)", 404)["detail"]
    ok(b, "subjects.resetEntitlementUsage")
    entitlement = ok(b, "subjects.getEntitlement")
    assert ok(b, "entitlements.get")["id"] == entitlement["id"]
    assert [e["id"] for e in ok(b, "entitlements.list")] == [entitlement["id"]]
    page = ok(b, "entitlements.list(page)")
    assert (page["page"], page["pageSize"], page["totalCount"], len(page["items"])) == (1, 10, 1, 1)
    assert {g["amount"] for g in ok(b, "grants.list")} == {10_000_000.0, 100.0}


B188 = {
    "ingest": "ingest_events",
    "ingest batch": "ingest_events(batch)",
    "list events": "list_events",
    "list meters": "list_meters",
    "get m1": "get_meter(m1)",
    "get meter": "get_meter",
    "query": "query_meter",
    "subjects of meter": "list_meter_subjects",
    "create token": "create_portal_token",
    "create token allowed": "create_portal_token(allowed)",
    "portal token on admin route": "portal token on an admin route",
    "portal query invalidated": "query_portal_meter(invalidated)",
    "invalidate all": "invalidate_portal_tokens",
    "upsert subjects": "upsert_subject",
    "list subjects": "list_subjects",
    "get subject": "get_subject",
    "create feature": "create_feature",
    "get feature": "get_feature",
    "create entitlement": "create_entitlement",
    "create entitlement again": "create_entitlement(again)",
    "ingest usage": "ingest_events(usage)",
    "get entitlement": "get_entitlement",
    "list subject entitlements": "list_subject_entitlements",
    "value": "get_entitlement_value",
    "value at 12:02": "get_entitlement_value(time)",
    "history": "get_entitlement_history",
    "grant README": "create_grant(README)",
    "grant": "create_grant",
    "value after grant": "get_entitlement_value(after grant)",
    "list entitlement grants": "list_entitlement_grants",
    "value after reset": "get_entitlement_value(after reset)",
    "void grant": "void_grant",
    "override": "override_entitlement",
    "delete entitlement": "delete_entitlement",
    "delete feature": "delete_feature",
    "delete subject": "delete_subject",
    "get deleted subject": "get_subject(deleted)",
}


def test_the_seed_readme_through_openmeter_python_b188(sdk_server: tuple[MeterdServer, Clock]) -> None:
    server, clock = sdk_server
    a = run_python(server, "a")
    check_phase_a(a, B188)
    portal = ok(a, "query_portal_meter")
    assert [(x["subject"], x["value"]) for x in portal["data"]] == [("customer-1", 1500.0)]
    assert ok(a, "query_meter(DAY)")["data"][0]["value"] == 1500.0
    # b188 always sends page=1&pageSize=100: OpenMeter's paginated shape.
    features = ok(a, "list_features")
    assert (features["totalCount"], [f["key"] for f in features["items"]]) == (1, ["ai_tokens"])
    clock.advance(minutes=10)
    b = run_python(server, "b")
    check_phase_b(b, B188)
    entitlement = ok(b, "get_entitlement")
    assert ok(b, "get_entitlement_by_id")["id"] == entitlement["id"]
    assert ok(b, "list_entitlements")["totalCount"] == 1
    assert ok(b, "list_grants")["totalCount"] == 2


def test_the_v1_calls_of_the_newest_openmeter_sdk(sdk_server: tuple[MeterdServer, Clock]) -> None:
    server, _ = sdk_server
    r = run_node("latest_v1.mjs", server, "-")
    ok(r, "events.ingest")  # one event, sent with the batch content type
    ok(r, "events.ingest(batch)")
    assert sorted(e["event"]["id"] for e in ok(r, "events.list")) == ["v1-1", "v1-2"]  # customer-2's only
    assert [m["slug"] for m in ok(r, "meters.list")] == ["tokens_total"] == [ok(r, "meters.get")["slug"]]
    assert r["meters.get(m1)"]["status"] == 404 and r["meters.get(m1)"]["title"] == "Not Found"
    rows = ok(r, "meters.query")["data"]
    assert sorted((x["subject"], x["groupBy"]["model"], x["value"]) for x in rows) == [
        ("customer-2", "gpt-4o", 40),
        ("customer-2", "llama", 2),
        ("customer-3", "llama", 8),
    ]
    assert ok(r, "subjects.get")["displayName"] == "Initech" and len(ok(r, "subjects.list")) == 1
    assert ok(r, "features.get")["key"] == "v1_tokens" and len(ok(r, "features.list")) == 1
    assert ok(r, "entitlementsV1.create")["measureUsageFrom"] == "2025-03-10T12:00:00.000Z"
    assert ok(r, "entitlementsV1.value") == {"hasAccess": True, "balance": 1000, "usage": 0, "overage": 0}
    assert len(ok(r, "entitlementsV1.list")) == 1
    portal = ok(r, "portal.query")["data"]
    assert [(x["subject"], x["value"]) for x in portal] == [("customer-2", 42)]
    ok(r, "portal.invalidate")
    assert r["portal.query(invalidated)"]["status"] == 401
    ok(r, "features.delete(in use)")  # archiving a feature keeps its entitlements (OpenMeter's rule)
    ok(r, "subjects.delete")
