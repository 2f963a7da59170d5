"""The entitlement API OpenMeter's users reach for, through the real server and client: override, list filters,
order and total_size, grants' next_recurrence, voiding at a past instant, and resets that change the usage
period. Numbers are computed by hand in the comments."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from entitlement_support import dt
from support import Clock
from test_entitlement_values import START, grant, metered, usage, value_tuple, with_feature

from meterd.client import (
    AsyncOpenMeter,
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    OpenMeter,
    PeriodInterval,
    WindowSize,
)
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.store.sqlite import migrations

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    """A clocked server at START with the tokens_total SUM meter, ai_tokens on it, and sso without a meter."""
    with_feature(clocked_om, clock)
    clocked_om.features.create({"key": "sso", "name": "SSO"})
    return clocked_om


# -- override ----------------------------------------------------------------------------------------------


def test_override_replaces_the_entitlement(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    old = s.create_entitlement("c", metered(issueAfterReset=100))
    usage(om, START + HOUR, 30, subject="c")
    clock.set(START + 2 * HOUR)

    # By feature key, with the feature left out of the body: the old feature is kept.
    new = s.override_entitlement(
        "c", "ai_tokens", metered(featureKey=None, usagePeriod={"interval": "DAY"}, issueAfterReset=40)
    )
    assert new.id != old.id and new.feature_key == "ai_tokens"
    assert new.metered.usage_period.interval == PeriodInterval.DAY
    with pytest.raises(NotFoundError):
        s.get_entitlement("c", old.id)
    assert s.get_entitlement("c", "ai_tokens").id == new.id
    listed = s.list_entitlements("c", include_deleted=True)
    assert [(e.id, e.HasField("deleted_at")) for e in listed] == [(old.id, True), (new.id, False)]
    # The new one starts afresh: its DAY period is anchored at the override (START + 2h), so the 30 used at
    # START + 1h is not its usage, and its own issue-after-reset grant of 40 is whole.
    [g] = s.list_entitlement_grants("c", "ai_tokens")
    assert g.entitlement_id == new.id and g.amount == 40 and dt(g.effective_at) == START + 2 * HOUR
    assert value_tuple(om, subject="c") == (True, 40, 0, 0)

    # By id, to another type, naming the same feature by key.
    boolean = s.override_entitlement("c", new.id, {"type": "boolean", "featureKey": "ai_tokens"})
    assert boolean.WhichOneof("type") == "boolean"
    assert s.get_entitlement_value("c", "ai_tokens").has_access is True


def test_a_failing_override_leaves_the_old_entitlement(om: OpenMeter) -> None:
    s = om.subjects
    old = s.create_entitlement("c", metered(issueAfterReset=100))
    with pytest.raises(InvalidArgumentError) as info:  # metered without a usage period
        s.override_entitlement("c", "ai_tokens", {"type": "metered"})
    assert [v.field for v in info.value.violations] == ["override.metered.usage_period.interval"]
    with pytest.raises(InvalidArgumentError) as info:  # another feature
        s.override_entitlement("c", "ai_tokens", {"type": "boolean", "featureKey": "sso"})
    assert [v.field for v in info.value.violations] == ["override.feature_key"]
    with pytest.raises(NotFoundError):
        s.override_entitlement("c", "sso", {"type": "boolean"})
    with pytest.raises(NotFoundError):
        s.override_entitlement("someone-else", old.id, {"type": "boolean"})
    # Still the old one, with its grant.
    assert s.get_entitlement("c", "ai_tokens") == old
    assert [e.id for e in s.list_entitlements("c", include_deleted=True)] == [old.id]
    assert [g.amount for g in s.list_entitlement_grants("c", old.id)] == [100]
    # A metered override on a feature without a meter fails as create would, and changes nothing.
    sso = s.create_entitlement("c", {"type": "boolean", "featureKey": "sso"})
    with pytest.raises(FailedPreconditionError, match="no meter"):
        s.override_entitlement("c", "sso", metered(featureKey="sso"))
    assert s.get_entitlement("c", "sso") == sso


# -- lists -------------------------------------------------------------------------------------------------


def test_entitlement_list_filters_order_and_total_size(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    made = []
    for minute, (subject, body) in enumerate(
        [
            ("a", {"type": "boolean", "featureKey": "sso"}),
            ("a", metered()),
            ("b", {"type": "static", "featureKey": "sso", "config": "{}"}),
            ("b", metered()),
            ("c", metered()),
        ]
    ):
        clock.set(START + timedelta(minutes=minute, seconds=1))
        made.append(s.create_entitlement(subject, body).id)
    e = om.entitlements

    assert [x.id for x in e.list(type="metered")] == [made[1], made[3], made[4]]
    assert [x.id for x in e.list(type=["boolean", "static"], subject=["a", "b"])] == [made[0], made[2]]
    assert [x.id for x in e.list(feature="sso", order="DESC")] == [made[2], made[0]]
    assert [x.id for x in e.list(order_by="createdAt", order="desc")] == made[::-1]
    assert [x.id for x in s.list_entitlements("b", type="METERED")] == [made[3]]
    assert [x.id for x in s.list_entitlements("a", feature="ai_tokens")] == [made[1]]

    # A reset changes updated_at: ordered by it, a's metered entitlement comes last.
    clock.set(START + HOUR)
    s.reset_entitlement_usage("a", "ai_tokens")
    assert [x.id for x in e.list(order_by="updatedAt")] == [made[0], made[2], made[3], made[4], made[1]]
    assert e.list(order_by="updated_at", order="DESC")[0].id == made[1]

    # Pages in descending order, each with the total of every page.
    first = e.list_page(limit=2, order="DESC")
    second = e.list_page(limit=2, order="DESC", page_token=first.next_page_token)
    third = e.list_page(limit=2, order="DESC", page_token=second.next_page_token)
    pages = [first, second, third]
    assert [x.id for p in pages for x in p.entitlements] == made[::-1]
    assert [p.total_size for p in pages] == [5, 5, 5] and third.next_page_token == ""
    filtered = s.list_entitlements_page("b", limit=1)
    assert (len(filtered.entitlements), filtered.total_size) == (1, 2)
    with pytest.raises(ValueError, match="order_by"):
        e.list(order_by="name")


def test_grant_list_filters_order_and_total_size(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("a", metered())
    s.create_entitlement("b", metered())
    # Effective times in another order than creation: g0 day 3, g1 day 1, g2 day 2 (b), g3 day 4.
    made = []
    for i, (subject, day, count) in enumerate([("a", 3, 10), ("a", 1, 30), ("b", 2, 5), ("a", 4, 1)]):
        clock.set(START + timedelta(minutes=i + 1))
        made.append(
            s.create_entitlement_grant(
                subject,
                "ai_tokens",
                grant(10, effectiveAt=START + day * DAY, expiration={"duration": "DAY", "count": count}),
            ).id
        )
    g = om.grants
    assert [x.id for x in g.list()] == [made[1], made[2], made[0], made[3]]  # effective_at
    assert [x.id for x in g.list(order_by="createdAt")] == made
    assert [x.id for x in g.list(order_by="expiresAt")] == [made[3], made[2], made[0], made[1]]
    assert [x.id for x in g.list(subject="a", order="DESC")] == [made[3], made[0], made[1]]
    assert [
        x.id for x in s.list_entitlement_grants("a", "ai_tokens", order_by="createdAt", order="DESC")
    ] == [made[3], made[1], made[0]]

    clock.set(START + 5 * DAY)
    om.grants.void(made[0])
    assert [x.id for x in g.list(subject="a")] == [made[1], made[3]]
    assert [x.id for x in g.list(subject="a", include_voided=True)] == [made[1], made[0], made[3]]
    assert g.list(order_by="updatedAt")[-1].id != made[0]  # voided ones are left out
    assert g.list(order_by="updatedAt", include_voided=True)[-1].id == made[0]

    first = g.list_page(limit=3, include_voided=True, order="DESC")
    rest = g.list_page(limit=3, include_voided=True, order="DESC", page_token=first.next_page_token)
    assert [x.id for x in [*first.grants, *rest.grants]] == [made[3], made[0], made[2], made[1]]
    assert (first.total_size, rest.total_size, rest.next_page_token) == (4, 4, "")
    page = s.list_entitlement_grants_page("a", "ai_tokens", limit=1)
    assert (len(page.grants), page.total_size) == (1, 2)


# -- grants: next_recurrence and void at ---------------------------------------------------------------------


def test_next_recurrence_across_a_boundary_and_after_void(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("c", metered())
    clock.set(START + HOUR)
    # Effective START, expires START + 3 days, refills daily at 12:00.
    daily = s.create_entitlement_grant(
        "c",
        "ai_tokens",
        grant(
            100,
            expiration={"duration": "DAY", "count": 3},
            recurrence={"interval": "DAY", "anchor": START + 12 * HOUR},
        ),
    )
    assert dt(daily.next_recurrence) == START + 12 * HOUR
    plain = s.create_entitlement_grant("c", "ai_tokens", grant(5))
    assert not plain.HasField("next_recurrence")

    def next_of(grant_id: str) -> object:
        [found] = [x for x in om.grants.list(include_voided=True) if x.id == grant_id]
        return dt(found.next_recurrence) if found.HasField("next_recurrence") else None

    clock.set(START + 12 * HOUR)  # at the refill instant: the next one is a day later
    assert next_of(daily.id) == START + DAY + 12 * HOUR
    clock.set(START + DAY + 13 * HOUR)
    assert next_of(daily.id) == START + 2 * DAY + 12 * HOUR
    clock.set(START + 2 * DAY + 13 * HOUR)  # START + 3d 12:00 is after the expiry at START + 3d
    assert next_of(daily.id) is None

    # A grant effective later refills first at the first boundary after its start; voided, never again.
    weekly = s.create_entitlement_grant(
        "c",
        "ai_tokens",
        grant(10, effectiveAt=START + 10 * DAY, recurrence={"interval": "WEEK", "anchor": START}),
    )
    assert dt(weekly.next_recurrence) == START + 14 * DAY
    voided = om.grants.void(weekly.id)
    assert not voided.HasField("next_recurrence")


def test_void_at_a_past_instant(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered())
    g = s.create_entitlement_grant("customer-1", "ai_tokens", grant(100))
    usage(om, START + HOUR, 30)
    usage(om, START + 3 * HOUR, 20)
    clock.set(START + 5 * HOUR + timedelta(seconds=7))
    assert value_tuple(om) == (True, 50, 50, 0)

    with pytest.raises(InvalidArgumentError) as info:
        om.grants.void(g.id, at=START + 6 * HOUR)
    assert [v.field for v in info.value.violations] == ["at"]
    with pytest.raises(InvalidArgumentError, match="effective"):
        om.grants.void(g.id, at=START - HOUR)

    voided = om.grants.void(g.id, at=START + 2 * HOUR + timedelta(seconds=30))  # truncated to the minute
    assert dt(voided.voided_at) == START + 2 * HOUR
    # The 30 before the void burnt the grant (70 left until then); the 20 after it is overage.
    assert value_tuple(om) == (False, 0, 50, 20)
    assert value_tuple(om, START + 2 * HOUR - timedelta(minutes=1)) == (True, 70, 30, 0)
    assert value_tuple(om, START + 2 * HOUR) == (False, 0, 30, 0)  # voided at that instant
    history = s.get_entitlement_history(
        "customer-1", "ai_tokens", from_=START, to=START + 5 * HOUR, window_size="HOUR"
    )
    first, second = history.burndown_history
    assert (dt(first.to_time), first.usage, first.balance_at_start, first.balance_at_end) == (
        START + 2 * HOUR,
        30,
        100,
        70,
    )
    assert (dt(second.from_time), second.usage, second.overage, second.balance_at_start) == (
        START + 2 * HOUR,
        20,
        20,
        0,
    )
    with pytest.raises(FailedPreconditionError, match="already voided"):
        om.grants.void(g.id)


# -- resets that change the usage period ---------------------------------------------------------------------


def test_reset_changes_the_period_from_month_to_week(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement(
        "customer-1", metered(usagePeriod={"interval": "MONTH", "anchor": START}, issueAfterReset=100)
    )
    usage(om, START + 4 * DAY, 30)
    clock.set(START + 9 * DAY + 12 * HOUR)
    before = s.get_entitlement_history(
        "customer-1", "ai_tokens", from_=START, to=START + 9 * DAY, window_size="DAY"
    )

    # Reset at Jan 10 00:00 (START + 9d) to WEEK periods anchored there: [Jan 10, Jan 17), [Jan 17, Jan 24), ...
    reset_at = START + 9 * DAY
    updated = s.reset_entitlement_usage(
        "customer-1", "ai_tokens", reset_at, usage_period={"interval": "WEEK"}
    )
    m = updated.metered
    assert m.usage_period.interval == PeriodInterval.WEEK and dt(m.usage_period.anchor) == reset_at
    assert (dt(m.current_usage_period.from_time), dt(m.current_usage_period.to_time)) == (
        reset_at,
        reset_at + 7 * DAY,
    )
    assert dt(m.last_reset) == reset_at

    usage(om, START + 11 * DAY, 20)
    usage(om, START + 17 * DAY, 15)
    clock.set(START + 20 * DAY)
    # Before the reset the MONTH period: 100 - 30. After it: the grant back at 100 (min = max rollover),
    # 100 - 20 in the first week; the WEEK boundary at Jan 17 resets again: 100 - 15.
    assert value_tuple(om, START + 8 * DAY) == (True, 70, 30, 0)
    assert value_tuple(om, START + 15 * DAY) == (True, 80, 20, 0)
    assert value_tuple(om) == (True, 85, 15, 0)
    period = s.get_entitlement("customer-1", "ai_tokens").metered.current_usage_period
    assert (dt(period.from_time), dt(period.to_time)) == (START + 16 * DAY, START + 23 * DAY)

    history = s.get_entitlement_history(
        "customer-1", "ai_tokens", from_=START, to=START + 20 * DAY, window_size="DAY"
    )
    segments = [
        (dt(x.from_time), dt(x.to_time), x.usage, x.balance_at_start, x.balance_at_end)
        for x in history.burndown_history
    ]
    assert segments == [
        (START, reset_at, 30, 100, 70),
        (reset_at, START + 16 * DAY, 20, 100, 80),
        (START + 16 * DAY, START + 20 * DAY, 15, 100, 85),
    ]
    # History before the reset is unchanged.
    after = s.get_entitlement_history(
        "customer-1", "ai_tokens", from_=START, to=START + 9 * DAY, window_size="DAY"
    )
    assert after == before

    with pytest.raises(InvalidArgumentError, match=r"usage_period\.interval"):
        s.reset_entitlement_usage("customer-1", "ai_tokens", usage_period={"anchor": START + 20 * DAY})


def test_reset_to_a_new_period_keeping_the_anchor(om: OpenMeter, clock: Clock) -> None:
    s = om.subjects
    s.create_entitlement("customer-1", metered(usagePeriod={"interval": "MONTH", "anchor": START}))
    clock.set(START + 9 * DAY + HOUR)
    # DAY periods on the MONTH anchor (midnights); usage counts from the reset at Jan 10 01:00.
    updated = s.reset_entitlement_usage(
        "customer-1", "ai_tokens", retain_anchor=True, usage_period={"interval": "DAY"}
    )
    m = updated.metered
    assert (m.usage_period.interval, dt(m.usage_period.anchor)) == (PeriodInterval.DAY, START)
    assert (dt(m.current_usage_period.from_time), dt(m.current_usage_period.to_time)) == (
        START + 9 * DAY,
        START + 10 * DAY,
    )


def test_async_override_lists_and_void_at(om: OpenMeter, clock: Clock, clocked_server: MeterdServer) -> None:
    s = om.subjects
    s.create_entitlement("c", metered())
    g = s.create_entitlement_grant("c", "ai_tokens", grant(10))
    clock.set(START + DAY)

    async def session() -> None:
        async with AsyncOpenMeter(clocked_server.address) as client:
            page = await client.entitlements.list_page(type="metered", order="DESC")
            assert page.total_size == 1
            grants = await client.grants.list_page(order_by="expiresAt")
            assert [x.id for x in grants.grants] == [g.id] and grants.total_size == 1
            voided = await client.grants.void(g.id, at=START + HOUR)
            assert dt(voided.voided_at) == START + HOUR
            new = await client.subjects.override_entitlement("c", "ai_tokens", {"type": "boolean"})
            assert new.WhichOneof("type") == "boolean"
            listed = await client.subjects.list_entitlements("c", type="boolean")
            assert [x.id for x in listed] == [new.id]
            with pytest.raises(NotFoundError):  # the old entitlement is gone
                await client.subjects.list_entitlement_grants("c", page.entitlements[0].id)

    asyncio.run(session())


# -- meters: several values per group filter, and a meter's own window size ------------------------------


def _request(om: OpenMeter, minute: int, method: str, path: str, n: int) -> None:
    om.events.ingest(
        {
            "id": f"req-{minute}",
            "source": "test",
            "type": "request",
            "subject": "s",
            "time": START + timedelta(minutes=minute),
            "data": {"method": method, "path": path, "n": n},
        }
    )


def test_filter_group_by_with_several_values(clocked_om: OpenMeter, clock: Clock) -> None:
    om = clocked_om
    clock.set(START + DAY)
    om.meters.create(
        {
            "slug": "requests",
            "eventType": "request",
            "aggregation": "SUM",
            "valueProperty": "$.n",
            "groupBy": {"method": "$.method", "path": "$.path"},
        }
    )
    for minute, (method, path, n) in enumerate(
        [("GET", "/a", 1), ("POST", "/a", 2), ("PUT", "/a", 4), ("GET", "/b", 8), ("DELETE", "/b", 16)]
    ):
        _request(om, minute, method, path, n)

    def rows(
        filters: dict[str, str | list[str]], group_by: str | None = None
    ) -> list[tuple[dict[str, str], float]]:
        reply = om.meters.query("requests", filter_group_by=filters, group_by=group_by)
        return [(dict(r.group_by), r.value) for r in reply.rows]

    assert rows({"method": ["GET", "POST"]}) == [({}, 11.0)]  # 1 + 2 + 8
    assert rows({"method": ["GET", "PUT"], "path": "/a"}) == [({}, 5.0)]  # 1 + 4, ANDed with the path
    assert rows({"method": ["GET", "DELETE"]}, group_by="method") == [
        ({"method": "DELETE"}, 16.0),
        ({"method": "GET"}, 9.0),
    ]
    assert rows({"method": ["PATCH"]}) == []
    with pytest.raises(InvalidArgumentError) as info:
        om.meters.query("requests", filter_group_by={"method": []})
    assert [v.field for v in info.value.violations] == ["filter_group_by_values.method"]
    with pytest.raises(InvalidArgumentError) as info:
        om.meters.query("requests", filter_group_by={"nope": ["x", "y"]})
    assert [v.field for v in info.value.violations] == ["filter_group_by.nope"]


def test_a_meter_window_size_bounds_its_queries(clocked_om: OpenMeter, clock: Clock) -> None:
    om = clocked_om
    clock.set(START + DAY)
    hourly = om.meters.create(
        {"slug": "hourly", "eventType": "request", "aggregation": "COUNT", "windowSize": "HOUR"}
    )
    plain = om.meters.create({"slug": "plain", "eventType": "request", "aggregation": "COUNT"})
    assert hourly.window_size == WindowSize.HOUR and plain.window_size == WindowSize.MINUTE
    assert om.meters.get("hourly").window_size == WindowSize.HOUR
    _request(om, 5, "GET", "/a", 1)
    _request(om, 65, "GET", "/a", 1)
    span = {"from_": START, "to": START + 2 * HOUR}
    with pytest.raises(InvalidArgumentError, match="HOUR") as info:
        om.meters.query("hourly", window_size="MINUTE", **span)
    assert [v.field for v in info.value.violations] == ["window_size"]
    assert [r.value for r in om.meters.query("hourly", window_size="HOUR", **span).rows] == [1.0, 1.0]
    assert [r.value for r in om.meters.query("hourly", window_size="DAY", **span).rows] == [2.0]
    assert [r.value for r in om.meters.query("hourly", **span).rows] == [2.0]
    assert len(om.meters.query("plain", window_size="MINUTE", **span).rows) == 2
    with pytest.raises(ValueError, match="window_size"):
        om.meters.create(
            {"slug": "weekly", "eventType": "request", "aggregation": "COUNT", "windowSize": "WEEK"}
        )


def test_a_database_from_before_converts_in_place(tmp_path: Path, clock: Clock) -> None:
    """A schema-5 database (before migration 0008) with a meter and a reset entitlement keeps working: the
    meter's window size is MINUTE, the reset keeps the period's interval and re-anchors it."""
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, _, sql in migrations.available():
        if version <= 5:
            for statement in migrations._statements(sql):
                conn.execute(statement)
    conn.execute("PRAGMA user_version = 5")
    us = int(START.timestamp()) * 1_000_000
    reset_us = us + 3 * 86_400_000_000
    conn.execute(
        "INSERT INTO meters (id, slug, event_type, aggregation, created_us, updated_us)"
        " VALUES ('M1', 'calls', 'request', 'COUNT', ?, ?)",
        (us, us),
    )
    conn.execute(
        "INSERT INTO features (id, key, name, meter_slug, created_us, updated_us)"
        " VALUES ('F1', 'calls', 'Calls', 'calls', ?, ?)",
        (us, us),
    )
    conn.execute(
        "INSERT INTO entitlements (id, subject_key, feature_id, feature_key, type, usage_period_interval,"
        " usage_period_anchor_us, measure_usage_from_us, issue_after_reset_priority, created_us, updated_us)"
        " VALUES ('E1', 'c', 'F1', 'calls', 'METERED', 'MONTH', ?, ?, 1, ?, ?)",
        (us, us, us, us),
    )
    conn.execute(
        "INSERT INTO entitlement_resets (entitlement_id, at_us, retain_anchor, created_us)"
        " VALUES ('E1', ?, 0, ?)",
        (reset_us, reset_us),
    )
    conn.close()

    clock.set(START + 10 * DAY)
    server = MeterdServer(Config(listen="127.0.0.1:0", db=str(path), grace_seconds=2.0), clock=clock).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            assert om.meters.get("calls").window_size == WindowSize.MINUTE
            _request(om, 5, "GET", "/a", 1)
            assert [r.value for r in om.meters.query("calls", window_size="MINUTE").rows] == [1.0]
            m = om.subjects.get_entitlement("c", "calls").metered
            assert m.usage_period.interval == PeriodInterval.MONTH
            assert dt(m.usage_period.anchor) == dt(m.last_reset) == START + 3 * DAY
    finally:
        server.stop(0)


def test_portal_and_config_meters_take_the_new_meter_options(server_config: Config, clock: Clock) -> None:
    server_config.portal_secret = "portal-secret-for-tests-0123456789abcdef"
    server_config.meters = [
        {
            "slug": "requests",
            "eventType": "request",
            "aggregation": "SUM",
            "valueProperty": "$.n",
            "groupBy": {"method": "$.method", "path": "$.path"},
            "windowSize": "HOUR",
        }
    ]
    clock.set(START + DAY)
    server = MeterdServer(server_config, clock=clock).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            assert om.meters.get("requests").window_size == WindowSize.HOUR
            for minute, (method, n) in enumerate([("GET", 1), ("POST", 2), ("PUT", 4)]):
                _request(om, minute, method, "/a", n)
            token = om.portal.create_token(subject="s", allowed_meter_slugs=["requests"]).token
            with OpenMeter(server.address, portal_token=token, timeout=30) as portal:
                rows = portal.meters.query("requests", filter_group_by={"method": ["GET", "PUT"]}).rows
                assert [r.value for r in rows] == [5.0]  # 1 + 4
                rows = portal.portal.query_meter(
                    "requests", filter_group_by={"method": ["POST", "PUT"]}, window_size="DAY"
                ).rows
                assert [r.value for r in rows] == [6.0]  # 2 + 4
                with pytest.raises(InvalidArgumentError, match="HOUR"):
                    portal.meters.query("requests", window_size="MINUTE")
    finally:
        server.stop(0)
