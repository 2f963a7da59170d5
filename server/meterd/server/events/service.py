"""Ingest and listing of events: validation, dedupe outcomes, batch semantics (unary all-or-nothing,
streamed per event). Knows the store only through the small protocol below."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from meterd.server.errors import FieldViolation, InvalidArgument, ResourceExhausted
from meterd.server.events.model import (
    MAX_BATCH_EVENTS,
    EventFields,
    EventFilter,
    Outcome,
    StoredEvent,
    ValidEvent,
    Warning,
    validate_event,
)
from meterd.server.timeutil import to_us

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


class EventStore(Protocol):
    def submit_ingest(self, events: Sequence[ValidEvent], ingested_at: datetime) -> Future[list[bool]]:
        """Per event: stored or a duplicate, once durable; a ``Stored`` result also carries the warnings."""
        ...

    def list(
        self, filter: EventFilter, limit: int, after: tuple[int, int] | None
    ) -> tuple[list[StoredEvent], tuple[int, int] | None]:
        """One page, newest first. An event whose type no meter reads (now) carries the single error
        ("", "no meter reads event type T") and counts as having an error for ``filter.has_error``."""
        ...


@dataclass(slots=True)
class EventResult:
    """What happened to one event of a batch. (Not frozen: one is built per ingested event.)"""

    index: int
    id: str
    outcome: str
    violations: tuple[FieldViolation, ...] = ()
    # For an accepted event: (meter slug, why) of each meter that could not read it ("" for no meter).
    warnings: tuple[Warning, ...] = ()


class BatchResult:
    """The per-event results of a batch, in order. Given as a list, or as a function that builds it on first
    use (a streamed batch's results are built by the thread that sends them, not by the storage's writer,
    which resolves the batch)."""

    __slots__ = ("_build", "_counts", "_results")

    def __init__(
        self, results: list[EventResult] | None = None, build: Callable[[], list[EventResult]] | None = None
    ) -> None:
        self._results = results
        self._build = build
        self._counts: dict[str, int] | None = None

    @property
    def results(self) -> list[EventResult]:
        if self._results is None:
            assert self._build is not None
            self._results = self._build()
        return self._results

    @property
    def counts(self) -> dict[str, int]:
        if self._counts is None:
            counts = {Outcome.ACCEPTED: 0, Outcome.DUPLICATE: 0, Outcome.REJECTED: 0}
            for r in self.results:
                counts[r.outcome] += 1
            self._counts = counts
        return self._counts

    def count(self, outcome: str) -> int:
        return self.counts[outcome]


class EventService:
    """Validates and stores events; the store's commit is the acknowledgement."""

    def __init__(self, store: EventStore, clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock

    def ingest(self, events: Sequence[tuple[EventFields, int | str | None]]) -> BatchResult:
        """All or nothing: any invalid event raises InvalidArgument (fields named ``events[i].field``)
        and nothing is stored. Returns once every stored event is durable.

        Each item is an event and its time in microseconds since the epoch (None: absent; a string: what is
        wrong with the time as sent)."""
        _check_batch_size(len(events))
        now = self._clock()
        now_us = to_us(now)
        valid: list[ValidEvent] = []
        violations: list[FieldViolation] = []
        for i, (event, time_us) in enumerate(events):
            checked = validate_event(event, time_us, now_us)
            if isinstance(checked, ValidEvent):
                valid.append(checked)
            else:
                violations.extend(FieldViolation(f"events[{i}].{v.field}", v.description) for v in checked)
        if violations:
            raise InvalidArgument.many(violations)
        stored = self._store.submit_ingest(valid, now).result()
        warnings = getattr(stored, "warnings", {})
        return BatchResult(
            [
                EventResult(
                    i, e.id, Outcome.ACCEPTED if ok else Outcome.DUPLICATE, (), tuple(warnings.get(i, ()))
                )
                for i, (e, ok) in enumerate(zip(valid, stored, strict=True))
            ]
        )

    def submit_batch(self, events: Sequence[tuple[EventFields, int | str | None]]) -> Future[BatchResult]:
        """One streamed batch: invalid events are rejected alone. The future resolves after the commit."""
        _check_batch_size(len(events))
        now = self._clock()
        now_us = to_us(now)
        valid: list[ValidEvent] = []
        positions: list[int] = []
        results: list[EventResult | None] = [None] * len(events)
        for i, (event, time_us) in enumerate(events):
            checked = validate_event(event, time_us, now_us)
            if isinstance(checked, ValidEvent):
                valid.append(checked)
                positions.append(i)
            else:
                results[i] = EventResult(i, event.id, Outcome.REJECTED, tuple(checked))
        done: Future[BatchResult] = Future()
        if not valid:
            done.set_result(BatchResult([r for r in results if r is not None]))
            return done

        def complete(stored_future: Future[list[bool]]) -> None:
            # Runs on the storage's writer thread: the per-event results are built later, where they are used.
            try:
                stored = stored_future.result()
            except BaseException as exc:
                done.set_exception(exc)
                return

            def build() -> list[EventResult]:
                accepted, duplicate = Outcome.ACCEPTED, Outcome.DUPLICATE
                warnings = getattr(stored, "warnings", {})
                for k, (position, event, event_ok) in enumerate(zip(positions, valid, stored, strict=True)):
                    results[position] = EventResult(
                        position,
                        event.id,
                        accepted if event_ok else duplicate,
                        (),
                        tuple(warnings.get(k, ())),
                    )
                return [r for r in results if r is not None]

            done.set_result(BatchResult(build=build))

        self._store.submit_ingest(valid, now).add_done_callback(complete)
        return done

    def list(
        self, filter: EventFilter, page_size: int, after: tuple[int, int] | None
    ) -> tuple[list[StoredEvent], tuple[int, int] | None]:
        """One page of events, newest first; see EventStore.list."""
        if page_size < 0:
            raise InvalidArgument.of("page_size", "must not be negative")
        if page_size > MAX_PAGE_SIZE:
            raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
        for name, low, high in (
            ("from_time/to_time", filter.time_from, filter.time_to),
            ("ingested_from_time/ingested_to_time", filter.ingested_from, filter.ingested_to),
        ):
            if low is not None and high is not None and low >= high:
                raise InvalidArgument.of(name, "the start must be before the end")
        return self._store.list(filter, page_size or DEFAULT_PAGE_SIZE, after)


def _check_batch_size(n: int) -> None:
    if n == 0:
        raise InvalidArgument.of("events", "at least one event is required")
    if n > MAX_BATCH_EVENTS:
        raise ResourceExhausted(f"events: a batch holds at most {MAX_BATCH_EVENTS} events, got {n}")
