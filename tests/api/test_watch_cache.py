"""The entitlement cache never lies: each way a watch or its cache was found to answer wrongly (issue 22),
through the real server and client. Positions are only resumable where the server can prove no gap; a
mirror is current only as far as the server says (``current_as_of``); future-dated minutes reach every watch
that could be affected (opened later, after a restart, after RESUME_TOO_OLD, on another replica); the cache's
staleness is mapped into the server's range or refused; malformed positions and huge selections get clear
statuses."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import grpc
import pytest
from cutting_proxy import CuttingProxy
from entitlement_support import create_meter
from support import Clock, free_port
from test_watch import START, Collector, metered, usage, wait_for

from meterd.client import InvalidArgumentError, OpenMeter, UnauthenticatedError, UnavailableError
from meterd.client._watch import Mirror
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.watch import service as watch_service
from meterd.v1 import entitlements_pb2, entitlements_pb2_grpc


@pytest.fixture
def om(clocked_om: OpenMeter, clock: Clock) -> OpenMeter:
    clock.set(START + timedelta(seconds=30))
    create_meter(clocked_om)
    clocked_om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    clocked_om.features.create({"key": "sso", "name": "SSO"})
    return clocked_om


def stub(om: OpenMeter) -> entitlements_pb2_grpc.EntitlementServiceStub:
    return entitlements_pb2_grpc.EntitlementServiceStub(om.channel)


def read_until_complete(
    call: Any,
) -> list[entitlements_pb2.WatchEntitlementValuesResponse]:
    """A raw watch's messages up to the end of its first snapshot (or its ``resumed`` message)."""
    out = []
    for m in call:
        out.append(m)
        if m.snapshot_complete or m.resumed:
            return out
    raise AssertionError("the stream ended before its snapshot was complete")


# -- positions: resumable only without a gap ----------------------------------------------------------------
def test_a_snapshot_cut_after_its_first_message_is_not_resumable_as_gapless(
    om: OpenMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(watch_service, "SNAPSHOT_CHUNK", 2)
    ids = {
        om.subjects.create_entitlement(f"s-{i}", {"type": "boolean", "featureKey": "sso"}).id
        for i in range(5)
    }
    request = entitlements_pb2.WatchEntitlementValuesRequest(feature_keys=["sso"])
    call = stub(om).WatchEntitlementValues(request, timeout=30)
    first = next(call)
    call.cancel()
    assert first.snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_INITIAL and not first.snapshot_complete
    assert len(first.updates) == 2 and not first.HasField("current_as_of")  # nothing current to claim yet

    # Resuming from it would skip the three values never sent: the server starts over with a snapshot.
    request.resume_position = first.position
    again = read_until_complete(stub(om).WatchEntitlementValues(request, timeout=30))
    assert again[0].snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD and not again[0].resumed
    assert {u.entitlement_id for m in again for u in m.updates} == ids
    assert [m.HasField("current_as_of") for m in again] == [False, False, True]  # only the last one
    # The last message's position is a complete one: resuming from it continues without a gap.
    request.resume_position = again[-1].position
    (resumed,) = read_until_complete(stub(om).WatchEntitlementValues(request, timeout=30))
    assert resumed.resumed and not resumed.snapshot and resumed.HasField("current_as_of")


def test_a_cache_cut_at_any_point_of_its_stream_never_denies_access_from_memory(
    om: OpenMeter, clocked_server: MeterdServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: a snapshot cut after its first message, resumed as gapless, left the cache marked
    synced with no values (has_access False for everyone, from memory). Cut the stream after every few
    hundred bytes, in turn: the cache answers True for every entitlement throughout, and is fresh again
    once the stream runs."""
    monkeypatch.setattr(watch_service, "SNAPSHOT_CHUNK", 1)
    subjects = [f"s-{i}" for i in range(4)]
    for s in subjects:
        om.subjects.create_entitlement(s, {"type": "boolean", "featureKey": "sso"})
    proxy = CuttingProxy(clocked_server.address)
    try:
        with OpenMeter(proxy.address, timeout=10) as via_proxy:
            for offset in (0, 150, 300, 450, 600, 900, 1200):
                proxy.cut_after(offset)
                cache = via_proxy.entitlements.cache(feature="sso", max_staleness=2, wait=None)
                try:
                    end = time.monotonic() + 30
                    while not cache.fresh:
                        for s in subjects:
                            # From memory or by a call (which may fail at the cut: it shares the connection).
                            with contextlib.suppress(UnavailableError):
                                assert cache.has_access(s, "sso"), f"cut after {offset} bytes"
                        assert time.monotonic() < end, f"the cache never caught up after a cut at {offset}"
                    assert all(cache.has_access(s, "sso") for s in subjects)
                    assert sorted(k[0] for k in cache.mirror.values) == subjects
                finally:
                    cache.close()
    finally:
        proxy.close()


def test_a_resume_too_old_snapshot_claims_nothing_before_its_last_message(
    om: OpenMeter, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Server side: after a long disconnect (another run's position), no message of the snapshot before its
    last says the stream is current. Client side: a mirror holding old values stays as current as it was
    (no fresher) until the snapshot's last message, then holds only the new values."""
    monkeypatch.setattr(watch_service, "SNAPSHOT_CHUNK", 2)
    for i in range(5):
        om.subjects.create_entitlement(f"s-{i}", metered(issueAfterReset=10))
    usage(om, START, 10, subject="s-4")  # used up
    request = entitlements_pb2.WatchEntitlementValuesRequest(
        feature_keys=["ai_tokens"], resume_position="0ld.7"
    )
    messages = read_until_complete(stub(om).WatchEntitlementValues(request, timeout=30))
    assert [m.snapshot for m in messages] == [entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD] * 3
    assert [m.HasField("current_as_of") for m in messages] == [False, False, True]
    assert all(".s" in m.position for m in messages[:-1]) and ".s" not in messages[-1].position

    mirror = Mirror()  # what the cache held before the disconnect: s-4 with access, current long ago
    mirror.apply(
        entitlements_pb2.WatchEntitlementValuesResponse(
            snapshot=entitlements_pb2.WATCH_SNAPSHOT_CAUSE_INITIAL,
            snapshot_complete=True,
            updates=[
                entitlements_pb2.EntitlementValueUpdate(
                    entitlement_id="old",
                    subject_key="s-4",
                    feature_key="ai_tokens",
                    value=entitlements_pb2.EntitlementValue(has_access=True, balance=10),
                )
            ],
            current_as_of={"seconds": int(time.time()) - 60},
        )
    )
    assert mirror.synced and not mirror.fresh(10)
    mirror.new_stream()
    for m in messages[:-1]:
        mirror.apply(m)
        assert not mirror.fresh(10) and mirror.values[("s-4", "ai_tokens")].has_access  # the old values stand
    mirror.apply(messages[-1])
    assert mirror.fresh(10) and not mirror.values[("s-4", "ai_tokens")].has_access
    assert len(mirror.values) == 5


def test_a_snapshot_a_reconnect_cut_short_is_dropped_not_merged() -> None:
    """Values of an unfinished snapshot never reach the next one: an entitlement deleted in between would
    otherwise live on in the cache."""

    def snapshot(subjects: list[str], complete: bool) -> entitlements_pb2.WatchEntitlementValuesResponse:
        return entitlements_pb2.WatchEntitlementValuesResponse(
            snapshot=entitlements_pb2.WATCH_SNAPSHOT_CAUSE_INITIAL,
            snapshot_complete=complete,
            updates=[
                entitlements_pb2.EntitlementValueUpdate(
                    entitlement_id=s,
                    subject_key=s,
                    feature_key="f",
                    value=entitlements_pb2.EntitlementValue(has_access=True),
                )
                for s in subjects
            ],
            **({"current_as_of": {"seconds": int(time.time())}} if complete else {}),
        )

    mirror = Mirror()
    mirror.apply(snapshot(["a", "gone"], complete=False))
    mirror.new_stream()
    mirror.apply(snapshot(["a"], complete=False))
    mirror.apply(snapshot(["b"], complete=True))
    assert sorted(mirror.values) == [("a", "f"), ("b", "f")]


def test_time_that_passed_while_disconnected_reaches_a_gapless_resume(om: OpenMeter, clock: Clock) -> None:
    """No change in the log says a period ended while the watcher was away: a gapless resume recomputes
    what time changed since its position."""
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    first = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0, reconnect=False))
    wait_for(lambda: first.mirror.synced, "the initial snapshot")
    usage(om, START, 60)
    wait_for(lambda: first.by_id[e.id].value.balance == 40, "usage 60")
    position = first.messages[-1].position
    first.close()
    clock.advance(days=1)  # a new usage period: the balance is 100 again, with no change in the log
    resumed = Collector(
        om.entitlements.watch(subject="customer-1", coalesce_interval=0, resume_position=position)
    )
    try:
        wait_for(lambda: e.id in resumed.by_id, "the value changed by time")
        assert resumed.messages[0].resumed
        assert resumed.by_id[e.id].value == om.subjects.get_entitlement_value("customer-1", e.id).proto
        assert resumed.by_id[e.id].value.balance == 100
    finally:
        resumed.close()


# -- future-dated events reach every watch they concern ------------------------------------------------------
def future_event(om: OpenMeter, clock: Clock, subject: str = "customer-1", tokens: float = 7) -> None:
    """An event stamped five minutes ahead of the server's clock (a producer's clock running fast)."""
    usage(om, clock() + timedelta(minutes=5), tokens, subject=subject)


def test_a_future_dated_event_reaches_a_watch_opened_after_it(om: OpenMeter, clock: Clock) -> None:
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    future_event(om, clock)
    w = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0))
    try:
        wait_for(lambda: w.mirror.synced, "the initial snapshot")
        assert w.by_id[e.id].value.usage == 0  # not yet: its minute has not started
        clock.advance(minutes=6)
        wait_for(lambda: w.by_id[e.id].value.usage == 7, "the event's minute to start")
        assert w.by_id[e.id].value == om.subjects.get_entitlement_value("customer-1", e.id).proto
    finally:
        w.close()


def test_a_future_dated_event_reaches_watches_after_a_restart_and_after_resume_too_old(
    server_config: Config, clock: Clock
) -> None:
    clock.set(START + timedelta(seconds=30))
    srv = MeterdServer(server_config, clock=clock).start()
    try:
        with OpenMeter(srv.address, timeout=30) as om:
            create_meter(om)
            om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
            e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
            before = Collector(
                om.entitlements.watch(subject="customer-1", coalesce_interval=0, reconnect=False)
            )
            wait_for(lambda: before.mirror.synced, "a watch before the event")
            position = before.messages[-1].position
            future_event(om, clock)  # the value changes only when its minute starts: nothing sent yet
            before.close()
        srv.stop()
        srv = MeterdServer(server_config, clock=clock).start()  # a new run: the ingest's change is gone
        with OpenMeter(srv.address, timeout=30) as om:
            fresh = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0))
            old = Collector(
                om.entitlements.watch(subject="customer-1", coalesce_interval=0, resume_position=position)
            )
            try:
                wait_for(lambda: fresh.mirror.synced and old.mirror.synced, "both snapshots")
                assert old.messages[0].snapshot == entitlements_pb2.WATCH_SNAPSHOT_CAUSE_RESUME_TOO_OLD
                clock.advance(minutes=6)
                for w in (fresh, old):
                    wait_for(lambda w=w: w.by_id[e.id].value.usage == 7, "the event's minute to start")
            finally:
                fresh.close()
                old.close()
    finally:
        srv.stop(0)


def test_future_dated_events_beyond_a_first_minute_keep_coming(om: OpenMeter, clock: Clock) -> None:
    """Only the first future minute rides on the ingest's change: the next ones are read from the store when
    that one has come."""
    e = om.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    w = Collector(om.entitlements.watch(subject="customer-1", coalesce_interval=0))
    try:
        wait_for(lambda: w.mirror.synced, "the initial snapshot")
        om.events.ingest(
            [
                {
                    "specversion": "1.0",
                    "id": f"ahead-{m}",
                    "source": "test",
                    "type": "tokens",
                    "subject": "customer-1",
                    "time": clock() + timedelta(minutes=m),
                    "data": {"tokens": m},
                }
                for m in (2, 4, 9)
            ]
        )
        for minutes, expected in ((3, 2), (5, 6), (10, 15)):
            clock.set(START + timedelta(seconds=30, minutes=minutes))
            wait_for(lambda expected=expected: w.by_id[e.id].value.usage == expected, f"usage {expected}")
    finally:
        w.close()


# -- the cache's staleness: in the server's range, or refused -------------------------------------------------
def test_cache_staleness_is_mapped_into_the_heartbeat_range_or_refused(om: OpenMeter) -> None:
    om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    with om.entitlements.cache(subject="customer-1", max_staleness=3600) as cache:  # heartbeat 600 s
        assert cache.fresh and cache.error is None
        assert cache.has_access("customer-1", "sso")
    with om.entitlements.cache(subject="customer-1", max_staleness=0.3) as cache:  # heartbeat 0.1 s
        assert cache.fresh and cache.has_access("customer-1", "sso")
    for bad in (0.29, 0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="max_staleness"):
            om.entitlements.cache(subject="customer-1", max_staleness=bad)


def test_a_cache_whose_watch_is_refused_raises_instead_of_calling_for_every_answer(
    om: OpenMeter, tmp_path: Path
) -> None:
    with pytest.raises(InvalidArgumentError, match="feature"):
        om.entitlements.cache(feature=["sso", ""])
    # Refused by a server that does not accept its credentials: the cause, from cache() or every answer.
    config = Config(listen="127.0.0.1:0", db=str(tmp_path / "auth.db"), admin_key="k" * 32, log_format="text")
    srv = MeterdServer(config).start()
    try:
        with OpenMeter(srv.address, api_key="wrong", timeout=10) as wrong:
            with pytest.raises(UnauthenticatedError):
                wrong.entitlements.cache(subject="customer-1")
            cache = wrong.entitlements.cache(subject="customer-1", wait=None)
            try:
                wait_for(lambda: cache.error is not None, "the watch to be refused")
                with pytest.raises(UnauthenticatedError):
                    cache.has_access("customer-1", "sso")
                assert not cache.fresh
            finally:
                cache.close()
    finally:
        srv.stop(0)


# -- clear statuses for what a watch request cannot be ---------------------------------------------------------
def test_malformed_resume_positions_are_invalid_argument(om: OpenMeter) -> None:
    call = stub(om).WatchEntitlementValues(entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=["c"]))
    epoch = next(call).position.split(".")[0]
    call.cancel()
    for bad in (
        f"{epoch}.²",
        f"{epoch}." + "9" * 5000,
        f"{epoch}.١٢",
        "é.1",
        f"{epoch}.1.x y.2",
        f"{epoch}.-1",
        f"{epoch}.1.abc",
        "." * 40,
        f"{epoch}.s",
    ):
        with pytest.raises(grpc.RpcError) as info:
            next(
                iter(
                    stub(om).WatchEntitlementValues(
                        entitlements_pb2.WatchEntitlementValuesRequest(
                            subject_keys=["c"], resume_position=bad
                        ),
                        timeout=10,
                    )
                )
            )
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT, bad[:40]
        assert "resume_position" in (info.value.details() or "")


def test_counts_are_checked_before_anything_is_converted(om: OpenMeter) -> None:
    huge = entitlements_pb2.WatchEntitlementValuesRequest(
        subject_keys=["c"],
        thresholds=[entitlements_pb2.EntitlementThreshold(usage_above=i) for i in range(200_000)],
    )
    with pytest.raises(grpc.RpcError) as info:
        next(iter(stub(om).WatchEntitlementValues(huge, timeout=30)))
    assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "thresholds" in (info.value.details() or "") and "at most 32" in (info.value.details() or "")
    assert om.meters.get("tokens_total").slug == "tokens_total"  # the server serves on
    many = entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=[f"s{i}" for i in range(50_001)])
    with pytest.raises(grpc.RpcError) as info:
        next(iter(stub(om).WatchEntitlementValues(many, timeout=30)))
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "subject_keys" in (info.value.details() or "")


def test_a_selection_of_forty_thousand_keys_is_served(om: OpenMeter) -> None:
    """On PostgreSQL a statement takes at most 65,535 parameters (SQLite 32,766): the selection is listed in
    chunks, and the watch starts instead of failing UNAVAILABLE for ever."""
    features = [f"feature_{i}" for i in range(40_000)] + ["sso"]
    e = om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    call = stub(om).WatchEntitlementValues(
        entitlements_pb2.WatchEntitlementValuesRequest(feature_keys=features), timeout=60
    )
    (first,) = read_until_complete(call)
    call.cancel()
    assert [u.entitlement_id for u in first.updates] == [e.id]
    subjects = [f"subject-{i}" for i in range(40_000)] + ["customer-1"]
    call = stub(om).WatchEntitlementValues(
        entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=subjects, feature_keys=features),
        timeout=120,
    )
    (first,) = read_until_complete(call)
    call.cancel()
    assert [u.entitlement_id for u in first.updates] == [e.id]


# -- idle costs nothing --------------------------------------------------------------------------------------
def test_an_idle_watch_sleeps_until_something_is_due(om: OpenMeter, clocked_server: MeterdServer) -> None:
    """A watch with nothing due and a 10-minute heartbeat is not woken while another one beats ten times."""
    om.subjects.create_entitlement("customer-1", {"type": "boolean", "featureKey": "sso"})
    clocked_server.services.watching.source.flush()  # its change published: it wakes no watch opened later
    service = clocked_server.services.watch
    idle = Collector(om.entitlements.watch(subject="customer-1", heartbeat_interval=600))
    try:
        wait_for(lambda: idle.mirror.synced and service.session_count == 1, "the idle watch")
        (session,) = service.sessions()
        wait_for(lambda: session.wakeups == 1, "the first look after its snapshot")
        busy = Collector(om.entitlements.watch(subject="customer-1", heartbeat_interval=0.1))
        try:
            wait_for(lambda: len(busy.messages) >= 11, "ten heartbeats of the other watch")
            assert session.wakeups == 1 and len(idle.messages) == 1
            om.subjects.create_entitlement("customer-1", metered())  # a change it follows wakes it
            wait_for(lambda: session.wakeups > 1 and len(idle.messages) == 2, "the idle watch to send it")
        finally:
            busy.close()
    finally:
        idle.close()


def test_watch_streams_count_towards_max_streams(server_config: Config) -> None:
    srv = MeterdServer(server_config.model_copy(update={"max_streams": 2})).start()
    try:
        with OpenMeter(srv.address, timeout=10) as om:
            watches = [Collector(om.entitlements.watch(subject="a", reconnect=False)) for _ in range(2)]
            wait_for(lambda: all(w.mirror.synced for w in watches), "two watches")
            assert srv.serving.open_streams == 2
            with pytest.raises(grpc.RpcError) as info:
                next(
                    iter(
                        stub(om).WatchEntitlementValues(
                            entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=["a"]), timeout=10
                        )
                    )
                )
            assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
            assert "max_streams" in (info.value.details() or "")
            watches[0].close()
            wait_for(lambda: srv.serving.open_streams == 1, "the closed watch's slot")
            third = Collector(om.entitlements.watch(subject="a", reconnect=False))
            wait_for(lambda: third.mirror.synced, "a watch in the freed slot")
            for w in (watches[1], third):
                w.close()
            wait_for(lambda: srv.serving.open_streams == 0, "every slot freed")
    finally:
        srv.stop(0)


@pytest.fixture
def replicas(pg_url: str, clock: Clock) -> Iterator[tuple[OpenMeter, OpenMeter]]:
    clock.set(START + timedelta(seconds=30))
    servers = [
        MeterdServer(
            Config(listen="127.0.0.1:0", db=pg_url, grace_seconds=2.0, log_format="text"), clock=clock
        ).start()
        for _ in range(2)
    ]
    clients = [OpenMeter(s.address, timeout=60) for s in servers]
    try:
        for s in servers:
            wait_for(lambda s=s: s.services.watching.remote._channel.listening.is_set(), "the listener")
        yield clients[0], clients[1]
    finally:
        for c in clients:
            c.close()
        for s in servers:
            s.stop(0)


def test_a_future_dated_event_in_a_change_too_big_for_one_notify_reaches_another_replica(
    replicas: tuple[OpenMeter, OpenMeter], clock: Clock
) -> None:
    a, b = replicas
    create_meter(a)
    a.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    e = a.subjects.create_entitlement("customer-1", metered(issueAfterReset=100))
    w = Collector(b.entitlements.watch(subject="customer-1", coalesce_interval=0))
    try:
        wait_for(lambda: w.mirror.synced, "the snapshot on B")
        ahead = clock() + timedelta(minutes=5)
        # 2,500 subjects: sent to B as "usage of this type for every subject", with no minutes named.
        a.events.ingest(
            [
                {
                    "specversion": "1.0",
                    "id": f"crowd-{i}",
                    "source": "test",
                    "type": "tokens",
                    "subject": f"crowd-{i}",
                    "time": START,
                    "data": {"tokens": 1},
                }
                for i in range(2500)
            ]
            + [
                {
                    "specversion": "1.0",
                    "id": "ahead",
                    "source": "test",
                    "type": "tokens",
                    "subject": "customer-1",
                    "time": ahead,
                    "data": {"tokens": 7},
                }
            ]
        )
        clock.advance(minutes=6)
        assert b.subjects.get_entitlement_value("customer-1", e.id).usage == 7
        wait_for(lambda: w.by_id[e.id].value.usage == 7, "B's watcher to count the future-dated event")
    finally:
        w.close()


def test_a_cache_through_a_restart_reads_calls_until_current_again(tmp_path: Path) -> None:
    """The cache's bound holds across a server restart: while the stream is down and until the new run's
    snapshot is complete, answers come from calls; then from memory again, with every change made
    meanwhile (here: the balance used up while the cache could not reach the new run)."""
    port = free_port()
    config = Config(
        listen=f"127.0.0.1:{port}", db=str(tmp_path / "m.db"), grace_seconds=1.0, log_format="text"
    )
    srv = MeterdServer(config).start()
    om = OpenMeter(srv.address, timeout=10)
    proxy = CuttingProxy(srv.address)
    try:
        create_meter(om)
        om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
        om.subjects.create_entitlement("c", metered(issueAfterReset=5))
        with (
            OpenMeter(proxy.address, timeout=10) as via_proxy,
            via_proxy.entitlements.cache(subject="c", max_staleness=0.5) as cache,
        ):
            assert cache.fresh and cache.has_access("c", "ai_tokens")
            proxy.refusing = True
            srv.stop(0)
            wait_for(lambda: not cache.fresh, "the cache to stop answering from memory")
            srv = MeterdServer(config).start()
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": "all",
                    "source": "t",
                    "type": "tokens",
                    "subject": "c",
                    "data": {"tokens": 5},
                }
            )
            assert not cache.fresh
            with pytest.raises(UnavailableError):  # a call (which the proxy refuses), not the old value
                cache.has_access("c", "ai_tokens")
            proxy.refusing = False
            end = time.monotonic() + 30
            while not cache.fresh:
                with contextlib.suppress(UnavailableError):  # the call may meet the proxy refusing
                    assert not cache.has_access(
                        "c", "ai_tokens"
                    )  # a call, or memory once current: never True
                assert time.monotonic() < end, "the cache never caught up with the new run"
            assert (
                not cache.has_access("c", "ai_tokens")
                and not cache.mirror.values[("c", "ai_tokens")].has_access
            )
    finally:
        proxy.close()
        om.close()
        srv.stop(0)
