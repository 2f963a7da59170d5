"""``om.notifications.channels|rules|events`` (the Python client, blocking and asyncio), as a user's session
mirroring OpenMeter's SDK: create, get, list, update, delete, test; results as Python values whose ``to_dict()``
is OpenMeter's JSON shape."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from entitlement_support import create_meter
from notify_support import Receiver, settle, verify
from support import Clock

from meterd.client import AsyncOpenMeter, InvalidArgumentError, NotFoundError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

START = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def server_config(server_config: Config) -> Config:
    server_config.notifications_allow_private_targets = True
    return server_config


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def test_a_session_with_om_notifications(
    clocked_om: OpenMeter, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    om = clocked_om
    clock.set(START + timedelta(seconds=30))
    create_meter(om)
    om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    om.subjects.create_entitlement(
        "customer-1",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "DAY"},
            "issueAfterReset": 100,
        },
    )
    channel = om.notifications.channels.create(
        {"type": "WEBHOOK", "name": "billing", "url": receiver.url, "customHeaders": {"X-Tenant": "acme"}}
    )
    assert channel.signing_secret.startswith("whsec_") and channel.custom_headers == {"X-Tenant": "acme"}
    assert channel.to_dict()["type"] == "WEBHOOK" and channel.to_dict()["createdAt"] == "2024-01-01T00:00:30Z"
    assert om.notifications.channels.get(channel.id).signing_secret == channel.signing_secret
    assert [c.signing_secret for c in om.notifications.channels.list()] == [None]  # lists never carry it
    rule = om.notifications.rules.create(
        {
            "type": "entitlements.balance.threshold",
            "name": "quota",
            "channels": [channel.id],
            "features": ["ai_tokens"],
            "thresholds": [{"value": 50, "type": "NUMBER"}, {"value": 90, "type": "PERCENT"}],
        }
    )
    assert rule.to_dict()["type"] == "entitlements.balance.threshold"
    assert rule.to_dict()["thresholds"] == [
        {"value": 50.0, "type": "NUMBER"},
        {"value": 90.0, "type": "PERCENT"},
    ]
    assert [f.key for f in rule.features] == ["ai_tokens"]
    assert [r.id for r in om.notifications.rules.list(feature="ai_tokens", channel=channel.id)] == [rule.id]
    om.events.ingest(
        {
            "specversion": "1.0",
            "id": "c-1",
            "source": "t",
            "type": "tokens",
            "subject": "customer-1",
            "time": START,
            "data": {"tokens": 95},
        }
    )
    settle(clocked_server)
    events = om.notifications.events.list(subject="customer-1", order="DESC")
    assert len(events) == 2 and {e.balance_threshold.threshold.value for e in events} == {50.0, 90.0}
    got = receiver.wait_count(2)
    payloads = {r.webhook_id: verify(channel.signing_secret, r) for r in got}
    as_json = events[0].to_dict()
    assert as_json["payload"] == payloads[events[0].id]  # OpenMeter's event: the payload as sent
    assert as_json["rule"]["id"] == rule.id and as_json["type"] == "entitlements.balance.threshold"
    assert {"channel", "state", "updatedAt"} <= as_json["deliveryStatus"][0].keys()
    one = om.notifications.events.get(events[0].id)
    assert one.balance_threshold.value.usage == 95 and one.balance_threshold.usage_period_start == START
    page = om.notifications.events.list_page(limit=1, **{"from": START})
    assert page.total_size == 2 and len(page.events) == 1 and page.next_page_token
    updated = om.notifications.rules.update(
        rule.id,
        {"name": "quota 2", "channels": [channel.id], "thresholds": [{"value": 10, "type": "NUMBER"}]},
    )
    assert updated.name == "quota 2" and updated.features == []
    test = om.notifications.rules.test(rule.id)
    assert test.annotations == {"notification.rule.test": "true"}
    renamed = om.notifications.channels.update(channel.id, {"name": "billing 2", "url": receiver.url})
    assert renamed.name == "billing 2" and renamed.signing_secret is None
    om.notifications.rules.delete(rule.id)
    om.notifications.channels.delete(channel.id)
    assert om.notifications.rules.list() == [] and om.notifications.channels.list() == []
    assert om.notifications.channels.list(includeDeleted=True, includeDisabled=True)[0].deleted_at is not None
    with pytest.raises(NotFoundError):
        om.notifications.events.get("nope")
    with pytest.raises(InvalidArgumentError, match="thresholds"):
        om.notifications.rules.create(
            {"name": "x", "channels": ["c"], "thresholds": [{"value": 1, "type": "RATIO"}]}
        )
    with pytest.raises(InvalidArgumentError, match="url"):
        om.notifications.channels.create({"name": "x"})
    with pytest.raises(InvalidArgumentError, match="order_by"):
        om.notifications.events.list(order_by="type")


def test_the_async_client_has_the_same_surface(clocked_server: MeterdServer, receiver: Receiver) -> None:
    async def session() -> None:
        async with AsyncOpenMeter(clocked_server.address) as aom:
            channel = await aom.notifications.channels.create({"name": "a", "url": receiver.url})
            rule = await aom.notifications.rules.create(
                {"name": "r", "channels": [channel.id], "thresholds": [{"value": 1, "type": "NUMBER"}]}
            )
            event = await aom.notifications.rules.test(rule.id)
            assert (await aom.notifications.events.get(event.id)).id == event.id
            assert [e.id for e in await aom.notifications.events.list()] == [event.id]
            assert (await aom.notifications.rules.get(rule.id)).name == "r"
            assert [c.id for c in await aom.notifications.channels.list()] == [channel.id]
            await aom.notifications.rules.delete(rule.id)
            await aom.notifications.channels.delete(channel.id)

    asyncio.run(session())
    receiver.wait_count(1)
