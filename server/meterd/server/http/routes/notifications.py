"""``/api/v1/notification/...``: channels, rules (and their test event) and events, in OpenMeter's shapes
(1.0.0-beta.185's NotificationChannel, NotificationRule, NotificationEvent and their paginated lists).

As on gRPC, a channel's ``signingSecret`` is in the answers of its creation and of GET on the channel only.
An event's ``deliveryStatus`` entries carry meterd's ``attempts`` and ``nextAttemptAt`` besides OpenMeter's
fields; its ``payload`` is the exact body the channels received.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import Response

from meterd.server import errors
from meterd.server.http import lists, shapes
from meterd.server.http.app import Call, Route, Services, json_response, no_content
from meterd.server.limits import filter_values
from meterd.server.notifications.model import (
    Channel,
    ChannelFilter,
    ChannelInput,
    ChannelMeta,
    ChannelType,
    Delivery,
    Event,
    EventFilter,
    OrderBy,
    Rule,
    RuleFilter,
    RuleInput,
    RuleType,
    Threshold,
    ThresholdType,
)
from meterd.server.notifications.service import NotificationService

_CHANNEL_FIELDS = {"type", "name", "disabled", "url", "customHeaders", "signingSecret"}
_RULE_FIELDS = {"type", "name", "disabled", "channels", "thresholds", "features"}
_ORDERS = {
    "id": OrderBy.ID,
    "type": OrderBy.TYPE,
    "createdAt": OrderBy.CREATED_AT,
    "updatedAt": OrderBy.UPDATED_AT,
}
_EVENT_ORDERS = {"id": OrderBy.ID, "createdAt": OrderBy.CREATED_AT}


# -- shapes ------------------------------------------------------------------------------------------------
def _meta(c: ChannelMeta) -> dict[str, Any]:
    return {"id": c.id, "type": c.type.value}


def channel_json(c: Channel, *, with_secret: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "type": c.type.value,
        "name": c.name,
        "disabled": c.disabled,
        "url": c.url,
        "customHeaders": dict(c.custom_headers),
        "createdAt": c.created_at,
        "updatedAt": c.updated_at,
    }
    if with_secret:
        out["signingSecret"] = c.signing_secret
    if c.deleted_at is not None:
        out["deletedAt"] = c.deleted_at
    return out


def threshold_json(t: Threshold) -> dict[str, Any]:
    return {"value": float(t.value), "type": t.type.value}


def rule_json(r: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": r.id,
        "type": r.type.value,
        "name": r.name,
        "disabled": r.disabled,
        "channels": [_meta(c) for c in r.channels],
        "thresholds": [threshold_json(t) for t in r.thresholds],
        "features": [{"id": f.id, "key": f.key} for f in r.features] or None,
        "createdAt": r.created_at,
        "updatedAt": r.updated_at,
    }
    if r.deleted_at is not None:
        out["deletedAt"] = r.deleted_at
    return out


def delivery_json(d: Delivery) -> dict[str, Any]:
    out: dict[str, Any] = {
        "channel": _meta(d.channel),
        "state": d.state.value,
        "updatedAt": d.updated_at,
        "attempts": [
            {
                "attemptedAt": a.attempted_at,
                "statusCode": a.status_code,
                "error": a.error or None,
                "durationSeconds": round(a.duration_seconds, 6),
            }
            for a in d.attempts
        ],
    }
    if d.reason:
        out["reason"] = d.reason
    if d.next_attempt_at is not None:
        out["nextAttemptAt"] = d.next_attempt_at
    return out


def event_json(e: Event, rule: Rule | None) -> dict[str, Any]:
    return {
        "id": e.id,
        "type": e.type.value,
        "createdAt": e.created_at,
        "rule": rule_json(rule) if rule else None,
        "deliveryStatus": [delivery_json(d) for d in e.deliveries],
        "payload": orjson.Fragment(e.payload_json),
        "annotations": dict(e.annotations),
    }


# -- reading -----------------------------------------------------------------------------------------------
def _check_fields(body: dict[str, Any], allowed: set[str], what: str) -> None:
    unknown = sorted(body.keys() - allowed)
    if unknown:
        raise errors.InvalidArgument.of(unknown[0], f"is not a notification {what} field")


def channel_input_of(body: Any) -> ChannelInput:
    b = shapes.obj(body, "body")
    _check_fields(b, _CHANNEL_FIELDS, "channel")
    secret = b.get("signingSecret")
    return ChannelInput(
        type=shapes.enum_of(ChannelType, b.get("type"), "type") if b.get("type") is not None else None,
        name=shapes.text(b.get("name"), "name"),
        url=shapes.text(b.get("url"), "url"),
        disabled=shapes.boolean(b["disabled"], "disabled") if b.get("disabled") is not None else False,
        custom_headers=_headers(b.get("customHeaders")),
        signing_secret=shapes.text(secret, "signingSecret") if secret is not None else None,
    )


def _headers(value: Any) -> dict[str, str]:
    """customHeaders: an object (OpenMeter allows any JSON values; a header is text, so numbers and booleans
    are written as their JSON text)."""
    if value is None:
        return {}
    headers = shapes.obj(value, "customHeaders")
    out = {}
    for name, v in headers.items():
        if isinstance(v, str):
            out[name] = v
        elif isinstance(v, int | float | bool):
            out[name] = orjson.dumps(v).decode()
        else:
            raise errors.InvalidArgument.of(f"customHeaders[{name}]", "must be a string")
    return out


def _strings(value: Any, field: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise errors.InvalidArgument.of(field, "must be an array of strings")
    return tuple(value)


def rule_input_of(body: Any) -> RuleInput:
    b = shapes.obj(body, "body")
    _check_fields(b, _RULE_FIELDS, "rule")
    kind = b.get("type")
    if kind is not None and kind != RuleType.BALANCE_THRESHOLD.value:
        raise errors.InvalidArgument.of(
            "type", f"must be {RuleType.BALANCE_THRESHOLD.value}, got {errors.quote(kind)}"
        )
    thresholds_value = b.get("thresholds")
    if thresholds_value is not None and not isinstance(thresholds_value, list):
        raise errors.InvalidArgument.of("thresholds", "must be an array")
    thresholds = []
    for i, t in enumerate(thresholds_value or []):
        item = shapes.obj(t, f"thresholds[{i}]")
        value = shapes.amount(item.get("value"), f"thresholds[{i}].value")
        thresholds.append(
            Threshold(shapes.enum_of(ThresholdType, item.get("type"), f"thresholds[{i}].type"), value)
        )
    return RuleInput(
        type=RuleType.BALANCE_THRESHOLD if kind is not None else None,
        name=shapes.text(b.get("name"), "name"),
        disabled=shapes.boolean(b["disabled"], "disabled") if b.get("disabled") is not None else False,
        channels=_strings(b.get("channels"), "channels"),
        thresholds=tuple(thresholds),
        features=_strings(b.get("features"), "features"),
    )


def _flag(call: Call, name: str) -> bool:
    value = call.one(name)
    return shapes.boolean(value, name) if value is not None else False


def _order_by(call: Call, known: dict[str, OrderBy], default: OrderBy) -> OrderBy:
    value = call.one("orderBy")
    if value is None:
        return default
    if value not in known:
        raise errors.InvalidArgument.of(
            "orderBy", f"must be one of {', '.join(known)}, got {errors.quote(value)}"
        )
    return known[value]


async def _page(call: Call, fetch: lists.Fetch, to_json: Any) -> dict[str, Any]:
    """OpenMeter's paginated answer ({items, page, pageSize, totalCount}) for ``page`` and ``pageSize``."""
    page_text, size_text = call.one("page"), call.one("pageSize")
    page = shapes.integer(page_text, "page", 1, lists.MAX_PAGE) if page_text is not None else 1
    size = shapes.integer(size_text, "pageSize", 1, lists.MAX_LIMIT) if size_text is not None else 100
    skip = (page - 1) * size
    if skip > lists.MAX_OFFSET:
        raise errors.InvalidArgument.of("page", f"(page - 1) x pageSize must be at most {lists.MAX_OFFSET}")
    rows, total = await call.run(lists.collect, fetch, skip, size)
    return {"items": [to_json(r) for r in rows], "page": page, "pageSize": size, "totalCount": total or 0}


def _service(s: Services) -> NotificationService:
    if s.notifications is None:
        raise errors.Unavailable("notifications are not wired in this server")
    return s.notifications


# -- channels ----------------------------------------------------------------------------------------------
async def create_channel(call: Call, s: Services) -> Response:
    new = channel_input_of(await call.json())
    return json_response(channel_json(await call.run(_service(s).create_channel, new), with_secret=True), 201)


async def list_channels(call: Call, s: Services) -> Response:
    service = _service(s)
    filter = ChannelFilter(
        include_disabled=_flag(call, "includeDisabled"),
        include_deleted=_flag(call, "includeDeleted"),
        order_by=_order_by(call, _ORDERS, OrderBy.ID),
        descending=lists.order_of(call),
    )

    def fetch(size: int, after: Any) -> tuple[list[Any], Any, int]:
        page, cursor = service.list_channels(filter, size, after)
        return page, cursor, service.count_channels(filter)

    return json_response(await _page(call, fetch, channel_json))


async def get_channel(call: Call, s: Services) -> Response:
    channel = await call.run(_service(s).get_channel, call.path("channelId"))
    return json_response(channel_json(channel, with_secret=True))


async def update_channel(call: Call, s: Services) -> Response:
    new = channel_input_of(await call.json())
    return json_response(
        channel_json(await call.run(_service(s).update_channel, call.path("channelId"), new))
    )


async def delete_channel(call: Call, s: Services) -> Response:
    await call.run(_service(s).delete_channel, call.path("channelId"))
    return no_content()


# -- rules -------------------------------------------------------------------------------------------------
async def create_rule(call: Call, s: Services) -> Response:
    new = rule_input_of(await call.json())
    return json_response(rule_json(await call.run(_service(s).create_rule, new)), 201)


async def list_rules(call: Call, s: Services) -> Response:
    service = _service(s)
    filter = RuleFilter(
        include_disabled=_flag(call, "includeDisabled"),
        include_deleted=_flag(call, "includeDeleted"),
        feature_ids=filter_values(call.many("feature"), "feature"),
        channel_ids=filter_values(call.many("channel"), "channel"),
        order_by=_order_by(call, _ORDERS, OrderBy.ID),
        descending=lists.order_of(call),
    )

    def fetch(size: int, after: Any) -> tuple[list[Any], Any, int]:
        page, cursor = service.list_rules(filter, size, after)
        return page, cursor, service.count_rules(filter)

    return json_response(await _page(call, fetch, rule_json))


async def get_rule(call: Call, s: Services) -> Response:
    return json_response(rule_json(await call.run(_service(s).get_rule, call.path("ruleId"))))


async def update_rule(call: Call, s: Services) -> Response:
    new = rule_input_of(await call.json())
    return json_response(rule_json(await call.run(_service(s).update_rule, call.path("ruleId"), new)))


async def delete_rule(call: Call, s: Services) -> Response:
    await call.run(_service(s).delete_rule, call.path("ruleId"))
    return no_content()


async def test_rule(call: Call, s: Services) -> Response:
    service = _service(s)

    def run() -> dict[str, Any]:
        event = service.test_rule(call.path("ruleId"))
        return event_json(event, _rule_or_none(service, event.rule_id, {}))

    return json_response(await call.run(run), 201)


# -- events ------------------------------------------------------------------------------------------------
def _rule_or_none(service: NotificationService, rule_id: str, rules: dict[str, Rule | None]) -> Rule | None:
    if rule_id not in rules:
        try:
            rules[rule_id] = service.get_rule(rule_id)
        except errors.NotFound:
            rules[rule_id] = None
    return rules[rule_id]


async def list_events(call: Call, s: Services) -> Response:
    service = _service(s)
    from_text, to_text = call.one("from"), call.one("to")
    filter = EventFilter(
        from_time=shapes.parse_time(from_text, "from") if from_text is not None else None,
        to_time=shapes.parse_time(to_text, "to") if to_text is not None else None,
        features=filter_values(call.many("feature"), "feature"),
        subjects=filter_values(call.many("subject"), "subject"),
        rule_ids=filter_values(call.many("rule"), "rule"),
        channel_ids=filter_values(call.many("channel"), "channel"),
        order_by=_order_by(call, _EVENT_ORDERS, OrderBy.CREATED_AT),
        descending=lists.order_of(call),
    )
    rules: dict[str, Rule | None] = {}

    def fetch(size: int, after: Any) -> tuple[list[Any], Any, int]:
        page, cursor = service.list_events(filter, size, after)
        for e in page:
            _rule_or_none(service, e.rule_id, rules)
        return page, cursor, service.count_events(filter)

    return json_response(await _page(call, fetch, lambda e: event_json(e, rules.get(e.rule_id))))


async def get_event(call: Call, s: Services) -> Response:
    service = _service(s)

    def run() -> dict[str, Any]:
        event = service.get_event(call.path("eventId"))
        return event_json(event, _rule_or_none(service, event.rule_id, {}))

    return json_response(await call.run(run))


def routes(s: Services) -> list[Route]:
    base = "/api/v1/notification"
    return [
        Route("GET", f"{base}/channels", lambda call: list_channels(call, s)),
        Route("POST", f"{base}/channels", lambda call: create_channel(call, s)),
        Route("GET", f"{base}/channels/{{channelId}}", lambda call: get_channel(call, s)),
        Route("PUT", f"{base}/channels/{{channelId}}", lambda call: update_channel(call, s)),
        Route("DELETE", f"{base}/channels/{{channelId}}", lambda call: delete_channel(call, s)),
        Route("GET", f"{base}/rules", lambda call: list_rules(call, s)),
        Route("POST", f"{base}/rules", lambda call: create_rule(call, s)),
        Route("GET", f"{base}/rules/{{ruleId}}", lambda call: get_rule(call, s)),
        Route("PUT", f"{base}/rules/{{ruleId}}", lambda call: update_rule(call, s)),
        Route("DELETE", f"{base}/rules/{{ruleId}}", lambda call: delete_rule(call, s)),
        Route("POST", f"{base}/rules/{{ruleId}}/test", lambda call: test_rule(call, s)),
        Route("GET", f"{base}/events", lambda call: list_events(call, s)),
        Route("GET", f"{base}/events/{{eventId}}", lambda call: get_event(call, s)),
    ]
