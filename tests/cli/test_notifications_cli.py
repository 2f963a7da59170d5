"""`meterd notifications`: recent events with each channel's delivery status, and the channels and rules,
from the command line against a live server (a child process) and a loopback receiver."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from notify_support import Notifications, Receiver
from support import ServerProcess, wait_until

from meterd.client import OpenMeter


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    srv = ServerProcess(
        tmp_path / "meterd.db",
        env={"METERD_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true", "METERD_API_KEY": "admin-key"},
    )
    try:
        yield srv
    finally:
        srv.terminate()


def meterd(server: ServerProcess, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "METERD_TARGET": server.address, "METERD_API_KEY": "admin-key", "COLUMNS": "250"}
    return subprocess.run(
        [sys.executable, "-m", "meterd.server", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_recent_events_channels_and_rules(server: ServerProcess) -> None:
    ok, failing = Receiver(), Receiver()
    failing.behaviour.status = 500
    try:
        with OpenMeter(server.address, api_key="admin-key") as om:
            om.meters.create(
                {
                    "slug": "tokens_total",
                    "eventType": "tokens",
                    "aggregation": "SUM",
                    "valueProperty": "$.tokens",
                }
            )
            om.features.create({"key": "ai_tokens", "name": "AI", "meterSlug": "tokens_total"})
            om.subjects.create_entitlement(
                "customer-1",
                {
                    "type": "metered",
                    "featureKey": "ai_tokens",
                    "usagePeriod": {"interval": "DAY"},
                    "issueAfterReset": 100,
                },
            )
            n = Notifications(om.channel, (("authorization", "Bearer admin-key"),))
            good = n.channel(ok.url, name="billing")
            bad = n.channel(failing.url, name="crm")
            rule = n.rule([good.id, bad.id], [("PERCENT", 50)], name="half used")
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "e1",
                    "source": "cli",
                    "type": "tokens",
                    "subject": "customer-1",
                    "time": datetime.now(UTC),
                    "data": {"tokens": 60},
                }
            )
            wait_until(lambda: len(ok.received) == 1 and len(failing.received) == 1, 60, "both attempts")
            wait_until(
                lambda: all(len(d.attempts) == 1 for e in n.events() for d in e.delivery_status),
                60,
                "both attempts recorded",
            )
        table = meterd(server, "notifications")
        assert table.returncode == 0, table.stderr
        assert (
            "half used" in table.stdout and "customer-1" in table.stdout and "50% (PERCENT)" in table.stdout
        )
        assert (
            "SUCCESS" in table.stdout
            and "PENDING (1 attempt, next" in table.stdout
            and "HTTP 500" in table.stdout
        )
        (line,) = meterd(server, "notifications", "--format", "json", "--rule", rule.id).stdout.splitlines()
        record = json.loads(line)
        assert record["subject"] == "customer-1" and record["usage"] == 60 and record["rule"] == "half used"
        assert meterd(server, "notifications", "--format", "json", "--subject", "nobody").stdout == ""
        channels = [
            json.loads(x)
            for x in meterd(server, "notifications", "channels", "--format", "json").stdout.splitlines()
        ]
        assert {c["name"] for c in channels} == {"billing", "crm"}
        assert all("secret" not in json.dumps(c) and "whsec_" not in json.dumps(c) for c in channels)
        (r,) = [
            json.loads(x)
            for x in meterd(server, "notifications", "rules", "--format", "json").stdout.splitlines()
        ]
        assert r == {
            "id": rule.id,
            "name": "half used",
            "thresholds": "50%",
            "features": "(all)",
            "channels": 2,
            "disabled": False,
        }
        refused = subprocess.run(
            [sys.executable, "-m", "meterd.server", "notifications"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "METERD_TARGET": server.address, "METERD_API_KEY": "wrong"},
        )
        assert refused.returncode == 1 and "UNAUTHENTICATED" in refused.stderr.upper()
    finally:
        ok.close()
        failing.close()
