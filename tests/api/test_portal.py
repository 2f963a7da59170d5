"""Portal tokens and the portal meter query through the real server and client."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from meterd.client import (
    AsyncOpenMeter,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    PermissionDeniedError,
    WindowSize,
)
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import common_pb2, meters_pb2

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # the clocked server's start
SECRET = "portal-secret-for-tests-0123456789abcdef"
METERS = [
    {
        "slug": "api_calls",
        "eventType": "api-calls",
        "aggregation": "SUM",
        "valueProperty": "$.n",
        "groupBy": {"method": "$.method"},
    },
    {"slug": "logins", "eventType": "login", "aggregation": "COUNT"},
]


def ts(t: Any) -> datetime:
    return t if isinstance(t, datetime) else t.ToDatetime(tzinfo=UTC)


def claims_of(text: str) -> dict[str, Any]:
    return jwt.decode(text, SECRET, algorithms=["HS256"], options={"verify_exp": False}, issuer="meterd")


@pytest.fixture
def meter_config(server_config: Config) -> Config:
    server_config.meters = METERS
    server_config.portal_secret = SECRET
    return server_config


def portal_client(server: MeterdServer, token: str) -> OpenMeter:
    return OpenMeter(server.address, portal_token=token, timeout=30)


# -- tokens ------------------------------------------------------------------------------------------------
def test_create_token_defaults_to_one_hour_and_all_meters(
    meter_config: Config, clocked_om: OpenMeter
) -> None:
    token = clocked_om.portal.create_token(subject="customer-1")
    assert len(token.id) == 26
    assert token.subject == "customer-1"
    assert list(token.allowed_meter_slugs) == []
    assert ts(token.created_at) == T0
    assert ts(token.expires_at) == T0 + timedelta(hours=1)
    assert not token.expired and not token.invalidated
    claims = claims_of(token.token)
    assert claims == {
        "iss": "meterd",
        "sub": "customer-1",
        "jti": token.id,
        "iat": int(T0.timestamp()),
        "exp": int((T0 + timedelta(hours=1)).timestamp()),
    }


def test_create_token_with_slugs_and_expiry(meter_config: Config, clocked_om: OpenMeter) -> None:
    expires = T0 + timedelta(days=2, seconds=30)
    token = clocked_om.portal.create_token(
        subject="c1", allowed_meter_slugs=["api_calls", "logins"], expires_at=expires
    )
    assert list(token.allowed_meter_slugs) == ["api_calls", "logins"]
    assert ts(token.expires_at) == expires
    assert claims_of(token.token)["allowed_meter_slugs"] == ["api_calls", "logins"]
    # The SDK's dict shape, camelCase keys, RFC 3339 time.
    same = clocked_om.portal.create_token(
        {"subject": "c1", "allowedMeterSlugs": ["logins"], "expiresAt": "2024-01-01T00:30:00Z"}
    )
    assert list(same.allowed_meter_slugs) == ["logins"]
    assert ts(same.expires_at) == T0 + timedelta(minutes=30)


@pytest.fixture
def short_ttl(server_config: Config) -> Config:
    server_config.portal_token_ttl_seconds = 90
    return server_config


def test_token_ttl_is_configurable(short_ttl: Config, clocked_om: OpenMeter) -> None:
    token = clocked_om.portal.create_token(subject="c1")
    assert ts(token.expires_at) == T0 + timedelta(seconds=90)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"subject": ""}, "subject"),
        ({"subject": "s" * 257}, "subject"),
        ({"subject": "c1", "allowed_meter_slugs": ["Not-A-Slug"]}, "allowed_meter_slugs[0]"),
        ({"subject": "c1", "allowed_meter_slugs": ["a", "b", "a"]}, "allowed_meter_slugs[2]"),
        ({"subject": "c1", "expires_at": T0 - timedelta(seconds=1)}, "expires_at"),
        ({"subject": "c1", "expires_at": T0}, "expires_at"),
    ],
)
def test_bad_token_requests_are_invalid_argument(
    clocked_om: OpenMeter, kwargs: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        clocked_om.portal.create_token(**kwargs)
    assert [v.field for v in info.value.violations] == [field]
    assert clocked_om.portal.list_tokens(include_invalid=True) == []


def test_client_refuses_bad_token_arguments(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match="subject: is required"):
        om.portal.create_token()
    with pytest.raises(InvalidArgumentError, match="unknown key"):
        om.portal.create_token({"subject": "c1", "meters": ["x"]})
    with pytest.raises(InvalidArgumentError, match="not both"):
        om.portal.create_token({"subject": "c1"}, subject="c2")
    with pytest.raises(InvalidArgumentError):
        om.portal.create_token(subject="c1", allowed_meter_slugs=[1])
    with pytest.raises(InvalidArgumentError, match="naive"):
        om.portal.create_token(subject="c1", expires_at=datetime(2030, 1, 1))


def test_list_tokens_newest_first_with_filters_and_flags(clocked_om: OpenMeter, clock: Any) -> None:
    om = clocked_om
    a = om.portal.create_token(subject="c1", expires_at=T0 + timedelta(minutes=10))
    clock.advance(seconds=1)
    b = om.portal.create_token(subject="c2")
    clock.advance(seconds=1)
    c = om.portal.create_token(subject="c1")
    clock.advance(seconds=1)
    d = om.portal.create_token(subject="c1")
    assert [t.id for t in om.portal.list_tokens()] == [d.id, c.id, b.id, a.id]
    assert all(t.token == "" for t in om.portal.list_tokens())  # never the signed text
    assert [t.id for t in om.portal.list_tokens(subject="c1")] == [d.id, c.id, a.id]

    om.portal.invalidate_tokens(id=c.id)
    clock.set(T0 + timedelta(minutes=10))  # a expires
    assert [t.id for t in om.portal.list_tokens()] == [d.id, b.id]
    listed = {t.id: t for t in om.portal.list_tokens(include_invalid=True)}
    assert list(listed) == [d.id, c.id, b.id, a.id]
    assert (listed[a.id].expired, listed[a.id].invalidated) == (True, False)
    assert (listed[c.id].expired, listed[c.id].invalidated) == (False, True)
    assert (listed[d.id].expired, listed[d.id].invalidated) == (False, False)

    first = om.portal.list_tokens_page(limit=3, include_invalid=True)
    second = om.portal.list_tokens_page(limit=3, include_invalid=True, page_token=first.next_page_token)
    assert [t.id for t in first.tokens] == [d.id, c.id, b.id]
    assert [t.id for t in second.tokens] == [a.id] and second.next_page_token == ""


def test_invalidate_by_id_subject_and_all_reports_counts(om: OpenMeter) -> None:
    a1 = om.portal.create_token(subject="a")
    om.portal.create_token(subject="a")
    om.portal.create_token(subject="b")
    om.portal.create_token(subject="c")
    assert om.portal.invalidate_tokens(id=a1.id) == 1
    assert om.portal.invalidate_tokens(id=a1.id) == 0  # already invalidated
    assert om.portal.invalidate_tokens(subject="a") == 1
    assert om.portal.invalidate_tokens(subject="nobody") == 0
    assert [t.subject for t in om.portal.list_tokens()] == ["c", "b"]
    assert om.portal.invalidate_tokens() == 2
    assert om.portal.list_tokens() == []
    assert all(t.invalidated for t in om.portal.list_tokens(include_invalid=True))


def test_invalidate_unknown_token_is_not_found(om: OpenMeter) -> None:
    token = om.portal.create_token(subject="a")
    with pytest.raises(NotFoundError):
        om.portal.invalidate_tokens(id="01HZZZZZZZZZZZZZZZZZZZZZZZ")
    with pytest.raises(NotFoundError):
        om.portal.invalidate_tokens(subject="b", id=token.id)  # not b's token
    assert om.portal.invalidate_tokens(subject="a", id=token.id) == 1


# -- the portal query ----------------------------------------------------------------------------------
def ingest_usage(om: OpenMeter) -> None:
    base = T0 - timedelta(hours=3)
    om.events.ingest(
        [
            {
                "id": "1",
                "source": "t",
                "type": "api-calls",
                "subject": "c1",
                "time": base,
                "data": {"n": 2, "method": "GET"},
            },
            {
                "id": "2",
                "source": "t",
                "type": "api-calls",
                "subject": "c1",
                "time": base + timedelta(hours=1),
                "data": {"n": 3, "method": "POST"},
            },
            {
                "id": "3",
                "source": "t",
                "type": "api-calls",
                "subject": "c2",
                "time": base,
                "data": {"n": 100, "method": "GET"},
            },
            {"id": "4", "source": "t", "type": "login", "subject": "c1", "time": base},
            {"id": "5", "source": "t", "type": "login", "subject": "c2", "time": base},
        ]
    )


def test_portal_query_sees_only_the_tokens_subject(
    meter_config: Config, clocked_server: MeterdServer, clocked_om: OpenMeter
) -> None:
    ingest_usage(clocked_om)
    token = clocked_om.portal.create_token(subject="c1").token
    window = {"from_": T0 - timedelta(hours=4), "to": T0}
    with portal_client(clocked_server, token) as portal:
        total = portal.portal.query_meter("api_calls", **window)
        assert [r.value for r in total.rows] == [5.0]  # c2's 100 is not there
        by_subject = portal.portal.query_meter("api_calls", group_by=["subject"], **window)
        assert [(r.subject, r.value) for r in by_subject.rows] == [("c1", 5.0)]
        hourly = portal.portal.query_meter(
            "api_calls", window_size=WindowSize.HOUR, group_by="method", **window
        )
        assert [(ts(r.window_start), r.group_by["method"], r.value) for r in hourly.rows] == [
            (T0 - timedelta(hours=3), "GET", 2.0),
            (T0 - timedelta(hours=2), "POST", 3.0),
        ]
        assert hourly.window_size == WindowSize.HOUR
        filtered = portal.portal.query_meter("api_calls", filter_group_by={"method": "POST"}, **window)
        assert [r.value for r in filtered.rows] == [3.0]
        assert [r.value for r in portal.portal.query_meter("logins", **window).rows] == [1.0]
    # The admin view for comparison: both subjects.
    admin = clocked_om.meters.query("api_calls", group_by=["subject"], **window)
    assert sorted((r.subject, r.value) for r in admin.rows) == [("c1", 5.0), ("c2", 100.0)]


def test_portal_query_refuses_meters_outside_the_allowed_list(
    meter_config: Config, clocked_server: MeterdServer, clocked_om: OpenMeter
) -> None:
    ingest_usage(clocked_om)
    token = clocked_om.portal.create_token(subject="c1", allowed_meter_slugs=["logins"]).token
    with portal_client(clocked_server, token) as portal:
        with pytest.raises(PermissionDeniedError, match="api_calls"):
            portal.portal.query_meter("api_calls", from_=T0 - timedelta(hours=4), to=T0)
        rows = portal.portal.query_meter("logins", from_=T0 - timedelta(hours=4), to=T0).rows
        assert [r.value for r in rows] == [1.0]


class RecordingMeterServicer:
    """Stands in for MeterService to check exactly what the portal delegates."""

    def __init__(self) -> None:
        self.requests: list[meters_pb2.QueryMeterRequest] = []

    def QueryMeter(
        self, request: meters_pb2.QueryMeterRequest, context: Any
    ) -> meters_pb2.QueryMeterResponse:
        self.requests.append(request)
        response = meters_pb2.QueryMeterResponse(window_size=request.window_size)
        response.from_time.CopyFrom(request.from_time)
        response.to_time.CopyFrom(request.to_time)
        response.rows.add(value=7.0, subject=request.subject[0])
        return response


@pytest.fixture
def recording(server: MeterdServer) -> Iterator[RecordingMeterServicer]:
    fake = RecordingMeterServicer()
    real = server.servicers.portal.meters
    server.servicers.portal.meters = fake  # the portal delegates to the servicer it holds
    yield fake
    server.servicers.portal.meters = real


def test_portal_query_forces_the_subject_and_passes_every_other_field(
    server: MeterdServer, om: OpenMeter, recording: RecordingMeterServicer
) -> None:
    token = om.portal.create_token(subject="c1").token
    with portal_client(server, token) as portal:
        reply = portal.portal.query_meter(
            "api_calls",
            from_="2024-01-01T00:00:00Z",
            to="2024-01-02T00:00:00Z",
            window_size="day",
            window_time_zone="Europe/Budapest",
            group_by=["method", "subject"],
            filter_group_by={"method": "GET"},
        )
    [sent] = recording.requests
    assert sent.meter == "api_calls"
    assert list(sent.subject) == ["c1"]
    assert ts(sent.from_time) == T0 and ts(sent.to_time) == T0 + timedelta(days=1)
    assert sent.window_size == common_pb2.WINDOW_SIZE_DAY
    assert sent.window_time_zone == "Europe/Budapest"
    assert list(sent.group_by) == ["method", "subject"]
    assert dict(sent.filter_group_by) == {"method": "GET"}
    assert [(r.subject, r.value) for r in reply.rows] == [("c1", 7.0)]
    assert ts(reply.from_time) == T0 and reply.window_size == WindowSize.DAY


def test_portal_query_without_range_leaves_defaults_to_the_meter_query(
    server: MeterdServer, om: OpenMeter, recording: RecordingMeterServicer
) -> None:
    token = om.portal.create_token(subject="c1").token
    with portal_client(server, token) as portal:
        portal.portal.query_meter("api_calls")
    [sent] = recording.requests
    assert not sent.HasField("from_time") and not sent.HasField("to_time")
    assert list(sent.subject) == ["c1"]


def test_portal_query_needs_a_meter(server: MeterdServer, om: OpenMeter) -> None:
    token = om.portal.create_token(subject="c1").token
    with portal_client(server, token) as portal, pytest.raises(InvalidArgumentError) as info:
        portal.portal.query_meter("")
    assert info.value.violations[0].field == "meter"


def test_async_portal(meter_config: Config, clocked_server: MeterdServer, clocked_om: OpenMeter) -> None:
    ingest_usage(clocked_om)

    async def session() -> None:
        async with AsyncOpenMeter(clocked_server.address) as om:
            token = await om.portal.create_token(subject="c1", allowed_meter_slugs=["logins"])
            assert [t.id for t in await om.portal.list_tokens()] == [token.id]
            async with AsyncOpenMeter(clocked_server.address, portal_token=token.token) as portal:
                with pytest.raises(PermissionDeniedError):
                    await portal.portal.query_meter("api_calls")
                reply = await portal.portal.query_meter("logins", from_=T0 - timedelta(hours=4), to=T0)
                assert [r.value for r in reply.rows] == [1.0]
            assert await om.portal.invalidate_tokens(subject="c1") == 1
            assert await om.portal.list_tokens() == []

    asyncio.run(session())


def test_portal_query_of_an_unknown_meter_is_not_found(server: MeterdServer, om: OpenMeter) -> None:
    # The portal servicer delegates to the meter servicer; the status that one aborts with must come
    # through as it is, not as INTERNAL.
    token = om.portal.create_token(subject="c1").token
    with OpenMeter(server.address, portal_token=token) as customer, pytest.raises(NotFoundError):
        customer.meters.query("no_such_meter")
