"""Argument conversion shared by the sync and async clients: SDK-shaped dicts (camelCase or snake_case
keys), datetimes or RFC 3339 strings, enum members or names -> request messages; checked before sending."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

from google.protobuf import timestamp_pb2

from meterd.client._errors import invalid_argument

E = TypeVar("E", bound=Enum)

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake(key: str) -> str:
    """``displayName`` -> ``display_name``; snake_case keys pass through."""
    return _CAMEL.sub("_", key).lower()


def check_text(value: str, *, what: str) -> str:
    """The string, if it can go on the wire (UTF-8: no lone surrogates)."""
    try:
        value.encode()
    except UnicodeEncodeError as exc:
        raise invalid_argument(what, f"not valid text: {exc.reason} at position {exc.start}") from None
    return value


def normalize(
    value: Mapping[str, Any], *, what: str, allowed: Iterable[str], required: Iterable[str] = ()
) -> dict[str, Any]:
    """The dict with snake_case keys; unknown keys and missing required ones raise before anything is sent."""
    if not isinstance(value, Mapping):
        raise invalid_argument(f"{what}", f"expected a dict, got {type(value).__name__}")
    allowed_set = set(allowed)
    out: dict[str, Any] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise invalid_argument(f"{what}", f"keys must be strings, got {key!r}")
        name = snake(key)
        if name not in allowed_set:
            raise invalid_argument(
                f"{what}", f"unknown key {key!r} (allowed: {', '.join(sorted(allowed_set))})"
            )
        if name in out:
            raise invalid_argument(f"{what}", f"key {key!r} given twice (camelCase and snake_case)")
        if isinstance(item, str):
            check_text(item, what=f"{what}.{name}")
        out[name] = item
    for name in required:
        if out.get(name) is None:
            raise invalid_argument(f"{what}", f"{name!r} is required")
    return out


def to_datetime(value: datetime | str, *, what: str) -> datetime:
    """An aware datetime from a datetime or an RFC 3339 string; naive datetimes are refused."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError as exc:
            raise invalid_argument(f"{what}", f"{value!r} is not an RFC 3339 time") from exc
        value = parsed
    if not isinstance(value, datetime):
        raise invalid_argument(
            f"{what}", f"expected a datetime or RFC 3339 string, got {type(value).__name__}"
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise invalid_argument(
            f"{what}", "naive datetime; give a time zone (e.g. datetime.now(timezone.utc))"
        )
    return value


def to_timestamp(value: datetime | str, *, what: str) -> timestamp_pb2.Timestamp:
    """A protobuf Timestamp from a datetime or RFC 3339 string."""
    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(to_datetime(value, what=what).astimezone(UTC))
    return ts


def to_enum(value: E | str, enum: type[E], *, what: str) -> E:
    """An enum member from a member or its name (case-insensitive)."""
    if isinstance(value, enum):
        return value
    if isinstance(value, str):
        try:
            return enum[value.upper()]
        except KeyError:
            pass
    names = ", ".join(m.name for m in enum)
    raise invalid_argument(f"{what}", f"{value!r} is not one of {names}")


def to_str_map(value: Mapping[str, Any] | None, *, what: str) -> dict[str, str]:
    """A string -> string map (metadata, filters); other value types are refused."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise invalid_argument(f"{what}", f"expected a dict of strings, got {type(value).__name__}")
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise invalid_argument(f"{what}", f"keys and values must be strings, got {k!r}: {v!r}")
        check_text(k, what=what)
        check_text(v, what=f"{what}[{k!r}]")
    return dict(value)


def to_number(value: Any, *, what: str) -> float:
    """A float from an int, float or Decimal; strings and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise invalid_argument(f"{what}", f"expected a number, got {type(value).__name__}")
    return float(value)


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        # Integral decimals stay exact as JSON integers; others go out as the nearest double. To keep more
        # digits than a double holds, send the number as a string: meters read numeric strings exactly.
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")  # caught by to_json_text


def to_json_text(value: Any, *, what: str = "value") -> str:
    """JSON text for event data or static config. Values JSON cannot carry (objects of other types, NaN,
    infinities, non-string keys) raise InvalidArgumentError naming ``what`` and the path inside it."""
    try:
        return json.dumps(value, separators=(",", ":"), default=_json_default, allow_nan=False)
    except (TypeError, ValueError) as exc:
        where = what + _bad_json_path(value)
        raise invalid_argument(where, f"not representable as JSON ({exc})") from None


def _bad_json_path(value: Any, path: str = "") -> str:
    """Where in ``value`` the first value JSON refuses sits, as ``["key"][0]``; empty if not found."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}[{key!r}]"
            if not isinstance(key, str | int | float | bool) and key is not None:
                return here
            found = _bad_json_path(item, here)
            if found:
                return found
        return ""
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _bad_json_path(item, f"{path}[{index}]")
            if found:
                return found
        return ""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return path
    if value is None or isinstance(value, str | int | float | bool | Decimal | datetime):
        return ""
    return path


def non_negative_int(value: Any, *, what: str) -> int:
    """``value`` when it is an int (not a bool) of at least 0; InvalidArgumentError naming ``what`` otherwise."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid_argument(f"{what}", f"expected an integer, got {type(value).__name__}")
    if value < 0:
        raise invalid_argument(f"{what}", f"must not be negative, got {value}")
    return value


def page_size(limit: int | None, *, what: str = "limit") -> int:
    """The wire page size for ``limit``: 0 (the server's default) for None; a non-negative int otherwise."""
    return 0 if limit is None else non_negative_int(limit, what=what)


def optional_str(value: str | None, *, what: str) -> str:
    """The string, or "" for None; other types are refused."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise invalid_argument(f"{what}", f"expected a string, got {type(value).__name__}")
    return check_text(value, what=what)


def str_list(value: str | Iterable[str] | None, *, what: str) -> list[str]:
    """A list of strings from one string, an iterable of them, or None."""
    if value is None:
        return []
    if isinstance(value, str):
        return [check_text(value, what=what)]
    items = list(value)
    for index, item in enumerate(items):
        if not isinstance(item, str):
            raise invalid_argument(f"{what}", f"expected strings, got {type(item).__name__}")
        check_text(item, what=f"{what}[{index}]")
    return items
