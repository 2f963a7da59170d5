"""Notifications through the real server (both backends) and a loopback webhook receiver: crossings produce
exactly the expected events with GetEntitlementValue's numbers, signed (verified with `standardwebhooks`),
once per threshold and usage period; channels, rules and events as an API; refused targets; retries after
500s, a receiver that is down or never answers; isolation between channels; secrets kept out of logs."""

from __future__ import annotations

import base64
import itertools
import logging
import threading
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from entitlement_support import create_meter
from notify_support import (
    Notifications,
    Receiver,
    closed_port,
    connections_to,
    settle,
    verify,
    wait_delivered,
)
from support import Clock

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import notifications_pb2 as pb

START = datetime(2024, 1, 1, tzinfo=UTC)
_ids = itertools.count()
SUCCESS, FAILED, PENDING = (
    pb.NOTIFICATION_DELIVERY_STATE_SUCCESS,
    pb.NOTIFICATION_DELIVERY_STATE_FAILED,
    pb.NOTIFICATION_DELIVERY_STATE_PENDING,
)


@pytest.fixture
def server_config(server_config: Config) -> Config:
    server_config.notifications_allow_private_targets = True  # the receiver is on loopback
    server_config.notifications_attempt_timeout_seconds = 1.0
    return server_config


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    clock.set(START + timedelta(seconds=30))  # values read up to START + 1 min: events at START count
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    clocked_om.features.create(
        {
            "key": "images",
            "name": "Images",
            "meterSlug": "tokens_total",
            "meterGroupByFilters": {"model": "dall-e"},
        }
    )
    return clocked_om


@pytest.fixture
def n(om: OpenMeter, clocked_server: MeterdServer) -> Notifications:
    clocked_server.services.notifying.evaluator.interval = 0.0
    return Notifications(om.channel)


def usage(
    om: OpenMeter, at: datetime, tokens: float, subject: str = "customer-1", model: str = "gpt"
) -> None:
    om.events.ingest(
        {
            "specversion": "1.0",
            "id": f"n-{next(_ids)}",
            "source": "test",
            "type": "tokens",
            "subject": subject,
            "time": at,
            "data": {"tokens": tokens, "model": model},
        }
    )


def metered(feature: str = "ai_tokens", **overrides: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "metered", "featureKey": feature, "usagePeriod": {"interval": "DAY"}}
    e.update(overrides)
    return e


def crossings(n: Notifications) -> list[tuple[str, int, float, float]]:
    """(entitlement id, threshold type, threshold value, usage) of every event, oldest first."""
    return [
        (
            e.balance_threshold.entitlement_id,
            e.balance_threshold.threshold.type,
            e.balance_threshold.threshold.value,
            e.balance_threshold.value.usage,
        )
        for e in n.events()
    ]


def test_crossings_reach_the_receiver_signed_with_get_entitlement_values(
    om: OpenMeter, n: Notifications, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    om.subjects.upsert([{"key": "customer-1", "displayName": "ACME"}])
    channel = n.channel(receiver.url, custom_headers={"x-tenant": "acme"})
    rule = n.rule([channel.id], [("NUMBER", 50), ("PERCENT", 80)], features=["ai_tokens"])
    usage(om, START, 30)
    settle(clocked_server)
    assert n.events() == []
    usage(om, START, 25)  # usage 55: NUMBER 50
    settle(clocked_server)
    at_55 = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
    usage(om, START, 30)  # usage 85 of 100 granted: PERCENT 80
    settle(clocked_server)
    at_85 = om.subjects.get_entitlement_value("customer-1", "ai_tokens")
    events = n.events()
    assert [(c[1], c[2], c[3]) for c in crossings(n)] == [
        (pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER, 50, 55),
        (pb.NOTIFICATION_THRESHOLD_TYPE_PERCENT, 80, 85),
    ]
    assert [ev.balance_threshold.value for ev in events] == [at_55.proto, at_85.proto]
    got = receiver.wait_count(2)
    by_id = {r.webhook_id: r for r in got}
    assert set(by_id) == {ev.id for ev in events} and len(got) == 2
    for ev in events:
        r = by_id[ev.id]
        body = verify(channel.signing_secret, r)  # Standard Webhooks, with the receiver's own library
        assert r.body.decode() == ev.payload_json
        assert r.headers["x-tenant"] == "acme" and r.headers["content-type"] == "application/json"
        assert body["id"] == ev.id and body["type"] == "entitlements.balance.threshold"
        data = body["data"]
        assert data["entitlement"]["id"] == e.id and data["entitlement"]["type"] == "metered"
        assert data["entitlement"]["currentUsagePeriod"]["from"] == "2024-01-01T00:00:00Z"
        assert data["feature"]["key"] == "ai_tokens" and data["feature"]["meterSlug"] == "tokens_total"
        assert data["subject"]["key"] == "customer-1" and data["subject"]["displayName"] == "ACME"
        assert data["value"]["usage"] == ev.balance_threshold.value.usage
        assert data["value"]["balance"] == ev.balance_threshold.value.balance
    assert by_id[events[1].id].payload["data"]["threshold"] == {"value": 80, "type": "PERCENT"}
    done = wait_delivered(n, [ev.id for ev in events])
    for ev in done:
        (status,) = ev.delivery_status
        assert (
            status.state == SUCCESS
            and status.channel.id == channel.id
            and not status.HasField("next_attempt_at")
        )
        assert [a.status_code for a in status.attempts] == [200]
        assert ev.rule.id == rule.id and ev.rule.features[0].key == "ai_tokens"
        assert ev.annotations["event.subject.key"] == "customer-1"


def test_once_per_threshold_and_period_and_a_reset_starts_them_again(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 10), ("NUMBER", 20)])
    usage(om, START, 25)  # both at once: one event each
    settle(clocked_server)
    usage(om, START, 5)
    settle(clocked_server)
    assert sorted(c[2] for c in crossings(n)) == [10, 20]
    clock.advance(minutes=10)
    om.subjects.reset_entitlement_usage(
        "customer-1", "ai_tokens", retain_anchor=True
    )  # thresholds start again
    usage(om, clock(), 12)
    settle(clocked_server)
    assert sorted(c[2] for c in crossings(n)) == [10, 10, 20]
    # The next day's period: crossing again is a new crossing.
    clock.set(START + timedelta(days=1, seconds=30))
    usage(om, START + timedelta(days=1), 21)
    settle(clocked_server)
    events = n.events()
    assert sorted(c[2] for c in crossings(n)) == [10, 10, 10, 20, 20]
    periods = sorted({ev.balance_threshold.usage_period_start.ToDatetime(tzinfo=UTC) for ev in events})
    assert periods == [START, START + timedelta(minutes=10), START + timedelta(days=1)]
    assert all(ev.balance_threshold.entitlement_id == e.id for ev in events)
    receiver.wait_count(5)


def test_a_rule_created_past_a_threshold_reports_it_at_once_and_scope_follows_features(
    om: OpenMeter, n: Notifications, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    tokens = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    om.subjects.create_entitlement("customer-1", metered("images", issueAfterReset=10))
    usage(om, START, 8)
    usage(om, START, 8, model="dall-e")
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 5)], features=[tokens.feature_id])  # by id; the images feature is out
    settle(clocked_server)
    assert [(c[0], c[3]) for c in crossings(n)] == [(tokens.id, 16)]  # tokens_total counts both models
    # Percentages are shares of what was granted: nothing granted, nothing reported.
    om.subjects.create_entitlement("customer-2", metered())
    usage(om, START, 1, subject="customer-2")
    n.rule([channel.id], [("PERCENT", 1)], features=["ai_tokens"])
    settle(clocked_server)
    assert len(crossings(n)) == 2  # the new rule reports customer-1 (16 of 10 granted), not customer-2


def test_disabled_channels_and_rules_produce_nothing_and_test_events_are_sent(
    om: OpenMeter, n: Notifications, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    channel = n.channel(receiver.url, disabled=True)
    rule = n.rule([channel.id], [("NUMBER", 1)])
    usage(om, START, 5)
    settle(clocked_server)
    assert n.events() == []
    with pytest.raises(grpc.RpcError) as refused:
        n.TestNotificationRule(pb.TestNotificationRuleRequest(id=rule.id))
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    n.UpdateNotificationChannel(
        pb.UpdateNotificationChannelRequest(
            id=channel.id, type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name="hooks", url=receiver.url
        )
    )
    settle(clocked_server)  # enabled: the crossing already there is reported
    assert len(n.events()) == 1
    test = n.TestNotificationRule(pb.TestNotificationRuleRequest(id=rule.id)).event
    assert test.annotations["notification.rule.test"] == "true" and not test.HasField("balance_threshold")
    got = receiver.wait_count(2)
    assert {r.webhook_id for r in got} == {test.id, n.events()[0].id}
    secret = n.GetNotificationChannel(pb.GetNotificationChannelRequest(id=channel.id)).channel.signing_secret
    assert all(verify(secret, r)["type"] == "entitlements.balance.threshold" for r in got)
    n.DeleteNotificationRule(pb.DeleteNotificationRuleRequest(id=rule.id))
    usage(om, START, 50)
    settle(clocked_server)
    assert len(n.events()) == 2  # the test event and the first crossing: a deleted rule reports nothing


def test_channels_api_and_when_the_signing_secret_is_shown(n: Notifications, receiver: Receiver) -> None:
    created = n.channel(receiver.url, name="billing", custom_headers={"authorization": "Bearer s3cret"})
    secret = created.signing_secret
    assert secret.startswith("whsec_") and len(base64.b64decode(secret.removeprefix("whsec_"))) == 32
    got = n.GetNotificationChannel(pb.GetNotificationChannelRequest(id=created.id)).channel
    assert got.signing_secret == secret and got.custom_headers["authorization"] == "Bearer s3cret"
    listed = n.ListNotificationChannels(pb.ListNotificationChannelsRequest())
    assert [c.id for c in listed.channels] == [created.id] and not listed.channels[0].HasField(
        "signing_secret"
    )
    given = "whsec_" + base64.b64encode(b"x" * 24).decode()
    updated = n.UpdateNotificationChannel(
        pb.UpdateNotificationChannelRequest(
            id=created.id, type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name="billing 2", url=receiver.url
        )
    ).channel
    assert updated.name == "billing 2" and not updated.HasField("signing_secret")
    assert (
        n.GetNotificationChannel(pb.GetNotificationChannelRequest(id=created.id)).channel.signing_secret
        == secret
    )
    n.UpdateNotificationChannel(
        pb.UpdateNotificationChannelRequest(
            id=created.id,
            type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK,
            name="b",
            url=receiver.url,
            signing_secret=given,
        )
    )
    assert (
        n.GetNotificationChannel(pb.GetNotificationChannelRequest(id=created.id)).channel.signing_secret
        == given
    )
    second = n.channel(receiver.url, name="disabled", disabled=True)
    assert [c.id for c in n.ListNotificationChannels(pb.ListNotificationChannelsRequest()).channels] == [
        created.id
    ]
    every = n.ListNotificationChannels(pb.ListNotificationChannelsRequest(include_disabled=True, page_size=1))
    assert every.total_size == 2 and [c.id for c in every.channels] == [created.id] and every.next_page_token
    rest = n.ListNotificationChannels(
        pb.ListNotificationChannelsRequest(
            include_disabled=True, page_size=1, page_token=every.next_page_token
        )
    )
    assert [c.id for c in rest.channels] == [second.id] and not rest.next_page_token
    n.DeleteNotificationChannel(pb.DeleteNotificationChannelRequest(id=second.id))
    for call, request in [
        (n.DeleteNotificationChannel, pb.DeleteNotificationChannelRequest(id=second.id)),
        (n.GetNotificationChannel, pb.GetNotificationChannelRequest(id="nope")),
    ]:
        with pytest.raises(grpc.RpcError) as missing:
            call(request)
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    deleted = n.ListNotificationChannels(
        pb.ListNotificationChannelsRequest(include_disabled=True, include_deleted=True)
    )
    assert [c.HasField("deleted_at") for c in deleted.channels] == [False, True]


def _refused(call: Any, request: Any) -> str:
    with pytest.raises(grpc.RpcError) as error:
        call(request)
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT, error.value.details()
    return str(error.value.details())


def test_invalid_channels_and_rules_are_refused_naming_the_field(
    om: OpenMeter, n: Notifications, receiver: Receiver
) -> None:
    def channel(**fields: Any) -> str:
        base: dict[str, Any] = {
            "type": pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK,
            "name": "x",
            "url": receiver.url,
        }
        base.update(fields)
        return _refused(n.CreateNotificationChannel, pb.CreateNotificationChannelRequest(**base))

    assert channel(url="ftp://example.com/x").startswith("url:")
    assert channel(url="https://user:pw@example.com/").startswith("url:")
    assert channel(url="https://example.com/" + "a" * 3000).startswith("url:")
    assert channel(url="").startswith("url:")
    assert channel(type=pb.NOTIFICATION_CHANNEL_TYPE_UNSPECIFIED).startswith("type:")
    assert channel(name=" ").startswith("name:")
    assert channel(signing_secret="short").startswith("signing_secret:")
    assert "custom_headers[webhook-signature]" in channel(custom_headers={"webhook-signature": "v1,x"})
    assert "custom_headers[x-a]" in channel(custom_headers={"x-a": "a\r\nb"})
    ok = n.channel(receiver.url)

    def rule(thresholds: list[tuple[str, float]], channels: list[str] | None = None, **fields: Any) -> str:
        return _refused(
            lambda r: n.CreateNotificationRule(r),
            pb.CreateNotificationRuleRequest(
                type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
                name="r",
                channels=[ok.id] if channels is None else channels,
                thresholds=[
                    pb.NotificationThreshold(value=v, type=getattr(pb, f"NOTIFICATION_THRESHOLD_TYPE_{t}"))
                    for t, v in thresholds
                ],
                **fields,
            ),
        )

    assert rule([]).startswith("thresholds:")
    assert rule([("NUMBER", float(i + 1)) for i in range(11)]).startswith("thresholds:")
    assert rule([("NUMBER", 0)]).startswith("thresholds[0].value:")
    assert rule([("PERCENT", float("nan"))]).startswith("thresholds[0].value:")
    assert rule([("NUMBER", 5), ("NUMBER", 5)]).startswith("thresholds[1]:")
    assert rule([("NUMBER", 5)], channels=[]).startswith("channels:")
    assert rule([("NUMBER", 5)], channels=["nope"]).startswith("channels[0]:")
    assert rule([("NUMBER", 5)], channels=[ok.id] * 6).startswith("channels:")
    assert rule([("NUMBER", 5)], features=["no_such_feature"]).startswith("features[0]:")
    assert n.ListNotificationRules(pb.ListNotificationRulesRequest()).total_size == 0


def test_private_targets_are_refused_unless_allowed(tmp_path: Any, receiver: Receiver) -> None:
    srv = MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "m.db"), log_format="text")).start()
    try:
        with OpenMeter(srv.address) as client:
            n = Notifications(client.channel)
            for url in [
                receiver.url,
                "http://localhost:8080/x",
                "http://169.254.169.254/latest/meta-data",
                "http://10.1.2.3/x",
                "http://192.168.0.1/",
                "http://[::1]:80/",
                "http://0.0.0.0/",
                "http://100.64.0.1/",
                "http://[::ffff:127.0.0.1]/",
            ]:
                message = _refused(
                    n.CreateNotificationChannel,
                    pb.CreateNotificationChannelRequest(
                        type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name="x", url=url
                    ),
                )
                assert message.startswith("url:") and "notifications.allow_private_targets" in message, (
                    message
                )
            n.channel("https://hooks.example.com/meterd")  # a public name is accepted (resolved when sending)
    finally:
        srv.stop(0)


def test_events_list_filters_and_pages(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    for s in ("customer-1", "customer-2"):
        om.subjects.create_entitlement(s, metered(issueAfterReset=10))
    om.subjects.create_entitlement("customer-1", metered("images", issueAfterReset=10))
    a, b = n.channel(receiver.url, name="a"), n.channel(receiver.url, name="b")
    r1 = n.rule([a.id], [("NUMBER", 1)], features=["ai_tokens"])
    r2 = n.rule([b.id], [("NUMBER", 2)])
    usage(om, START, 5, subject="customer-1")
    usage(om, START, 5, subject="customer-1", model="dall-e")
    settle(clocked_server)
    clock.advance(minutes=5)
    usage(om, clock(), 5, subject="customer-2")
    settle(clocked_server)
    every = n.events()
    assert len(every) == 5  # r1: both subjects' ai_tokens; r2: those and customer-1's images
    assert [e.created_at.ToDatetime() for e in every] == sorted(e.created_at.ToDatetime() for e in every)

    def ids(**filters: Any) -> set[str]:
        return {e.id for e in n.events(**filters)}

    assert ids(rules=[r1.id]) == {e.id for e in every if e.rule.id == r1.id} and len(ids(rules=[r1.id])) == 2
    assert ids(channels=[b.id]) == ids(rules=[r2.id])
    assert ids(features=["images"]) == {e.id for e in every if e.balance_threshold.feature_key == "images"}
    assert ids(subjects=["customer-2"]) == {
        e.id for e in every if e.balance_threshold.subject_key == "customer-2"
    }
    later = every[-1].created_at
    assert ids(from_time=later) == {e.id for e in every if e.created_at.ToDatetime() >= later.ToDatetime()}
    assert len(ids(to_time=later)) == 5
    page = n.ListNotificationEvents(pb.ListNotificationEventsRequest(page_size=3, order=2))  # DESC
    assert page.total_size == 5 and len(page.events) == 3
    rest = n.ListNotificationEvents(
        pb.ListNotificationEventsRequest(page_size=3, order=2, page_token=page.next_page_token)
    )
    assert [e.id for e in [*page.events, *rest.events]] == [e.id for e in reversed(every)]
    assert _refused(
        n.ListNotificationEvents,
        pb.ListNotificationEventsRequest(
            page_token=page.next_page_token, order_by=pb.NOTIFICATION_EVENT_ORDER_BY_ID
        ),
    ).startswith("page_token")
    receiver.wait_count(5)


def test_failed_attempts_are_retried_on_the_schedule_then_delivered(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    receiver.behaviour.statuses = [500, 503]
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 1)])
    usage(om, START, 5)
    settle(clocked_server)
    (event,) = n.events()
    receiver.wait_count(1)

    def delivery() -> pb.NotificationDeliveryStatus:
        return n.event(event.id).delivery_status[0]

    _wait(lambda: len(delivery().attempts) == 1 and delivery().state == PENDING, "the first failure recorded")
    first = delivery()
    assert first.reason.startswith("HTTP 500") and first.attempts[0].status_code == 500
    assert (
        timedelta(seconds=3) < first.next_attempt_at.ToDatetime(tzinfo=UTC) - clock() < timedelta(seconds=7)
    )
    clock.advance(seconds=10)  # the first retry is due (5 s, jittered)
    _wait(lambda: len(delivery().attempts) == 2, "the second attempt")
    clock.advance(seconds=30)  # the second (15 s, jittered)
    _wait(lambda: delivery().state == SUCCESS, "the delivery")
    assert [a.status_code for a in delivery().attempts] == [500, 503, 200]
    assert len({r.webhook_id for r in receiver.received}) == 1 and len(receiver.received) == 3


def test_a_receiver_down_then_up_gets_the_event(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 1)])
    receiver.down()
    usage(om, START, 5)
    settle(clocked_server)
    (event,) = n.events()
    _wait(lambda: len(n.event(event.id).delivery_status[0].attempts) == 1, "a refused attempt")
    status = n.event(event.id).delivery_status[0]
    assert status.state == PENDING and status.attempts[0].status_code == 0 and "connect" in status.reason
    receiver.up()
    clock.advance(minutes=1)
    got = receiver.wait_count(1)
    assert verify(channel.signing_secret, got[0])["id"] == event.id
    _wait(lambda: n.event(event.id).delivery_status[0].state == SUCCESS, "SUCCESS")


def test_a_hanging_endpoint_costs_bounded_connections_and_never_blocks_another_channel(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    hanging = Receiver()
    hanging.behaviour.hang = True
    try:
        slow, fast = n.channel(hanging.url, name="slow"), n.channel(receiver.url, name="fast")
        n.rule([slow.id], [("NUMBER", 1)])
        for i in range(12):
            om.subjects.create_entitlement(f"s{i}", metered(issueAfterReset=10))
            usage(om, START, 5, subject=f"s{i}")
        settle(clocked_server)
        slow_events = n.events()
        assert len(slow_events) == 12
        hanging.wait_for(lambda r: len(r) >= 4, "the slow channel's first attempts")
        n.rule([fast.id], [("NUMBER", 2)])
        settle(clocked_server)
        most = 0
        while len(receiver.received) < 12:  # every fast event arrives while the slow channel's attempts hang
            most = max(most, connections_to(hanging.port))
            receiver.wait_for(lambda r: True, "anything", 0.01)
        assert len({r.webhook_id for r in receiver.wait_count(12)}) == 12
        for _ in range(50):
            most = max(most, connections_to(hanging.port))
        assert 1 <= most <= 4  # at most per_channel connections held by the dead endpoint
        # Each hanging attempt ends at the attempt timeout (1 s here) and is retried later.
        _wait(
            lambda: all(
                len(e.delivery_status[0].attempts) >= 1 for e in (n.event(x.id) for x in slow_events[:4])
            ),
            "timed-out attempts recorded",
        )
        status = n.event(slow_events[0].id).delivery_status[0]
        assert status.attempts[0].status_code == 0 and "no answer within 1 s" in status.attempts[0].error
    finally:
        hanging.close()


def test_secrets_never_reach_the_logs(
    om: OpenMeter,
    n: Notifications,
    clock: Clock,
    clocked_server: MeterdServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    port = closed_port()
    secret = "whsec_" + base64.b64encode(b"very secret bytes 0123456789").decode()
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    channel = n.channel(
        f"http://127.0.0.1:{port}/hook-path-token",
        signing_secret=secret,
        custom_headers={"authorization": "Bearer header-token-42"},
    )
    rule = n.rule([channel.id], [("NUMBER", 1)])
    usage(om, START, 5)
    settle(clocked_server)
    (event,) = n.events()
    for k in range(
        1, 12
    ):  # every attempt (the retries' waits are at most 10 h, jittered), until it is given up
        _wait(lambda k=k: len(n.event(event.id).delivery_status[0].attempts) == k, f"attempt {k} recorded")
        clock.advance(hours=13)
    _wait(lambda: n.event(event.id).delivery_status[0].state == FAILED, "FAILED after the last retry")
    status = n.event(event.id).delivery_status[0]
    assert len(status.attempts) == 11 and status.reason.startswith("gave up after 11 attempts")
    n.DeleteNotificationRule(pb.DeleteNotificationRuleRequest(id=rule.id))
    text = caplog.text + "".join(str(r.__dict__) for r in caplog.records)
    for leaked in (secret, "header-token-42", "hook-path-token", secret.removeprefix("whsec_")):
        assert leaked not in text


def test_metrics_count_attempts_and_show_the_queue(tmp_path: Any, receiver: Receiver) -> None:
    config = Config(
        listen="127.0.0.1:0",
        db=str(tmp_path / "m.db"),
        log_format="text",
        metrics_listen="127.0.0.1:0",
        notifications_allow_private_targets=True,
    )
    srv = MeterdServer(config).start()
    try:
        with OpenMeter(srv.address) as om:
            n = Notifications(om.channel)
            channel = n.channel(receiver.url)
            rule = n.rule([channel.id], [("NUMBER", 1)])
            n.TestNotificationRule(pb.TestNotificationRuleRequest(id=rule.id))
            receiver.wait_count(1)
            url = f"http://{srv.metrics.address}/metrics"  # type: ignore[union-attr]

            def scrape() -> str:
                with urllib.request.urlopen(url, timeout=10) as response:
                    return str(response.read().decode())

            _wait(  # the attempt is counted when it ends, the delivery once its outcome is stored
                lambda: (
                    'meterd_notification_delivery_attempts_total{result="success"} 1.0' in scrape()
                    and "meterd_notification_delivery_seconds_count 1.0" in scrape()
                ),
                "the attempt and the delivery counted",
            )
            text = scrape()
            assert "meterd_notification_queue_depth 0.0" in text
            assert "meterd_notification_oldest_pending_seconds 0.0" in text
    finally:
        srv.stop(0)


def _wait(condition: Any, what: str, deadline: float = 60.0) -> None:
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


def test_threads_stop_with_the_server(tmp_path: Any) -> None:
    before = {t.name for t in threading.enumerate()}
    srv = MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "m.db"), log_format="text")).start()
    srv.stop(0)
    left = {t.name for t in threading.enumerate() if t.is_alive()} - before
    assert not {name for name in left if name.startswith("meterd-notify")}


def test_a_crossing_left_unevaluated_by_a_stopped_evaluator_is_re_derived_after_its_period_ended(
    server_config: Config, clock: Clock, receiver: Receiver
) -> None:
    """An evaluator that stops (here: its server, with the change still waiting to be evaluated) leaves a
    heartbeat that goes stale; the next evaluator evaluates the last value of the usage period that ended
    since, and reports the crossing in it (the current period's usage alone would show nothing)."""
    clock.set(START + timedelta(hours=23, minutes=58, seconds=30))
    first = MeterdServer(server_config, clock=clock).start()
    try:
        with OpenMeter(first.address) as om:
            create_meter(om)
            om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
            e = om.subjects.create_entitlement(
                "customer-1", metered(issueAfterReset=100, usagePeriod={"interval": "DAY", "anchor": START})
            )
            n = Notifications(om.channel)
            channel = n.channel(receiver.url)
            evaluator = first.services.notifying.evaluator
            evaluator.interval = 3600.0  # changes wait an hour before they are evaluated
            n.rule([channel.id], [("NUMBER", 50)])
            settle(first)  # the rule is loaded, its heartbeat written
            usage(om, START + timedelta(hours=23, minutes=58), 60)
            assert n.events() == []
    finally:
        first.stop(0)  # the usage was never evaluated
    clock.set(START + timedelta(days=1, minutes=10, seconds=30))  # the next day's period
    second = MeterdServer(server_config, clock=clock).start()
    try:
        evaluator = second.services.notifying.evaluator
        evaluator.interval = 0.0
        with OpenMeter(second.address) as om:
            n = Notifications(om.channel)
            _wait(lambda: len(n.events()) == 1, "the crossing re-derived")
            (event,) = n.events()
            assert (
                event.balance_threshold.entitlement_id == e.id and event.balance_threshold.value.usage == 60
            )
            # The first period is measured from the entitlement's creation minute.
            assert event.balance_threshold.usage_period_start.ToDatetime(tzinfo=UTC) == START + timedelta(
                hours=23, minutes=58
            )
            assert verify(channel.signing_secret, receiver.wait_count(1)[0])["id"] == event.id
    finally:
        second.stop(0)


def test_redirects_are_not_followed_and_big_answers_are_cut(
    om: OpenMeter, n: Notifications, clock: Clock, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    om.subjects.create_entitlement("customer-1", metered(issueAfterReset=10))
    receiver.behaviour.statuses = [302, 500]
    receiver.behaviour.body = b"x" * (4 << 20)  # 4 MiB: meterd reads the first 64 KiB and hangs up
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 1)])
    usage(om, START, 5)
    settle(clocked_server)
    (event,) = n.events()

    def attempts() -> list[pb.NotificationDeliveryAttempt]:
        return list(n.event(event.id).delivery_status[0].attempts)

    _wait(lambda: len(attempts()) == 1, "the first attempt")
    assert attempts()[0].status_code == 302 and attempts()[0].error == "HTTP 302: redirects are not followed"
    clock.advance(seconds=10)
    _wait(lambda: len(attempts()) == 2, "the second attempt")
    second = attempts()[1]
    assert second.status_code == 500 and second.error == "HTTP 500: " + "x" * 200
    receiver.behaviour.body = b"ok"
    clock.advance(seconds=30)
    _wait(lambda: n.event(event.id).delivery_status[0].state == SUCCESS, "the third attempt")
    assert len(receiver.received) == 3  # the redirect was not followed (its Location was never asked for)


def test_a_redefined_meter_is_evaluated_with_its_new_numbers(
    om: OpenMeter, n: Notifications, clocked_server: MeterdServer, receiver: Receiver
) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    channel = n.channel(receiver.url)
    n.rule([channel.id], [("NUMBER", 4)])
    for _ in range(3):
        usage(om, START, 1)  # 3 tokens in 3 events: below 4
    settle(clocked_server)
    assert n.events() == []
    om.features.delete("ai_tokens")  # archived: the entitlement stays, on the meter's slug
    om.features.delete("images")
    om.meters.delete("tokens_total")
    settle(clocked_server)
    assert n.events() == []  # no value while the meter is gone
    om.meters.create({"slug": "tokens_total", "eventType": "tokens", "aggregation": "COUNT"})
    usage(om, START, 1)  # counted now: 4 events
    settle(clocked_server)
    (event,) = n.events()
    assert event.balance_threshold.entitlement_id == e.id and event.balance_threshold.value.usage == 4
    assert verify(channel.signing_secret, receiver.wait_count(1)[0])["data"]["value"]["usage"] == 4
