"""What a user of the Python client sees: results as Python values (datetimes, enums, dicts, None for unset
fields) with OpenMeter's JSON shape from ``to_dict()``; configuration from METERD_TARGET/METERD_API_KEY;
one exception hierarchy for the client's checks and the server's answers; OpenMeter's camelCase option
names. Against the real server."""

from __future__ import annotations

import asyncio
import json
import pickle
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meterd.client import (
    Aggregation,
    AsyncOpenMeter,
    EventOutcome,
    InvalidArgumentError,
    MeterdError,
    NotFoundError,
    OpenMeter,
    PeriodInterval,
    Result,
    UnauthenticatedError,
    WindowSize,
)
from meterd.client._results import enum_class, own_names
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import (
    common_pb2,
    entitlements_pb2,
    events_pb2,
    features_pb2,
    grants_pb2,
    meters_pb2,
    portal_pb2,
    subjects_pb2,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)
MODULES = (
    common_pb2,
    entitlements_pb2,
    events_pb2,
    features_pb2,
    grants_pb2,
    meters_pb2,
    portal_pb2,
    subjects_pb2,
)


@pytest.fixture
def tokens(om: OpenMeter) -> Result[meters_pb2.Meter]:
    meter = om.meters.create(
        {
            "slug": "tokens",
            "eventType": "prompt",
            "aggregation": "SUM",
            "valueProperty": "$.tokens",
            "groupBy": {"model": "$.model"},
        }
    )
    om.events.ingest(
        [
            {
                "id": f"e{i}",
                "source": "s",
                "type": "prompt",
                "subject": "c1",
                "time": T0 + timedelta(minutes=i),
                "data": {"tokens": 10 * (i + 1), "model": "gpt" if i % 2 else "llama"},
            }
            for i in range(3)
        ]
    )
    return meter


# -- results ---------------------------------------------------------------------------------------------
def test_results_are_python_values(om: OpenMeter, tokens: Result[meters_pb2.Meter]) -> None:
    assert tokens.aggregation is Aggregation.SUM and tokens.aggregation == "SUM"
    assert tokens.group_by == {"model": "$.model"} and type(tokens.group_by) is dict
    assert isinstance(tokens.created_at, datetime) and tokens.created_at.tzinfo is UTC

    result = om.meters.query(
        "tokens", from_=T0, to=T0 + timedelta(hours=1), window_size="HOUR", group_by=["model"]
    )
    assert (result.from_time, result.to_time, result.window_size) == (
        T0,
        T0 + timedelta(hours=1),
        WindowSize.HOUR,
    )
    rows = sorted(result.rows, key=lambda r: r.group_by["model"])
    assert [(r.group_by, r.value, r.window_start, r.subject) for r in rows] == [
        ({"model": "gpt"}, 20.0, T0, None),
        ({"model": "llama"}, 40.0, T0, None),
    ]
    reply = om.events.ingest({"id": "e0", "source": "s", "type": "prompt", "subject": "c1", "time": T0})
    assert [r.outcome for r in reply.results] == [EventOutcome.DUPLICATE]


def test_unset_fields_are_none_and_oneofs_name_their_member(om: OpenMeter, tokens: Any) -> None:
    subject = om.subjects.upsert({"key": "c1"})[0]
    assert subject.display_name is None and subject.current_period_start is None and subject.metadata == {}
    om.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    entitlement = om.subjects.create_entitlement(
        "c1", {"type": "metered", "featureKey": "ai", "usagePeriod": {"interval": "MONTH", "anchor": T0}}
    )
    assert entitlement.type == "metered" and entitlement.boolean is None and entitlement.static is None
    assert entitlement.metered.usage_period.interval is PeriodInterval.MONTH
    assert entitlement.metered.usage_period.anchor == T0
    assert entitlement.metered.issue_after_reset is None and entitlement.deleted_at is None
    assert entitlement.HasField("metered") and entitlement.WhichOneof("type") == "metered"


def test_to_dict_is_openmeters_json_shape(om: OpenMeter, tokens: Result[meters_pb2.Meter]) -> None:
    meter = tokens.to_dict()
    assert meter["eventType"] == "prompt" and meter["valueProperty"] == "$.tokens"
    assert meter["aggregation"] == "SUM" and meter["groupBy"] == {"model": "$.model"}
    assert meter["createdAt"].endswith("Z")

    result = om.meters.query("tokens", from_=T0, to=T0 + timedelta(hours=1), window_size="HOUR").to_dict()
    assert result == {
        "from": "2024-01-01T00:00:00Z",
        "to": "2024-01-01T01:00:00Z",
        "windowSize": "HOUR",
        "data": [
            {
                "value": 60.0,
                "windowStart": "2024-01-01T00:00:00Z",
                "windowEnd": "2024-01-01T01:00:00Z",
                "groupBy": {},
            }
        ],
    }

    [stored] = om.events.list(id="e1")
    event = stored.to_dict()["event"]
    assert event["data"] == {"tokens": 20, "model": "gpt"}  # the object, as OpenMeter lists it
    assert event["time"] == "2024-01-01T00:01:00Z" and event["specversion"] == "1.0"

    om.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    entitlement = om.subjects.create_entitlement(
        "c1",
        {
            "type": "metered",
            "featureKey": "ai",
            "usagePeriod": {"interval": "DAY", "anchor": T0},
            "issueAfterReset": 100,
            "measureUsageFrom": T0,
        },
    ).to_dict()
    assert entitlement["type"] == "metered" and entitlement["featureKey"] == "ai"
    assert entitlement["usagePeriod"] == {"interval": "DAY", "anchor": "2024-01-01T00:00:00Z"}
    assert entitlement["issueAfterReset"] == 100 and entitlement["subjectKey"] == "c1"
    assert set(entitlement["currentUsagePeriod"]) == {"from", "to"}
    assert "metered" not in entitlement and "deletedAt" not in entitlement
    json.dumps(entitlement)  # JSON-ready as it is


def test_printing_comparing_and_the_wire_message(om: OpenMeter, tokens: Result[meters_pb2.Meter]) -> None:
    text = repr(tokens)
    assert text.startswith("Meter(") and "slug='tokens'" in text and "aggregation=SUM" in text
    assert f"created_at={tokens.created_at.isoformat().replace('+00:00', 'Z')}" in text
    assert str(tokens) == text
    assert isinstance(tokens.proto, meters_pb2.Meter) and tokens.proto.slug == "tokens"
    assert om.meters.get("tokens") == tokens and om.meters.get("tokens") != om.meters.list()
    assert pickle.loads(pickle.dumps(tokens)) == tokens
    with pytest.raises(AttributeError, match="has no field 'slgu'"):
        _ = tokens.slgu
    with pytest.raises(AttributeError):  # read-only
        tokens.slug = "x"
    # A result goes back in as a request's resource.
    assert (
        om.subjects.upsert(om.subjects.upsert({"key": "c9", "displayName": "Nine"})[0].proto)[0].display_name
        == "Nine"
    )


def test_every_wire_enum_converts_and_no_field_shadows_the_result_api() -> None:
    for module in MODULES:
        for enum in module.DESCRIPTOR.enum_types_by_name.values():
            cls = enum_class(enum)
            assert len(cls) == len(enum.values) - 1, enum.full_name  # every value but *_UNSPECIFIED
        pending = list(module.DESCRIPTOR.message_types_by_name.values())
        while pending:
            message = pending.pop()
            pending.extend(message.nested_types)
            clash = own_names() & {f.name for f in message.fields}
            assert not clash, f"{message.full_name} has fields named like Result's own API: {clash}"


# -- configuration from the environment ------------------------------------------------------------------
def test_openmeter_reads_the_target_from_the_environment(
    server: MeterdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METERD_TARGET", server.address)
    with OpenMeter() as om:
        assert om.target == server.address and om.meters.list() == []


@pytest.fixture
def secured_server(server_config: Config) -> Iterator[MeterdServer]:
    server_config.admin_key = "s3cret"
    srv = MeterdServer(server_config).start()
    yield srv
    srv.stop(0)


def test_openmeter_reads_the_api_key_from_the_environment(
    secured_server: MeterdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METERD_TARGET", secured_server.address)
    monkeypatch.delenv("METERD_API_KEY", raising=False)
    with OpenMeter() as om, pytest.raises(UnauthenticatedError):
        om.meters.list()
    monkeypatch.setenv("METERD_API_KEY", "s3cret")
    with OpenMeter() as om:
        assert om.meters.list() == []
    with OpenMeter(api_key="wrong") as om, pytest.raises(UnauthenticatedError):  # an argument wins
        om.meters.list()


# -- one exception hierarchy -----------------------------------------------------------------------------
BAD_CALLS = [
    pytest.param(lambda om: om.meters.query("tokens", window_size="WEEK"), "window_size", id="client:enum"),
    pytest.param(
        lambda om: om.events.ingest({"id": 1, "source": "s", "type": "t", "subject": "c"}),
        "event.id",
        id="client:type",
    ),
    pytest.param(
        lambda om: om.events.ingest({"id": "a\ud800", "source": "s", "type": "t", "subject": "c"}),
        "event",
        id="client:utf8",
    ),
    pytest.param(
        lambda om: om.subjects.upsert({"key": "k", "displayName": "\udcff"}),
        "subject",
        id="client:utf8-nested",
    ),
    pytest.param(lambda om: om.meters.list(limit=2**40), "list", id="client:range"),
    pytest.param(lambda om: om.meters.query("tokens", windowSise="HOUR"), "windowSise", id="client:option"),
    pytest.param(lambda om: om.meters.get(), "get", id="client:missing-argument"),
    pytest.param(
        lambda om: om.meters.query("tokens", from_=T0 + timedelta(seconds=30)), "from_time", id="server:field"
    ),
]


@pytest.mark.parametrize(("call", "field"), BAD_CALLS)
def test_one_except_catches_client_and_server_checks(
    om: OpenMeter, tokens: Any, call: Any, field: str
) -> None:
    try:
        call(om)
    except MeterdError as error:
        assert isinstance(error, InvalidArgumentError) and isinstance(error, ValueError)
        assert error.violations and field in error.violations[0].field + str(error), (error, error.violations)
    else:
        pytest.fail("no error")


def test_unknown_options_point_at_the_right_name(om: OpenMeter) -> None:
    with pytest.raises(InvalidArgumentError, match=r"did you mean window_size\?"):
        om.meters.query("tokens", windowSise="HOUR")
    with pytest.raises(InvalidArgumentError, match="given twice"):
        om.meters.query("tokens", window_size="HOUR", windowSize="HOUR")
    with pytest.raises(NotFoundError):
        om.meters.get("nope")


# -- OpenMeter's option names ----------------------------------------------------------------------------
def test_camel_case_options_and_the_sdk_options_dict(om: OpenMeter, tokens: Any) -> None:
    snake = om.meters.query(
        "tokens",
        from_=T0,
        to=T0 + timedelta(hours=1),
        window_size="MINUTE",
        group_by=["model"],
        filter_group_by={"model": "gpt"},
        window_time_zone="UTC",
    )
    camel = om.meters.query(
        "tokens",
        windowSize="MINUTE",
        groupBy=["model"],
        filterGroupBy={"model": "gpt"},
        windowTimeZone="UTC",
        **{"from": T0, "to": T0 + timedelta(hours=1)},
    )
    sdk = om.meters.query(
        "tokens",
        {
            "from": T0,
            "to": T0 + timedelta(hours=1),
            "windowSize": "MINUTE",
            "groupBy": ["model"],
            "filterGroupBy": {"model": "gpt"},
        },
    )
    assert snake == camel == sdk and [r.value for r in snake.rows] == [20.0]
    listed = om.events.list(**{"from": T0 + timedelta(minutes=1), "hasError": False})
    assert sorted(e.event.id for e in listed) == ["e1", "e2"]


def test_the_async_client_has_the_same_surface(
    server: MeterdServer, tokens: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METERD_TARGET", server.address)

    async def run() -> tuple[Any, Any, Any]:
        async with AsyncOpenMeter() as om:
            result = await om.meters.query(
                "tokens", {"from": T0, "to": T0 + timedelta(hours=1), "windowSize": "HOUR"}
            )
            try:
                await om.meters.query("tokens", windowSise="HOUR")
            except MeterdError as error:
                refused = error
            return result, await om.meters.get("tokens"), refused

    result, meter, refused = asyncio.run(run())
    assert result.window_size is WindowSize.HOUR and [(r.window_start, r.value) for r in result.rows] == [
        (T0, 60.0)
    ]
    assert meter.aggregation is Aggregation.SUM and meter.created_at.tzinfo is UTC
    assert isinstance(refused, InvalidArgumentError) and "did you mean window_size" in str(refused)
