"""Balance snapshots are only a cache: values served from them equal a cold full replay, after late events,
grants effective in the past, voids and resets (a seeded random walk through a real server)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from entitlement_support import create_meter
from support import Clock

from meterd.client import FailedPreconditionError, InvalidArgumentError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.credit import engine

START = datetime(2024, 1, 1, tzinfo=UTC)


def cold_value(
    server: MeterdServer, subject: str, t: datetime, memo: dict[tuple[datetime, datetime], Decimal]
) -> tuple[Decimal, Decimal, Decimal]:
    """The value by a full replay from measure_usage_from, with no snapshot. ``memo`` keeps each span's usage
    while the events stay as they are (one step of the walk): the replays of a step's instants share most
    spans, and on PostgreSQL each read is a round trip (the walk took 30 s a seed without it, 3 s with)."""
    entitlement = server.stores.entitlements.find(subject, "ai_tokens")
    assert entitlement is not None
    grants = [g.to_engine() for g in server.stores.grants.for_entitlement(entitlement.id)]

    def usage(a: datetime, b: datetime) -> Decimal:
        if (a, b) not in memo:
            memo[(a, b)] = server.services.meters.usage("tokens_total", subject, {}, a, b)
        return memo[(a, b)]

    v = engine.value_at(entitlement.engine_spec(), grants, usage, t)
    return v.balance, v.usage, v.overage


def served_value(om: OpenMeter, subject: str, t: datetime) -> tuple[Decimal, Decimal, Decimal]:
    v = om.subjects.get_entitlement_value(subject, "ai_tokens", t)
    return Decimal(repr(v.balance)), Decimal(repr(v.usage)), Decimal(repr(v.overage))


def settle(server: MeterdServer) -> None:
    """Waits until every queued write (snapshot saves included) has committed."""
    drain = getattr(server.db, "drain", None)  # PostgreSQL: jobs run in parallel, not in one queue
    if drain is not None:
        drain()
    else:
        server.db.write(lambda conn: None)


@pytest.fixture(params=["sqlite", "postgresql"])
def server_config(tmp_path: Path, request: pytest.FixtureRequest) -> Config:
    """The random walk runs on both backends (PostgreSQL: a database of the session's throwaway cluster)."""
    db = request.getfixturevalue("pg_url") if request.param == "postgresql" else str(tmp_path / "meterd.db")
    return Config(listen="127.0.0.1:0", db=db, grace_seconds=2.0, log_format="text")


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_snapshot_served_values_equal_a_cold_replay(
    clocked_om: OpenMeter,
    clocked_server: MeterdServer,
    clock: Clock,
    seed: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rng = random.Random(seed)
    om, server = clocked_om, clocked_server
    clock.set(START)
    create_meter(om)
    om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
    s = om.subjects
    e = s.create_entitlement(
        "c",
        {
            "type": "metered",
            "featureKey": "ai_tokens",
            "usagePeriod": {"interval": "DAY"},
            "issueAfterReset": 50,
            "preserveOverageAtReset": rng.random() < 0.5,
        },
    )
    grants: list[str] = []
    snapshots = server.stores.snapshots
    seen_snapshots = 0
    event = 0
    for _step in range(60):
        now = clock()
        action = rng.choice(
            ["event", "event", "late", "grant", "past_grant", "void", "reset", "advance", "advance"]
        )
        try:
            if action in ("event", "late"):
                back = (
                    timedelta(minutes=rng.randrange(1, 50))
                    if action == "event"
                    else timedelta(hours=rng.randrange(1, 40))
                )
                at = max(START, now - back)
                event += 1
                om.events.ingest(
                    {
                        "specversion": "1.0",
                        "id": f"e{event}",
                        "source": "t",
                        "type": "tokens",
                        "subject": "c",
                        "time": at,
                        "data": {"tokens": str(Decimal(rng.randrange(1, 400)) / 10)},
                    }
                )
            elif action in ("grant", "past_grant"):
                period_start = engine.period_start_at(
                    server.stores.entitlements.find("c", e.id).engine_spec(), now
                )
                effective = now if action == "grant" else period_start + (now - period_start) * rng.random()
                g: dict[str, Any] = {
                    "amount": rng.randrange(5, 120),
                    "priority": rng.randrange(1, 4),
                    "effectiveAt": effective,
                    "expiration": {"duration": "HOUR", "count": rng.randrange(2, 60)},
                    "maxRolloverAmount": rng.randrange(0, 30),
                }
                if rng.random() < 0.3:
                    g["recurrence"] = {"interval": "DAY"}
                grants.append(s.create_entitlement_grant("c", "ai_tokens", g).id)
            elif action == "void" and grants:
                om.grants.void(grants.pop(rng.randrange(len(grants))))
            elif action == "reset":
                period_start = engine.period_start_at(
                    server.stores.entitlements.find("c", e.id).engine_spec(), now
                )
                at = period_start + (now - period_start) * rng.random()
                s.reset_entitlement_usage(
                    "c",
                    "ai_tokens",
                    at,
                    retain_anchor=rng.random() < 0.5,
                    preserve_overage=rng.choice([None, True, False]),
                )
            else:
                clock.advance(hours=rng.randrange(1, 9), minutes=rng.randrange(0, 60))
        except (InvalidArgumentError, FailedPreconditionError):
            pass  # e.g. a reset in the same minute as the period start: refused, nothing changed
        now = clock()
        instants = [now] + [START + (now - START) * rng.random() for _ in range(3)]
        memo: dict[
            tuple[datetime, datetime], Decimal
        ] = {}  # nothing below changes the events or entitlements
        cold = {t: cold_value(server, "c", engine.value_instant(t), memo) for t in instants}
        for t in instants:
            assert served_value(om, "c", t) == cold[t], (action, t)
        settle(server)
        seen_snapshots = max(seen_snapshots, snapshots.count(e.id))
        for t in instants:  # again, now from the snapshots these calls saved
            assert served_value(om, "c", t) == cold[t], (action, t)
    assert seen_snapshots > 0  # the walk did exercise snapshots
    # No snapshot was ever found stale by the engine's own check (the fallback would hide a missed invalidation).
    assert "stale balance snapshot" not in caplog.text


@pytest.mark.parametrize("server_config", ["sqlite"], indirect=True)
def test_late_event_lookup_is_cheap_when_on_time(clocked_server: MeterdServer) -> None:
    """The ingest listener only does dict lookups for events after every snapshot of their subject."""
    from meterd.server.events.model import ValidEvent

    snapshots = clocked_server.stores.snapshots
    snapshots._bounds[("tokens", "c")] = 1_000
    events = [
        (
            i,
            ValidEvent(
                source="s",
                id=str(i),
                type="tokens",
                subject="c",
                time_us=2_000 + i,
                specversion="1.0",
                datacontenttype="",
                dataschema="",
                data=None,
            ),
        )
        for i in range(1000)
    ]

    class NoSql:
        def execute(self, *args: object) -> None:
            raise AssertionError("no query for on-time events")

    snapshots.on_ingest(NoSql(), events)  # type: ignore[arg-type]
