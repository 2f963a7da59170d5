"""PostgreSQL storage of meters and their pre-aggregates, shared by every replica.

The layout and merge rules are the SQLite store's (per-subject and all-subject rows at minute, hour and day
level; exact sums in two integers; LATEST by event time then sequence). What differs is concurrency:

- Each replica caches the meters by event type, checked against ``meters_version`` (bumped by every create,
  update and delete) at the start of each ingest transaction, so a meter created on replica A aggregates
  the next batch ingested on B.
- A meter change takes ``LOCK_METERS`` exclusive (ingest holds it shared), so its backfill sees every event
  committed without it and no ingest runs with the old set of meters while it commits.
- Rows are upserted in key order with one statement per table (``INSERT ... SELECT FROM unnest(...) ORDER
  BY key ON CONFLICT DO UPDATE``): concurrent transactions lock shared aggregate rows in one global order, so
  replicas ingesting at once wait for each other instead of deadlocking, and no update is lost (the merge
  reads the committed row under its lock).
- Group tuples are interned in sorted order too; a gid is cached only once committed by someone else's
  transaction (a gid this transaction created could vanish with its rollback).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from meterd.server.errors import AlreadyExists
from meterd.server.events.model import parse_data
from meterd.server.meters.model import Aggregation, MeterDefinition, MeterReader, ReadError
from meterd.server.meters.plan import NANOS, Fetch, Level, decimal_to_nanos
from meterd.server.store.postgres.db import LOCK_METERS, Conn, Database
from meterd.server.store.postgres.events import PgEventStore
from meterd.server.store.sqlite.meters import (
    _COLUMNS,
    _INSERT_COLUMNS,
    _SUFFIX,
    ALL_SUBJECTS,
    SqliteMeterStore,
    StoredMeter,
    _Acc,
    _Compiled,
    _roll_up,
    _row_to_meter,
)
from meterd.server.timeutil import to_us

_INTERN = (
    "INSERT INTO meter_groups (meter_num, groups) SELECT n, g::jsonb FROM unnest(%s::bigint[], %s::text[])"
    " AS u(n, g) ORDER BY n, g ON CONFLICT DO NOTHING RETURNING meter_num, groups"
)
_GIDS = (
    "SELECT u.n, u.g, m.gid FROM unnest(%s::bigint[], %s::text[]) AS u(n, g)"
    " JOIN meter_groups m ON m.meter_num = u.n AND m.groups = u.g::jsonb"
)
_NEWER = "(excluded.latest_time_us, excluded.latest_seq) > (a.latest_time_us, a.latest_seq)"


def _upsert_sql(s: str) -> str:
    newer = f"a.latest_time_us IS NULL OR {_NEWER}"
    return (
        f"INSERT INTO meter_agg_{s} AS a (meter_num, subject, time_us, gid, count, sum_units, sum_nanos, min, max,"
        " latest, latest_time_us, latest_seq)"
        " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::bigint[], %s::bigint[],"
        " %s::bigint[], %s::float8[], %s::float8[], %s::float8[], %s::bigint[], %s::bigint[])"
        " ORDER BY 1, 2, 3, 4"
        " ON CONFLICT (meter_num, subject, time_us, gid) DO UPDATE SET"
        " count = a.count + excluded.count,"
        " sum_units = a.sum_units + excluded.sum_units,"
        " sum_nanos = a.sum_nanos + excluded.sum_nanos,"
        " min = CASE WHEN a.min IS NULL OR excluded.min < a.min THEN excluded.min ELSE a.min END,"
        " max = CASE WHEN a.max IS NULL OR excluded.max > a.max THEN excluded.max ELSE a.max END,"
        f" latest = CASE WHEN excluded.latest_time_us IS NOT NULL AND ({newer}) THEN excluded.latest ELSE a.latest END,"
        f" latest_seq = CASE WHEN excluded.latest_time_us IS NOT NULL AND ({newer})"
        " THEN excluded.latest_seq ELSE a.latest_seq END,"
        f" latest_time_us = CASE WHEN excluded.latest_time_us IS NOT NULL AND ({newer})"
        " THEN excluded.latest_time_us ELSE a.latest_time_us END"
    )


_UPSERT = {s: _upsert_sql(s) for s in _SUFFIX.values()}
_DISTINCT = {
    s: f"INSERT INTO meter_distinct_{s} (meter_num, subject, time_us, gid, value)"
       " SELECT * FROM unnest(%s::bigint[], %s::text[], %s::bigint[], %s::bigint[], %s::text[])"
       " ORDER BY 1, 2, 3, 4, 5 ON CONFLICT DO NOTHING"
    for s in _SUFFIX.values()
}


def _groups_text(groups: tuple[str | None, ...]) -> str:
    return json.dumps(list(groups), separators=(",", ":"))


class PgMeterStore(SqliteMeterStore):
    """Meters and their aggregates in PostgreSQL. Registers itself as an ingest listener of the event store."""

    def __init__(self, db: Database, events: PgEventStore) -> None:
        super().__init__(db, events)  # type: ignore[arg-type]
        self._version = -1

    # -- meters ------------------------------------------------------------------------------------------
    @staticmethod
    def _lock_meters(conn: Conn) -> None:
        conn.native("SELECT pg_advisory_xact_lock(%s)", (LOCK_METERS,))
        conn.execute("UPDATE meters_version SET version = version + 1 WHERE one = 1")

    def create(self, meter_id: str, definition: MeterDefinition, now: datetime) -> StoredMeter:
        def job(conn: Conn) -> StoredMeter:
            self._lock_meters(conn)
            if conn.execute("SELECT 1 FROM meters WHERE slug = ?", (definition.slug,)).fetchone():
                raise AlreadyExists(f"meter.slug: a meter with slug {definition.slug!r} already exists")
            num = conn.execute(
                f"INSERT INTO meters ({_INSERT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING num",
                (meter_id, definition.slug, definition.description, definition.event_type,
                 definition.aggregation.value, definition.value_property, json.dumps(dict(definition.group_by)),
                 to_us(now), to_us(now)),
            ).fetchone()[0]
            self._backfill(conn, _Compiled(num, definition.slug, MeterReader(definition), definition.aggregation),
                           definition.event_type)
            self._invalidate()
            return StoredMeter(meter_id, definition, now, now, num)

        return self._db.write(job)  # type: ignore[arg-type]

    def update(self, meter: StoredMeter, definition: MeterDefinition, now: datetime) -> StoredMeter:
        def job(conn: Conn) -> StoredMeter:
            self._lock_meters(conn)
            row = conn.execute(f"SELECT {_COLUMNS} FROM meters WHERE id = ?", (meter.id,)).fetchone()
            current = _row_to_meter(row) if row else meter
            if current.definition == definition:  # another replica declared the same definition first
                return current
            self._drop_aggregates(conn, meter.num, meter.slug)  # type: ignore[arg-type]
            conn.execute(
                "UPDATE meters SET description = ?, event_type = ?, aggregation = ?, value_property = ?,"
                " group_by = ?, updated_us = ? WHERE id = ?",
                (definition.description, definition.event_type, definition.aggregation.value,
                 definition.value_property, json.dumps(dict(definition.group_by)), to_us(now), meter.id),
            )
            self._backfill(conn, _Compiled(meter.num, definition.slug, MeterReader(definition), definition.aggregation),
                           definition.event_type)
            self._invalidate()
            return StoredMeter(meter.id, definition, meter.created_at, now, meter.num)

        return self._db.write(job)  # type: ignore[arg-type]

    def delete(self, meter: StoredMeter) -> None:
        def job(conn: Conn) -> None:
            self._lock_meters(conn)
            self._drop_aggregates(conn, meter.num, meter.slug)  # type: ignore[arg-type]
            conn.execute("DELETE FROM meters WHERE id = ?", (meter.id,))
            self._invalidate()

        self._db.write(job)  # type: ignore[arg-type]

    # -- reading aggregates -----------------------------------------------------------------------------
    def fetch(
        self, meter: StoredMeter, fetch: Fetch, *, subjects: Sequence[str], keep_subject: bool,
        keep_groups: Sequence[int], filters: Mapping[int, str],
    ) -> Iterator[tuple[int, str | None, tuple[str | None, ...], int, int, float | None, float | None,
                        tuple[int, int, float] | None, str | None]]:
        s = _SUFFIX[fetch.level]
        where = ["a.meter_num = %s", "a.time_us >= %s", "a.time_us < %s"]
        params: list[object] = [meter.num, fetch.start_us, fetch.end_us]
        if subjects:
            where.append("a.subject = ANY(%s)")
            params.append(list(subjects))
        elif keep_subject:
            where.append("a.subject != %s")
            params.append(ALL_SUBJECTS)
        else:
            where.append("a.subject = %s")
            params.append(ALL_SUBJECTS)
        for index, value in filters.items():
            where.append(f"g.groups->>{int(index)} = %s")
            params.append(value)
        join = " JOIN meter_groups g ON g.gid = a.gid" if keep_groups or filters else ""
        subject_col = "a.subject" if keep_subject else "NULL::text"
        group_cols = [f"g.groups->>{int(i)}" for i in keep_groups]
        select_keys = ", ".join(["a.time_us", subject_col, *group_cols])
        group_by = ", ".join(["a.time_us", *(["a.subject"] if keep_subject else []), *group_cols])
        width = len(group_cols)
        aggregation = meter.aggregation
        condition = " AND ".join(where)
        if aggregation is Aggregation.UNIQUE_COUNT:
            sql = f"SELECT DISTINCT {select_keys}, a.value FROM meter_distinct_{s} a{join} WHERE {condition}"
            rows = self._query(sql, params)
            for row in rows:
                yield row[0], row[1], tuple(row[2:2 + width]), 1, 0, None, None, None, row[2 + width]
        elif aggregation is Aggregation.LATEST:
            sql = (f"SELECT {select_keys}, a.count, a.latest_time_us, a.latest_seq, a.latest"
                   f" FROM meter_agg_{s} a{join} WHERE {condition}")
            for row in self._query(sql, params):
                count, lt, ls, lv = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, 0, None, None,
                       (lt, ls, lv) if lt is not None else None, None)
        else:
            sql = (f"SELECT {select_keys}, SUM(a.count)::bigint, SUM(a.sum_units), SUM(a.sum_nanos),"
                   f" MIN(a.min), MAX(a.max) FROM meter_agg_{s} a{join} WHERE {condition} GROUP BY {group_by}")
            for row in self._query(sql, params):
                count, units, nanos, mn, mx = row[2 + width:]
                yield (row[0], row[1], tuple(row[2:2 + width]), count, int(units) * NANOS + int(nanos), mn, mx,
                       None, None)

    def _query(self, sql: str, params: list[object]) -> list[tuple]:  # type: ignore[type-arg]
        with self._db.connection() as raw:  # type: ignore[attr-defined]
            return raw.execute(sql, params).fetchall()  # type: ignore[no-any-return]

    # -- ingest ------------------------------------------------------------------------------------------
    def _meters_by_type(self, conn: Conn) -> dict[str, list[_Compiled]]:  # type: ignore[override]
        version = conn.execute("SELECT version FROM meters_version WHERE one = 1").fetchone()[0]
        with self._lock:
            if self._by_type is None or version != self._version:
                by_type: dict[str, list[_Compiled]] = {}
                for row in conn.execute(f"SELECT {_COLUMNS} FROM meters"):
                    m = _row_to_meter(row)
                    by_type.setdefault(m.event_type, []).append(
                        _Compiled(m.num, m.slug, MeterReader(m.definition), m.aggregation)
                    )
                self._by_type = by_type
                self._version = version
                self._gids.clear()
            return self._by_type

    def _intern(self, conn: Conn, needed: set[tuple[int, tuple[str | None, ...]]]) -> dict[
            tuple[int, tuple[str | None, ...]], int]:
        """gids of the group tuples, inserting the missing ones in sorted order."""
        by_text = {(num, _groups_text(groups)): (num, groups) for num, groups in needed}
        keys = sorted(by_text)
        nums, texts = [k[0] for k in keys], [k[1] for k in keys]
        created = {(n, json.dumps(g, separators=(",", ":"))) for n, g in conn.native(_INTERN, (nums, texts))}
        found: dict[tuple[int, tuple[str | None, ...]], int] = {}
        for num, text, gid in conn.native(_GIDS, (nums, texts)):
            key = by_text[(num, text)]
            found[key] = gid
            if (num, text) not in created:  # committed by another transaction: safe to keep
                if len(self._gids) > 1_000_000:
                    self._gids.clear()
                self._gids[key] = gid
        return found

    def _aggregate(  # type: ignore[override]
        self, conn: Conn, events: Iterable[tuple[int, str, str, int, object]],
        by_type: dict[str, list[_Compiled]],
    ) -> None:
        readings: list[tuple[int, str, int, int, _Compiled, tuple[str | None, ...], object]] = []
        errors: list[tuple[int, str, str]] = []
        needed: set[tuple[int, tuple[str | None, ...]]] = set()
        gids = self._gids
        for seq, event_type, subject, time_us, data in events:
            meters = by_type.get(event_type)
            if not meters:
                continue
            parsed = parse_data(data) if data is not None else None  # type: ignore[arg-type]
            for m in meters:
                reading = m.reader.read(parsed)  # type: ignore[arg-type]
                if isinstance(reading, ReadError):
                    errors.append((seq, m.slug, reading.message))
                    continue
                if (m.meter_num, reading.groups) not in gids:
                    needed.add((m.meter_num, reading.groups))
                readings.append((seq, subject, time_us, m.meter_num, m, reading.groups, reading.value))
        local = self._intern(conn, needed) if needed else {}
        minute_accs: dict[tuple[int, str, int, int], _Acc] = {}
        distinct: set[tuple[int, str, int, int, str]] = set()
        for seq, subject, time_us, num, _m, groups, value in readings:
            gid = gids.get((num, groups)) or local[(num, groups)]
            minute = time_us - time_us % 60_000_000
            key = (num, subject, gid, minute)
            acc = minute_accs.get(key)
            if acc is None:
                acc = minute_accs[key] = _Acc()
            acc.count += 1
            if isinstance(value, Decimal):
                acc.nanos += decimal_to_nanos(value)
                f = float(value)
                if acc.min is None or f < acc.min:
                    acc.min = f
                if acc.max is None or f > acc.max:
                    acc.max = f
                if acc.latest is None or (time_us, seq) > acc.latest[:2]:
                    acc.latest = (time_us, seq, f)
            elif isinstance(value, str):
                distinct.add((*key, value))
        if errors:
            errors.sort()
            conn.executemany(
                "INSERT INTO event_errors (event_seq, meter_slug, message) VALUES (?, ?, ?)"
                " ON CONFLICT (event_seq, meter_slug) DO UPDATE SET message = excluded.message", errors)
            conn.native("UPDATE events SET has_error = 1 WHERE seq = ANY(%s)", (sorted({e[0] for e in errors}),))
        if not minute_accs:
            return
        for level in Level:
            s = _SUFFIX[level]
            accs = _roll_up(minute_accs, level)
            cols: list[list[object]] = [[] for _ in range(12)]
            for (mid, sub, g, t), a in accs.items():
                latest = a.latest
                for col, v in zip(cols, (mid, sub, t, g, a.count, a.nanos // NANOS, a.nanos % NANOS, a.min, a.max,
                                         latest[2] if latest else None, latest[0] if latest else None,
                                         latest[1] if latest else None), strict=True):
                    col.append(v)
            conn.native(_UPSERT[s], cols)
            if distinct:
                rows = {(num, sub, t - t % level.value, g, v) for num, sub, g, t, v in distinct}
                rows |= {(num, ALL_SUBJECTS, t, g, v) for num, _, t, g, v in rows}
                dcols: list[list[object]] = [[] for _ in range(5)]
                for row in rows:
                    for col, v in zip(dcols, row, strict=True):
                        col.append(v)
                conn.native(_DISTINCT[s], dcols)
