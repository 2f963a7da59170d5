"""Changes made on other replicas: committed Changes as compact JSON payloads for a notification channel
(PostgreSQL's NOTIFY, whose payloads are capped at 8000 bytes), and the change source that feeds what other
replicas published into this replica's feed. No SQL here: the channel is passed in (store/postgres/notify.py).

A payload is ``{"r": replica id, "t": when the changes were committed (the sender's clock, seconds since the
epoch), "c": [change, ...]}``; a change is a list ``[reason, subject key, event type,
entitlement id, feature key, [subjects], [[subject, minute µs], ...], all subjects (0/1), earliest event µs,
[[late subject, earliest µs], ...], meter slug]`` (a payload without the last three decodes with the earliest
instant unknown). A USAGE change too
big for one payload is split by subjects; one naming more than MAX_NAMED_SUBJECTS subjects is sent as the
coarser "usage of this event type, for every subject".
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from meterd.server.timeutil import from_us, to_us
from meterd.server.watch.changes import Change, Reason

log = logging.getLogger("meterd.watch")

# NOTIFY's payload limit is 8000 bytes; keep room for the envelope.
MAX_PAYLOAD_BYTES = 7900
# Beyond this many subjects in one USAGE change, send "every subject" rather than many payloads.
MAX_NAMED_SUBJECTS = 2000


class Channel(Protocol):
    """A broadcast channel between replicas (PostgreSQL LISTEN/NOTIFY in store/postgres/notify.py)."""

    def publish(self, payloads: Sequence[str]) -> None: ...

    def listen(self, on_payload: Callable[[str], None], on_lost: Callable[[], None]) -> None: ...

    def close(self) -> None: ...


def _dump(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _size(text: str) -> int:
    return len(text.encode())


def _row(c: Change) -> list[Any]:
    return [
        c.reason.value,
        c.subject_key,
        c.event_type,
        c.entitlement_id,
        c.feature_key,
        sorted(c.subjects),
        [[s, to_us(m)] for s, m in c.future],
        int(c.all_subjects),
        c.earliest_us,
        [list(x) for x in c.late],
        c.meter_slug,
    ]


def _split(c: Change, limit: int) -> list[str]:
    """The change as encoded rows each under ``limit`` bytes: split by subjects, or coarse."""
    row = _dump(_row(c))
    if _size(row) <= limit:
        return [row]
    if c.reason is not Reason.USAGE or len(c.subjects) > MAX_NAMED_SUBJECTS or len(c.subjects) <= 1:
        return [_dump(_row(Change(Reason.USAGE, event_type=c.event_type, all_subjects=True)))]
    subjects = sorted(c.subjects)
    half = len(subjects) // 2
    out = []
    for part in (subjects[:half], subjects[half:]):
        names = frozenset(part)
        out.extend(
            _split(
                Change(
                    Reason.USAGE,
                    event_type=c.event_type,
                    subjects=names,
                    future=tuple(f for f in c.future if f[0] in names),
                    earliest_us=c.earliest_us,
                    late=tuple(x for x in c.late if x[0] in names),
                ),
                limit,
            )
        )
    return out


def encode(
    changes: Sequence[Change], replica: str, limit: int = MAX_PAYLOAD_BYTES, committed: float | None = None
) -> list[str]:
    """Payloads (each at most ``limit`` UTF-8 bytes) carrying ``changes`` in order; ``committed``: when they
    were committed (seconds since the epoch), if known."""
    envelope: dict[str, Any] = {"r": replica}
    if committed is not None:
        envelope["t"] = round(committed, 6)
    envelope["c"] = []
    head = _dump(envelope)[:-2]  # '{"r":"…","t":…,"c":['
    room = limit - _size(head) - 2
    payloads: list[str] = []
    rows: list[str] = []
    used = 0
    for change in changes:
        for row in _split(change, room):
            size = _size(row) + (1 if rows else 0)
            if rows and used + size > room:
                payloads.append(head + ",".join(rows) + "]}")
                rows, used, size = [], 0, _size(row)
            rows.append(row)
            used += size
    if rows:
        payloads.append(head + ",".join(rows) + "]}")
    return payloads


def committed_at(payload: str) -> float | None:
    """When the payload's changes were committed (the sender's clock, seconds since the epoch), if it says."""
    t = json.loads(payload).get("t")
    return float(t) if isinstance(t, int | float) else None


def decode(payload: str) -> tuple[str, list[Change]]:
    """(replica id, changes) of a payload made by ``encode``."""
    data = json.loads(payload)
    changes = [
        Change(
            Reason(r[0]),
            r[1],
            r[2],
            r[3],
            r[4],
            frozenset(r[5]),
            tuple((s, from_us(m)) for s, m in r[6]),
            bool(r[7]),
            *((int(r[8]), tuple((x[0], int(x[1])) for x in r[9]), r[10]) if len(r) > 10 else ()),
        )
        for r in data["c"]
    ]
    return data["r"], changes


class RemoteChangeSource:
    """Publishes this replica's committed changes on the channel (``publish``: a sink of the local source)
    and feeds the changes other replicas published to its subscribers. ``lost`` is called when the channel
    dropped and notifications may have been missed (the feed then sends snapshots)."""

    def __init__(
        self,
        channel: Channel,
        active: Callable[[], bool],
        gap: Callable[[], None],
        lost: Callable[[], None],
        replica: str | None = None,
    ) -> None:
        self.replica = replica or secrets.token_hex(8)
        self._channel = channel
        self._active = active
        self._gap = gap
        self._lost = lost
        self._sinks: list[Callable[[Sequence[Change], float | None], None]] = []
        channel.listen(self._received, lost)

    def subscribe(self, sink: Callable[[Sequence[Change], float | None], None]) -> None:
        self._sinks.append(sink)

    def publish(self, changes: Sequence[Change], at: float | None = None) -> None:
        """Sends committed changes to the other replicas; ``at``: when (monotonic) they were committed."""
        if not changes:
            return
        committed = time.time() - (time.monotonic() - at) if at is not None else time.time()
        try:
            self._channel.publish(encode(changes, self.replica, committed=committed))
        except Exception:
            log.exception("watch: publishing changes to other replicas failed")

    def _received(self, payload: str) -> None:
        try:
            replica, changes = decode(payload)
            committed = committed_at(payload)
        except (ValueError, KeyError, IndexError, TypeError):
            log.warning("watch: ignoring a malformed change notification")
            return
        if replica == self.replica or not changes:
            return
        if not self._active():
            self._gap()
            return
        # The commit instant on this replica's monotonic clock (the replicas' system clocks agree to within
        # what NTP keeps them; never later than now): watches here do not claim to be current past it.
        now = time.monotonic()
        at = now if committed is None else now - max(0.0, time.time() - committed)
        try:
            for sink in self._sinks:
                sink(changes, at)
        except Exception:
            log.exception("watch: applying changes from another replica failed")

    def close(self) -> None:
        self._channel.close()
