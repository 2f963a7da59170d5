"""Every call is bounded and every error is clear (issue 11 § 5, § 6): meter queries and entitlement history
refuse answers beyond their documented size before doing the work (portal tokens included), the work stops
when the caller is gone, timestamps near or beyond the ends of time are INVALID_ARGUMENT naming the field,
page tokens are tamper-evident, and statuses stay small whatever the input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from meterd.client import InvalidArgumentError, NotFoundError, OpenMeter
from meterd.server import errors
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.meters import service as meter_service
from meterd.server.meters.service import MAX_QUERY_ROWS, MeterQuery
from meterd.v1 import (
    entitlements_pb2,
    entitlements_pb2_grpc,
    events_pb2,
    events_pb2_grpc,
    grants_pb2,
    grants_pb2_grpc,
    meters_pb2,
    meters_pb2_grpc,
    subjects_pb2,
    subjects_pb2_grpc,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


@pytest.fixture
def seeded(om: OpenMeter) -> OpenMeter:
    om.meters.create(
        {
            "slug": "tokens",
            "eventType": "prompt",
            "aggregation": "SUM",
            "valueProperty": "$.n",
            "groupBy": {"model": "$.model"},
        }
    )
    om.events.ingest(
        [
            {
                "id": f"e{i}",
                "source": "s",
                "type": "prompt",
                "subject": f"c{i % 3}",
                "time": T0 + timedelta(minutes=i),
                "data": {"n": 1, "model": f"m{i}"},
            }
            for i in range(30)
        ]
    )
    return om


def test_a_ten_year_minute_query_over_sparse_data_answers_its_rows(seeded: OpenMeter) -> None:
    """The bound is on the rows an answer has, not on the windows its range could have: 5 million MINUTE
    windows with 30 of them holding data answer 30 rows, exactly, quickly (as OpenMeter answers it)."""
    rows = seeded.meters.query(
        "tokens", from_=T0, to=T0.replace(year=2034), window_size="MINUTE", timeout=10
    ).rows
    assert [(r.window_start, r.window_end, r.value) for r in rows] == [
        (T0 + timedelta(minutes=i), T0 + timedelta(minutes=i + 1), 1.0) for i in range(30)
    ]
    # Without from/to (from the earliest data to now), in any zone: MINUTE windows are UTC minutes.
    assert (
        len(seeded.meters.query("tokens", window_size="MINUTE", window_time_zone="Asia/Kolkata").rows) == 30
    )
    by_subject = seeded.meters.query(
        "tokens",
        from_=T0,
        to=T0.replace(year=2034),
        window_size="MINUTE",
        group_by=["subject"],
        subject=["c1"],
    ).rows
    assert [r.window_start for r in by_subject] == [T0 + timedelta(minutes=i) for i in range(1, 30, 3)]
    hours = seeded.meters.query("tokens", from_=T0.replace(year=2000), window_size="HOUR", group_by=["model"])
    assert sum(r.value for r in hours.rows) == 30 and len(hours.rows) == 30


def test_the_same_range_by_day_is_answered(seeded: OpenMeter) -> None:
    rows = seeded.meters.query("tokens", from_=T0, to=T0.replace(year=2034), window_size="DAY").rows
    assert [r.value for r in rows] == [30.0]


def test_a_zone_with_daylight_saving_still_bounds_its_listed_windows(seeded: OpenMeter) -> None:
    """HOUR windows of a zone with transitions are listed ahead (their lengths vary): a range of more than
    MAX_QUERY_ROWS of them is refused at once, saying why and what works."""
    with pytest.raises(InvalidArgumentError) as exc:
        seeded.meters.query(
            "tokens",
            from_=T0,
            to=T0.replace(year=2040),
            window_size="HOUR",
            window_time_zone="Europe/Budapest",
            timeout=5,
        )
    assert [v.field for v in exc.value.violations] == ["window_size"]
    assert str(MAX_QUERY_ROWS) in exc.value.message and "daylight saving" in exc.value.message
    assert (
        sum(
            r.value
            for r in seeded.meters.query(
                "tokens",
                from_=T0,
                to=T0.replace(year=2034),
                window_size="DAY",
                window_time_zone="Europe/Budapest",
            ).rows
        )
        == 30
    )


def test_a_portal_token_meets_the_same_bound(
    seeded: OpenMeter, server: MeterdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = seeded.portal.create_token(subject="c1").token
    with OpenMeter(server.address, portal_token=token, timeout=5) as customer:
        rows = customer.meters.query("tokens", from_=T0, to=T0.replace(year=2034), window_size="MINUTE").rows
        assert len(rows) == 10
        monkeypatch.setattr(meter_service, "MAX_QUERY_ROWS", 5)  # the server runs in this process
        with pytest.raises(InvalidArgumentError) as exc:
            customer.meters.query("tokens", from_=T0, to=T0.replace(year=2034), window_size="MINUTE")
        assert [v.field for v in exc.value.violations] == ["window_size"]
        assert "more than 5 rows" in exc.value.message
        assert sum(r.value for r in customer.meters.query("tokens", window_size="DAY").rows) == 10.0


def test_windows_times_groups_over_the_limit_is_refused(
    seeded: OpenMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(meter_service, "MAX_QUERY_ROWS", 20)  # the server runs in this process
    end = T0 + timedelta(hours=1)
    assert len(seeded.meters.query("tokens", from_=T0, to=end, window_size="HOUR").rows) == 1
    with pytest.raises(InvalidArgumentError) as exc:
        seeded.meters.query("tokens", from_=T0, to=end, window_size="HOUR", group_by=["model"])  # 30 groups
    assert "more than 20 rows" in exc.value.message
    with pytest.raises(InvalidArgumentError):
        seeded.meters.query("tokens", from_=T0, to=end, window_size="MINUTE")  # 60 windows


def test_the_work_stops_when_the_caller_is_gone(server: MeterdServer, seeded: OpenMeter) -> None:
    """The domain loop calls the deadline check and stops at the first refusal (the servicer's check is the
    call's context: see rpc.deadline_check)."""
    service = server.services.meters
    calls = 0

    def check() -> None:
        nonlocal calls
        calls += 1
        if calls > 1:
            raise errors.DeadlineExceeded("gone")

    query = MeterQuery(meter="tokens", from_time=T0, to_time=T0 + timedelta(days=40), window_size=None)
    with pytest.raises(errors.DeadlineExceeded):
        service.query(query, check)
    assert calls == 2


def test_history_over_the_window_limit_is_refused(seeded: OpenMeter) -> None:
    seeded.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    seeded.subjects.create_entitlement(
        "c1",
        {"type": "metered", "featureKey": "ai", "usagePeriod": {"interval": "MONTH"}, "measureUsageFrom": T0},
    )
    with pytest.raises(InvalidArgumentError) as exc:
        seeded.subjects.get_entitlement_history(
            "c1", "ai", window_size="HOUR", from_=T0, to=T0.replace(year=2044), timeout=5
        )
    assert [v.field for v in exc.value.violations] == ["window_size"]
    history = seeded.subjects.get_entitlement_history(
        "c1", "ai", window_size="DAY", from_=T0, to=T0 + timedelta(days=2)
    )
    assert sum(r.usage for r in history.windowed_history) == 10.0
    for end in (datetime(9999, 12, 31, tzinfo=UTC), datetime(9999, 6, 1, tzinfo=UTC)):
        with pytest.raises(InvalidArgumentError) as exc:
            seeded.subjects.get_entitlement_history("c1", "ai", window_size="MONTH", from_=T0, to=end)
        assert [v.field for v in exc.value.violations] == ["to_time"]


@pytest.mark.parametrize("zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_window_edges_near_the_end_of_time(seeded: OpenMeter, zone: str) -> None:
    last_day = datetime(9998, 12, 31, tzinfo=UTC)
    end = datetime(9999, 1, 1, tzinfo=UTC)
    assert (
        seeded.meters.query("tokens", from_=last_day, to=end, window_size="DAY", window_time_zone=zone).rows
        == []
    )
    for from_, to in (
        (end, end + timedelta(days=1)),
        (datetime(9999, 12, 31, tzinfo=UTC), None),
        (datetime(1969, 12, 31, tzinfo=UTC), T0),
    ):
        with pytest.raises(InvalidArgumentError) as exc:
            seeded.meters.query("tokens", from_=from_, to=to, window_size="DAY", window_time_zone=zone)
        assert exc.value.violations and exc.value.violations[0].field in ("from_time", "to_time")


@pytest.fixture
def channel(server: MeterdServer) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server.address) as ch:
        yield ch


@pytest.mark.parametrize(
    ("seconds", "nanos"), [(2**63 - 1, 0), (-(2**63), 0), (253_402_300_800, 0), (0, -1), (0, 1_000_000_000)]
)
def test_every_request_timestamp_is_checked_and_named(
    seeded: OpenMeter, channel: grpc.Channel, seconds: int, nanos: int
) -> None:
    seeded.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    ent = seeded.subjects.create_entitlement(
        "c1", {"type": "metered", "featureKey": "ai", "usagePeriod": {"interval": "MONTH"}}
    )
    meters = meters_pb2_grpc.MeterServiceStub(channel)
    events = events_pb2_grpc.EventServiceStub(channel)
    subjects = subjects_pb2_grpc.SubjectServiceStub(channel)
    ents = entitlements_pb2_grpc.EntitlementServiceStub(channel)
    grants = grants_pb2_grpc.GrantServiceStub(channel)

    def bad(message: object, field: str) -> None:
        getattr(message, field).seconds = seconds
        getattr(message, field).nanos = nanos

    calls = []
    for field in ("from_time", "to_time"):
        q = meters_pb2.QueryMeterRequest(meter="tokens")
        bad(q, field)
        calls.append((meters.QueryMeter, q, field))
    for field in ("from_time", "to_time", "ingested_from_time", "ingested_to_time"):
        r = events_pb2.ListEventsRequest()
        bad(r, field)
        calls.append((events.ListEvents, r, field))
    for field in ("current_period_start", "current_period_end"):
        s = subjects_pb2.Subject(key="c9")
        bad(s, field)
        calls.append(
            (subjects.UpsertSubjects, subjects_pb2.UpsertSubjectsRequest(subjects=[s]), f"subject.{field}")
        )
    v = entitlements_pb2.GetEntitlementValueRequest(subject_key="c1", entitlement="ai")
    bad(v, "time")
    calls.append((ents.GetEntitlementValue, v, "time"))
    reset = entitlements_pb2.ResetEntitlementUsageRequest(subject_key="c1", entitlement="ai")
    bad(reset, "effective_at")
    calls.append((ents.ResetEntitlementUsage, reset, "effective_at"))
    for field in ("from_time", "to_time"):
        h = entitlements_pb2.GetEntitlementHistoryRequest(subject_key="c1", entitlement="ai", window_size=3)
        bad(h, field)
        calls.append((ents.GetEntitlementHistory, h, field))
    g = grants_pb2.CreateGrantRequest(subject_key="c1", entitlement="ai", grant=grants_pb2.Grant(amount=1))
    g.grant.expiration.duration, g.grant.expiration.count = grants_pb2.EXPIRATION_DURATION_DAY, 1
    bad(g.grant, "effective_at")
    calls.append((grants.CreateGrant, g, "grant.effective_at"))
    for call, request, field in calls:
        with pytest.raises(grpc.RpcError) as exc:
            call(request, timeout=10)
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, exc.value.details())
        assert field in exc.value.details(), (field, exc.value.details())
    assert ent.id


def test_page_tokens_are_tamper_evident(seeded: OpenMeter, tmp_path: Path) -> None:
    for i in range(3):
        seeded.meters.create({"slug": f"m{i}", "eventType": "x", "aggregation": "COUNT"})
    page = seeded.meters.list_page(limit=2)
    assert page.next_page_token
    assert [m.slug for m in seeded.meters.list_page(limit=2, page_token=page.next_page_token).meters] == [
        "m2",
        "tokens",
    ]
    payload, fingerprint, mac = page.next_page_token.split(".")
    forged = [
        "eyJ4IjoxfQ",  # base64 of a cursor, unsigned (what tokens used to be)
        f"{payload}.{fingerprint}.AAAAAAAAAAAAAAAAAAAAAA",
        f"{payload[:-2]}AA.{fingerprint}.{mac}",
        f"{payload}.AAAAAAAAAAA.{mac}",  # the fingerprint of other parameters, signed for these
        f"{payload}.{mac}",  # what a token looked like before it carried the fingerprint
        page.next_page_token + "x",
        "%%%",
        "a.b.c",
        "x" * 20_000,
    ]
    for token in forged:
        with pytest.raises(InvalidArgumentError) as exc:
            seeded.meters.list_page(limit=2, page_token=token)
        assert "invalid page_token" in exc.value.message and len(exc.value.message) < 200
    with pytest.raises(InvalidArgumentError):  # a token of another List method
        seeded.subjects.list_page(limit=2, page_token=page.next_page_token)
    other = MeterdServer(
        Config(listen="127.0.0.1:0", db=str(tmp_path / "other.db"), log_format="text")
    ).start()
    try:
        with OpenMeter(other.address, timeout=10) as om2:
            for i in range(3):
                om2.meters.create({"slug": f"m{i}", "eventType": "x", "aggregation": "COUNT"})
            with pytest.raises(InvalidArgumentError) as exc:  # a token of another database
                om2.meters.list_page(limit=2, page_token=page.next_page_token)
            assert "invalid page_token" in exc.value.message
    finally:
        other.stop(0)


def _first_page_token(om: OpenMeter, family: str) -> str:
    if family == "events":
        return om.events.list_page(limit=2).next_page_token
    om.subjects.upsert([{"key": f"k{i}"} for i in range(3)])
    return om.subjects.list_page(limit=2).next_page_token


def _list_with(om: OpenMeter, family: str, token: str) -> list[str]:
    if family == "events":
        return [e.event.id for e in om.events.list_page(limit=2, page_token=token).events]
    return [s.key for s in om.subjects.list_page(limit=2, page_token=token).subjects]


@pytest.mark.parametrize("family", ["events", "subjects"])
def test_event_and_subject_page_tokens_are_tamper_evident(
    seeded: OpenMeter, tmp_path: Path, family: str
) -> None:
    """ListEvents and ListSubjects use the same signed tokens as every other List: edited, cut, unsigned,
    foreign (another method, another database) tokens are INVALID_ARGUMENT "invalid page_token"."""
    token = _first_page_token(seeded, family)
    assert token
    assert _list_with(seeded, family, token) == (["e27", "e26"] if family == "events" else ["k2"])
    payload, fingerprint, mac = token.split(".")
    forged = [
        "eyJ4IjoxfQ",
        f"{payload}.{fingerprint}.AAAAAAAAAAAAAAAAAAAAAA",
        f"{payload[:-2]}AA.{fingerprint}.{mac}",
        f"{payload}.AAAAAAAAAAA.{mac}",
        token + "x",
        "%%%",
        "a.b.c",
        "x" * 20_000,
    ]
    seeded.meters.create({"slug": "m2", "eventType": "x", "aggregation": "COUNT"})
    forged.append(seeded.meters.list_page(limit=1).next_page_token)  # a token of another List method
    for bad in forged:
        with pytest.raises(InvalidArgumentError) as exc:
            _list_with(seeded, family, bad)
        assert "invalid page_token" in exc.value.message and len(exc.value.message) < 200, bad[:40]
        assert [v.field for v in exc.value.violations] == ["page_token"]
    other = MeterdServer(
        Config(listen="127.0.0.1:0", db=str(tmp_path / "other.db"), log_format="text")
    ).start()
    try:
        with OpenMeter(other.address, timeout=10) as om2:
            with pytest.raises(InvalidArgumentError) as exc:  # a token of another database
                _list_with(om2, family, token)
            assert "invalid page_token" in exc.value.message
    finally:
        other.stop(0)


def test_huge_input_in_errors_is_quoted_cut(seeded: OpenMeter, channel: grpc.Channel) -> None:
    with pytest.raises(NotFoundError) as exc:
        seeded.meters.get("x" * 20_000)
    assert len(exc.value.message) <= 1000
    with pytest.raises(InvalidArgumentError) as exc2:
        seeded.meters.query("tokens", window_time_zone="Z" * 20_000)
    assert len(exc2.value.message) <= 1000
    # 10,000 bad subjects: the status reports the first violations and how many more (it fits in metadata).
    subjects = subjects_pb2_grpc.SubjectServiceStub(channel)
    request = subjects_pb2.UpsertSubjectsRequest(
        subjects=[subjects_pb2.Subject(key="k" * 300) for _ in range(10_000)]
    )
    with pytest.raises(grpc.RpcError) as exc3:
        subjects.UpsertSubjects(request, timeout=30)
    assert exc3.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert len(exc3.value.details()) <= 1000
    events = events_pb2_grpc.EventServiceStub(channel)
    bad = [
        events_pb2.Event(id=f"{i}", source="s", specversion="2.0" + "x" * 1000, type="t", subject="c")
        for i in range(10_000)
    ]
    with pytest.raises(grpc.RpcError) as exc4:
        events.IngestEvents(events_pb2.IngestEventsRequest(events=bad), timeout=30)
    assert exc4.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "9990 more violations" in exc4.value.details()


def test_repeated_filters_are_bounded(seeded: OpenMeter) -> None:
    many = [f"c{i}" for i in range(1001)]
    assert seeded.meters.query("tokens", subject=many[:1000], from_=T0, to=T0 + timedelta(hours=1)).rows
    with pytest.raises(InvalidArgumentError) as exc:
        seeded.meters.query("tokens", subject=many)
    assert [v.field for v in exc.value.violations] == ["subject"]
    with pytest.raises(InvalidArgumentError):
        seeded.events.list(subject=many)


def test_entitlement_times_near_the_ends_of_time(seeded: OpenMeter) -> None:
    seeded.features.create({"key": "ai", "name": "AI", "meterSlug": "tokens"})
    for field, value in (
        ("measureUsageFrom", datetime(1, 1, 2, tzinfo=UTC)),
        ("measureUsageFrom", datetime(9999, 12, 31, tzinfo=UTC)),
    ):
        with pytest.raises(InvalidArgumentError) as exc:
            seeded.subjects.create_entitlement(
                "c1",
                {
                    "type": "metered",
                    "featureKey": "ai",
                    "issueAfterReset": 5,
                    "usagePeriod": {"interval": "DAY"},
                    field: value,
                },
            )
        assert exc.value.violations[0].field == "entitlement.metered.measure_usage_from"
    seeded.subjects.create_entitlement(
        "c1",
        {"type": "metered", "featureKey": "ai", "usagePeriod": {"interval": "DAY"}, "issueAfterReset": 5},
    )
    for at in (datetime(9999, 12, 31, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)):
        with pytest.raises(InvalidArgumentError) as exc:  # refused at once, not after replaying 2.5M days
            seeded.subjects.get_entitlement_value("c1", "ai", at, timeout=5)
        assert [v.field for v in exc.value.violations] == ["time"]
