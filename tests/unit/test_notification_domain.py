"""Notification domain units: which targets are refused (at creation and at connection), the threshold index
against a brute-force check of every threshold, the retry schedule, Standard Webhooks signatures."""

from __future__ import annotations

import asyncio
import ipaddress
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from meterd.server.entitlements.model import EntitlementValue
from meterd.server.notifications import schedule, targets
from meterd.server.notifications.crossings import Progress, ThresholdIndex, is_beyond
from meterd.server.notifications.delivery import outcome_of, signed_headers
from meterd.server.notifications.model import (
    ChannelMeta,
    ChannelType,
    ClaimedDelivery,
    DeliveryState,
    FeatureMeta,
    Rule,
    RuleType,
    Threshold,
    ThresholdType,
    new_signing_secret,
)
from meterd.server.webhooks import GuardedBackend, WebhookSender

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x",
        "http://[::1]/",
        "http://localhost/",
        "http://api.localhost/",
        "http://10.0.0.1/",
        "http://172.16.3.4/",
        "http://192.168.1.1/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]/",
        "http://0.0.0.0/",
        "http://100.64.1.1/",
        "http://[fc00::1]/",
        "http://224.0.0.1/",
        "http://[::ffff:10.0.0.1]/",
    ],
)
def test_private_targets_are_refused_by_default_and_allowed_by_the_setting(url: str) -> None:
    with pytest.raises(targets.RefusedTarget, match=r"notifications\.allow_private_targets"):
        targets.parse_url(url, allow_private=False)
    targets.parse_url(url, allow_private=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/", "http:// or https://"),
        ("https://u:p@example.com/", "credentials"),
        ("https://", "no host"),
        ("https://example.com:0/", "port 0"),
        ("https://ex ample.com/", "spaces"),
        ("https://example.com/" + "x" * 2100, "at most 2048"),
        ("https://example.com:99999/", "not a valid URL"),
    ],
)
def test_malformed_urls_are_refused_whatever_the_setting(url: str, why: str) -> None:
    with pytest.raises(targets.RefusedTarget, match=why):
        targets.parse_url(url, allow_private=True)


def test_public_names_and_addresses_are_accepted() -> None:
    for url in ("https://hooks.example.com/a?b=c", "http://8.8.8.8:8080/", "https://[2606:4700::1111]/x"):
        targets.parse_url(url, allow_private=False)


def test_a_name_resolving_to_a_private_address_is_refused_when_connecting() -> None:
    """DNS rebinding: the name was accepted when the channel was created; its address is checked when a
    delivery connects, and nothing is sent."""

    async def rebound(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("169.254.169.254")]

    async def attempt() -> tuple[int, str, bool]:
        sender = WebhookSender(allow_private=False, resolve=rebound)
        try:
            r = await sender.send("ch", "http://hooks.example.com/x", [], b"{}", 2.0)
            return r.status, r.error, r.refused
        finally:
            await sender.aclose()

    status, error, refused = asyncio.run(attempt())
    assert (status, refused) == (0, True) and "169.254.169.254 is a link-local" in error


def test_the_guarded_backend_resolves_before_connecting() -> None:
    seen: list[str] = []

    async def resolve(host: str, port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        seen.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    async def connect() -> None:
        await GuardedBackend(False, resolve).connect_tcp("internal.example", 80, timeout=1)

    with pytest.raises(targets.RefusedTarget, match="loopback"):
        asyncio.run(connect())
    assert seen == ["internal.example"]


def _value(balance: float, usage: float, overage: float = 0) -> EntitlementValue:
    return EntitlementValue(
        has_access=balance > 0,
        balance=Decimal(repr(balance)),
        usage=Decimal(repr(usage)),
        overage=Decimal(repr(overage)),
    )


def test_thresholds_follow_openmeters_rule() -> None:
    number, percent = (
        Threshold(ThresholdType.NUMBER, Decimal(50)),
        Threshold(ThresholdType.PERCENT, Decimal(80)),
    )
    assert not is_beyond(number, _value(60, 49.5)) and is_beyond(number, _value(50, 50))
    assert is_beyond(percent, _value(20, 80)) and not is_beyond(percent, _value(20.5, 79.5))
    # The share is of balance + usage - overage: with overage 10 of usage 90, 80 of 80 granted were used.
    assert is_beyond(percent, _value(0, 90, 10))
    assert not is_beyond(percent, _value(0, 5, 5))  # nothing granted: no share to reach


def _rule(i: int, thresholds: list[Threshold], features: tuple[str, ...]) -> Rule:
    return Rule(
        id=f"r{i}",
        type=RuleType.BALANCE_THRESHOLD,
        name="r",
        disabled=False,
        channels=(ChannelMeta("c", ChannelType.WEBHOOK),),
        thresholds=tuple(thresholds),
        features=tuple(FeatureMeta(f, f) for f in features),
        created_at=T0,
        updated_at=T0,
    )


_thresholds = st.lists(
    st.builds(Threshold, st.sampled_from(list(ThresholdType)), st.integers(1, 120).map(Decimal)),
    min_size=1,
    max_size=10,
    unique_by=lambda t: t.key,
)
_values = st.lists(
    st.tuples(st.integers(0, 100), st.integers(0, 150), st.integers(0, 30)), min_size=1, max_size=12
)


@settings(max_examples=200, deadline=None)
@given(
    rules=st.lists(
        st.tuples(_thresholds, st.sampled_from([(), ("f1",), ("f2",), ("f1", "f2")])), min_size=1, max_size=6
    ),
    values=_values,
)
def test_the_index_reports_each_threshold_once_when_some_value_is_first_beyond_it(
    rules: list[tuple[list[Threshold], tuple[str, ...]]], values: list[tuple[int, int, int]]
) -> None:
    built = [_rule(i, t, f) for i, (t, f) in enumerate(rules)]
    index = ThresholdIndex(built)
    progress = Progress(0)
    reported: list[tuple[str, str]] = []
    expected: list[tuple[str, str]] = []
    for balance, usage, overage in values:
        value = _value(balance, usage, overage)
        got = [(a.rule.id, a.threshold.key) for a in index.crossed("f1", value, progress)]
        reported += got
        for r in built:  # brute force: every threshold of every rule covering f1, the first time it is beyond
            if r.covers("f1"):
                for t in r.thresholds:
                    if is_beyond(t, value) and (r.id, t.key) not in expected:
                        expected.append((r.id, t.key))
        assert sorted(reported) == sorted(expected)
    assert len(reported) == len(set(reported))


def test_the_retry_schedule_spans_about_a_day_with_jitter() -> None:
    total = schedule.total_nominal()
    assert timedelta(hours=23) < total < timedelta(hours=26) and len(schedule.NOMINAL) == 10
    assert schedule.NOMINAL[:3] == (timedelta(seconds=5), timedelta(seconds=15), timedelta(seconds=45))
    delays = {schedule.retry_delay(1) for _ in range(50)}
    assert len(delays) > 1 and all(timedelta(seconds=4) <= d <= timedelta(seconds=6) for d in delays if d)
    assert schedule.retry_delay(11) is None


def _claimed(attempts: int = 0) -> ClaimedDelivery:
    return ClaimedDelivery(
        event_id="01EVENT",
        channel_id="ch",
        attempts=attempts,
        created_at=T0,
        payload_json='{"id":"01EVENT"}',
        url="https://example.com/h",
        signing_secret=new_signing_secret(),
        custom_headers={"x-a": "b"},
        channel_active=True,
    )


def test_signatures_verify_with_standardwebhooks() -> None:
    d = _claimed()
    now = datetime.now(UTC)
    headers = dict(signed_headers(d, now))
    assert headers["webhook-id"] == "01EVENT" and headers["x-a"] == "b"
    assert Webhook(d.signing_secret).verify(d.payload_json.encode(), headers) == {"id": "01EVENT"}
    tampered = {**headers, "webhook-id": "other"}
    with pytest.raises(Exception, match="signature"):
        Webhook(d.signing_secret).verify(d.payload_json.encode(), tampered)


def test_outcomes_retry_until_the_schedule_runs_out() -> None:
    assert outcome_of(_claimed(), 204, "", False, T0, 0.1, T0).state is DeliveryState.SUCCESS
    retry = outcome_of(_claimed(), 500, "HTTP 500", False, T0, 0.1, T0)
    assert retry.state is DeliveryState.PENDING and retry.next_attempt_at is not None
    last = outcome_of(_claimed(attempts=10), 500, "HTTP 500", False, T0, 0.1, T0)
    assert last.state is DeliveryState.FAILED and last.reason.startswith("gave up after 11 attempts")
    refused = outcome_of(_claimed(), 0, "refused: x", True, T0, 0.0, T0)
    assert refused.state is DeliveryState.FAILED and refused.reason == "refused: x"
