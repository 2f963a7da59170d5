"""Listing stored events, for both backends (their ingest paths differ and stay in each backend).

"no meter reads event type T" (SPEC § Where meterd follows OpenMeter) is worked out when events are read,
from the meters that exist then: so a meter created for the type removes the error from its events at once
(its backfill reads them), and deleting the last such meter brings it back. Nothing is written on ingest or
on meter changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from meterd.server.events.model import EventFilter, StoredEvent, ValidEvent, no_meter_reads
from meterd.server.store.sql.connection import Connection, Dialect
from meterd.server.timeutil import from_us, to_us

_UNREAD = "type NOT IN (SELECT event_type FROM meters)"
_COLUMNS = (
    "seq, source, id, type, subject, time_us, ingested_us, specversion, datacontenttype, dataschema, data"
)


@dataclass(frozen=True, slots=True)
class InsertedBatch:
    """One submitted batch after its insert: ``seqs[i]`` is event i's seq, None if it was a duplicate."""

    events: Sequence[ValidEvent]
    seqs: Sequence[int | None]
    prepared: object


def where(f: EventFilter, dialect: Dialect) -> tuple[list[str], list[Any]]:
    """The conditions (joined by AND) and parameters of a filter."""
    conditions: list[str] = []
    params: list[Any] = []
    for column, op, value in (
        ("time_us", ">=", f.time_from),
        ("time_us", "<", f.time_to),
        ("ingested_us", ">=", f.ingested_from),
        ("ingested_us", "<", f.ingested_to),
    ):
        if value is not None:
            conditions.append(f"{column} {op} ?")
            params.append(to_us(value))
    if f.subjects:
        condition, values = dialect.any_of("subject", f.subjects)
        conditions.append(condition)
        params += values
    if f.type is not None:
        conditions.append("type = ?")
        params.append(f.type)
    if f.id is not None:
        conditions.append("id = ?")
        params.append(f.id)
    if f.has_error is True:
        conditions.append(f"(has_error = 1 OR {_UNREAD})")
    elif f.has_error is False:
        conditions.append(f"(has_error = 0 AND NOT {_UNREAD})")
    return conditions, params


def list_page(
    conn: Connection, dialect: Dialect, f: EventFilter, limit: int, after: tuple[int, int] | None
) -> tuple[list[StoredEvent], tuple[int, int] | None]:
    """One page, newest event time first (ties: newest ingestion first).

    ``after`` is the (time_us, seq) of the previous page's last row; returns the page and the cursor of its
    last row when more rows may follow. An event whose type no meter reads carries the single error
    ``no_meter_error``."""
    conditions, params = where(f, dialect)
    if after is not None:
        conditions.append("(time_us < ? OR (time_us = ? AND seq < ?))")
        params += [after[0], after[0], after[1]]
    sql = (
        f"SELECT {_COLUMNS} FROM events"
        + (" WHERE " + " AND ".join(conditions) if conditions else "")
        + " ORDER BY time_us DESC, seq DESC LIMIT ?"
    )
    rows = conn.execute(sql, [*params, limit + 1]).fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    errors = _errors_of(conn, dialect, [r[0] for r in rows])
    unread = _unread_types(conn, dialect, {r[3] for r in rows})
    page = [
        stored_event(r, (no_meter_error(r[3]),) if r[3] in unread else errors.get(r[0], ())) for r in rows
    ]
    cursor = (rows[-1][5], rows[-1][0]) if more and rows else None
    return page, cursor


def first_event_times(
    conn: Connection, event_type: str, start_us: int, end_us: int, limit: int
) -> tuple[dict[str, int], int]:
    """Per subject, the earliest time of its events of ``event_type`` in ``[start_us, end_us)``, from at most
    ``limit`` events in time order (read by the index on time); and the instant up to which that is
    complete: ``end_us``, or the last event read when ``limit`` cut the read short."""
    rows = conn.execute(
        "SELECT subject, time_us FROM events WHERE type = ? AND time_us >= ? AND time_us < ? ORDER BY time_us LIMIT ?",
        (event_type, start_us, end_us, limit),
    ).fetchall()
    firsts: dict[str, int] = {}
    for subject, time_us in rows:
        firsts.setdefault(subject, time_us)
    # Cut short: what is known holds up to the last time read (events at that very time may be left out).
    return firsts, (rows[-1][1] if len(rows) >= limit and rows else end_us)


def stored_event(r: Sequence[Any], validation_errors: tuple[tuple[str, str], ...]) -> StoredEvent:
    """A listed event from its row (seq, source, id, type, subject, time_us, ingested_us, specversion,
    datacontenttype, dataschema, data)."""
    return StoredEvent(
        event=ValidEvent(
            source=r[1], id=r[2], type=r[3], subject=r[4], time_us=r[5], specversion=r[7],
            datacontenttype=r[8] or "", dataschema=r[9] or "", data=r[10],
        ),
        ingested_at=from_us(r[6]),
        validation_errors=validation_errors,
    )  # fmt: skip


def no_meter_error(event_type: str) -> tuple[str, str]:
    """The validation error of an event whose type no meter reads: (no meter slug, the message)."""
    return "", no_meter_reads(event_type)


def _unread_types(conn: Connection, dialect: Dialect, types: set[str]) -> set[str]:
    """The event types among ``types`` that no meter reads."""
    if not types:
        return set()
    condition, params = dialect.any_of("event_type", sorted(types))
    read = conn.execute(f"SELECT DISTINCT event_type FROM meters WHERE {condition}", params)
    return types - {row[0] for row in read}


def _errors_of(conn: Connection, dialect: Dialect, seqs: list[int]) -> dict[int, tuple[tuple[str, str], ...]]:
    if not seqs:
        return {}
    found: dict[int, list[tuple[str, str]]] = {}
    condition, params = dialect.any_of("event_seq", seqs)
    rows = conn.execute(
        f"SELECT event_seq, meter_slug, message FROM event_errors WHERE {condition} ORDER BY event_seq, meter_slug",
        params,
    )
    for seq, slug, message in rows:
        found.setdefault(seq, []).append((slug, message))
    return {seq: tuple(items) for seq, items in found.items()}
