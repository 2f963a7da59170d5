"""Numbers that stay right when definitions change (issue 11 § 7): a redefined meter (deleted and created again
with the same slug, or a changed config definition) invalidates every balance snapshot built on it; a meter
that a feature uses cannot be deleted; the issue-after-reset grant never expires."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support import Clock

from meterd.client import FailedPreconditionError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

START = datetime(2024, 1, 1, tzinfo=UTC)
METER = {"slug": "tokens_total", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}


def wait_for(condition: Callable[[], bool], deadline_s: float = 10.0) -> None:
    """Snapshots are written after the answer: wait for the writer thread, with a deadline."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("condition not met in time")
        time.sleep(0.01)


def setup_entitlement(om: OpenMeter, clock: Clock) -> str:
    clock.set(START)
    om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    e = om.subjects.create_entitlement(
        "c1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "MONTH"},
            "measureUsageFrom": START,
        },
    )
    om.subjects.create_entitlement_grant(
        "c1",
        "ai_tokens",
        {"amount": 100, "effectiveAt": START, "expiration": {"duration": "YEAR", "count": 1}},
    )
    om.events.ingest(
        {
            "id": "e1",
            "source": "s",
            "type": "tokens",
            "subject": "c1",
            "time": START + timedelta(days=1),
            "data": {"tokens": 10, "other": 1},
        }
    )
    clock.set(START + timedelta(days=3))
    assert om.subjects.get_entitlement_value("c1", "ai_tokens").balance == 90
    return e.id


def test_a_meter_a_feature_uses_cannot_be_deleted(clocked_om: OpenMeter, clock: Clock) -> None:
    clocked_om.meters.create(METER)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI", "meterSlug": "tokens_total"})
    clocked_om.features.create({"key": "ai_more", "name": "AI more", "meterSlug": "tokens_total"})
    with pytest.raises(FailedPreconditionError) as exc:
        clocked_om.meters.delete("tokens_total")
    assert "ai_tokens" in exc.value.message and "ai_more" in exc.value.message
    assert clocked_om.meters.get("tokens_total").slug == "tokens_total"
    clocked_om.features.delete("ai_tokens")
    clocked_om.features.delete("ai_more")
    clocked_om.meters.delete("tokens_total")


def test_delete_and_create_again_invalidates_snapshots(
    clocked_om: OpenMeter, clock: Clock, clocked_server: MeterdServer
) -> None:
    clocked_om.meters.create(METER)
    entitlement_id = setup_entitlement(clocked_om, clock)
    snapshots = clocked_server.stores.snapshots
    wait_for(lambda: snapshots.count(entitlement_id) > 0)

    clocked_om.features.delete(
        "ai_tokens"
    )  # archived: its entitlement stays and still reads the meter's slug
    clocked_om.meters.delete("tokens_total")
    clocked_om.meters.create({**METER, "valueProperty": "$.other"})
    value = clocked_om.subjects.get_entitlement_value("c1", "ai_tokens")
    assert (value.balance, value.usage) == (99, 1)  # the old snapshot (usage 10) is not read


def test_a_changed_config_definition_invalidates_snapshots(tmp_path: Path) -> None:
    clock = Clock()
    config = Config(listen="127.0.0.1:0", db=str(tmp_path / "meterd.db"), log_format="text", meters=[METER])
    server = MeterdServer(config, clock=clock).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            entitlement_id = setup_entitlement(om, clock)
            snapshots = server.stores.snapshots
            wait_for(lambda: snapshots.count(entitlement_id) > 0)
    finally:
        server.stop(0)
    config.meters = [{**METER, "valueProperty": "$.other"}]
    server = MeterdServer(config, clock=clock).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            value = om.subjects.get_entitlement_value("c1", "ai_tokens")
            assert (value.balance, value.usage) == (99, 1)
    finally:
        server.stop(0)


@pytest.mark.parametrize("measure_from", [datetime(1971, 3, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)])
def test_the_issue_after_reset_grant_never_expires(
    clocked_om: OpenMeter, clock: Clock, measure_from: datetime
) -> None:
    clock.set(START)
    clocked_om.meters.create(METER)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    clocked_om.subjects.create_entitlement(
        "c1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "YEAR"},
            "issueAfterReset": 50,
            "measureUsageFrom": measure_from,
        },
    )
    # A century after measure_usage_from (and after the period start it is effective at), it still grants.
    for later in (START, datetime(2072, 6, 1, tzinfo=UTC), datetime(2125, 6, 1, tzinfo=UTC)):
        clock.set(later)
        value = clocked_om.subjects.get_entitlement_value("c1", "ai_tokens")
        assert (value.has_access, value.balance) == (True, 50)
