"""Subject-scoped entitlement calls, as the SDK puts them on ``om.subjects``: create, list, get and delete a
subject's entitlements, read their value and history, reset their usage, and create and list their grants.
``AsyncSubjectEntitlementsMixin`` is inherited by the Subjects namespace; it needs only ``self._t``."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from meterd.client._enums import WindowSize
from meterd.client._results import Result, results
from meterd.client._subject_entitlements import (
    EntitlementLike,
    GrantLike,
    create_grant_request,
    create_request,
    delete_request,
    get_request,
    history_request,
    list_entitlements_request,
    list_grants_request,
    override_request,
    reset_request,
    value_request,
)
from meterd.client._transport import AsyncTransport
from meterd.v1 import entitlements_pb2, grants_pb2


class AsyncSubjectEntitlementsMixin:
    """The subject-scoped entitlement methods of ``om.subjects``."""

    _t: AsyncTransport

    async def create_entitlement(
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
        request = create_request(subject, entitlement)
        response = await self._t.call(self._t.entitlements.CreateEntitlement, request, timeout=timeout)
        return Result(response.entitlement)

    async def list_entitlements(
        self,
        subject: str,
        *,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[entitlements_pb2.Entitlement]]:
        """A subject's entitlements (one page of ``limit``, default 100), optionally only of some features (ids
        or keys) or types (``"metered"``, ``"static"``, ``"boolean"``).

        ``order_by`` is ``"createdAt"`` (default) or ``"updatedAt"``, ``order`` ``"ASC"`` (default) or
        ``"DESC"``. ``list_entitlements_page`` also gives ``next_page_token`` and ``total_size``.
        """
        page = await self.list_entitlements_page(
            subject,
            include_deleted=include_deleted,
            feature=feature,
            type=type,
            order_by=order_by,
            order=order,
            limit=limit,
            page_token=page_token,
            timeout=timeout,
        )
        return results(page.proto.entitlements)

    async def list_entitlements_page(
        self,
        subject: str,
        *,
        include_deleted: bool = False,
        feature: str | Iterable[str] | None = None,
        type: str | Iterable[str] | None = None,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.ListSubjectEntitlementsResponse]:
        """One page of ``list_entitlements``, with ``next_page_token`` (empty on the last page)."""
        request = list_entitlements_request(
            subject, include_deleted, limit, page_token, feature, type, order_by, order
        )
        return Result(
            await self._t.call(
                self._t.entitlements.ListSubjectEntitlements, request, timeout=timeout, idempotent=True
            )
        )

    async def override_entitlement(
        self,
        subject: str,
        entitlement_id_or_feature_key: str,
        entitlement: EntitlementLike,
        *,
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
        request = override_request(subject, entitlement_id_or_feature_key, entitlement)
        response = await self._t.call(self._t.entitlements.OverrideEntitlement, request, timeout=timeout)
        return Result(response.entitlement)

    async def get_entitlement(
        self, subject: str, id_or_feature_key: str, *, timeout: float | None = None
    ) -> Result[entitlements_pb2.Entitlement]:
        """A subject's entitlement by id or feature key. Raises NotFoundError (also for deleted ones)."""
        request = get_request(subject, id_or_feature_key)
        response = await self._t.call(
            self._t.entitlements.GetEntitlement, request, timeout=timeout, idempotent=True
        )
        return Result(response.entitlement)

    async def delete_entitlement(
        self, subject: str, id_or_feature_key: str, *, timeout: float | None = None
    ) -> None:
        """Deletes a subject's entitlement (by id or feature key); the subject may then get a new one for the
        feature. Raises NotFoundError."""
        request = delete_request(subject, id_or_feature_key)
        await self._t.call(self._t.entitlements.DeleteEntitlement, request, timeout=timeout)

    async def get_entitlement_value(
        self,
        subject: str,
        id_or_feature_key: str,
        time: datetime | str | None = None,
        *,
        timeout: float | None = None,
    ) -> Result[entitlements_pb2.EntitlementValue]:
        """Whether the subject has access at ``time`` (default now): ``has_access``, and ``config`` for static
        entitlements, ``balance``/``usage``/``overage`` for metered ones. Raises NotFoundError."""
        request = value_request(subject, id_or_feature_key, time)
        response = await self._t.call(
            self._t.entitlements.GetEntitlementValue, request, timeout=timeout, idempotent=True
        )
        return Result(response.value)

    async def get_entitlement_history(
        self,
        subject: str,
        id_or_feature_key: str,
        *,
        window_size: WindowSize | str,
        from_: datetime | str | None = None,
        to: datetime | str | None = None,
        window_time_zone: str | None = None,
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
        request = history_request(subject, id_or_feature_key, from_, to, window_size, window_time_zone)
        return Result(
            await self._t.call(
                self._t.entitlements.GetEntitlementHistory, request, timeout=timeout, idempotent=True
            )
        )

    async def reset_entitlement_usage(
        self,
        subject: str,
        id_or_feature_key: str,
        effective_at: datetime | str | None = None,
        *,
        retain_anchor: bool = False,
        preserve_overage: bool | None = None,
        usage_period: Mapping[str, Any] | None = None,
        timeout: float | None = None,
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
        request = reset_request(
            subject, id_or_feature_key, effective_at, retain_anchor, preserve_overage, usage_period
        )
        response = await self._t.call(self._t.entitlements.ResetEntitlementUsage, request, timeout=timeout)
        return Result(response.entitlement)

    async def create_entitlement_grant(
        self, subject: str, id_or_feature_key: str, grant: GrantLike, *, timeout: float | None = None
    ) -> Result[grants_pb2.Grant]:
        """Adds a grant to a subject's metered entitlement (by id or feature key).

        ``grant`` is the SDK's shape: ``{"amount": 100, "priority": 1, "effectiveAt": "2024-01-01T00:00:00Z",
        "expiration": {"duration": "HOUR", "count": 12}, "minRolloverAmount": 0, "maxRolloverAmount": 0,
        "recurrence": {"interval": "MONTH", "anchor": ...}, "metadata": {...}}``. Returns the grant (with
        ``expires_at``). Raises FailedPreconditionError for a boolean or static entitlement,
        InvalidArgumentError naming ``grant.<field>``, NotFoundError.
        """
        request = create_grant_request(subject, id_or_feature_key, grant)
        response = await self._t.call(self._t.grants.CreateGrant, request, timeout=timeout)
        return Result(response.grant)

    async def list_entitlement_grants(
        self,
        subject: str,
        id_or_feature_key: str,
        *,
        include_voided: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> list[Result[grants_pb2.Grant]]:
        """An entitlement's grants (one page of ``limit``, default 100); voided ones only with ``include_voided``.

        ``order_by`` is ``"effectiveAt"`` (default), ``"createdAt"``, ``"updatedAt"`` or ``"expiresAt"``;
        ``order`` ``"ASC"`` (default) or ``"DESC"``. Raises NotFoundError.
        """
        page = await self.list_entitlement_grants_page(
            subject,
            id_or_feature_key,
            include_voided=include_voided,
            order_by=order_by,
            order=order,
            limit=limit,
            page_token=page_token,
            timeout=timeout,
        )
        return results(page.proto.grants)

    async def list_entitlement_grants_page(
        self,
        subject: str,
        id_or_feature_key: str,
        *,
        include_voided: bool = False,
        order_by: str | None = None,
        order: str | None = None,
        limit: int | None = None,
        page_token: str | None = None,
        timeout: float | None = None,
    ) -> Result[grants_pb2.ListEntitlementGrantsResponse]:
        """One page of ``list_entitlement_grants``, with ``next_page_token`` and ``total_size``."""
        request = list_grants_request(
            subject, id_or_feature_key, include_voided, limit, page_token, order_by, order
        )
        return Result(
            await self._t.call(
                self._t.grants.ListEntitlementGrants, request, timeout=timeout, idempotent=True
            )
        )
