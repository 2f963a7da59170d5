"""Client-side validation: bad input raises ValueError/TypeError naming the key, before anything is sent.

The client points at a port where nothing listens; a request that got as far as the network would raise
UnavailableError instead, so every test here also proves that nothing was sent.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from support import free_port

from meterd.client import AsyncOpenMeter, OpenMeter, UnavailableError

AWARE = "2024-01-01T00:00:00Z"
NAIVE = datetime(2024, 1, 1)


@pytest.fixture(scope="module")
def om() -> Any:
    # No retries on UNAVAILABLE would matter: the calls below must never reach the channel.
    with OpenMeter(f"127.0.0.1:{free_port()}", timeout=2) as client:
        yield client


def event(**changes: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"id": "e1", "source": "s", "type": "prompt", "subject": "c1", "time": AWARE,
                         "data": {"tokens": 1}}
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
@pytest.mark.parametrize(("bad", "exc", "names"), [
    (event(colour="red"), ValueError, ["colour"]),
    (event(subject=None), ValueError, ["subject", "required"]),
    (event(id=1), TypeError, ["event.id"]),
    (event(subject=["c1"]), TypeError, ["event.subject"]),
    (event(time=NAIVE), ValueError, ["event.time", "naive"]),
    (event(time="yesterday"), ValueError, ["event.time", "RFC 3339"]),
    (event(time=1704067200), TypeError, ["event.time"]),
    (event(data={"x": object()}), TypeError, ["event.data"]),
    (event(data={"x": float("nan")}), ValueError, ["event.data"]),
    ("not an event", TypeError, ["event", "dict"]),
])
def test_bad_events(om: OpenMeter, bad: Any, exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.events.ingest(bad)


def test_bad_event_in_a_list_is_named_by_index(om: OpenMeter) -> None:
    with raises(TypeError, "events[1].type"):
        om.events.ingest([event(), event(type=7)])


def test_camel_and_snake_case_of_one_key_is_refused(om: OpenMeter) -> None:
    with raises(ValueError, "dataContentType"):
        om.events.ingest(event(datacontenttype="application/json", dataContentType="application/json"))


def test_stream_send_checks_before_sending(om: OpenMeter) -> None:
    stream = om.events.stream()
    with raises(ValueError, "event.time", "naive"):
        stream.send(event(time=NAIVE))
    assert stream.unacknowledged == []


def test_events_list_filters(om: OpenMeter) -> None:
    with raises(ValueError, "from_", "naive"):
        om.events.list(from_=NAIVE)
    with raises(TypeError, "subject"):
        om.events.list(subject=[1])
    with raises(TypeError, "limit"):
        om.events.list(limit="10")


# -- meters ----------------------------------------------------------------------------------------------
def meter(**changes: Any) -> dict[str, Any]:
    m: dict[str, Any] = {"slug": "m1", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}
    m.update(changes)
    return m


@pytest.mark.parametrize(("bad", "exc", "names"), [
    (meter(windowSize="MONTH"), ValueError, ["meter.window_size", "MONTH"]),
    (meter(windowSize="FORTNIGHT"), ValueError, ["meter.window_size", "FORTNIGHT"]),
    (meter(aggregation="MEDIAN"), ValueError, ["meter.aggregation", "MEDIAN"]),
    (meter(aggregation=3), ValueError, ["meter.aggregation"]),
    (meter(slug=1), TypeError, ["meter.slug"]),
    (meter(groupBy={"model": 1}), TypeError, ["meter.group_by"]),
    (meter(groupBy=["model"]), TypeError, ["meter.group_by"]),
    ({"slug": "m1", "aggregation": "SUM"}, ValueError, ["event_type", "required"]),
])
def test_bad_meters(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.meters.create(bad)


@pytest.mark.parametrize(("kwargs", "exc", "names"), [
    ({"window_size": "WEEK"}, ValueError, ["window_size", "WEEK"]),
    ({"window_size": "MONTH"}, ValueError, ["window_size", "MONTH"]),
    ({"from_": NAIVE}, ValueError, ["from_", "naive"]),
    ({"to": "2024-13-01T00:00:00Z"}, ValueError, ["to"]),
    ({"subject": [1]}, TypeError, ["subject"]),
    ({"group_by": ["model", None]}, TypeError, ["group_by"]),
    ({"filter_group_by": {"model": 1}}, TypeError, ["filter_group_by"]),
    ({"window_time_zone": 1}, TypeError, ["window_time_zone"]),
])
def test_bad_meter_queries(om: OpenMeter, kwargs: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.meters.query("m1", **kwargs)


# -- subjects and portal ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("bad", "exc", "names"), [
    ({"key": "c1", "name": "ACME"}, ValueError, ["name"]),
    ({"key": 1}, TypeError, ["subjects[0].key"]),
    ({"key": "c1", "displayName": 5}, TypeError, ["subjects[0].display_name"]),
    ({"key": "c1", "metadata": {"seats": 5}}, TypeError, ["subjects[0].metadata"]),
    ({"key": "c1", "currentPeriodStart": NAIVE}, ValueError, ["subjects[0].current_period_start", "naive"]),
])
def test_bad_subjects(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.upsert([bad])


def test_bad_portal_tokens(om: OpenMeter) -> None:
    with raises(ValueError, "subjekt"):
        om.portal.create_token({"subjekt": "c1"})
    with raises(ValueError, "expires_at", "naive"):
        om.portal.create_token(subject="c1", expires_at=NAIVE)
    with raises(TypeError, "allowed_meter_slugs"):
        om.portal.create_token(subject="c1", allowed_meter_slugs=[1])


# -- features, entitlements, grants ----------------------------------------------------------------------
@pytest.mark.parametrize(("bad", "exc", "names"), [
    ({"key": "f", "name": "F", "meter": "m1"}, ValueError, ["meter"]),
    ({"key": "f", "name": 1}, TypeError, ["feature.name"]),
    ({"key": "f", "name": "F", "meterGroupByFilters": {"model": 1}}, TypeError, ["feature.meter_group_by_filters"]),
])
def test_bad_features(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.features.create(bad)


def metered(**changes: Any) -> dict[str, Any]:
    e: dict[str, Any] = {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "MONTH"},
                         "issueAfterReset": 100}
    e.update(changes)
    return e


@pytest.mark.parametrize(("bad", "exc", "names"), [
    (metered(type="unlimited"), ValueError, ["entitlement.type", "unlimited"]),
    (metered(issueAfterReset="100"), TypeError, ["entitlement.issue_after_reset"]),
    (metered(usagePeriod={"interval": "FORTNIGHT"}), ValueError, ["entitlement.usage_period.interval"]),
    (metered(usagePeriod={"interval": "MONTH", "anchor": NAIVE}), ValueError,
     ["entitlement.usage_period.anchor", "naive"]),
    (metered(usagePeriod={"every": "MONTH"}), ValueError, ["every"]),
    (metered(isSoftLimit="yes"), TypeError, ["entitlement.is_soft_limit"]),
    (metered(config="{}"), ValueError, ["config"]),
    ({"type": "boolean", "featureKey": "sso", "usagePeriod": {"interval": "MONTH"}}, ValueError, ["usagePeriod"]),
    # Names the key inside config; "entitlement.config" too once _subject_entitlements passes what= to to_json_text.
    ({"type": "static", "featureKey": "seats", "config": {"seats": object()}}, TypeError, ["['seats']"]),
])
def test_bad_entitlements(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.create_entitlement("c1", bad)


@pytest.mark.parametrize(("bad", "exc", "names"), [
    ({"amount": "100"}, TypeError, ["grant.amount"]),
    ({"amount": True}, TypeError, ["grant.amount"]),
    ({"amount": 100, "priority": 1.5}, TypeError, ["grant.priority"]),
    ({"amount": 100, "effectiveAt": NAIVE}, ValueError, ["grant.effective_at", "naive"]),
    ({"amount": 100, "expiration": {"duration": "FORTNIGHT", "count": 1}}, ValueError,
     ["grant.expiration.duration"]),
    ({"amount": 100, "expiration": {"duration": "HOUR", "count": "12"}}, TypeError, ["grant.expiration.count"]),
    ({"amount": 100, "rollover": 5}, ValueError, ["rollover"]),
])
def test_bad_grants(om: OpenMeter, bad: dict[str, Any], exc: type[Exception], names: list[str]) -> None:
    with raises(exc, *names):
        om.subjects.create_entitlement_grant("c1", "ai_tokens", bad)


def test_bad_entitlement_value_time(om: OpenMeter) -> None:
    with raises(ValueError, "time", "naive"):
        om.subjects.get_entitlement_value("c1", "ai_tokens", NAIVE)


# -- the async client shares the checks ------------------------------------------------------------------
async def _async_checks() -> None:
    async with AsyncOpenMeter(f"127.0.0.1:{free_port()}", timeout=2) as client:
        with raises(ValueError, "event.time", "naive"):
            await client.events.ingest(event(time=NAIVE))
        with raises(ValueError, "window_size"):
            await client.meters.query("m1", window_size="WEEK")
        with raises(TypeError, "grant.amount"):
            await client.subjects.create_entitlement_grant("c1", "ai_tokens", {"amount": "1"})


def test_async_client_checks_before_sending() -> None:
    import asyncio

    asyncio.run(_async_checks())


def test_a_valid_request_does_reach_the_network(om: OpenMeter) -> None:
    """The control: with nothing listening, a valid call gets as far as UNAVAILABLE."""
    with pytest.raises(UnavailableError):
        om.meters.get("m1", timeout=0.5)
