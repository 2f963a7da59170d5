"""Client-side validation: bad input raises InvalidArgumentError (a ValueError) naming the key, before anything is sent.

The client points at a port where nothing listens; a request that got as far as the network would raise
UnavailableError instead, so every test here also proves that nothing was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support import free_port

from meterd.client import AsyncOpenMeter, InvalidArgumentError, OpenMeter, UnavailableError

AWARE = "2024-01-01T00:00:00Z"
NAIVE = datetime(2024, 1, 1)


@pytest.fixture(scope="module")
def om() -> Any:
    # No retries on UNAVAILABLE would matter: the calls below must never reach the channel.
    with OpenMeter(f"127.0.0.1:{free_port()}", timeout=2) as client:
        yield client


def event(**changes: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "id": "e1",
        "source": "s",
        "type": "prompt",
        "subject": "c1",
        "time": AWARE,
        "data": {"tokens": 1},
    }
    e.update(changes)
    return {k: v for k, v in e.items() if v is not None}


def raises(exc: type[Exception], *names: str) -> Any:
    """pytest.raises whose message must name every one of ``names``."""

    class Check:
        def __enter__(self) -> None:
            self.cm = pytest.raises(exc)
            self.info = self.cm.__enter__()

        def __exit__(self, *args: Any) -> bool:
            handled = self.cm.__exit__(*args)
            for name in names:
                assert name in str(self.info.value), f"{name!r} not in {self.info.value!r}"
            return bool(handled)

    return Check()


# -- events ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        (event(colour="red"), InvalidArgumentError, ["colour"]),
        (event(subject=None), InvalidArgumentError, ["subject", "required"]),
        (event(id=1), InvalidArgumentError, ["event.id"]),
        (event(subject=["c1"]), InvalidArgumentError, ["event.subject"]),
        (event(time=NAIVE), InvalidArgumentError, ["event.time", "naive"]),
        (event(time="yesterday"), InvalidArgumentError, ["event.time", "RFC 3339"]),
        (event(time=1704067200), InvalidArgumentError, ["event.time"]),
        (event(data={"x": object()}), InvalidArgumentError, ["event.data"]),
        (event(data={"x": float("nan")}), InvalidArgumentError, ["event.data"]),
        ("not an event", InvalidArgumentError, ["event", "dict"]),
    ],
)
def test_bad_events(om: OpenMeter, bad: Any, exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.events.ingest(bad)


def test_bad_event_in_a_list_is_named_by_index(om: OpenMeter) -> None:
    with raises(InvalidArgumentError, "events[1].type"):
        om.events.ingest([event(), event(type=7)])


def test_camel_and_snake_case_of_one_key_is_refused(om: OpenMeter) -> None:
    with raises(InvalidArgumentError, "dataContentType"):
        om.events.ingest(event(datacontenttype="application/json", dataContentType="application/json"))


def test_stream_send_checks_before_sending(om: OpenMeter) -> None:
    stream = om.events.stream()
    with raises(InvalidArgumentError, "event.time", "naive"):
        stream.send(event(time=NAIVE))
    assert stream.unacknowledged == []


def test_events_list_filters(om: OpenMeter) -> None:
    with raises(InvalidArgumentError, "from_", "naive"):
        om.events.list(from_=NAIVE)
    with raises(InvalidArgumentError, "subject"):
        om.events.list(subject=[1])
    with raises(InvalidArgumentError, "limit"):
        om.events.list(limit="10")


# -- meters ----------------------------------------------------------------------------------------------
def meter(**changes: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "slug": "m1",
        "eventType": "prompt",
        "aggregation": "SUM",
        "valueProperty": "$.tokens",
    }
    m.update(changes)
    return m


@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        (meter(windowSize="MONTH"), InvalidArgumentError, ["meter.window_size", "MONTH"]),
        (meter(windowSize="FORTNIGHT"), InvalidArgumentError, ["meter.window_size", "FORTNIGHT"]),
        (meter(aggregation="MEDIAN"), InvalidArgumentError, ["meter.aggregation", "MEDIAN"]),
        (meter(aggregation=3), InvalidArgumentError, ["meter.aggregation"]),
        (meter(slug=1), InvalidArgumentError, ["meter.slug"]),
        (meter(groupBy={"model": 1}), InvalidArgumentError, ["meter.group_by"]),
        (meter(groupBy=["model"]), InvalidArgumentError, ["meter.group_by"]),
        ({"slug": "m1", "aggregation": "SUM"}, InvalidArgumentError, ["event_type", "required"]),
    ],
)
def test_bad_meters(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.meters.create(bad)


@pytest.mark.parametrize(
    ("kwargs", "exc", "names"),
    [
        ({"window_size": "WEEK"}, InvalidArgumentError, ["window_size", "WEEK"]),
        ({"window_size": "MONTH"}, InvalidArgumentError, ["window_size", "MONTH"]),
        ({"from_": NAIVE}, InvalidArgumentError, ["from_", "naive"]),
        ({"to": "2024-13-01T00:00:00Z"}, InvalidArgumentError, ["to"]),
        ({"subject": [1]}, InvalidArgumentError, ["subject"]),
        ({"group_by": ["model", None]}, InvalidArgumentError, ["group_by"]),
        ({"filter_group_by": {"model": 1}}, InvalidArgumentError, ["filter_group_by"]),
        ({"window_time_zone": 1}, InvalidArgumentError, ["window_time_zone"]),
    ],
)
def test_bad_meter_queries(
    om: OpenMeter, kwargs: dict[str, Any], exc: type[Exception], names: list[str]
) -> None:
    with raises(exc, *names):
        om.meters.query("m1", **kwargs)


# -- subjects and portal ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        ({"key": "c1", "name": "ACME"}, InvalidArgumentError, ["name"]),
        ({"key": 1}, InvalidArgumentError, ["subjects[0].key"]),
        ({"key": "c1", "displayName": 5}, InvalidArgumentError, ["subjects[0].display_name"]),
        ({"key": "c1", "metadata": {"seats": 5}}, InvalidArgumentError, ["subjects[0].metadata"]),
        (
            {"key": "c1", "currentPeriodStart": NAIVE},
            InvalidArgumentError,
            ["subjects[0].current_period_start", "naive"],
        ),
    ],
)
def test_bad_subjects(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.upsert([bad])


def test_bad_portal_tokens(om: OpenMeter) -> None:
    with raises(InvalidArgumentError, "subjekt"):
        om.portal.create_token({"subjekt": "c1"})
    with raises(InvalidArgumentError, "expires_at", "naive"):
        om.portal.create_token(subject="c1", expires_at=NAIVE)
    with raises(InvalidArgumentError, "allowed_meter_slugs"):
        om.portal.create_token(subject="c1", allowed_meter_slugs=[1])


# -- features, entitlements, grants ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        ({"key": "f", "name": "F", "meter": "m1"}, InvalidArgumentError, ["meter"]),
        ({"key": "f", "name": 1}, InvalidArgumentError, ["feature.name"]),
        (
            {"key": "f", "name": "F", "meterGroupByFilters": {"model": 1}},
            InvalidArgumentError,
            ["feature.meter_group_by_filters"],
        ),
    ],
)
def test_bad_features(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.features.create(bad)


def metered(**changes: Any) -> dict[str, Any]:
    e: dict[str, Any] = {
        "type": "metered",
        "featureKey": "ai_tokens",
        "usagePeriod": {"interval": "MONTH"},
        "issueAfterReset": 100,
    }
    e.update(changes)
    return e


@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        (metered(type="unlimited"), InvalidArgumentError, ["entitlement.type", "unlimited"]),
        (metered(issueAfterReset="100"), InvalidArgumentError, ["entitlement.issue_after_reset"]),
        (
            metered(usagePeriod={"interval": "FORTNIGHT"}),
            InvalidArgumentError,
            ["entitlement.usage_period.interval"],
        ),
        (
            metered(usagePeriod={"interval": "MONTH", "anchor": NAIVE}),
            InvalidArgumentError,
            ["entitlement.usage_period.anchor", "naive"],
        ),
        (metered(usagePeriod={"every": "MONTH"}), InvalidArgumentError, ["every"]),
        (metered(isSoftLimit="yes"), InvalidArgumentError, ["entitlement.is_soft_limit"]),
        (metered(config="{}"), InvalidArgumentError, ["config"]),
        (
            {"type": "boolean", "featureKey": "sso", "usagePeriod": {"interval": "MONTH"}},
            InvalidArgumentError,
            ["usagePeriod"],
        ),
        # Names the key inside config; "entitlement.config" too once _subject_entitlements passes what= to to_json_text.
        (
            {"type": "static", "featureKey": "seats", "config": {"seats": object()}},
            InvalidArgumentError,
            ["['seats']"],
        ),
    ],
)
def test_bad_entitlements(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.create_entitlement("c1", bad)


@pytest.mark.parametrize(
    ("bad", "exc", "names"),
    [
        ({"amount": "100"}, InvalidArgumentError, ["grant.amount"]),
        ({"amount": True}, InvalidArgumentError, ["grant.amount"]),
        ({"amount": 100, "priority": 1.5}, InvalidArgumentError, ["grant.priority"]),
        ({"amount": 100, "effectiveAt": NAIVE}, InvalidArgumentError, ["grant.effective_at", "naive"]),
        (
            {"amount": 100, "expiration": {"duration": "FORTNIGHT", "count": 1}},
            InvalidArgumentError,
            ["grant.expiration.duration"],
        ),
        (
            {"amount": 100, "expiration": {"duration": "HOUR", "count": "12"}},
            InvalidArgumentError,
            ["grant.expiration.count"],
        ),
        ({"amount": 100, "rollover": 5}, InvalidArgumentError, ["rollover"]),
    ],
)
def test_bad_grants(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.create_entitlement_grant("c1", "ai_tokens", bad)


def test_bad_entitlement_value_time(om: OpenMeter) -> None:
    with raises(InvalidArgumentError, "time", "naive"):
        om.subjects.get_entitlement_value("c1", "ai_tokens", NAIVE)


# -- the async client shares the checks ------------------------------------------------------------------
async def _async_checks() -> None:
    async with AsyncOpenMeter(f"127.0.0.1:{free_port()}", timeout=2) as client:
        with raises(InvalidArgumentError, "event.time", "naive"):
            await client.events.ingest(event(time=NAIVE))
        with raises(InvalidArgumentError, "window_size"):
            await client.meters.query("m1", window_size="WEEK")
        with raises(InvalidArgumentError, "grant.amount"):
            await client.subjects.create_entitlement_grant("c1", "ai_tokens", {"amount": "1"})


def test_async_client_checks_before_sending() -> None:
    import asyncio

    asyncio.run(_async_checks())


def test_a_valid_request_does_reach_the_network(om: OpenMeter) -> None:
    """The control: with nothing listening, a valid call gets as far as UNAVAILABLE."""
    with pytest.raises(UnavailableError):
        om.meters.get("m1", timeout=10)
