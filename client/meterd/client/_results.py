"""Results as Python values: one wrapper, driven by each message's descriptor, for every response.

``Result`` wraps a generated ``meterd.v1`` message. Reading a field gives a plain Python value: an aware UTC
``datetime`` for a Timestamp, a ``timedelta`` for a Duration, a client enum member (``Aggregation.SUM``) for
an enum (None for its ``*_UNSPECIFIED`` zero), a ``dict`` for a map, a ``list`` for a repeated field, another
``Result`` for a nested message, and None for an optional field or message that is not set. Attribute names
are the fields' own snake_case names (``row.value``, ``row.group_by["model"]``, ``value.has_access``); a
oneof's name gives the name of the member that is set (``entitlement.type == "metered"``).

``to_dict()`` gives OpenMeter's JSON shape (camelCase keys, RFC 3339 times, enum names, ``from``/``to`` for
time ranges, a oneof of messages flattened with its member's name as discriminator), and ``.proto`` the
wire message itself. Nothing here is written per message: fields added to the protos later convert the
same way. No I/O: the sync and async clients share all of it.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Generic, TypeVar

from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message

from meterd.client._enums import Aggregation, EventOutcome, ExpirationDuration, PeriodInterval, WindowSize

M = TypeVar("M", bound=Message)

# Client enums for wire enums; a wire enum not listed gets an enum class built from its descriptor.
_CLIENT_ENUMS: dict[str, type[StrEnum]] = {
    "meterd.v1.WindowSize": WindowSize,
    "meterd.v1.Aggregation": Aggregation,
    "meterd.v1.PeriodInterval": PeriodInterval,
    "meterd.v1.ExpirationDuration": ExpirationDuration,
    "meterd.v1.EventOutcome": EventOutcome,
}
_BUILT_ENUMS: dict[str, type[StrEnum]] = {}

# Where OpenMeter's JSON names a field differently from the generic camelCase of its wire name.
_OPENMETER_KEYS: dict[tuple[str, str], str] = {
    ("meterd.v1.QueryMeterResponse", "rows"): "data",
    ("meterd.v1.QueryPortalMeterResponse", "rows"): "data",
}
_RANGE_KEYS = {"from_time": "from", "to_time": "to"}
# String fields holding JSON text that OpenMeter's JSON carries as the value itself (an event's data).
_JSON_TEXT_FIELDS = {"meterd.v1.Event.data"}

_TIMESTAMP = "google.protobuf.Timestamp"
_DURATION = "google.protobuf.Duration"
_OWN_NAMES = frozenset({"proto", "to_dict", "HasField", "WhichOneof"})
_REPR_ITEMS = 10


def _enum_prefix(enum: EnumDescriptor) -> str:
    """``WindowSize`` -> ``WINDOW_SIZE_``: the prefix buf's style puts on every value of the enum."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", enum.name).upper() + "_"


def enum_class(enum: EnumDescriptor) -> type[StrEnum]:
    """The client enum for a wire enum: the hand-written one, or one built once from the descriptor."""
    known = _CLIENT_ENUMS.get(enum.full_name) or _BUILT_ENUMS.get(enum.full_name)
    if known is not None:
        return known
    prefix = _enum_prefix(enum)
    names = [v.name.removeprefix(prefix) for v in enum.values if v.number != 0]
    built = StrEnum(enum.name, [(name, name) for name in names], module=__name__)  # type: ignore[misc]
    _BUILT_ENUMS[enum.full_name] = built
    return built


def enum_member(enum: EnumDescriptor, number: int) -> StrEnum | int | None:
    """The client enum member for a wire value; None for the zero value; the number itself for a value this
    client does not know (a newer server)."""
    if number == 0:
        return None
    value = enum.values_by_number.get(number)
    if value is None:
        return number
    return enum_class(enum)[value.name.removeprefix(_enum_prefix(enum))]


def _message_type(field: FieldDescriptor) -> Descriptor:
    assert field.message_type is not None, field.full_name
    return field.message_type


def _enum_type(field: FieldDescriptor) -> EnumDescriptor:
    assert field.enum_type is not None, field.full_name
    return field.enum_type


def _is_map(field: FieldDescriptor) -> bool:
    return field.type == FieldDescriptor.TYPE_MESSAGE and bool(_message_type(field).GetOptions().map_entry)


def _real_oneof(field: FieldDescriptor) -> OneofDescriptor | None:
    """The oneof a field belongs to, unless it is the synthetic one of a proto3 ``optional`` field."""
    oneof = field.containing_oneof
    if oneof is None or (len(oneof.fields) == 1 and oneof.name == "_" + field.name):
        return None
    return oneof


def _single(field: FieldDescriptor, value: Any) -> Any:
    """One value (not a list or map) as Python."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = _message_type(field).full_name
        if name == _TIMESTAMP:
            return value.ToDatetime(tzinfo=UTC)
        if name == _DURATION:
            return value.ToTimedelta()
        return Result(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return enum_member(_enum_type(field), value)
    return value


def field_value(message: Message, field: FieldDescriptor) -> Any:
    """A field of ``message`` as a Python value (see the module's docstring)."""
    raw = getattr(message, field.name)
    if _is_map(field):
        value_field = _message_type(field).fields_by_name["value"]
        return {key: _single(value_field, item) for key, item in raw.items()}
    if field.is_repeated:
        return [_single(field, item) for item in raw]
    if field.has_presence and not message.HasField(field.name):
        return None
    return _single(field, raw)


class Result(Generic[M]):
    """A response from meterd as Python values; see the module's docstring.

    ``.proto`` is the wire message; ``to_dict()`` OpenMeter's JSON shape; ``HasField``/``WhichOneof`` answer
    as the message would. Results compare equal when their messages are equal, and print their set fields.
    """

    __slots__ = ("_cache", "_proto")

    def __init__(self, message: M) -> None:
        object.__setattr__(self, "_proto", message)
        object.__setattr__(self, "_cache", {})

    @property
    def proto(self) -> M:
        """The wire message (a generated ``meterd.v1`` class), for code that wants protobuf itself."""
        return self._proto  # type: ignore[no-any-return]

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        cache: dict[str, Any] = self._cache
        if name in cache:
            return cache[name]
        descriptor: Descriptor = self._proto.DESCRIPTOR
        field = descriptor.fields_by_name.get(name)
        if field is not None:
            value = cache[name] = field_value(self._proto, field)
            return value
        oneof = descriptor.oneofs_by_name.get(name)
        if oneof is not None and not name.startswith("_"):
            return self._proto.WhichOneof(name)
        fields = ", ".join(f.name for f in descriptor.fields)
        raise AttributeError(f"{descriptor.name} has no field {name!r} (fields: {fields})")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"results are read-only; build a new request instead of setting {name!r}")

    def HasField(self, name: str) -> bool:
        """Whether an optional field or a message field is set (as on the wire message)."""
        return bool(self._proto.HasField(name))

    def WhichOneof(self, name: str) -> str | None:
        """The member of oneof ``name`` that is set, or None (as on the wire message)."""
        return self._proto.WhichOneof(name)  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """OpenMeter's JSON shape of this result: camelCase keys, RFC 3339 times, enum names; unset optional
        fields left out. Ready for ``json.dumps``."""
        return message_to_dict(self._proto)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Result):
            return bool(self._proto == other._proto)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable wire message inside

    def __repr__(self) -> str:
        descriptor: Descriptor = self._proto.DESCRIPTOR
        parts = []
        for field in descriptor.fields:
            if not _is_shown(self._proto, field):
                continue
            parts.append(f"{field.name}={_repr(getattr(self, field.name))}")
        return f"{descriptor.name}({', '.join(parts)})"

    __str__ = __repr__

    def __dir__(self) -> list[str]:
        return sorted({*(f.name for f in self._proto.DESCRIPTOR.fields), *_OWN_NAMES})

    def __reduce__(self) -> tuple[Any, ...]:
        return (_restore, (type(self._proto), self._proto.SerializeToString()))


def _restore(cls: type[Message], data: bytes) -> Result[Message]:
    return Result(cls.FromString(data))


def _is_shown(message: Message, field: FieldDescriptor) -> bool:
    """Whether ``repr`` shows the field: set optional fields and messages, non-empty lists, maps and strings,
    every number and bool (a zero value or False means something), enums other than UNSPECIFIED."""
    if field.is_repeated:
        return len(getattr(message, field.name)) > 0
    if field.has_presence:
        return bool(message.HasField(field.name))
    if field.type in (FieldDescriptor.TYPE_STRING, FieldDescriptor.TYPE_BYTES, FieldDescriptor.TYPE_ENUM):
        return bool(getattr(message, field.name))
    return True


def _repr(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, StrEnum):
        return str(value)
    if isinstance(value, list):
        shown = ", ".join(_repr(v) for v in value[:_REPR_ITEMS])
        more = f", ... ({len(value)} items)" if len(value) > _REPR_ITEMS else ""
        return f"[{shown}{more}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {_repr(v)}" for k, v in value.items()) + "}"
    return repr(value)


# -- OpenMeter's JSON shape ------------------------------------------------------------------------------
_ABSENT = object()


def _json_key(descriptor: Descriptor, field: FieldDescriptor) -> str:
    key = _OPENMETER_KEYS.get((descriptor.full_name, field.name))
    if key is not None:
        return key
    return _RANGE_KEYS.get(field.name, field.json_name)


def _json_single(field: FieldDescriptor, value: Any) -> Any:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = _message_type(field).full_name
        if name in (_TIMESTAMP, _DURATION):
            return value.ToJsonString()
        return message_to_dict(value)
    if field.type == FieldDescriptor.TYPE_ENUM:
        member = enum_member(_enum_type(field), value)
        return _ABSENT if member is None else (member if isinstance(member, int) else member.value)
    if field.full_name in _JSON_TEXT_FIELDS:
        return json.loads(value) if value else _ABSENT
    return value


def _json_value(message: Message, field: FieldDescriptor) -> Any:
    raw = getattr(message, field.name)
    if _is_map(field):
        value_field = _message_type(field).fields_by_name["value"]
        return {key: _json_single(value_field, item) for key, item in raw.items()}
    if field.is_repeated:
        return [_json_single(field, item) for item in raw]
    if field.has_presence and not message.HasField(field.name):
        return _ABSENT
    return _json_single(field, raw)


def message_to_dict(message: Message) -> dict[str, Any]:
    """OpenMeter's JSON shape of a wire message (see ``Result.to_dict``)."""
    descriptor: Any = message.DESCRIPTOR
    out: dict[str, Any] = {}
    for field in descriptor.fields:
        oneof = _real_oneof(field)
        if oneof is not None:
            if message.WhichOneof(oneof.name) != field.name:
                continue
            if field.type == FieldDescriptor.TYPE_MESSAGE and _message_type(field).full_name not in (
                _TIMESTAMP, _DURATION
            ):
                # A oneof of messages is a type with its settings: OpenMeter puts them beside the common
                # fields with the type's name as discriminator (``"type": "metered"``).
                out[oneof.name] = field.name
                out.update(message_to_dict(getattr(message, field.name)))
                continue
        value = _json_value(message, field)
        if value is not _ABSENT:
            out[_json_key(descriptor, field)] = value
    return out


def own_names() -> frozenset[str]:
    """Attribute names of ``Result`` itself, which no message field may take (a test checks the protos)."""
    return _OWN_NAMES
