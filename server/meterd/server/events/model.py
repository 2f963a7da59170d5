"""CloudEvents validation and the event types the rest of meterd uses (SPEC § Events)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.errors import FieldViolation

# Limits: a field longer than this is refused (INVALID_ARGUMENT), a batch larger is RESOURCE_EXHAUSTED.
MAX_FIELD_LENGTH = 1024
MAX_DATA_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 10_000
JSON_CONTENT_TYPES = frozenset({"", "application/json"})

_REQUIRED = ("id", "source", "specversion", "type", "subject")


@dataclass(frozen=True, slots=True)
class Event:
    """An event as received: every field optional until validated."""

    id: str
    source: str
    specversion: str
    type: str
    subject: str
    time: datetime | None = None
    datacontenttype: str = ""
    dataschema: str = ""
    data: str = ""  # JSON text; empty means absent


@dataclass(frozen=True, slots=True)
class ValidEvent:
    """A valid event, with its time filled in and its data parsed (floats as Decimal, for exactness)."""

    id: str
    source: str
    specversion: str
    type: str
    subject: str
    time: datetime
    datacontenttype: str
    dataschema: str
    data: str | None  # JSON text as sent (None when absent)
    parsed: dict[str, Any] | None = field(compare=False, default=None)


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event as ListEvents returns it."""

    event: ValidEvent
    ingested_at: datetime
    validation_errors: tuple[tuple[str, str], ...]  # (meter slug, message)


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def parse_data(text: str) -> dict[str, Any] | None:
    """Parses event data JSON; floats become Decimal so numbers keep their exact value.

    Python's json accepts NaN and Infinity, which are not JSON: they are refused here."""
    return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)  # type: ignore[no-any-return]


def validate_event(event: Event, now: datetime) -> ValidEvent | list[FieldViolation]:
    """Checks one event against SPEC § Events; returns the valid event or its violations.

    Violation fields are the event's own field names; callers prefix them with the batch index.
    """
    violations: list[FieldViolation] = []
    for name in _REQUIRED:
        value = getattr(event, name)
        if not value:
            violations.append(FieldViolation(name, "is required"))
        elif len(value) > MAX_FIELD_LENGTH:
            violations.append(FieldViolation(name, f"is longer than {MAX_FIELD_LENGTH} characters"))
    if event.specversion and event.specversion != "1.0":
        violations.append(FieldViolation("specversion", f"must be \"1.0\", got {event.specversion!r}"))
    if event.datacontenttype not in JSON_CONTENT_TYPES:
        violations.append(
            FieldViolation("datacontenttype", f"must be absent or application/json, got {event.datacontenttype!r}")
        )
    if len(event.dataschema) > MAX_FIELD_LENGTH:
        violations.append(FieldViolation("dataschema", f"is longer than {MAX_FIELD_LENGTH} characters"))
    parsed: dict[str, Any] | None = None
    data: str | None = event.data or None
    if data is not None:
        if len(data) > MAX_DATA_BYTES:
            violations.append(FieldViolation("data", f"is larger than {MAX_DATA_BYTES} bytes"))
        else:
            try:
                value = parse_data(data)
            except ValueError as exc:
                violations.append(FieldViolation("data", f"is not valid JSON: {exc}"))
            else:
                if value is None:
                    data = None  # JSON null is the same as absent
                elif isinstance(value, dict):
                    parsed = value
                else:
                    violations.append(FieldViolation("data", f"must be a JSON object, got {type(value).__name__}"))
    if violations:
        return violations
    return ValidEvent(
        id=event.id,
        source=event.source,
        specversion=event.specversion,
        type=event.type,
        subject=event.subject,
        time=event.time or now,
        datacontenttype=event.datacontenttype,
        dataschema=event.dataschema,
        data=data,
        parsed=parsed,
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
