"""CloudEvents validation and the event types the rest of meterd uses (SPEC § Events)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from meterd.server.errors import FieldViolation
from meterd.server.timeutil import from_us

# Limits: a field longer than this is refused (INVALID_ARGUMENT), a batch larger is RESOURCE_EXHAUSTED.
MAX_FIELD_LENGTH = 1024
MAX_DATA_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 10_000
JSON_CONTENT_TYPES = frozenset({"", "application/json"})

_REQUIRED = ("id", "source", "specversion", "type", "subject")


class EventFields(Protocol):
    """The CloudEvent attributes validation reads (an ``Event``, or a wire message with the same names)."""

    @property
    def id(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def specversion(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def datacontenttype(self) -> str: ...
    @property
    def dataschema(self) -> str: ...
    @property
    def data(self) -> str: ...


# Event and ValidEvent are built once per ingested event: plain slotted classes, because a frozen
# dataclass's __init__ costs several times more. Treat them as immutable.
@dataclass(slots=True)
class Event:
    """An event as received: every field optional until validated. Times are microseconds since the epoch."""

    id: str
    source: str
    specversion: str
    type: str
    subject: str
    time_us: int | None = None
    datacontenttype: str = ""
    dataschema: str = ""
    data: str = ""  # JSON text; empty means absent


@dataclass(slots=True)
class ValidEvent:
    """A valid event, with its time filled in (data is valid JSON text: an object, or None)."""

    id: str
    source: str
    specversion: str
    type: str
    subject: str
    time_us: int  # event time, microseconds since the epoch (sub-second precision kept)
    datacontenttype: str
    dataschema: str
    data: str | None  # JSON text as sent (None when absent)

    @property
    def time(self) -> datetime:
        return from_us(self.time_us)



@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as ListEvents returns it."""

    event: ValidEvent
    ingested_at: datetime
    validation_errors: tuple[tuple[str, str], ...]  # (meter slug, message)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


# One decoder for every event: building one per call costs more than the parse itself.
_DECODER = json.JSONDecoder(parse_float=Decimal, parse_constant=_refuse_constant)


def parse_data(text: str) -> Any:
    """Parses event data JSON; floats become Decimal so numbers keep their exact value.

    Python's json accepts NaN and Infinity, which are not JSON: they are refused here."""
    return _DECODER.decode(text)


def _check_json(text: str) -> Any:
    """Parses JSON to validate it. orjson is fast but refuses integers beyond 64 bits, which are valid
    JSON: those fall back to the exact parser, and only text both refuse is invalid."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return parse_data(text)


def validate_event(event: EventFields, time_us: int | None, now_us: int) -> ValidEvent | list[FieldViolation]:
    """Checks one event against SPEC § Events; returns the valid event or its violations.

    ``time_us`` is the event's time (None when absent: ``now_us`` is used). Violation fields are the
    event's own field names; callers prefix them with the batch index.
    """
    # Each attribute is read once: on a wire message every read builds a new string (this runs per event).
    id_, source, type_, subject = event.id, event.source, event.type, event.subject
    specversion, content_type, schema, data_text = event.specversion, event.datacontenttype, event.dataschema, event.data
    violations: list[FieldViolation] = []
    if not (id_ and source and type_ and subject and specversion) or max(
        len(id_), len(source), len(type_), len(subject)
    ) > MAX_FIELD_LENGTH:
        for name, value in zip(_REQUIRED, (id_, source, specversion, type_, subject), strict=True):
            if not value:
                violations.append(FieldViolation(name, "is required"))
            elif len(value) > MAX_FIELD_LENGTH:
                violations.append(FieldViolation(name, f"is longer than {MAX_FIELD_LENGTH} characters"))
    if specversion and specversion != "1.0":
        violations.append(FieldViolation("specversion", f"must be \"1.0\", got {specversion!r}"))
    if content_type and content_type not in JSON_CONTENT_TYPES:
        violations.append(
            FieldViolation("datacontenttype", f"must be absent or application/json, got {content_type!r}")
        )
    if schema and len(schema) > MAX_FIELD_LENGTH:
        violations.append(FieldViolation("dataschema", f"is longer than {MAX_FIELD_LENGTH} characters"))
    data: str | None = data_text or None
    if data is not None:
        if len(data) > MAX_DATA_BYTES:
            violations.append(FieldViolation("data", f"is larger than {MAX_DATA_BYTES} bytes"))
        else:
            try:
                value = _check_json(data)
            except ValueError as exc:
                violations.append(FieldViolation("data", f"is not valid JSON: {exc}"))
            else:
                if value is None:
                    data = None  # JSON null is the same as absent
                elif type(value) is not dict:
                    violations.append(FieldViolation("data", f"must be a JSON object, got {type(value).__name__}"))
    if violations:
        return violations
    return ValidEvent(
        id_, source, specversion, type_, subject, now_us if time_us is None else time_us, content_type, schema, data
    )


@dataclass(frozen=True, slots=True)
class EventFilter:
    """ListEvents filters; None means no filter."""

    time_from: datetime | None = None
    time_to: datetime | None = None
    ingested_from: datetime | None = None
    ingested_to: datetime | None = None
    subjects: tuple[str, ...] = ()
    type: str | None = None
    id: str | None = None
    has_error: bool | None = None


class Outcome:
    """Per-event outcomes of an ingest."""

    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    REJECTED = "rejected"
