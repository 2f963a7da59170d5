"""Features, entitlements (of a subject and the admin list) and grants."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from meterd.server import errors
from meterd.server.credit.windows import HistoryWindow
from meterd.server.entitlements.model import (
    EntitlementFilter,
    EntitlementOrderBy,
    EntitlementType,
    MeasureUsageFrom,
    MeteredRequest,
    NewEntitlement,
)
from meterd.server.features.model import FeatureFilter, NewFeature
from meterd.server.grants.model import GrantFilter, GrantOrderBy, NewGrant
from meterd.server.http import lists, shapes
from meterd.server.http.app import Call, Route, Services, json_response, no_content
from meterd.server.limits import filter_values
from meterd.server.periods import ExpirationDuration, Interval

# A subject's entitlements and an entitlement's grants are few: their lists answer all, up to this many.
MAX_OWN_ITEMS = 1000
# OpenMeter requires windowSize on history; the seed's SDK README calls it without one: meterd answers DAY.
DEFAULT_HISTORY_WINDOW = HistoryWindow.DAY
_ENTITLEMENT_FIELDS = {
    "type",
    "featureKey",
    "featureId",
    "metadata",
    "usagePeriod",
    "isSoftLimit",
    "isUnlimited",
    "measureUsageFrom",
    "issueAfterReset",
    "issueAfterResetPriority",
    "preserveOverageAtReset",
    "config",
}
_GRANT_FIELDS = {
    "amount",
    "priority",
    "effectiveAt",
    "expiration",
    "maxRolloverAmount",
    "minRolloverAmount",
    "metadata",
    "recurrence",
}


# -- features --------------------------------------------------------------------------------------------
async def create_feature(call: Call, s: Services) -> Response:
    body = shapes.obj(await call.json(), "body")
    new = NewFeature(
        key=shapes.text(body.get("key"), "key"),
        name=shapes.text(body.get("name"), "name"),
        meter_slug=shapes.text(body.get("meterSlug"), "meterSlug") or None,
        meter_group_by_filters=shapes.string_map(body.get("meterGroupByFilters"), "meterGroupByFilters"),
        metadata=shapes.string_map(body.get("metadata"), "metadata"),
    )
    return json_response(shapes.feature_json(await call.run(s.features.create, new)), 201)


async def list_features(call: Call, s: Services) -> Response:
    order_by = call.one("orderBy")
    if order_by is not None and order_by not in ("id", "createdAt", "updatedAt"):
        raise errors.InvalidArgument.of("orderBy", "must be id, createdAt or updatedAt")
    include = call.one("includeArchived")
    filter = FeatureFilter(
        meter_slugs=filter_values(call.many("meterSlug"), "meterSlug"),
        include_archived=shapes.boolean(include, "includeArchived") if include is not None else False,
    )

    def fetch(size: int, after: Any) -> tuple[list[Any], Any, int]:
        page, cursor = s.features.list(filter, size, after)
        return page, cursor, s.features.count(filter)

    return json_response(await lists.listing(call, fetch, shapes.feature_json))


async def get_feature(call: Call, s: Services) -> Response:
    return json_response(shapes.feature_json(await call.run(s.features.get, call.path("feature"))))


async def delete_feature(call: Call, s: Services) -> Response:
    await call.run(s.features.delete, call.path("feature"))
    return no_content()


# -- entitlements ----------------------------------------------------------------------------------------
def new_entitlement_of(body: dict[str, Any], subject: str) -> NewEntitlement:
    unknown = sorted(body.keys() - _ENTITLEMENT_FIELDS)
    if unknown:
        raise errors.InvalidArgument.of(unknown[0], "is not an entitlement field")
    kind = body.get("type")
    entitlement_type = shapes.enum_of(EntitlementType, kind, "type") if kind is not None else None
    metered = None
    if entitlement_type is EntitlementType.METERED:
        period = body.get("usagePeriod")
        period = shapes.obj(period, "usagePeriod") if period is not None else {}
        interval = period.get("interval")
        measure = body.get("measureUsageFrom")
        preset = None
        measure_from = None
        if isinstance(measure, str) and measure.upper() in MeasureUsageFrom.__members__:
            preset = MeasureUsageFrom(measure.upper())
        else:
            measure_from = shapes.opt_time(measure, "measureUsageFrom")
        issue = body.get("issueAfterReset")
        priority = body.get("issueAfterResetPriority")
        metered = MeteredRequest(
            interval=shapes.enum_of(Interval, interval, "usagePeriod.interval")
            if interval is not None
            else None,
            anchor=shapes.opt_time(period.get("anchor"), "usagePeriod.anchor"),
            measure_usage_from=measure_from,
            measure_usage_from_preset=preset,
            issue_after_reset=shapes.amount(issue, "issueAfterReset") if issue is not None else None,
            issue_after_reset_priority=(
                shapes.integer(priority, "issueAfterResetPriority", 0, 2**31)
                if priority is not None
                else None
            ),
            is_soft_limit=shapes.boolean(body.get("isSoftLimit", False), "isSoftLimit"),
            preserve_overage_at_reset=shapes.boolean(
                body.get("preserveOverageAtReset", False), "preserveOverageAtReset"
            ),
        )
    config = None
    if entitlement_type is EntitlementType.STATIC:
        value = body.get("config")
        # OpenMeter's config is JSON text; an object is taken too (written as its JSON text).
        config = shapes.text(value, "config") if not isinstance(value, dict | list) else _json_text(value)
    return NewEntitlement(
        subject_key=subject,
        type=entitlement_type,
        feature_id=shapes.text(body.get("featureId"), "featureId"),
        feature_key=shapes.text(body.get("featureKey"), "featureKey"),
        metadata=shapes.string_map(body.get("metadata"), "metadata"),
        config=config,
        metered=metered,
    )


def _json_text(value: Any) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _renamed(exc: errors.InvalidArgument) -> errors.InvalidArgument:
    """The service's field names (``entitlement.metered.usage_period.interval``) as the JSON's."""
    names = {
        "entitlement.metered.usage_period.interval": "usagePeriod.interval",
        "entitlement.metered.usage_period.anchor": "usagePeriod.anchor",
        "entitlement.metered.measure_usage_from": "measureUsageFrom",
        "entitlement.metered.issue_after_reset": "issueAfterReset",
        "entitlement.metered.issue_after_reset_priority": "issueAfterResetPriority",
        "entitlement.static.config": "config",
        "entitlement.feature_key": "featureKey",
        "entitlement.feature_id": "featureId",
        "entitlement.type": "type",
        "subject_key": "subjectIdOrKey",
        "grant.amount": "amount",
        "grant.priority": "priority",
        "grant.effective_at": "effectiveAt",
        "grant.expiration.duration": "expiration.duration",
        "grant.expiration.count": "expiration.count",
        "grant.expiration": "expiration",
        "grant.max_rollover_amount": "maxRolloverAmount",
        "grant.min_rollover_amount": "minRolloverAmount",
        "grant.recurrence.interval": "recurrence.interval",
        "window_size": "windowSize",
        "from_time": "from",
        "to_time": "to",
        "effective_at": "effectiveAt",
    }
    violations = [errors.FieldViolation(names.get(v.field, v.field), v.description) for v in exc.violations]
    if not violations:
        return exc
    message = exc.message
    for old, new in names.items():
        message = message.replace(old + ":", new + ":")
    return errors.InvalidArgument(message, violations)


async def _renaming(call: Call, fn: Any, *args: Any) -> Any:
    try:
        return await call.run(fn, *args)
    except errors.InvalidArgument as exc:
        raise _renamed(exc) from exc


async def create_entitlement(call: Call, s: Services) -> Response:
    new = new_entitlement_of(shapes.obj(await call.json(), "body"), call.path("subject"))
    created = await _renaming(call, s.entitlements.create, new)
    return json_response(shapes.entitlement_json(created, s.clock()), 201)


async def override_entitlement(call: Call, s: Services) -> Response:
    subject = call.path("subject")
    new = new_entitlement_of(shapes.obj(await call.json(), "body"), subject)
    created = await _renaming(call, s.entitlements.override, subject, call.path("entitlement"), new)
    return json_response(shapes.entitlement_json(created, s.clock()), 201)


def _entitlement_filter(call: Call, subjects: tuple[str, ...]) -> EntitlementFilter:
    order_by = call.one("orderBy")
    orders = {"createdAt": EntitlementOrderBy.CREATED_AT, "updatedAt": EntitlementOrderBy.UPDATED_AT}
    if order_by is not None and order_by not in orders:
        raise errors.InvalidArgument.of("orderBy", "must be createdAt or updatedAt")
    include = call.one("includeDeleted")
    return EntitlementFilter(
        subjects=subjects,
        features=filter_values(call.many("feature"), "feature"),
        include_deleted=shapes.boolean(include, "includeDeleted") if include is not None else False,
        types=tuple(
            shapes.enum_of(EntitlementType, t, "entitlementType")
            for t in filter_values(call.many("entitlementType"), "entitlementType")
        ),
        order_by=orders[order_by] if order_by else EntitlementOrderBy.CREATED_AT,
        descending=lists.order_of(call),
    )


async def list_entitlements(call: Call, s: Services) -> Response:
    filter = _entitlement_filter(call, filter_values(call.many("subject"), "subject"))
    now = s.clock()
    return json_response(
        await lists.listing(
            call,
            lambda size, after: s.entitlements.list(filter, size, after),
            lambda e: shapes.entitlement_json(e, now),
        )
    )


async def list_subject_entitlements(call: Call, s: Services) -> Response:
    filter = _entitlement_filter(call, ())
    subject = call.path("subject")
    rows = await _renaming(
        call,
        lists.everything,
        lambda size, after: s.entitlements.list_for_subject(subject, filter, size, after),
        MAX_OWN_ITEMS,
    )
    now = s.clock()
    return json_response([shapes.entitlement_json(e, now) for e in rows])


async def get_entitlement(call: Call, s: Services) -> Response:
    found = await _renaming(call, s.entitlements.get, call.path("subject"), call.path("entitlement"))
    return json_response(shapes.entitlement_json(found, s.clock()))


async def get_entitlement_by_id(call: Call, s: Services) -> Response:
    found = await call.run(s.entitlements.get_by_id, call.path("entitlement"))
    return json_response(shapes.entitlement_json(found, s.clock()))


async def delete_entitlement(call: Call, s: Services) -> Response:
    await _renaming(call, s.entitlements.delete, call.path("subject"), call.path("entitlement"))
    return no_content()


async def entitlement_value(call: Call, s: Services) -> Response:
    subject, ref = call.path("subject"), call.path("entitlement")
    at = shapes.opt_time(call.one("time"), "time")

    def work() -> Any:
        entitlement = s.entitlements.get(subject, ref)
        return shapes.value_json(entitlement, s.entitlements.value_of(entitlement, at, call.token.check))

    return json_response(await _renaming(call, work))


async def entitlement_history(call: Call, s: Services) -> Response:
    window = call.one("windowSize")
    history = await _renaming(
        call,
        s.entitlements.history,
        call.path("subject"),
        call.path("entitlement"),
        shapes.opt_time(call.one("from"), "from"),
        shapes.opt_time(call.one("to"), "to"),
        shapes.enum_of(HistoryWindow, window, "windowSize") if window is not None else DEFAULT_HISTORY_WINDOW,
        call.one("windowTimeZone") or "",
        call.token.check,
    )
    return json_response(shapes.history_json(history))


async def reset_entitlement(call: Call, s: Services) -> Response:
    body = shapes.obj(await call.json(optional=True) or {}, "body")
    unknown = sorted(body.keys() - {"effectiveAt", "retainAnchor", "preserveOverage", "usagePeriod"})
    if unknown:
        raise errors.InvalidArgument.of(unknown[0], "is not a reset field")
    period = body.get("usagePeriod")
    period = shapes.obj(period, "usagePeriod") if period is not None else {}
    interval = period.get("interval")
    preserve = body.get("preserveOverage")
    await _renaming(
        call,
        s.entitlements.reset,
        call.path("subject"),
        call.path("entitlement"),
        shapes.opt_time(body.get("effectiveAt"), "effectiveAt"),
        shapes.boolean(body.get("retainAnchor", False), "retainAnchor"),
        shapes.boolean(preserve, "preserveOverage") if preserve is not None else None,
        shapes.enum_of(Interval, interval, "usagePeriod.interval") if interval is not None else None,
        shapes.opt_time(period.get("anchor"), "usagePeriod.anchor"),
    )
    return no_content()


# -- grants ----------------------------------------------------------------------------------------------
def new_grant_of(body: dict[str, Any]) -> NewGrant:
    unknown = sorted(body.keys() - _GRANT_FIELDS)
    if unknown:
        raise errors.InvalidArgument.of(unknown[0], "is not a grant field")
    expiration = body.get("expiration")
    expiration = shapes.obj(expiration, "expiration") if expiration is not None else {}
    duration = expiration.get("duration")
    count = expiration.get("count")
    recurrence = body.get("recurrence")
    has_recurrence = recurrence is not None
    recurrence = shapes.obj(recurrence, "recurrence") if has_recurrence else {}
    interval = recurrence.get("interval")
    amount, priority = body.get("amount"), body.get("priority")
    return NewGrant(
        amount=shapes.amount(amount, "amount") if amount is not None else None,
        effective_at=shapes.opt_time(body.get("effectiveAt"), "effectiveAt"),
        expiration_duration=(
            shapes.enum_of(ExpirationDuration, duration, "expiration.duration")
            if duration is not None
            else None
        ),
        expiration_count=shapes.integer(count, "expiration.count", 0, 2**31) if count is not None else 0,
        priority=shapes.integer(priority, "priority", 0, 2**31) if priority is not None else None,
        max_rollover_amount=shapes.amount(body.get("maxRolloverAmount", 0), "maxRolloverAmount"),
        min_rollover_amount=shapes.amount(body.get("minRolloverAmount", 0), "minRolloverAmount"),
        recurrence_interval=shapes.enum_of(Interval, interval, "recurrence.interval")
        if interval is not None
        else None,
        recurrence_anchor=shapes.opt_time(recurrence.get("anchor"), "recurrence.anchor"),
        has_recurrence=has_recurrence,
        metadata=shapes.string_map(body.get("metadata"), "metadata"),
    )


async def create_grant(call: Call, s: Services) -> Response:
    new = new_grant_of(shapes.obj(await call.json(), "body"))
    grant = await _renaming(call, s.grants.create, call.path("subject"), call.path("entitlement"), new)
    return json_response(shapes.grant_json(grant, s.clock()), 201)


def _grant_filter(call: Call, subjects: tuple[str, ...], features: tuple[str, ...]) -> GrantFilter:
    order_by = call.one("orderBy")
    orders = {
        "effectiveAt": GrantOrderBy.EFFECTIVE_AT,
        "createdAt": GrantOrderBy.CREATED_AT,
        "updatedAt": GrantOrderBy.UPDATED_AT,
        "expiresAt": GrantOrderBy.EXPIRES_AT,
    }
    if order_by is not None and order_by not in orders:
        raise errors.InvalidArgument.of("orderBy", "must be effectiveAt, createdAt, updatedAt or expiresAt")
    include = call.one("includeDeleted")
    return GrantFilter(
        subjects=subjects,
        features=features,
        include_voided=shapes.boolean(include, "includeDeleted") if include is not None else False,
        order_by=orders[order_by] if order_by else GrantOrderBy.EFFECTIVE_AT,
        descending=lists.order_of(call),
    )


async def list_grants(call: Call, s: Services) -> Response:
    filter = _grant_filter(
        call, filter_values(call.many("subject"), "subject"), filter_values(call.many("feature"), "feature")
    )
    now = s.clock()
    return json_response(
        await lists.listing(
            call,
            lambda size, after: s.grants.list(filter, size, after),
            lambda g: shapes.grant_json(g, now),
        )
    )


async def list_entitlement_grants(call: Call, s: Services) -> Response:
    filter = _grant_filter(call, (), ())
    subject, ref = call.path("subject"), call.path("entitlement")
    rows = await _renaming(
        call,
        lists.everything,
        lambda size, after: s.grants.list_for_entitlement(subject, ref, filter, size, after),
        MAX_OWN_ITEMS,
    )
    now = s.clock()
    return json_response([shapes.grant_json(g, now) for g in rows])


async def void_grant(call: Call, s: Services) -> Response:
    await call.run(s.grants.void, call.path("grant"), None)
    return no_content()


def routes(s: Services) -> list[Route]:
    subject = "/api/v1/subjects/{subject}/entitlements"
    return [
        Route("POST", "/api/v1/features", lambda call: create_feature(call, s)),
        Route("GET", "/api/v1/features", lambda call: list_features(call, s)),
        Route("GET", "/api/v1/features/{feature}", lambda call: get_feature(call, s)),
        Route("DELETE", "/api/v1/features/{feature}", lambda call: delete_feature(call, s)),
        Route("GET", "/api/v1/entitlements", lambda call: list_entitlements(call, s)),
        Route("GET", "/api/v1/entitlements/{entitlement}", lambda call: get_entitlement_by_id(call, s)),
        Route("POST", subject, lambda call: create_entitlement(call, s)),
        Route("GET", subject, lambda call: list_subject_entitlements(call, s)),
        Route("GET", subject + "/{entitlement}", lambda call: get_entitlement(call, s)),
        Route("DELETE", subject + "/{entitlement}", lambda call: delete_entitlement(call, s)),
        Route("PUT", subject + "/{entitlement}/override", lambda call: override_entitlement(call, s)),
        Route("GET", subject + "/{entitlement}/value", lambda call: entitlement_value(call, s)),
        Route("GET", subject + "/{entitlement}/history", lambda call: entitlement_history(call, s)),
        Route("POST", subject + "/{entitlement}/reset", lambda call: reset_entitlement(call, s)),
        Route("POST", subject + "/{entitlement}/grants", lambda call: create_grant(call, s)),
        Route("GET", subject + "/{entitlement}/grants", lambda call: list_entitlement_grants(call, s)),
        Route("GET", "/api/v1/grants", lambda call: list_grants(call, s)),
        Route("DELETE", "/api/v1/grants/{grant}", lambda call: void_grant(call, s)),
    ]
