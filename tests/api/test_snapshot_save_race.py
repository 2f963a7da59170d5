"""A balance snapshot save on PostgreSQL re-checks its basis after it holds its locks: an ingest that commits a
late event while the save waits for the event-sequence lock is seen, and nothing stale is saved.

The cold-replay walk (tests/unit/test_snapshots.py) found this under load: the save ran SERIALIZABLE with its
locks taken inside the transaction, so its snapshot predated the wait and its re-check missed the event that
the ingest had just committed (whose invalidation had run before the snapshot row existed). Here the ingest's
side is held open by hand, so the interleaving happens every run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from entitlement_support import create_meter

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.credit.engine import BalanceState
from meterd.server.credit.snapshots import SnapshotBasis
from meterd.server.store.postgres.db import LOCK_EVENT_SEQ
from meterd.server.store.sql import snapshots as rules
from meterd.server.timeutil import to_us

LATEST = datetime(2024, 1, 10, tzinfo=UTC)


@pytest.fixture
def pg_server(pg_url: str) -> Iterator[MeterdServer]:
    srv = MeterdServer(Config(listen="127.0.0.1:0", db=pg_url, log_format="text")).start()
    yield srv
    srv.stop(0)


def waiting_for_a_lock(url: str) -> bool:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        ).fetchone()
    return bool(row and row[0])


def test_a_save_waiting_for_an_ingest_sees_its_late_event(pg_server: MeterdServer, pg_url: str) -> None:
    with OpenMeter(pg_server.address, timeout=30) as om:
        create_meter(om)
        om.features.create({"key": "ai_tokens", "name": "AI Tokens", "meterSlug": "tokens_total"})
        entitlement = om.subjects.create_entitlement(
            "c", {"type": "metered", "featureKey": "ai_tokens", "usagePeriod": {"interval": "MONTH"}}
        )
    snapshots = pg_server.stores.snapshots
    basis = SnapshotBasis(entitlement.id, "tokens", "c", snapshots.event_seq(), frozenset(), ())
    state = BalanceState(at=LATEST, balances={}, overage=Decimal(0), usage=Decimal(0), period_start=LATEST)
    rows = rules.rows_of(basis, [state], LATEST)

    # The ingest's side: the event-sequence lock held shared, a late event for the pair written, not committed.
    with psycopg.connect(pg_url) as ingest:
        ingest.execute("SELECT pg_advisory_xact_lock_shared(%s)", (LOCK_EVENT_SEQ,))
        ingest.execute(
            "INSERT INTO events (seq, source, id, type, subject, time_us, ingested_us, specversion, data)"
            " VALUES (nextval('events_seq'), 't', 'late', 'tokens', 'c', %s, %s, '1.0', '{\"tokens\": 5}')",
            (to_us(LATEST - timedelta(days=2)), to_us(LATEST)),
        )
        saved = snapshots.submit_save(basis, rows, None)
        deadline = time.monotonic() + 30
        while not waiting_for_a_lock(pg_url):  # the save queued behind the ingest
            assert time.monotonic() < deadline, "the save never waited for the ingest's lock"
            assert not saved.done(), "the save did not wait for the ingest's lock"
            time.sleep(0.01)
        ingest.commit()
    assert saved.result(timeout=30) is False
    assert snapshots.count(entitlement.id) == 0
