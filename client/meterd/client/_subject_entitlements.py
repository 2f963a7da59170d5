"""Subject-scoped entitlement calls, as the SDK puts them on ``om.subjects``: create, list, get and delete a
subject's entitlements, read their value and history, reset their usage, and create and list their grants.

``SubjectEntitlementsMixin`` and ``AsyncSubjectEntitlementsMixin`` are inherited by the Subjects namespaces;
they need only ``self._t``, the transport. Requests are built here once for both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from meterd.client._convert import (
    non_negative_int,
    normalize,
    str_list,
    to_enum,
    to_json_text,
    to_number,
    to_str_map,
    to_timestamp,
)
from meterd.client._enums import ExpirationDuration, PeriodInterval, WindowSize
from meterd.client._errors import invalid_argument
from meterd.client._ordering import entitlement_order_by, entitlement_types, grant_order_by, sort_order
from meterd.client._results import Result
from meterd.client._transport import AsyncTransport, Transport
from meterd.v1 import common_pb2, entitlements_pb2, grants_pb2

EntitlementLike = Mapping[str, Any] | entitlements_pb2.Entitlement
GrantLike = Mapping[str, Any] | grants_pb2.Grant

_COMMON_KEYS = ("type", "feature_key", "feature_id", "metadata")
_METERED_KEYS = ("usage_period", "measure_usage_from", "issue_after_reset", "issue_after_reset_priority",
                 "is_soft_limit", "preserve_overage_at_reset")
_KEYS_BY_TYPE = {"boolean": _COMMON_KEYS, "static": (*_COMMON_KEYS, "config"), "metered": (*_COMMON_KEYS, *_METERED_KEYS)}
_GRANT_KEYS = ("amount", "priority", "effective_at", "expiration", "min_rollover_amount", "max_rollover_amount",
               "recurrence", "metadata")
# measure_usage_from may also be one of OpenMeter's two enum values.
_MEASURE_FROM_CURRENT_PERIOD_START = "CURRENT_PERIOD_START"
_MEASURE_FROM_NOW = "NOW"


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"{what}", f"expected a string, got {type(value).__name__}")
    return value


def _ref(value: Any, what: str) -> str:
    if not isinstance(value, str) or not value:
        raise invalid_argument(f"{what}", f"expected a non-empty string, got {value!r}")
    return value


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise invalid_argument(f"{what}", f"expected a bool, got {type(value).__name__}")
    return value


def _recurring_period(value: Any, what: str) -> common_pb2.RecurringPeriod:
    p = normalize(value, what=what, allowed=("interval", "anchor"))
    period = common_pb2.RecurringPeriod()
    if p.get("interval") is not None:
        period.interval = to_enum(p["interval"], PeriodInterval, what=f"{what}.interval").wire
    if p.get("anchor") is not None:
        period.anchor.CopyFrom(to_timestamp(p["anchor"], what=f"{what}.anchor"))
    return period


def entitlement_to_wire(entitlement: EntitlementLike) -> entitlements_pb2.Entitlement:
    """A wire Entitlement from the SDK's shape: ``{"type": "metered"|"static"|"boolean", "featureKey"|"featureId",
    "metadata"?, ...}``; static adds ``config`` (JSON text, or a dict/list to encode); metered adds
    ``usagePeriod: {interval, anchor?}``, ``measureUsageFrom``, ``issueAfterReset``, ``issueAfterResetPriority``,
    ``isSoftLimit``, ``preserveOverageAtReset``."""
    if isinstance(entitlement, entitlements_pb2.Entitlement):
        return entitlement
    head = normalize(entitlement, what="entitlement", allowed=_KEYS_BY_TYPE["metered"] + ("config",),
                     required=("type",))
    kind = _str(head["type"], "entitlement.type").lower()
    if kind not in _KEYS_BY_TYPE:
        raise invalid_argument("entitlement.type", f"{head['type']!r} is not one of metered, static, boolean")
    e = normalize(entitlement, what=f"entitlement ({kind})", allowed=_KEYS_BY_TYPE[kind], required=("type",))
    message = entitlements_pb2.Entitlement(
        feature_key=_str(e.get("feature_key") or "", "entitlement.feature_key"),
        feature_id=_str(e.get("feature_id") or "", "entitlement.feature_id"),
        metadata=to_str_map(e.get("metadata"), what="entitlement.metadata"),
    )
    if kind == "boolean":
        message.boolean.SetInParent()
    elif kind == "static":
        config = e.get("config")
        if config is None:
            message.static.SetInParent()
        else:
            message.static.config = config if isinstance(config, str) else to_json_text(config)
    else:
        m = message.metered
        m.SetInParent()
        if e.get("usage_period") is not None:
            m.usage_period.CopyFrom(_recurring_period(e["usage_period"], "entitlement.usage_period"))
        measure_from = e.get("measure_usage_from")
        if isinstance(measure_from, str) and measure_from.upper() == _MEASURE_FROM_NOW:
            measure_from = datetime.now(UTC)
        if isinstance(measure_from, str) and measure_from.upper() == _MEASURE_FROM_CURRENT_PERIOD_START:
            measure_from = None  # the server's default
        if measure_from is not None:
            m.measure_usage_from.CopyFrom(to_timestamp(measure_from, what="entitlement.measure_usage_from"))
        if e.get("issue_after_reset") is not None:
            m.issue_after_reset = to_number(e["issue_after_reset"], what="entitlement.issue_after_reset")
        if e.get("issue_after_reset_priority") is not None:
            m.issue_after_reset_priority = non_negative_int(e["issue_after_reset_priority"],
                                                            what="entitlement.issue_after_reset_priority")
        if e.get("is_soft_limit") is not None:
            m.is_soft_limit = _bool(e["is_soft_limit"], "entitlement.is_soft_limit")
        if e.get("preserve_overage_at_reset") is not None:
            m.preserve_overage_at_reset = _bool(e["preserve_overage_at_reset"], "entitlement.preserve_overage_at_reset")
    return message


def grant_to_wire(grant: GrantLike) -> grants_pb2.Grant:
    """A wire Grant from the SDK's shape: ``{"amount", "priority"?, "effectiveAt", "expiration": {"duration",
    "count"}, "minRolloverAmount"?, "maxRolloverAmount"?, "recurrence"?: {"interval", "anchor"?}, "metadata"?}``."""
    if isinstance(grant, grants_pb2.Grant):
        return grant
    g = normalize(grant, what="grant", allowed=_GRANT_KEYS)
    message = grants_pb2.Grant(metadata=to_str_map(g.get("metadata"), what="grant.metadata"))
    if g.get("amount") is not None:
        message.amount = to_number(g["amount"], what="grant.amount")
    if g.get("priority") is not None:
        message.priority = non_negative_int(g["priority"], what="grant.priority")
    if g.get("effective_at") is not None:
        message.effective_at.CopyFrom(to_timestamp(g["effective_at"], what="grant.effective_at"))
    if g.get("expiration") is not None:
        x = normalize(g["expiration"], what="grant.expiration", allowed=("duration", "count"))
        if x.get("duration") is not None:
            message.expiration.duration = to_enum(x["duration"], ExpirationDuration, what="grant.expiration.duration").wire
        if x.get("count") is not None:
            message.expiration.count = non_negative_int(x["count"], what="grant.expiration.count")
    for key in ("min_rollover_amount", "max_rollover_amount"):
        if g.get(key) is not None:
            setattr(message, key, to_number(g[key], what=f"grant.{key}"))
    if g.get("recurrence") is not None:
        message.recurrence.CopyFrom(_recurring_period(g["recurrence"], "grant.recurrence"))
    return message


def _list_entitlements_request(
    subject: str, include_deleted: bool, limit: int | None, page_token: str | None,
    feature: str | Iterable[str] | None = None, type: str | Iterable[str] | None = None,
    order_by: str | None = None, order: str | None = None,
) -> entitlements_pb2.ListSubjectEntitlementsRequest:
    return entitlements_pb2.ListSubjectEntitlementsRequest(
        subject_key=_ref(subject, "subject"), include_deleted=include_deleted, page_size=limit or 0,
        page_token=page_token or "", feature=str_list(feature, what="feature"), type=entitlement_types(type),
        order_by=entitlement_order_by(order_by), order=sort_order(order),
    )


def _override_request(
    subject: str, id_or_feature_key: str, entitlement: EntitlementLike
) -> entitlements_pb2.OverrideEntitlementRequest:
    return entitlements_pb2.OverrideEntitlementRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "entitlement_id_or_feature_key"),
        override=entitlement_to_wire(entitlement),
    )


def _value_request(
    subject: str, id_or_feature_key: str, time: datetime | str | None
) -> entitlements_pb2.GetEntitlementValueRequest:
    request = entitlements_pb2.GetEntitlementValueRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
    )
    if time is not None:
        request.time.CopyFrom(to_timestamp(time, what="time"))
    return request


def _history_request(
    subject: str, id_or_feature_key: str, from_: datetime | str | None, to: datetime | str | None,
    window_size: WindowSize | str, window_time_zone: str | None,
) -> entitlements_pb2.GetEntitlementHistoryRequest:
    request = entitlements_pb2.GetEntitlementHistoryRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        window_size=to_enum(window_size, WindowSize, what="window_size").wire,
        window_time_zone=_str(window_time_zone or "", "window_time_zone"),
    )
    if from_ is not None:
        request.from_time.CopyFrom(to_timestamp(from_, what="from_"))
    if to is not None:
        request.to_time.CopyFrom(to_timestamp(to, what="to"))
    return request


def _reset_request(
    subject: str, id_or_feature_key: str, effective_at: datetime | str | None, retain_anchor: bool,
    preserve_overage: bool | None, usage_period: Mapping[str, Any] | None = None,
) -> entitlements_pb2.ResetEntitlementUsageRequest:
    request = entitlements_pb2.ResetEntitlementUsageRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        retain_anchor=_bool(retain_anchor, "retain_anchor"),
    )
    if effective_at is not None:
        request.effective_at.CopyFrom(to_timestamp(effective_at, what="effective_at"))
    if preserve_overage is not None:
        request.preserve_overage = _bool(preserve_overage, "preserve_overage")
    if usage_period is not None:
        request.usage_period.CopyFrom(_recurring_period(usage_period, "usage_period"))
    return request


def _list_grants_request(
    subject: str, id_or_feature_key: str, include_voided: bool, limit: int | None, page_token: str | None,
    order_by: str | None = None, order: str | None = None,
) -> grants_pb2.ListEntitlementGrantsRequest:
    return grants_pb2.ListEntitlementGrantsRequest(
        subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
        include_voided=include_voided, page_size=limit or 0, page_token=page_token or "",
        order_by=grant_order_by(order_by), order=sort_order(order),
    )


class SubjectEntitlementsMixin:
    """The subject-scoped entitlement methods of ``om.subjects``."""

    _t: Transport

    def create_entitlement(
        self, subject: str, entitlement: EntitlementLike, *, timeout: float | None = None
    ) -> Result[entitlements_pb2.Entitlement]:
        """Creates an entitlement for a subject (which need not have been upserted).

        ``entitlement`` is the SDK's shape, e.g. ``{"type": "metered", "featureKey": "ai_tokens",
        "usagePeriod": {"interval": "MONTH"}, "issueAfterReset": 10_000_000}``; ``{"type": "static",
        "featureKey": ..., "config": '{"seats": 5}'}``; ``{"type": "boolean", "featureKey": ...}``.
        Returns the entitlement. Raises AlreadyExistsError if the subject has one for the feature, NotFoundError
        for an unknown feature, FailedPreconditionError for an archived feature or a metered entitlement on a
        feature without a meter (boolean and static ones may use any feature), InvalidArgumentError naming
        the field; InvalidArgumentError before sending for unknown keys or wrong types.
        """
        request = entitlements_pb2.CreateEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=entitlement_to_wire(entitlement)
        )
        return self._t.call("EntitlementService", "CreateEntitlement", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                            timeout=timeout)

    def list_entitlements(
        self, subject: str, *, include_deleted: bool = False, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> list[Result[entitlements_pb2.Entitlement]]:
        """A subject's entitlements (one page of ``limit``, default 100), optionally only of some features (ids
        or keys) or types (``"metered"``, ``"static"``, ``"boolean"``).

        ``order_by`` is ``"createdAt"`` (default) or ``"updatedAt"``, ``order`` ``"ASC"`` (default) or
        ``"DESC"``. ``list_entitlements_page`` also gives ``next_page_token`` and ``total_size``.
        """
        return list(self.list_entitlements_page(subject, include_deleted=include_deleted, feature=feature, type=type,
                                                order_by=order_by, order=order, limit=limit, page_token=page_token,
                                                timeout=timeout).entitlements)

    def list_entitlements_page(
        self, subject: str, *, include_deleted: bool = False, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListSubjectEntitlementsResponse]:
        """One page of ``list_entitlements``, with ``next_page_token`` (empty on the last page)."""
        request = _list_entitlements_request(subject, include_deleted, limit, page_token, feature, type, order_by, order)
        return self._t.call("EntitlementService", "ListSubjectEntitlements", request, timeout=timeout,  # type: ignore[no-any-return]
                            idempotent=True)

    def override_entitlement(
        self, subject: str, entitlement_id_or_feature_key: str, entitlement: EntitlementLike, *,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.Entitlement]:
        """Replaces a subject's entitlement (by id or feature key) with a new definition, atomically (the SDK's
        ``overrideEntitlement``): the old one is deleted and the new one created, or nothing changes.

        ``entitlement`` is the shape of ``create_entitlement``; its ``featureKey``/``featureId`` may be left out
        (the old one's feature is kept) and must otherwise name the same feature. Returns the new entitlement.
        Raises NotFoundError (no such entitlement), InvalidArgumentError naming ``override.<field>`` (e.g. a
        different feature), FailedPreconditionError (a metered definition on a feature without a meter, an
        archived feature); on any error the old entitlement stays.
        """
        request = _override_request(subject, entitlement_id_or_feature_key, entitlement)
        return self._t.call("EntitlementService", "OverrideEntitlement", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                            timeout=timeout)

    def get_entitlement(
        self, subject: str, id_or_feature_key: str, *, timeout: float | None = None
    ) -> Result[entitlements_pb2.Entitlement]:
        """A subject's entitlement by id or feature key. Raises NotFoundError (also for deleted ones)."""
        request = entitlements_pb2.GetEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
        )
        return self._t.call("EntitlementService", "GetEntitlement", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                            timeout=timeout, idempotent=True)

    def delete_entitlement(self, subject: str, id_or_feature_key: str, *, timeout: float | None = None) -> None:
        """Deletes a subject's entitlement (by id or feature key); the subject may then get a new one for the
        feature. Raises NotFoundError."""
        request = entitlements_pb2.DeleteEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
        )
        self._t.call("EntitlementService", "DeleteEntitlement", request, timeout=timeout)

    def get_entitlement_value(
        self, subject: str, id_or_feature_key: str, time: datetime | str | None = None, *,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.EntitlementValue]:
        """Whether the subject has access at ``time`` (default now): ``has_access``, and ``config`` for static
        entitlements, ``balance``/``usage``/``overage`` for metered ones. Raises NotFoundError."""
        request = _value_request(subject, id_or_feature_key, time)
        return self._t.call("EntitlementService", "GetEntitlementValue", request, lambda r: r.value,  # type: ignore[no-any-return]
                            timeout=timeout, idempotent=True)

    def get_entitlement_history(
        self, subject: str, id_or_feature_key: str, *, window_size: WindowSize | str,
        from_: datetime | str | None = None, to: datetime | str | None = None, window_time_zone: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.GetEntitlementHistoryResponse]:
        """Usage and burn-down of a metered entitlement over ``[from_, to)``.

        ``window_size`` is HOUR, DAY or MONTH (a ``WindowSize`` member or its name; required), windows aligned in
        ``window_time_zone`` (IANA, default UTC). ``from_`` defaults to the start of the current usage period,
        ``to`` to now; explicit bounds must be whole minutes. Returns the response: ``windowed_history`` (one row
        per window: ``from_time``, ``to_time``, ``usage``, ``balance_at_start``) and ``burndown_history``
        (segments with ``usage``, ``overage``, total and per-grant balances at start and end, and per-grant
        usage, the maps keyed by grant id). Raises InvalidArgumentError (``window_size`` MINUTE or missing,
        ``from_time`` not before ``to_time``, a bad zone), FailedPreconditionError for a boolean or static
        entitlement, NotFoundError.
        """
        request = _history_request(subject, id_or_feature_key, from_, to, window_size, window_time_zone)
        return self._t.call("EntitlementService", "GetEntitlementHistory", request, timeout=timeout,  # type: ignore[no-any-return]
                            idempotent=True)

    def reset_entitlement_usage(
        self, subject: str, id_or_feature_key: str, effective_at: datetime | str | None = None, *,
        retain_anchor: bool = False, preserve_overage: bool | None = None,
        usage_period: Mapping[str, Any] | None = None, timeout: float | None = None,
    ) -> Result[entitlements_pb2.Entitlement]:
        """Resets a metered entitlement's usage at ``effective_at`` (default now; truncated to the minute).

        Grants roll over (each active grant keeps ``min(max_rollover, max(min_rollover, balance))``), usage
        restarts at 0. ``retain_anchor`` keeps the usage period's anchor (otherwise the reset instant becomes the
        new anchor); ``preserve_overage`` overrides the entitlement's ``preserve_overage_at_reset`` for this
        reset. ``usage_period`` (``{"interval": "WEEK", "anchor"?: ...}``) changes the usage period from the reset
        on (the anchor defaults to the reset instant, or with ``retain_anchor`` to the anchor in effect); periods
        before the reset are unchanged. Returns the entitlement with its new ``current_usage_period`` and
        ``last_reset``. Raises
        InvalidArgumentError (``effective_at`` in the future or before the entitlement was created),
        FailedPreconditionError (not after the current period's start, e.g. a second reset in the same minute;
        or not metered), NotFoundError.
        """
        request = _reset_request(subject, id_or_feature_key, effective_at, retain_anchor, preserve_overage, usage_period)
        return self._t.call("EntitlementService", "ResetEntitlementUsage", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                            timeout=timeout)

    def create_entitlement_grant(
        self, subject: str, id_or_feature_key: str, grant: GrantLike, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """Adds a grant to a subject's metered entitlement (by id or feature key).

        ``grant`` is the SDK's shape: ``{"amount": 100, "priority": 1, "effectiveAt": "2024-01-01T00:00:00Z",
        "expiration": {"duration": "HOUR", "count": 12}, "minRolloverAmount": 0, "maxRolloverAmount": 0,
        "recurrence": {"interval": "MONTH", "anchor": ...}, "metadata": {...}}``. Returns the grant (with
        ``expires_at``). Raises FailedPreconditionError for a boolean or static entitlement,
        InvalidArgumentError naming ``grant.<field>``, NotFoundError.
        """
        request = grants_pb2.CreateGrantRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
            grant=grant_to_wire(grant),
        )
        return self._t.call("GrantService", "CreateGrant", request, lambda r: r.grant, timeout=timeout)  # type: ignore[no-any-return]

    def list_entitlement_grants(
        self, subject: str, id_or_feature_key: str, *, include_voided: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """An entitlement's grants (one page of ``limit``, default 100); voided ones only with ``include_voided``.

        ``order_by`` is ``"effectiveAt"`` (default), ``"createdAt"``, ``"updatedAt"`` or ``"expiresAt"``;
        ``order`` ``"ASC"`` (default) or ``"DESC"``. Raises NotFoundError.
        """
        return list(self.list_entitlement_grants_page(
            subject, id_or_feature_key, include_voided=include_voided, order_by=order_by, order=order, limit=limit,
            page_token=page_token, timeout=timeout,
        ).grants)

    def list_entitlement_grants_page(
        self, subject: str, id_or_feature_key: str, *, include_voided: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListEntitlementGrantsResponse]:
        """One page of ``list_entitlement_grants``, with ``next_page_token`` and ``total_size``."""
        request = _list_grants_request(subject, id_or_feature_key, include_voided, limit, page_token, order_by, order)
        return self._t.call("GrantService", "ListEntitlementGrants", request, timeout=timeout, idempotent=True)  # type: ignore[no-any-return]


class AsyncSubjectEntitlementsMixin:
    """The subject-scoped entitlement methods of ``om.subjects`` on AsyncOpenMeter: the same, awaitable."""

    _t: AsyncTransport

    async def create_entitlement(
        self, subject: str, entitlement: EntitlementLike, *, timeout: float | None = None
    ) -> Result[entitlements_pb2.Entitlement]:
        """See ``SubjectEntitlementsMixin.create_entitlement``."""
        request = entitlements_pb2.CreateEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=entitlement_to_wire(entitlement)
        )
        return await self._t.call("EntitlementService", "CreateEntitlement", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                                  timeout=timeout)

    async def list_entitlements(
        self, subject: str, *, include_deleted: bool = False, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> list[Result[entitlements_pb2.Entitlement]]:
        """See ``SubjectEntitlementsMixin.list_entitlements``."""
        page = await self.list_entitlements_page(subject, include_deleted=include_deleted, feature=feature,
                                                 type=type, order_by=order_by, order=order, limit=limit,
                                                 page_token=page_token, timeout=timeout)
        return list(page.entitlements)

    async def list_entitlements_page(
        self, subject: str, *, include_deleted: bool = False, feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None, order_by: str | None = None, order: str | None = None,
        limit: int | None = None, page_token: str | None = None, timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListSubjectEntitlementsResponse]:
        """See ``SubjectEntitlementsMixin.list_entitlements_page``."""
        request = _list_entitlements_request(subject, include_deleted, limit, page_token, feature, type, order_by, order)
        return await self._t.call("EntitlementService", "ListSubjectEntitlements", request, timeout=timeout,  # type: ignore[no-any-return]
                                  idempotent=True)

    async def override_entitlement(
        self, subject: str, entitlement_id_or_feature_key: str, entitlement: EntitlementLike, *,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.Entitlement]:
        """See ``SubjectEntitlementsMixin.override_entitlement``."""
        request = _override_request(subject, entitlement_id_or_feature_key, entitlement)
        return await self._t.call("EntitlementService", "OverrideEntitlement", request,  # type: ignore[no-any-return]
                                  lambda r: r.entitlement, timeout=timeout)

    async def get_entitlement(
        self, subject: str, id_or_feature_key: str, *, timeout: float | None = None
    ) -> Result[entitlements_pb2.Entitlement]:
        """See ``SubjectEntitlementsMixin.get_entitlement``."""
        request = entitlements_pb2.GetEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
        )
        return await self._t.call("EntitlementService", "GetEntitlement", request, lambda r: r.entitlement,  # type: ignore[no-any-return]
                                  timeout=timeout, idempotent=True)

    async def delete_entitlement(self, subject: str, id_or_feature_key: str, *, timeout: float | None = None) -> None:
        """See ``SubjectEntitlementsMixin.delete_entitlement``."""
        request = entitlements_pb2.DeleteEntitlementRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key")
        )
        await self._t.call("EntitlementService", "DeleteEntitlement", request, timeout=timeout)

    async def get_entitlement_value(
        self, subject: str, id_or_feature_key: str, time: datetime | str | None = None, *,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.EntitlementValue]:
        """See ``SubjectEntitlementsMixin.get_entitlement_value``."""
        request = _value_request(subject, id_or_feature_key, time)
        return await self._t.call("EntitlementService", "GetEntitlementValue", request, lambda r: r.value,  # type: ignore[no-any-return]
                                  timeout=timeout, idempotent=True)

    async def get_entitlement_history(
        self, subject: str, id_or_feature_key: str, *, window_size: WindowSize | str,
        from_: datetime | str | None = None, to: datetime | str | None = None, window_time_zone: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.GetEntitlementHistoryResponse]:
        """See ``SubjectEntitlementsMixin.get_entitlement_history``."""
        request = _history_request(subject, id_or_feature_key, from_, to, window_size, window_time_zone)
        return await self._t.call("EntitlementService", "GetEntitlementHistory", request,  # type: ignore[no-any-return]
                                  timeout=timeout, idempotent=True)

    async def reset_entitlement_usage(
        self, subject: str, id_or_feature_key: str, effective_at: datetime | str | None = None, *,
        retain_anchor: bool = False, preserve_overage: bool | None = None,
        usage_period: Mapping[str, Any] | None = None, timeout: float | None = None,
    ) -> Result[entitlements_pb2.Entitlement]:
        """See ``SubjectEntitlementsMixin.reset_entitlement_usage``."""
        request = _reset_request(subject, id_or_feature_key, effective_at, retain_anchor, preserve_overage, usage_period)
        return await self._t.call("EntitlementService", "ResetEntitlementUsage", request,  # type: ignore[no-any-return]
                                  lambda r: r.entitlement, timeout=timeout)

    async def create_entitlement_grant(
        self, subject: str, id_or_feature_key: str, grant: GrantLike, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """See ``SubjectEntitlementsMixin.create_entitlement_grant``."""
        request = grants_pb2.CreateGrantRequest(
            subject_key=_ref(subject, "subject"), entitlement=_ref(id_or_feature_key, "id_or_feature_key"),
            grant=grant_to_wire(grant),
        )
        return await self._t.call("GrantService", "CreateGrant", request, lambda r: r.grant, timeout=timeout)  # type: ignore[no-any-return]

    async def list_entitlement_grants(
        self, subject: str, id_or_feature_key: str, *, include_voided: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """See ``SubjectEntitlementsMixin.list_entitlement_grants``."""
        page = await self.list_entitlement_grants_page(
            subject, id_or_feature_key, include_voided=include_voided, order_by=order_by, order=order, limit=limit,
            page_token=page_token, timeout=timeout,
        )
        return list(page.grants)

    async def list_entitlement_grants_page(
        self, subject: str, id_or_feature_key: str, *, include_voided: bool = False, order_by: str | None = None,
        order: str | None = None, limit: int | None = None, page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListEntitlementGrantsResponse]:
        """See ``SubjectEntitlementsMixin.list_entitlement_grants_page``."""
        request = _list_grants_request(subject, id_or_feature_key, include_voided, limit, page_token, order_by, order)
        return await self._t.call("GrantService", "ListEntitlementGrants", request, timeout=timeout,  # type: ignore[no-any-return]
                                  idempotent=True)
