"""Requests of ``om.events`` (ingest one event or many, list them, stream them), built and checked before
sending, and the tally of a stream's acknowledgements; the namespace and the stream themselves are in
``_async/events.py`` and its blocking twin."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._convert import normalize, optional_str, page_size, str_list, to_json_text, to_timestamp
from meterd.client._errors import FieldViolation, IngestRejectedError, invalid_argument
from meterd.v1 import events_pb2

EventLike = Mapping[str, Any] | events_pb2.Event
_EVENT_KEYS = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "datacontenttype",
    "dataschema",
    "data",
)

DEFAULT_BATCH_SIZE = 1000
DEFAULT_MAX_IN_FLIGHT = 8


def event_to_wire(event: EventLike, index: int | None = None) -> events_pb2.Event:
    """A wire Event from an SDK-shaped dict; ``specversion`` defaults to "1.0"."""
    if isinstance(event, events_pb2.Event):
        return event
    what = "event" if index is None else f"events[{index}]"
    e = normalize(event, what=what, allowed=_EVENT_KEYS, required=("id", "source", "type", "subject"))
    for key in ("specversion", "id", "source", "type", "subject", "datacontenttype", "dataschema"):
        if key in e and e[key] is not None and not isinstance(e[key], str):
            raise invalid_argument(f"{what}.{key}", f"expected a string, got {type(e[key]).__name__}")
    message = events_pb2.Event(
        specversion=e.get("specversion") or "1.0",
        id=e["id"],
        source=e["source"],
        type=e["type"],
        subject=e["subject"],
        datacontenttype=e.get("datacontenttype") or "",
        dataschema=e.get("dataschema") or "",
    )
    if e.get("time") is not None:
        message.time.CopyFrom(to_timestamp(e["time"], what=f"{what}.time"))
    if e.get("data") is not None:
        message.data = to_json_text(e["data"], what=f"{what}.data")
    return message


def ingest_request(events: EventLike | Iterable[EventLike]) -> events_pb2.IngestEventsRequest:
    if isinstance(events, Mapping | events_pb2.Event):
        return events_pb2.IngestEventsRequest(events=[event_to_wire(events)])
    return events_pb2.IngestEventsRequest(events=[event_to_wire(e, i) for i, e in enumerate(events)])


def list_request(
    limit: int | None,
    page_token: str | None,
    from_: datetime | str | None,
    to: datetime | str | None,
    ingested_from: datetime | str | None,
    ingested_to: datetime | str | None,
    subject: str | Iterable[str] | None,
    type: str | None,
    id: str | None,
    has_error: bool | None,
) -> events_pb2.ListEventsRequest:
    request = events_pb2.ListEventsRequest(
        page_size=page_size(limit),
        page_token=optional_str(page_token, what="page_token"),
        subject=str_list(subject, what="subject"),
        type=optional_str(type, what="type"),
        id=optional_str(id, what="id"),
    )
    for field, value in (
        ("from_time", from_),
        ("to_time", to),
        ("ingested_from_time", ingested_from),
        ("ingested_to_time", ingested_to),
    ):
        if value is not None:
            getattr(request, field).CopyFrom(to_timestamp(value, what=field))
    if has_error is not None:
        request.has_error = has_error
    return request


# A stream keeps this many examples of warnings (per meter) for its summary; the counts are complete.
WARNING_EXAMPLES = 3


class StreamTally:
    """Outcomes of a stream so far, and the rejections not yet reported by a flush.

    ``warned`` counts accepted events that some meter could not read (stored all the same, skipped by that
    meter); ``warnings`` maps each meter slug ("" for events whose type no meter reads) to how many events it
    skipped and up to ``WARNING_EXAMPLES`` (event id, why) examples."""

    def __init__(self) -> None:
        self.accepted = 0
        self.duplicates = 0
        self.rejected = 0
        self.warned = 0
        self.warnings: dict[str, tuple[int, list[tuple[str, str]]]] = {}
        self.unreported: dict[str, list[FieldViolation]] = {}
        self.rejected_events: list[tuple[events_pb2.Event, list[FieldViolation]]] = []

    def record(self, ack: events_pb2.StreamEventsResponse, batch: list[events_pb2.Event]) -> None:
        self.accepted += ack.accepted_count
        self.duplicates += ack.duplicate_count
        self.rejected += ack.rejected_count
        for result in ack.results:
            if result.warnings:
                self.warned += 1
                for warning in result.warnings:
                    count, examples = self.warnings.get(warning.meter_slug, (0, []))
                    if len(examples) < WARNING_EXAMPLES:
                        examples.append((result.id, warning.message))
                    self.warnings[warning.meter_slug] = (count + 1, examples)
            if result.outcome == events_pb2.EVENT_OUTCOME_REJECTED:
                violations = [FieldViolation(v.field, v.description) for v in result.violations]
                self.unreported[result.id or f"#{result.index}"] = violations
                self.rejected_events.append((batch[result.index], violations))

    def take_rejection(self) -> IngestRejectedError | None:
        if not self.unreported:
            return None
        error = IngestRejectedError(self.unreported, self.accepted, self.duplicates)
        self.unreported = {}
        return error
