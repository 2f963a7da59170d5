"""The seed-era README's calls through OpenMeter's Python SDK openmeter==1.0.0b188 against a live meterd.

Usage: python seed_b188.py BASE_URL TOKEN PHASE (a: up to the entitlement; b: usage, grants, resets, deletes).
Prints one JSON object: step name -> {ok, value} or {ok: false, status, body}. The test asserts the values.
Runs in the SDK's own venv (tests/sdk/.venv): it imports nothing of meterd.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import HttpResponseError
from openmeter import Client

base_url, token, phase = sys.argv[1:4]
# b188 has no auth option: the header goes with every call.
client = Client(endpoint=base_url, headers={"Authorization": f"Bearer {token}"})
results: dict[str, Any] = {}


def step(name: str, call: Callable[[], Any]) -> None:
    try:
        results[name] = {"ok": True, "value": call()}
    except HttpResponseError as exc:
        response = exc.response
        body: Any = None
        if response is not None:
            try:
                body = response.json()
            except Exception:
                body = response.text()
        results[name] = {
            "ok": False,
            "status": exc.status_code,
            "contentType": response.headers.get("content-type") if response else None,
            "body": body,
        }


def at(name: str) -> datetime:
    return datetime.fromisoformat(os.environ[name].replace("Z", "+00:00"))


if phase == "a":
    hour = at("SEED_HOUR")
    step(
        "ingest_events",
        lambda: client.ingest_events(
            {
                "specversion": "1.0",
                "id": "id-1",
                "source": "my-app",
                "type": "my-type",
                "subject": "my-awesome-user-id",
                "time": datetime.now().astimezone().isoformat(),
                "data": {"api_calls": 1},
            }
        ),
    )
    step(
        "ingest_events(batch)",
        lambda: client.ingest_events(
            [
                {
                    "specversion": "1.0",
                    "id": "seed-2",
                    "source": "my-app",
                    "type": "prompt",
                    "subject": "customer-1",
                    "time": hour.isoformat(),
                    "data": {"tokens": 1200, "model": "gpt-4o"},
                },
                {
                    "specversion": "1.0",
                    "id": "seed-3",
                    "source": "my-app",
                    "type": "prompt",
                    "subject": "customer-1",
                    "time": hour.isoformat(),
                    "data": {"tokens": 300, "model": "llama"},
                },
            ]
        ),
    )
    step("list_events", lambda: client.list_events())
    step("list_meters", lambda: client.list_meters())
    step("get_meter(m1)", lambda: client.get_meter("m1"))
    step("get_meter", lambda: client.get_meter("tokens_total"))
    step(
        "query_meter",
        lambda: client.query_meter(
            "tokens_total",
            subject=["customer-1"],
            group_by=["model"],
            from_parameter=hour,
            to=hour + timedelta(hours=1),
            window_size="HOUR",
        ),
    )
    step(
        "query_meter(DAY)",
        lambda: client.query_meter("tokens_total", window_size="DAY", window_time_zone="Europe/Budapest"),
    )
    step("list_meter_subjects", lambda: client.list_meter_subjects("tokens_total"))
    step("create_portal_token", lambda: client.create_portal_token({"subject": "customer-1"}))
    step(
        "create_portal_token(allowed)",
        lambda: client.create_portal_token({"subject": "customer-1", "allowedMeterSlugs": ["tokens_total"]}),
    )
    portal = results["create_portal_token(allowed)"].get("value") or {}
    customer = Client(endpoint=base_url, headers={"Authorization": f"Bearer {portal.get('token')}"})
    step("query_portal_meter", lambda: customer.query_portal_meter("tokens_total", window_size="DAY"))
    step("portal token on an admin route", lambda: customer.list_meters())
    step(
        "invalidate_portal_tokens(subject)",
        lambda: client.invalidate_portal_tokens({"subject": "customer-1"}),
    )
    step("query_portal_meter(invalidated)", lambda: customer.query_portal_meter("tokens_total"))
    step("invalidate_portal_tokens", lambda: client.invalidate_portal_tokens({}))
    step("upsert_subject", lambda: client.upsert_subject([{"key": "customer-1", "displayName": "ACME"}]))
    step("list_subjects", lambda: client.list_subjects())
    step("get_subject", lambda: client.get_subject("customer-1"))
    step(
        "create_feature",
        lambda: client.create_feature({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"}),
    )
    step("list_features", lambda: client.list_features())
    step("get_feature", lambda: client.get_feature("ai_tokens"))
    step(
        "create_entitlement",
        lambda: client.create_entitlement(
            "customer-1",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "MONTH"},
                "issueAfterReset": 10000000,
            },
        ),
    )
    step(
        "create_entitlement(again)",
        lambda: client.create_entitlement(
            "customer-1",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "MONTH"},
                "issueAfterReset": 10000000,
            },
        ),
    )
else:
    step(
        "ingest_events(usage)",
        lambda: client.ingest_events(
            {
                "specversion": "1.0",
                "id": "usage-1",
                "source": "my-app",
                "type": "prompt",
                "subject": "customer-1",
                "time": at("USAGE_TIME").isoformat(),
                "data": {"tokens": 2500, "model": "gpt-4o"},
            }
        ),
    )
    step("list_subject_entitlements", lambda: client.list_subject_entitlements("customer-1"))
    step("get_entitlement", lambda: client.get_entitlement("customer-1", "ai_tokens"))
    step("get_entitlement_value", lambda: client.get_entitlement_value("customer-1", "ai_tokens"))
    step(
        "get_entitlement_value(time)",
        lambda: client.get_entitlement_value("customer-1", "ai_tokens", time=at("BEFORE_USAGE")),
    )
    step(
        "get_entitlement_history",
        lambda: client.get_entitlement_history("customer-1", "ai_tokens", window_size="DAY"),
    )
    step(
        "create_grant(README)",
        lambda: client.create_grant(
            "customer-1",
            "ai_tokens",
            {
                "amount": 100,
                "priority": 1,
                "effectiveAt": "2023-01-01T00:00:00Z",
                "expiration": {"duration": "HOUR", "count": 12},
                "minRolloverAmount": 100,
                "maxRolloverAmount": 100,
                "recurrence": {"interval": "MONTH", "anchor": "2024-06-28T18:29:44.867Z"},
            },
        ),
    )
    entitlement = results["get_entitlement"].get("value") or {}
    step(
        "create_grant",
        lambda: client.create_grant(
            "customer-1",
            "ai_tokens",
            {
                "amount": 100,
                "priority": 0,
                "effectiveAt": entitlement.get("measureUsageFrom"),
                "expiration": {"duration": "HOUR", "count": 12},
                "minRolloverAmount": 100,
                "maxRolloverAmount": 100,
                "recurrence": {"interval": "MONTH", "anchor": "2024-06-28T18:29:44.867Z"},
            },
        ),
    )
    step(
        "get_entitlement_value(after grant)", lambda: client.get_entitlement_value("customer-1", "ai_tokens")
    )
    step("list_entitlement_grants", lambda: client.list_entitlement_grants("customer-1", "ai_tokens"))
    step("list_grants", lambda: client.list_grants())
    step("list_entitlements", lambda: client.list_entitlements())
    step("get_entitlement_by_id", lambda: client.get_entitlement_by_id(entitlement.get("id")))
    step(
        "reset_entitlement_usage",
        lambda: client.reset_entitlement_usage("customer-1", entitlement.get("id"), {"retainAnchor": True}),
    )
    step(
        "get_entitlement_value(after reset)", lambda: client.get_entitlement_value("customer-1", "ai_tokens")
    )
    grant = results["create_grant"].get("value") or {}
    step("void_grant", lambda: client.void_grant(grant.get("id")))
    step(
        "override_entitlement",
        lambda: client.override_entitlement(
            "customer-1",
            "ai_tokens",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "WEEK"},
                "issueAfterReset": 2500,
            },
        ),
    )
    override = results["override_entitlement"].get("value") or {}
    step("delete_entitlement", lambda: client.delete_entitlement("customer-1", override.get("id")))
    step("delete_feature", lambda: client.delete_feature("ai_tokens"))
    step("delete_subject", lambda: client.delete_subject("customer-1"))
    step("get_subject(deleted)", lambda: client.get_subject("customer-1"))
json.dump(results, sys.stdout, default=str)
