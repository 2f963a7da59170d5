"""List options in the SDK's shape: ``order_by`` ("createdAt", "created_at" or "CREATED_AT"), ``order``
("ASC"/"DESC", any case) and entitlement types ("metered", "static", "boolean"), mapped to wire enums."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from meterd.client._errors import invalid_argument
from meterd.v1 import common_pb2, entitlements_pb2, grants_pb2

_ENTITLEMENT_ORDER_BY = {
    "CREATEDAT": entitlements_pb2.ENTITLEMENT_ORDER_BY_CREATED_AT,
    "UPDATEDAT": entitlements_pb2.ENTITLEMENT_ORDER_BY_UPDATED_AT,
}
_GRANT_ORDER_BY = {
    "EFFECTIVEAT": grants_pb2.GRANT_ORDER_BY_EFFECTIVE_AT,
    "CREATEDAT": grants_pb2.GRANT_ORDER_BY_CREATED_AT,
    "UPDATEDAT": grants_pb2.GRANT_ORDER_BY_UPDATED_AT,
    "EXPIRESAT": grants_pb2.GRANT_ORDER_BY_EXPIRES_AT,
}
_ENTITLEMENT_TYPES = {
    "BOOLEAN": entitlements_pb2.ENTITLEMENT_TYPE_BOOLEAN,
    "STATIC": entitlements_pb2.ENTITLEMENT_TYPE_STATIC,
    "METERED": entitlements_pb2.ENTITLEMENT_TYPE_METERED,
}
_ORDERS = {"ASC": common_pb2.SORT_ORDER_ASC, "DESC": common_pb2.SORT_ORDER_DESC}


def _key(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise invalid_argument(f"{what}", f"expected a string, got {type(value).__name__}")
    return value.replace("_", "").upper()


def _pick(value: object, table: Mapping[str, int], what: str) -> int:
    key = _key(value, what)
    if key not in table:
        raise invalid_argument(f"{what}", f"{value!r} is not one of {', '.join(sorted(table))}")
    return table[key]


def entitlement_order_by(value: str | None) -> entitlements_pb2.EntitlementOrderBy.ValueType:
    """The wire value of an entitlement list's ``order_by`` (createdAt or updatedAt); None: the default."""
    if value is None:
        return entitlements_pb2.ENTITLEMENT_ORDER_BY_UNSPECIFIED
    return entitlements_pb2.EntitlementOrderBy.ValueType(_pick(value, _ENTITLEMENT_ORDER_BY, "order_by"))


def grant_order_by(value: str | None) -> grants_pb2.GrantOrderBy.ValueType:
    """The wire value of a grant list's ``order_by`` (effectiveAt, createdAt, updatedAt, expiresAt)."""
    if value is None:
        return grants_pb2.GRANT_ORDER_BY_UNSPECIFIED
    return grants_pb2.GrantOrderBy.ValueType(_pick(value, _GRANT_ORDER_BY, "order_by"))


def sort_order(value: str | None) -> common_pb2.SortOrder.ValueType:
    """The wire value of ``order`` ("ASC" or "DESC"); None: the list's default (ascending)."""
    if value is None:
        return common_pb2.SORT_ORDER_UNSPECIFIED
    return common_pb2.SortOrder.ValueType(_pick(value, _ORDERS, "order"))


def entitlement_types(value: str | Iterable[str] | None) -> list[entitlements_pb2.EntitlementType.ValueType]:
    """Wire entitlement types from one name or several ("metered", "static", "boolean")."""
    if value is None:
        return []
    names = [value] if isinstance(value, str) else list(value)
    return [entitlements_pb2.EntitlementType.ValueType(_pick(n, _ENTITLEMENT_TYPES, "type")) for n in names]
