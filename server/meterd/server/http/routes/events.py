"""``/api/v1/events``: ingest (CloudEvents JSON, one event or a batch) and listing.

Ingest is the gRPC front's unary IngestEvents: the same validation (EventService), all or nothing, answered
once the batch is durable. Event ``data`` arrives as a JSON object and is stored as JSON text, keeping its
numbers exact: the body is parsed by orjson (fast, but a double for every fraction), unless a number in it
may not survive a double (16 or more digits, an integer beyond 64 bits, an exponent past a double's range),
when the exact parser keeps each number's text.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson
from starlette.responses import Response

from meterd.server import errors
from meterd.server.events.model import MAX_BATCH_EVENTS, Event, EventFilter
from meterd.server.http import lists, shapes
from meterd.server.http.app import Call, ProblemError, Route, Services, json_response, media_type, no_content
from meterd.server.limits import filter_values
from meterd.server.timeutil import to_us

SINGLE = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
_ATTRIBUTES = frozenset(
    {"id", "source", "specversion", "type", "subject", "time", "datacontenttype", "dataschema", "data"}
)
# A run of 16 digits (or digits and points): a number a double may not hold exactly (15 significant digits
# always round-trip). Conservative: it also matches long digit runs inside strings, which then take the slow path.
_LONG_NUMBER = re.compile(rb"[0-9][0-9.]{15}")


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _exact_int(text: str) -> Any:
    value = int(text)
    return value if -(2**63) <= value < 2**64 else orjson.Fragment(text)


# The exact parser: every fraction and every integer beyond 64 bits stays its JSON text (an orjson Fragment,
# written back as is).
_EXACT = json.JSONDecoder(parse_float=orjson.Fragment, parse_int=_exact_int, parse_constant=_refuse_constant)


def parse_body(raw: bytes) -> Any:
    """The JSON of an ingest body; numbers that a double would change keep their text."""
    if not _LONG_NUMBER.search(raw):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass  # beyond orjson (an integer past 64 bits, 1e400, a lone surrogate): the exact parser decides
    try:
        return _EXACT.decode(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise errors.InvalidArgument.of("body", f"is not UTF-8 text: {exc.reason}") from None
    except (ValueError, RecursionError) as exc:
        raise errors.InvalidArgument.of("body", f"is not valid JSON: {str(exc)[:200]}") from None


def _string(value: Any, name: str, at: str, violations: list[errors.FieldViolation]) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    violations.append(errors.FieldViolation(at + name, "must be a string"))
    return ""


def events_of(body: Any, batch: bool) -> list[tuple[Event, int | str | None]]:
    """The events of a parsed body, each with its time in microseconds (None: absent; a string: what is
    wrong with it), for EventService.ingest; INVALID_ARGUMENT for what is not a CloudEvent's shape."""
    items = body if batch else [body]
    if batch and not isinstance(body, list):
        raise errors.InvalidArgument.of("body", f"a batch ({BATCH}) must be a JSON array of events")
    if len(items) > MAX_BATCH_EVENTS:
        raise errors.ResourceExhausted(
            f"events: a batch holds at most {MAX_BATCH_EVENTS} events, got {len(items)}"
        )
    out: list[tuple[Event, int | str | None]] = []
    violations: list[errors.FieldViolation] = []
    for i, item in enumerate(items):
        at = f"events[{i}]."
        if not isinstance(item, dict):
            violations.append(errors.FieldViolation(f"events[{i}]", "must be a JSON object (a CloudEvent)"))
            continue
        unknown = item.keys() - _ATTRIBUTES
        for name in sorted(unknown)[:3]:
            violations.append(
                errors.FieldViolation(at + name, "is not a CloudEvents attribute meterd stores")
            )
        data = item.get("data")
        try:
            data_text = "" if data is None else orjson.dumps(data).decode()
        except (orjson.JSONEncodeError, TypeError):
            violations.append(
                errors.FieldViolation(at + "data", "holds a lone surrogate or a value JSON cannot hold")
            )
            data_text = ""
        time_value = item.get("time")
        time_us: int | str | None = None
        if time_value is not None:
            try:
                time_us = to_us(shapes.parse_time(time_value, "time"))
            except errors.InvalidArgument as exc:
                time_us = exc.violations[0].description
        out.append(
            (
                Event(
                    id=_string(item.get("id"), "id", at, violations),
                    source=_string(item.get("source"), "source", at, violations),
                    specversion=_string(item.get("specversion"), "specversion", at, violations),
                    type=_string(item.get("type"), "type", at, violations),
                    subject=_string(item.get("subject"), "subject", at, violations),
                    datacontenttype=_string(item.get("datacontenttype"), "datacontenttype", at, violations),
                    dataschema=_string(item.get("dataschema"), "dataschema", at, violations),
                    data=data_text,
                ),
                time_us,
            )
        )
    if violations:
        raise errors.InvalidArgument.many(violations)
    return out


async def ingest(call: Call, s: Services) -> Response:
    kind = media_type(call.request.headers.get("content-type"))
    if kind not in (SINGLE, BATCH, "application/json"):
        raise ProblemError(
            415, f"events are {SINGLE} (one event) or {BATCH} (an array), got {kind or 'no Content-Type'}"
        )
    raw = await call.body()

    def work() -> None:
        body = parse_body(raw)
        # application/json: a single event or an array, by the body's shape.
        batch = kind == BATCH or (kind == "application/json" and isinstance(body, list))
        s.events.ingest(events_of(body, batch))

    await call.run(work)
    return no_content()


async def list_events(call: Call, s: Services) -> Response:
    limit_text = call.one("limit")
    limit = shapes.integer(limit_text, "limit", 1, lists.MAX_LIMIT) if limit_text is not None else 100
    has_error = call.one("hasError")
    filter = EventFilter(
        time_from=shapes.opt_time(call.one("from"), "from"),
        time_to=shapes.opt_time(call.one("to"), "to"),
        ingested_from=shapes.opt_time(call.one("ingestedAtFrom"), "ingestedAtFrom"),
        ingested_to=shapes.opt_time(call.one("ingestedAtTo"), "ingestedAtTo"),
        subjects=filter_values(call.many("subject"), "subject"),
        type=call.one("type") or None,
        id=call.one("id") or None,
        has_error=shapes.boolean(has_error, "hasError") if has_error is not None else None,
    )
    page, _ = await call.run(s.events.list, filter, limit, None)
    return json_response([shapes.ingested_event_json(e) for e in page])


def routes(s: Services) -> list[Route]:
    return [
        Route("POST", "/api/v1/events", lambda call: ingest(call, s)),
        Route("GET", "/api/v1/events", lambda call: list_events(call, s)),
    ]
