"""CloudEvents validation and the event types the rest of meterd uses (SPEC § Events)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from meterd.server.errors import FieldViolation, quote
from meterd.server.timeutil import from_us

# Limits: a field longer than this is refused (INVALID_ARGUMENT), a batch larger is RESOURCE_EXHAUSTED.
MAX_FIELD_LENGTH = 1024
MAX_DATA_BYTES = 256 * 1024
MAX_BATCH_EVENTS = 10_000
# Event data may nest objects and arrays this deep (orjson's own limit is 1024; meters parse data again with
# Python's recursive parser, which must never meet a depth it cannot handle).
MAX_DATA_DEPTH = 64
# Event times: [1970-01-01T00:00:00Z, 9999-01-01T00:00:00Z). Every window computation (a DAY or MONTH window
# holding the latest event, in any time zone) stays inside what a datetime and a protobuf Timestamp hold.
MIN_EVENT_TIME_US = 0
MAX_EVENT_TIME_US = 253_370_764_800_000_000  # 9999-01-01T00:00:00Z
TIME_RANGE_TEXT = "between 1970-01-01T00:00:00Z and 9999-01-01T00:00:00Z (exclusive)"
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


def _lone_surrogate(value: str) -> bool:
    if value.isascii():
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def text_problem(value: str) -> str | None:
    """Why a string attribute cannot be stored as it is (a NUL character or a lone surrogate), or None."""
    if "\x00" in value:
        return "must not contain NUL characters"
    if _lone_surrogate(value):
        return "must be valid Unicode text (it holds a lone surrogate)"
    return None


def _depth_and_surrogates(value: Any, check_strings: bool) -> str | None:
    """Walks a parsed JSON value (iteratively): too deep, or (``check_strings``) a string or key holding a lone
    surrogate. Returns the problem or None."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            if depth > MAX_DATA_DEPTH:
                return f"nests deeper than {MAX_DATA_DEPTH} levels"
            for key, item in node.items():
                if check_strings and _lone_surrogate(key):
                    return "holds a lone surrogate (\\uD800-\\uDFFF without its pair) in a key"
                stack.append((item, depth + 1))
        elif isinstance(node, list):
            if depth > MAX_DATA_DEPTH:
                return f"nests deeper than {MAX_DATA_DEPTH} levels"
            stack.extend((item, depth + 1) for item in node)
        elif check_strings and isinstance(node, str) and _lone_surrogate(node):
            return "holds a lone surrogate (\\uD800-\\uDFFF without its pair) in a string"
    return None


def _may_be_deep(text: str) -> bool:
    """False when ``text`` cannot nest deeper than MAX_DATA_DEPTH: its brackets bound the depth from above, and
    a text shorter than two brackets per level holds too few (most events: nothing is counted)."""
    return len(text) > 2 * MAX_DATA_DEPTH and text.count("[") + text.count("{") > MAX_DATA_DEPTH


def check_data(text: str) -> Any:
    """Parses event data to validate it; raises ValueError naming the problem.

    Valid: UTF-8 JSON text with no lone surrogate (escaped or not) and at most ``MAX_DATA_DEPTH`` levels of
    nesting. orjson is fast and refuses lone surrogates; it also refuses numbers beyond a double (``1e400``),
    which are valid JSON: text it refuses falls back to the exact parser, whose result is checked here for
    what orjson would have refused.
    """
    deep = _may_be_deep(text)
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):
            raise ValueError(f"nests deeper than {MAX_DATA_DEPTH} levels") from None
        try:
            value = parse_data(text)
        except RecursionError:
            raise ValueError(f"nests deeper than {MAX_DATA_DEPTH} levels") from None
        problem = _depth_and_surrogates(value, check_strings=True)
    else:
        problem = _depth_and_surrogates(value, check_strings=False) if deep else None
    if problem:
        raise ValueError(problem)
    return value


def parse_stored_data(text: str) -> Any:
    """Parses stored event data for meters (exact numbers, see ``parse_data``); raises ValueError for text that
    validation would refuse today (older databases may hold it): invalid JSON, lone surrogates, too deep."""
    try:
        value = parse_data(text)
    except RecursionError:
        raise ValueError(f"nests deeper than {MAX_DATA_DEPTH} levels") from None
    check_strings = "\\u" in text  # lone surrogates can only come from escapes in text that was valid UTF-8
    if check_strings or _may_be_deep(text):
        problem = _depth_and_surrogates(value, check_strings)
        if problem:
            raise ValueError(problem)
    return value


def time_problem(time_us: int) -> str | None:
    """Why an event time is outside the range meterd stores, or None."""
    if MIN_EVENT_TIME_US <= time_us < MAX_EVENT_TIME_US:
        return None
    return f"must be {TIME_RANGE_TEXT}"


def validate_event(
    event: EventFields, time_us: int | str | None, now_us: int
) -> ValidEvent | list[FieldViolation]:
    """Checks one event against SPEC § Events; returns the valid event or its violations.

    ``time_us`` is the event's time (None when absent: ``now_us`` is used; a string is a problem the wire
    layer already found with it). Violation fields are the event's own field names; callers prefix them with
    the batch index. An event that passes can be stored and read by every meter: strings without NUL or lone
    surrogates, a time in the documented range, data that is JSON text within the limits.
    """
    # Each attribute is read once: on a wire message every read builds a new string (this runs per event).
    id_, source, type_, subject = event.id, event.source, event.type, event.subject
    specversion, content_type, schema, data_text = (
        event.specversion,
        event.datacontenttype,
        event.dataschema,
        event.data,
    )
    violations: list[FieldViolation] = []
    if (
        not (id_ and source and type_ and subject and specversion)
        or max(len(id_), len(source), len(type_), len(subject)) > MAX_FIELD_LENGTH
    ):
        for name, value in zip(_REQUIRED, (id_, source, specversion, type_, subject), strict=True):
            if not value:
                violations.append(FieldViolation(name, "is required"))
            elif len(value) > MAX_FIELD_LENGTH:
                violations.append(FieldViolation(name, f"is longer than {MAX_FIELD_LENGTH} characters"))
    if specversion and specversion != "1.0":
        violations.append(FieldViolation("specversion", f'must be "1.0", got {quote(specversion)}'))
    if content_type and content_type not in JSON_CONTENT_TYPES:
        violations.append(
            FieldViolation(
                "datacontenttype", f"must be absent or application/json, got {quote(content_type)}"
            )
        )
    if schema and len(schema) > MAX_FIELD_LENGTH:
        violations.append(FieldViolation("dataschema", f"is longer than {MAX_FIELD_LENGTH} characters"))
    data: str | None = data_text or None
    if data is not None:
        if len(data) > MAX_DATA_BYTES:
            violations.append(FieldViolation("data", f"is larger than {MAX_DATA_BYTES} bytes"))
        else:
            try:
                value = check_data(data)
            except ValueError as exc:
                violations.append(FieldViolation("data", f"is not valid JSON text: {exc}"))
            else:
                if value is None:
                    data = None  # JSON null is the same as absent
                elif type(value) is not dict:
                    violations.append(
                        FieldViolation("data", f"must be a JSON object, got {type(value).__name__}")
                    )
    joined = id_ + source + type_ + subject + specversion + content_type + schema
    if "\x00" in joined or not joined.isascii():
        for name, value in (
            ("id", id_),
            ("source", source),
            ("specversion", specversion),
            ("type", type_),
            ("subject", subject),
            ("datacontenttype", content_type),
            ("dataschema", schema),
        ):
            problem = text_problem(value)
            if problem:
                violations.append(FieldViolation(name, problem))
    if isinstance(time_us, str):
        violations.append(FieldViolation("time", time_us))
    elif time_us is not None and not MIN_EVENT_TIME_US <= time_us < MAX_EVENT_TIME_US:
        violations.append(FieldViolation("time", f"must be {TIME_RANGE_TEXT}"))
    if violations or isinstance(time_us, str):
        return violations
    return ValidEvent(
        id_,
        source,
        specversion,
        type_,
        subject,
        now_us if time_us is None else time_us,
        content_type,
        schema,
        data,
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


def no_meter_reads(event_type: str) -> str:
    """The validation error of an event whose type no meter reads (SPEC: as OpenMeter's sink flags it)."""
    return f"no meter reads event type {event_type}"


# A warning about a stored event: (meter slug, why it could not read the event); slug "" for "no meter reads
# event type T".
Warning = tuple[str, str]


class Stored(list[bool]):
    """What the store did with a batch, per event in order: True if stored, False if a duplicate. ``warnings``
    maps the index of a stored event that meters could not read to their warnings (as ListEvents shows
    them), taken inside the transaction that stored it."""

    __slots__ = ("warnings",)

    def __init__(self, flags: list[bool], warnings: dict[int, list[Warning]] | None = None) -> None:
        super().__init__(flags)
        self.warnings: dict[int, list[Warning]] = warnings or {}


def warnings_by_index(
    seqs: list[list[int | None]] | list[Sequence[int | None]], found: list[tuple[int, str, str]]
) -> list[dict[int, list[Warning]]]:
    """Per batch, index -> warnings, from warnings by event sequence number (``found``: (seq, slug, why)) and
    each batch's sequence numbers (None for a duplicate)."""
    if not found:
        return [{} for _ in seqs]
    by_seq: dict[int, list[Warning]] = {}
    for seq, slug, message in found:
        by_seq.setdefault(seq, []).append((slug, message))
    out: list[dict[int, list[Warning]]] = []
    for batch in seqs:
        out.append({i: sorted(by_seq[s]) for i, s in enumerate(batch) if s is not None and s in by_seq})
    return out
