"""OpenMeter's JSON shapes (1.0.0-beta.185's ``api/openapi.yaml``) of meterd's domain values, and the reading
of JSON values and query parameters into domain values. Conversions only: every rule is the domain's.

Field names in errors are the JSON ones (``usagePeriod.interval``), so a caller sees the field it sent.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

import orjson

from meterd.server import errors
from meterd.server.credit.engine import History, Segment
from meterd.server.entitlements.model import Entitlement, EntitlementType, EntitlementValue
from meterd.server.events.model import StoredEvent
from meterd.server.features.model import Feature
from meterd.server.grants.model import Grant, next_recurrence
from meterd.server.meters.service import Meter, QueryResult
from meterd.server.portal.model import PortalToken
from meterd.server.subjects.model import Subject
from meterd.server.timeutil import from_us

E = TypeVar("E", bound=StrEnum)

# RFC 3339 date-time (``datetime.fromisoformat`` alone also takes week dates and the basic format).
_RFC3339 = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})")


# -- reading ---------------------------------------------------------------------------------------------
def parse_time(text: str, field: str) -> datetime:
    """An RFC 3339 date-time with an offset (``2026-12-06T22:07:08.581Z``), as an aware UTC datetime cut to
    microseconds; INVALID_ARGUMENT on ``field`` otherwise."""
    match = _RFC3339.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise errors.InvalidArgument.of(
            field, f"must be an RFC 3339 date-time such as 2024-01-01T00:00:00Z, got {errors.quote(text)}"
        )
    day, clock, fraction, offset = match.groups()
    iso = f"{day}T{clock}{'.' + fraction[:6].ljust(6, '0') if fraction else ''}"
    iso += "+00:00" if offset in ("Z", "z") else offset
    try:
        return datetime.fromisoformat(iso).astimezone(UTC)
    except (ValueError, OverflowError):
        raise errors.InvalidArgument.of(field, f"is not a valid date-time: {errors.quote(text)}") from None


def opt_time(value: Any, field: str) -> datetime | None:
    """An optional RFC 3339 string (absent or null: None)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise errors.InvalidArgument.of(field, "must be an RFC 3339 date-time string")
    return parse_time(value, field)


def enum_of(kind: type[E], value: Any, field: str) -> E:
    """A domain enum member by its name, case-insensitive; INVALID_ARGUMENT listing the names otherwise."""
    if isinstance(value, str):
        try:
            return kind(value.upper())
        except ValueError:
            pass
    names = ", ".join(m.value for m in kind)
    raise errors.InvalidArgument.of(field, f"must be one of {names}, got {errors.quote(value)}")


def boolean(value: Any, field: str) -> bool:
    """A JSON boolean, or ``true``/``false`` as a query parameter."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise errors.InvalidArgument.of(field, f"must be true or false, got {errors.quote(value)}")


def integer(value: Any, field: str, low: int, high: int) -> int:
    """An integer in [low, high] (a JSON number or a query parameter's digits)."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"[+-]?\d{1,18}", value)
    ):
        number = int(value)
    if number is None:
        raise errors.InvalidArgument.of(field, f"must be an integer, got {errors.quote(value)}")
    if not low <= number <= high:
        raise errors.InvalidArgument.of(field, f"must be between {low} and {high}, got {number}")
    return number


def amount(value: Any, field: str) -> Decimal:
    """A JSON number as the Decimal of its shortest text (0.1 stays exactly 0.1, as the gRPC front reads
    doubles)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise errors.InvalidArgument.of(field, f"must be a number, got {errors.quote(value)}")
    return Decimal(value) if isinstance(value, int) else Decimal(repr(value))


def text(value: Any, field: str) -> str:
    """A JSON string (null or absent: "")."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.InvalidArgument.of(field, "must be a string")
    return value


def string_map(value: Any, field: str) -> dict[str, str]:
    """A JSON object of strings (null or absent: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise errors.InvalidArgument.of(field, "must be an object of string values")
    return value


def obj(value: Any, field: str) -> dict[str, Any]:
    """A JSON object; INVALID_ARGUMENT on ``field`` for anything else."""
    if not isinstance(value, dict):
        raise errors.InvalidArgument.of(field, f"must be a JSON object, got {_json_kind(value)}")
    return value


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "a number",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "an object",
    }.get(type(value), type(value).__name__)


# -- writing ---------------------------------------------------------------------------------------------
def meter_json(m: Meter) -> dict[str, Any]:
    d = m.definition
    out: dict[str, Any] = {
        "id": m.id,
        "slug": d.slug,
        "description": d.description or None,
        "aggregation": d.aggregation.value,
        "windowSize": d.window_size.value,
        "eventType": d.event_type,
        "groupBy": dict(d.group_by),
        "createdAt": m.created_at,
        "updatedAt": m.updated_at,
    }
    if d.value_property:
        out["valueProperty"] = d.value_property
    return out


def query_json(result: QueryResult) -> dict[str, Any]:
    """A meter query result: ``from``/``to`` as the query used them (``to`` defaults to now), ``windowSize``
    when windowed, one row per window and group (``subject`` and ``groupBy`` null when not grouped)."""
    out: dict[str, Any] = {}
    if result.from_time is not None:
        out["from"] = result.from_time
    out["to"] = result.to_time
    if result.window_size is not None:
        out["windowSize"] = result.window_size.value
    out["data"] = [
        {
            "value": float(r.value),
            "windowStart": r.window_start,
            "windowEnd": r.window_end,
            "subject": r.subject,
            "groupBy": dict(r.group_by),
        }
        for r in result.rows
    ]
    return out


def query_csv(result: QueryResult, group_keys: list[str]) -> str:
    """OpenMeter's CSV of a query: ``window_start,window_end,subject,<group keys...>,value``."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["window_start", "window_end", "subject", *group_keys, "value"])
    for r in result.rows:
        writer.writerow(
            [
                _rfc3339(r.window_start),
                _rfc3339(r.window_end),
                r.subject or "",
                *((r.group_by.get(k) or "") for k in group_keys),
                f"{float(r.value):f}",
            ]
        )
    return buffer.getvalue()


def _rfc3339(t: datetime) -> str:
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ingested_event_json(s: StoredEvent) -> dict[str, Any]:
    """An event as ListEvents returns it; ``data`` is the stored JSON text, written as is (exact numbers)."""
    e = s.event
    event: dict[str, Any] = {
        "id": e.id,
        "source": e.source,
        "specversion": e.specversion,
        "type": e.type,
        "subject": e.subject,
        "time": _us_time(e.time_us),
    }
    if e.datacontenttype:
        event["datacontenttype"] = e.datacontenttype
    if e.dataschema:
        event["dataschema"] = e.dataschema
    if e.data is not None:
        event["data"] = orjson.Fragment(e.data)
    out: dict[str, Any] = {"event": event, "ingestedAt": s.ingested_at, "storedAt": s.ingested_at}
    if s.validation_errors:
        out["validationError"] = "; ".join(
            f"{slug}: {message}" if slug else message for slug, message in s.validation_errors
        )
        out["validationErrors"] = [
            {"meterSlug": slug or None, "message": message} for slug, message in s.validation_errors
        ]
    return out


def _us_time(time_us: int) -> datetime | str:
    try:
        return from_us(time_us)
    except (OverflowError, ValueError):  # a row stored by older code outside what a datetime holds
        return str(time_us)


def subject_json(s: Subject) -> dict[str, Any]:
    return {
        "id": s.id,
        "key": s.key,
        "displayName": s.display_name,
        "metadata": dict(s.metadata),
        "currentPeriodStart": s.current_period_start,
        "currentPeriodEnd": s.current_period_end,
        "stripeCustomerId": s.stripe_customer_id,
        "createdAt": s.created_at,
        "updatedAt": s.updated_at,
    }


def token_json(token: PortalToken, now: datetime, signed: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": token.id,
        "subject": token.subject,
        "expiresAt": token.expires_at,
        "expired": token.expired(now),
        "createdAt": token.created_at,
        "allowedMeterSlugs": list(token.allowed_meter_slugs),
    }
    if signed is not None:
        out["token"] = signed
    if token.invalidated_at is not None:
        out["invalidatedAt"] = token.invalidated_at
    return out


def feature_json(f: Feature) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": f.id,
        "key": f.key,
        "name": f.name,
        "metadata": dict(f.metadata),
        "createdAt": f.created_at,
        "updatedAt": f.updated_at,
    }
    if f.meter_slug:
        out["meterSlug"] = f.meter_slug
        out["meterGroupByFilters"] = dict(f.meter_group_by_filters)
    if f.archived_at is not None:
        out["archivedAt"] = f.archived_at
    return out


def entitlement_json(e: Entitlement, now: datetime) -> dict[str, Any]:
    """An entitlement; a metered one's ``usagePeriod`` and ``currentUsagePeriod`` are those in effect at
    ``now`` (as the gRPC front reports them)."""
    out: dict[str, Any] = {
        "id": e.id,
        "type": e.type.value.lower(),
        "featureId": e.feature_id,
        "featureKey": e.feature_key,
        "subjectKey": e.subject_key,
        "metadata": dict(e.metadata),
        "createdAt": e.created_at,
        "updatedAt": e.updated_at,
    }
    if e.deleted_at is not None:
        out["deletedAt"] = e.deleted_at
    if e.type is EntitlementType.STATIC:
        out["config"] = e.config or ""
    m = e.metered
    if m is not None:
        period = e.usage_period_in_effect(now)
        current = e.current_usage_period(now)
        assert period is not None and current is not None
        out["usagePeriod"] = {"interval": period.interval.value, "anchor": period.anchor}
        out["currentUsagePeriod"] = {"from": current.start, "to": current.end}
        out["measureUsageFrom"] = m.measure_usage_from
        out["lastReset"] = e.reported_last_reset
        out["isSoftLimit"] = m.is_soft_limit
        out["isUnlimited"] = False
        out["preserveOverageAtReset"] = m.preserve_overage_at_reset
        if m.issue_after_reset is not None:
            out["issueAfterReset"] = float(m.issue_after_reset)
            out["issueAfterResetPriority"] = m.issue_after_reset_priority
    return out


def value_json(e: Entitlement, v: EntitlementValue) -> dict[str, Any]:
    """An entitlement value: ``hasAccess``; metered adds balance, usage and overage; static its config."""
    out: dict[str, Any] = {"hasAccess": v.has_access}
    if e.type is EntitlementType.METERED:
        out.update(balance=float(v.balance), usage=float(v.usage), overage=float(v.overage))
    elif v.config:
        out["config"] = v.config
    return out


def _amounts(values: Mapping[str, Decimal]) -> dict[str, float]:
    return {gid: float(a) for gid, a in values.items()}


def _segment_json(s: Segment) -> dict[str, Any]:
    return {
        "period": {"from": s.start, "to": s.end},
        "usage": float(s.usage),
        "overage": float(s.overage),
        "balanceAtStart": float(s.balance_at_start),
        "grantBalancesAtStart": _amounts(s.grant_balances_at_start),
        "balanceAtEnd": float(s.balance_at_end),
        "grantBalancesAtEnd": _amounts(s.grant_balances_at_end),
        "grantUsages": [{"grantId": gid, "usage": float(u)} for gid, u in s.grant_usages.items()],
        "overageAtStart": float(s.overage_at_start),
    }


def history_json(h: History | None) -> dict[str, Any]:
    if h is None:
        return {"windowedHistory": [], "burndownHistory": []}
    return {
        "windowedHistory": [
            {
                "period": {"from": w.start, "to": w.end},
                "usage": float(w.usage),
                "balanceAtStart": float(w.balance_at_start),
            }
            for w in h.windows
        ],
        "burndownHistory": [_segment_json(s) for s in h.segments],
    }


def grant_json(g: Grant, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": g.id,
        "entitlementId": g.entitlement_id,
        "subjectKey": g.subject_key,
        "featureKey": g.feature_key,
        "amount": float(g.amount),
        "priority": g.priority,
        "effectiveAt": g.effective_at,
        "expiration": {"duration": g.expiration.duration.value, "count": g.expiration.count},
        "expiresAt": g.expires_at,
        "maxRolloverAmount": float(g.max_rollover_amount),
        "minRolloverAmount": float(g.min_rollover_amount),
        "metadata": dict(g.metadata),
        "createdAt": g.created_at,
        "updatedAt": g.updated_at,
    }
    if g.recurrence is not None:
        out["recurrence"] = {"interval": g.recurrence.interval.value, "anchor": g.recurrence.anchor}
    upcoming = next_recurrence(g, now)
    if upcoming is not None:
        out["nextRecurrence"] = upcoming
    if g.voided_at is not None:
        out["voidedAt"] = g.voided_at
    return out
