"""Results as Python values: one wrapper for every response, driven by each message's descriptor.

``Result`` wraps a generated ``meterd.v1`` message (as an instance of a subclass named after the message,
made from its descriptor on first use, with a property per field). Reading a field gives a plain Python value: an aware UTC
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

import functools
import json
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, Generic, TypeVar

from google.protobuf import duration_pb2
from google.protobuf.descriptor import Descriptor, EnumDescriptor, FieldDescriptor, OneofDescriptor
from google.protobuf.message import Message

from meterd.client._enums import (
    Aggregation,
    EventOutcome,
    ExpirationDuration,
    NotificationEventType,
    PeriodInterval,
    WindowSize,
)

M = TypeVar("M", bound=Message)

# Client enums for wire enums; a wire enum not listed gets an enum class built from its descriptor.
_CLIENT_ENUMS: dict[str, type[StrEnum]] = {
    "meterd.v1.WindowSize": WindowSize,
    "meterd.v1.Aggregation": Aggregation,
    "meterd.v1.PeriodInterval": PeriodInterval,
    "meterd.v1.ExpirationDuration": ExpirationDuration,
    "meterd.v1.EventOutcome": EventOutcome,
    "meterd.v1.NotificationEventType": NotificationEventType,
}
_BUILT_ENUMS: dict[str, type[StrEnum]] = {}

# Where OpenMeter's JSON names a field differently from the generic camelCase of its wire name.
_OPENMETER_KEYS: dict[tuple[str, str], str] = {
    ("meterd.v1.QueryMeterResponse", "rows"): "data",
    ("meterd.v1.QueryPortalMeterResponse", "rows"): "data",
    ("meterd.v1.NotificationEvent", "payload_json"): "payload",
}
_RANGE_KEYS = {"from_time": "from", "to_time": "to"}
# String fields holding JSON text that OpenMeter's JSON carries as the value itself (an event's data).
_JSON_TEXT_FIELDS = {"meterd.v1.Event.data", "meterd.v1.NotificationEvent.payload_json"}

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


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _to_datetime(timestamp: Any) -> datetime:
    """An aware UTC datetime (microseconds) from a Timestamp; the same as ``ToDatetime(tzinfo=UTC)``, faster."""
    return _EPOCH + timedelta(seconds=timestamp.seconds, microseconds=timestamp.nanos // 1000)


def _to_timedelta(duration: duration_pb2.Duration) -> timedelta:
    return duration.ToTimedelta()


def _converter(field: FieldDescriptor) -> Callable[[Any], Any] | None:
    """How one value of ``field`` (not a list or map) becomes Python; None when it already is."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = _message_type(field).full_name
        if name == _TIMESTAMP:
            return _to_datetime
        if name == _DURATION:
            return _to_timedelta
        return Result
    if field.type == FieldDescriptor.TYPE_ENUM:
        return functools.partial(enum_member, _enum_type(field))
    return None


def _reader(field: FieldDescriptor) -> Callable[[Message], Any]:
    """A function reading ``field`` of a message as Python (see the module's docstring), built once per field."""
    return _field_function(field, _converter, None)


def _field_function(
    field: FieldDescriptor, converter: Callable[[FieldDescriptor], Callable[[Any], Any] | None], absent: Any
) -> Callable[[Message], Any]:
    """A function giving ``field`` of a message with each value passed through ``converter(field)`` (maps by
    their value field, lists item by item); an unset field with presence gives ``absent``."""
    name = field.name
    if _is_map(field):
        convert = converter(_message_type(field).fields_by_name["value"])
        if convert is None:
            return lambda message: dict(getattr(message, name))
        return lambda message: {key: convert(item) for key, item in getattr(message, name).items()}
    if field.is_repeated:
        convert_item = converter(field)
        if convert_item is None:
            return lambda message: list(getattr(message, name))
        return lambda message: [convert_item(item) for item in getattr(message, name)]
    convert_one = converter(field) or (lambda value: value)
    if field.has_presence:
        return lambda message: convert_one(getattr(message, name)) if message.HasField(name) else absent
    return lambda message: convert_one(getattr(message, name))


def _field_property(field: FieldDescriptor) -> property:
    """The attribute of a field on a message's Result class: plain scalars read straight from the message,
    everything converted (times, enums, lists, maps, messages) once and kept."""
    read = _reader(field)
    name = field.name
    plain = (
        not field.is_repeated
        and field.type != FieldDescriptor.TYPE_MESSAGE
        and field.type != FieldDescriptor.TYPE_ENUM
    )

    if plain:

        def get_plain(self: Result[Message]) -> Any:
            return read(self._proto)

        return property(get_plain)

    def get_converted(self: Result[Message]) -> Any:
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        elif name in cache:
            return cache[name]
        value = cache[name] = read(self._proto)
        return value

    return property(get_converted)


_CLASSES: dict[type[Message], type[Result[Any]]] = {}


def _result_class(cls: type[Message]) -> type[Result[Any]]:
    """The Result subclass for one message class (named after the message, a property per field), made once."""
    found = _CLASSES.get(cls)
    if found is None:
        descriptor: Any = cls.DESCRIPTOR
        namespace: dict[str, Any] = {"__slots__": (), "__module__": __name__, "__doc__": Result.__doc__}
        for field in descriptor.fields:
            if field.name not in _OWN_NAMES:  # a test keeps the protos free of such names
                namespace[field.name] = _field_property(field)
        found = _CLASSES[cls] = type(descriptor.name, (Result,), namespace)
    return found


def results(messages: Iterable[M]) -> list[Result[M]]:
    """A ``Result`` for each message (a list's items, from a page or a response)."""
    return [Result(message) for message in messages]


class Result(Generic[M]):
    """A response from meterd as Python values; see the module's docstring.

    ``.proto`` is the wire message; ``to_dict()`` OpenMeter's JSON shape; ``HasField``/``WhichOneof`` answer
    as the message would. Results compare equal when their messages are equal, and print their set fields.
    """

    __slots__ = ("_cache", "_proto")

    def __new__(cls, message: M) -> Result[M]:
        # Result(message) is an instance of the message's own subclass (e.g. ``Meter``), whose properties
        # read the fields without a __getattr__ miss.
        return object.__new__(_result_class(type(message)) if cls is Result else cls)

    def __init__(self, message: M) -> None:
        self._proto = message
        self._cache: dict[str, Any] | None = None  # converted fields, made on the first read

    @property
    def proto(self) -> M:
        """The wire message (a generated ``meterd.v1`` class), for code that wants protobuf itself."""
        return self._proto

    def __getattr__(self, name: str) -> Any:
        # Fields are properties of the message's subclass; what is left is a oneof's name or a mistake.
        if name.startswith("_"):
            raise AttributeError(name)
        descriptor: Any = self._proto.DESCRIPTOR
        if name in descriptor.oneofs_by_name:
            return self._proto.WhichOneof(name)
        fields = ", ".join(f.name for f in descriptor.fields)
        raise AttributeError(f"{descriptor.name} has no field {name!r} (fields: {fields})")

    def HasField(self, name: str) -> bool:
        """Whether an optional field or a message field is set (as on the wire message)."""
        return bool(self._proto.HasField(name))

    def WhichOneof(self, name: str) -> str | None:
        """The member of oneof ``name`` that is set, or None (as on the wire message)."""
        member: str | None = self._proto.WhichOneof(name)
        return member

    def to_dict(self) -> dict[str, Any]:
        """OpenMeter's JSON shape of this result: camelCase keys, RFC 3339 times, enum names; unset optional
        fields left out. Ready for ``json.dumps``."""
        return message_to_dict(self._proto)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Result):
            return bool(self._proto == other._proto)
        return NotImplemented

    # Defining __eq__ leaves __hash__ None: unhashable, as the mutable wire message inside is.

    def __repr__(self) -> str:
        descriptor: Any = self._proto.DESCRIPTOR
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


_EPOCH_NAIVE = datetime(1970, 1, 1)


def _rfc3339(timestamp: Any) -> str:
    """RFC 3339 text of a Timestamp, as protobuf's JSON writes it (``Z``; 0, 3, 6 or 9 fraction digits)."""
    text = (_EPOCH_NAIVE + timedelta(seconds=timestamp.seconds)).isoformat()
    nanos = timestamp.nanos
    if nanos:
        if nanos % 1_000_000 == 0:
            text += f".{nanos // 1_000_000:03d}"
        elif nanos % 1000 == 0:
            text += f".{nanos // 1000:06d}"
        else:
            text += f".{nanos:09d}"
    return text + "Z"


def _duration_text(duration: duration_pb2.Duration) -> str:
    return duration.ToJsonString()


def _json_enum(enum: EnumDescriptor, number: int) -> Any:
    member = enum_member(enum, number)
    return _ABSENT if member is None else (member if isinstance(member, int) else member.value)


def _json_text(text: str) -> Any:
    return json.loads(text) if text else _ABSENT


def _json_converter(field: FieldDescriptor) -> Callable[[Any], Any] | None:
    """How one value of ``field`` becomes JSON-ready; None when it already is."""
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        name = _message_type(field).full_name
        if name == _TIMESTAMP:
            return _rfc3339
        if name == _DURATION:
            return _duration_text
        return message_to_dict
    if field.type == FieldDescriptor.TYPE_ENUM:
        return functools.partial(_json_enum, _enum_type(field))
    if field.full_name in _JSON_TEXT_FIELDS:
        return _json_text
    return None


def _json_writer(field: FieldDescriptor) -> Callable[[Message], Any]:
    """A function giving ``field`` of a message in OpenMeter's JSON shape (``_ABSENT`` to leave it out)."""
    return _field_function(field, _json_converter, _ABSENT)


# Per message class: (JSON key or None to flatten, real oneof name or None, field name, writer).
_JSON_PLANS: dict[type[Message], list[tuple[str | None, str | None, str, Callable[[Message], Any]]]] = {}


def _json_plan(cls: type[Message]) -> list[tuple[str | None, str | None, str, Callable[[Message], Any]]]:
    plan = _JSON_PLANS.get(cls)
    if plan is None:
        descriptor: Any = cls.DESCRIPTOR
        plan = []
        for field in descriptor.fields:
            oneof = _real_oneof(field)
            # A oneof of messages is a type with its settings: OpenMeter puts them beside the common fields
            # with the type's name as discriminator (``"type": "metered"``).
            flatten = (
                oneof is not None
                and field.type == FieldDescriptor.TYPE_MESSAGE
                and _message_type(field).full_name not in (_TIMESTAMP, _DURATION)
            )
            key = None if flatten else _json_key(descriptor, field)
            plan.append((key, oneof.name if oneof else None, field.name, _json_writer(field)))
        _JSON_PLANS[cls] = plan
    return plan


def message_to_dict(message: Message) -> dict[str, Any]:
    """OpenMeter's JSON shape of a wire message (see ``Result.to_dict``)."""
    out: dict[str, Any] = {}
    for key, oneof, name, write in _json_plan(type(message)):
        if oneof is not None and message.WhichOneof(oneof) != name:
            continue
        if key is None:
            assert oneof is not None  # only a oneof's member is flattened (see _json_plan)
            out[oneof] = name
            out.update(message_to_dict(getattr(message, name)))
            continue
        value = write(message)
        if value is not _ABSENT:
            out[key] = value
    return out


def own_names() -> frozenset[str]:
    """Attribute names of ``Result`` itself, which no message field may take (a test checks the protos)."""
    return _OWN_NAMES
