"""Meters that share aggregate rows (row sets, issue 23) through the real server and client, on both backends:
several meters of one event type, with the same and with different group keys, created before and after
events exist (a backfill into rows other meters already hold), deleted or redefined while others on their
type stay (their slot then given to a meter created later), over decimals, numbers beyond 64 bits,
UNIQUE_COUNT's values and LATEST's ties. Every live meter answers as the brute-force reference over the
raw events, and no row holds a value in a slot that no meter holds."""

from __future__ import annotations

import itertools
import sqlite3
from datetime import timedelta
from typing import Any

import psycopg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_meters import BASE, ZONES, check_against_reference, events_strategy

from meterd.client import NotFoundError, OpenMeter
from meterd.server.config import Config
from meterd.server.meters.fold import SLOTS
from meterd.server.meters.model import Aggregation, MeterDefinition
from meterd.server.store import backend_of, sqlite_path

_types = itertools.count()
# Group-by choices: three share the paths ($.k1 alone, under two key names: one row set), the others differ.
GROUPS = [{"k1": "$.k1"}, {"a": "$.k1"}, {"k1": "$.k1"}, {"k1": "$.k1", "k2": "$.k2"}, {}, {"n": "$.nest.k"}]
# When each meter is created, and what happens to it: created before the events, after the first half
# (backfilled), deleted after the first half, or redefined then (deleted and created again with the other
# group keys and aggregation it is given).
FATES = ["before", "before", "after", "deleted", "redefined"]

meter_specs = st.tuples(
    st.sampled_from(list(Aggregation)),
    st.sampled_from(range(len(GROUPS))),
    st.sampled_from(FATES),
    st.sampled_from(list(Aggregation)),
    st.sampled_from(range(len(GROUPS))),
)


def stale_values(db: str) -> int:
    """Rows holding a value in a slot that no meter holds (a deleted meter's leftovers)."""
    tables = ("agg_sub_m", "agg_sub_h", "agg_all_m", "agg_all_h", "agg_all_d")
    if backend_of(db) == "postgres":
        with psycopg.connect(db) as pg:
            used = pg.execute("SELECT rowset, slot FROM meter_slots").fetchall()
            rowsets = [r[0] for r in pg.execute("SELECT rowset FROM meter_rowsets")]
            ph = "%s"
            run = lambda sql, p: pg.execute(sql, p).fetchone()[0]  # noqa: E731
            return _count_stale(used, rowsets, tables, ph, run)
    conn = sqlite3.connect(sqlite_path(db))
    try:
        used = conn.execute("SELECT rowset, slot FROM meter_slots").fetchall()
        rowsets = [r[0] for r in conn.execute("SELECT rowset FROM meter_rowsets")]
        return _count_stale(used, rowsets, tables, "?", lambda sql, p: conn.execute(sql, p).fetchone()[0])
    finally:
        conn.close()


def _count_stale(
    used: list[tuple[int, int]], rowsets: list[int], tables: tuple[str, ...], ph: str, run: Any
) -> int:
    stale = 0
    for table in tables:
        # Rows of row sets that no longer exist, and values in free slots of those that do.
        listed = ", ".join(str(int(r)) for r in rowsets) or "NULL"
        stale += run(f"SELECT count(*) FROM {table} WHERE rowset NOT IN ({listed})", ())
        for rowset in rowsets:
            free = [s for s in range(SLOTS) if (rowset, s) not in used]
            if free:
                held = " OR ".join(f"{c}{s} IS NOT NULL" for s in free for c in "nabx")
                stale += run(f"SELECT count(*) FROM {table} WHERE rowset = {ph} AND ({held})", (rowset,))
    return stale


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    specs=st.lists(meter_specs, min_size=1, max_size=2 * SLOTS),
    raw_events=events_strategy,
    window=st.sampled_from([None, "HOUR", "DAY", "MINUTE"]),
    zone=st.sampled_from(ZONES),
    span=st.tuples(st.integers(0, 4 * 24 * 60), st.integers(1, 4 * 24 * 60)),
    subjects=st.sampled_from([(), ("s1",), ("s1", "s3")]),
    by_subject=st.booleans(),
)
def test_meters_sharing_rows_equal_the_reference(
    om: OpenMeter,
    server_config: Config,
    specs: list[tuple[Aggregation, int, str, Aggregation, int]],
    raw_events: list[Any],
    window: str | None,
    zone: str,
    span: tuple[int, int],
    subjects: tuple[str, ...],
    by_subject: bool,
) -> None:
    event_type = f"rows{next(_types)}"

    def definition(i: int, aggregation: Aggregation, groups: int) -> MeterDefinition:
        return MeterDefinition(
            slug=f"{event_type}_{i}",
            event_type=event_type,
            aggregation=aggregation,
            value_property=None if aggregation is Aggregation.COUNT else "$.v",
            group_by=GROUPS[groups],
        )

    def create(meter: MeterDefinition) -> None:
        om.meters.create(
            {
                "slug": meter.slug,
                "eventType": event_type,
                "aggregation": meter.aggregation.value,
                "valueProperty": meter.value_property,
                "groupBy": dict(meter.group_by),
            }
        )

    meters = {i: definition(i, aggregation, groups) for i, (aggregation, groups, _, _, _) in enumerate(specs)}
    for i, (_, _, fate, _, _) in enumerate(specs):
        if fate != "after":
            create(meters[i])
    events = []
    for i, (minute, sec, subject, value, k1, k2, dup) in enumerate(raw_events):
        events.append(
            {
                "id": f"{event_type}-{i % 7 if dup == 0 else i}",
                "source": "rows",
                "type": event_type,
                "subject": subject,
                "time": BASE + timedelta(minutes=minute, seconds=sec),
                "data": {"v": value, "k1": k1, "k2": k2, "nest": {"k": k2}},
            }
        )
    half = len(events) // 2
    if events[:half]:
        om.events.ingest(events[:half])
    for i, (_, _, fate, aggregation, groups) in enumerate(specs):
        if fate in ("deleted", "redefined"):
            om.meters.delete(meters[i].slug)
        if fate == "redefined":
            meters[i] = definition(i, aggregation, groups)
            create(meters[i])
    for i, (_, _, fate, _, _) in enumerate(specs):
        if fate == "after":
            create(meters[i])
    for e in events[half:]:
        om.events.ingest(e)
    assert stale_values(server_config.db) == 0
    start = BASE + timedelta(minutes=min(span[0], 4 * 24 * 60 - 1))
    end = start + timedelta(minutes=span[1])
    for i, (_, _, fate, _, _) in enumerate(specs):
        meter = meters[i]
        if fate == "deleted":
            try:
                om.meters.get(meter.slug)
            except NotFoundError:
                continue
            raise AssertionError(f"{meter.slug} was deleted")
        group_by = (("subject",) if by_subject else ()) + tuple(meter.group_by)[:1]
        for size, by in ((window, ()), (window, group_by), ("HOUR", ())):
            check_against_reference(om, events, meter, start, end, size, zone, subjects, by, {})
