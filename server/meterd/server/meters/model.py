"""Meter definitions, their validation, and reading an event's value and group-by values.

Pure domain code: no gRPC, no SQL, no I/O.

Event data is expected as parsed by ``json.loads(text, parse_float=Decimal)``: JSON objects are
``dict``, arrays ``list``, integers ``int`` and every other number ``Decimal`` (so ``0.1`` stays exactly
``0.1`` and ``1.50`` keeps its text). ``float`` values (from a plain ``json.loads``) are accepted too and
read through their shortest ``repr``, which is exact for most JSON numbers but not all: prefer
``parse_float=Decimal``. ``NaN``/``Infinity`` tokens (which ``json.loads`` accepts) are rejected as values.

JSONPath expressions are compiled with python-jsonpath in strict RFC 9535 mode, and must be *singular
queries* (a chain of member names and array indexes such as ``$.a.b``, ``$.a[0]``, ``$["a b"]``): a
meter reads one value per path, so a path that could select several (``$..a``, ``$.a[*]``, filters,
slices) is refused when the meter is defined rather than read ambiguously per event.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final

import jsonpath
from jsonpath.selectors import IndexSelector, NameSelector

from meterd.server.errors import InvalidArgument, ViolationCollector
from meterd.server.events.model import parse_stored_data, text_problem, time_problem
from meterd.server.meters.windows import WindowSize

SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")
SLUG_MAX_LENGTH = 63
GROUP_KEY_PATTERN = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
SUBJECT_KEY = "subject"

# A JSON number, or the same with a leading "+", or without digits on one side of the point (".5", "5."):
# what a person writes in a string value. Decimal() alone would also take "1_000", " 12 ", "NaN", "Inf".
_DECIMAL_TEXT = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
# Long texts are cut in error messages: they are stored with every bad event.
_QUOTE_LIMIT = 40
# Numeric readings must be smaller than 10**MAX_VALUE_DIGITS in magnitude: sums are kept exact as integer
# units plus nanos in 64-bit integers (SQLite INTEGER), and one write group (256 jobs of at most 10,000
# events) folds up to 2.56 million readings into one aggregate row before it is stored: 2.56e6 x 1e12 stays
# below 2**63. A larger reading is a validation error for that meter only (the event stays).
MAX_VALUE_DIGITS = 12


class Aggregation(StrEnum):
    """How a meter aggregates the events of its type."""

    SUM = "SUM"
    COUNT = "COUNT"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"
    UNIQUE_COUNT = "UNIQUE_COUNT"
    LATEST = "LATEST"

    @property
    def needs_number(self) -> bool:
        """True for the aggregations that read a decimal value (all but COUNT and UNIQUE_COUNT)."""
        return self not in (Aggregation.COUNT, Aggregation.UNIQUE_COUNT)


@dataclass(frozen=True)
class MeterDefinition:
    """What a meter is: which events it reads, how, and how it groups them.

    ``group_by`` maps a group key to a JSONPath; it is stored sorted by key, which is the order of the
    group values in a ``Reading`` and in pre-aggregate keys (``group_keys``).
    """

    slug: str
    event_type: str
    aggregation: Aggregation
    value_property: str | None = None
    group_by: Mapping[str, str] = field(default_factory=dict, hash=False)
    description: str = ""
    # The smallest window a query may ask for (OpenMeter's windowSize); finer query windows are refused.
    window_size: WindowSize = WindowSize.MINUTE

    def __post_init__(self) -> None:
        # Sorting once here makes group order canonical for every reader and store.
        object.__setattr__(self, "group_by", dict(sorted(dict(self.group_by).items())))

    @property
    def group_keys(self) -> tuple[str, ...]:
        """The group keys in canonical (sorted) order."""
        return tuple(self.group_by)


def parse_aggregation(value: str | Aggregation | None, field_name: str = "meter.aggregation") -> Aggregation:
    """Return the ``Aggregation`` named by ``value`` (case-insensitive).

    Raises ``InvalidArgument`` on ``field_name`` when it is absent or unknown.
    """
    if isinstance(value, Aggregation):
        return value
    if not value:
        raise InvalidArgument.of(field_name, "required")
    try:
        return Aggregation(value.upper())
    except ValueError:
        names = ", ".join(a.value for a in Aggregation)
        raise InvalidArgument.of(
            field_name, f"unknown aggregation {value!r}; expected one of {names}"
        ) from None


def validate_meter(meter: MeterDefinition) -> None:
    """Check every field of ``meter``; raise one ``InvalidArgument`` listing all bad fields.

    Field names are ``meter.slug``, ``meter.event_type``, ``meter.aggregation``, ``meter.value_property``
    and ``meter.group_by.<key>``.
    """
    errors = ViolationCollector(prefix="meter.")
    if not meter.slug:
        errors.add("slug", "required")
    elif len(meter.slug) > SLUG_MAX_LENGTH:
        errors.add("slug", f"at most {SLUG_MAX_LENGTH} characters (got {len(meter.slug)})")
    elif not SLUG_PATTERN.fullmatch(meter.slug):
        errors.add(
            "slug", "must match ^[a-z0-9]+(?:_[a-z0-9]+)*$ (lower-case letters, digits, single underscores)"
        )
    if not meter.event_type:
        errors.add("event_type", "required")
    if not isinstance(meter.aggregation, Aggregation):
        errors.add("aggregation", f"unknown aggregation {meter.aggregation!r}")
    elif meter.aggregation is Aggregation.COUNT:
        if meter.value_property:
            errors.add("value_property", "must be absent for COUNT meters")
    elif not meter.value_property:
        errors.add("value_property", f"required for {meter.aggregation.value} meters")
    else:
        problem = _path_problem(meter.value_property)
        if problem:
            errors.add("value_property", problem)
    for key, path in meter.group_by.items():
        if key == SUBJECT_KEY:
            errors.add(f"group_by.{key}", "'subject' is reserved")
        elif not GROUP_KEY_PATTERN.fullmatch(key):
            errors.add(f"group_by.{key}", "group key must match ^[a-zA-Z_][a-zA-Z0-9_]*$")
        problem = _path_problem(path)
        if problem:
            errors.add(f"group_by.{key}", problem)
    errors.raise_if_any()


def validate_query_grouping(
    meter: MeterDefinition, group_by: Sequence[str], filter_group_by: Mapping[str, object]
) -> None:
    """Check a query's ``group_by`` (``subject`` or the meter's group keys) and ``filter_group_by`` keys.

    Raises ``InvalidArgument`` on ``group_by`` and ``filter_group_by.<key>``.
    """
    errors = ViolationCollector()
    for key in group_by:
        if key != SUBJECT_KEY and key not in meter.group_by:
            errors.add("group_by", f"invalid group by: {key!r} is not 'subject' nor a group key of the meter")
    for key in filter_group_by:
        if key not in meter.group_by:
            errors.add(
                f"filter_group_by.{key}", f"invalid group by filter: {key!r} is not a group key of the meter"
            )
    errors.raise_if_any()


# --- JSONPath -------------------------------------------------------------------------------------------

# A compiled singular path: each step is a member name (str) or an array index (int, may be negative).
Steps = tuple[str | int, ...]


def compile_path(path: str) -> Steps:
    """Compile a singular JSONPath into its steps; raise ``ValueError`` with a readable reason."""
    if not path.startswith("$"):
        raise ValueError("a JSONPath must start with '$'")
    try:
        compiled = jsonpath.compile(path, strict=True)
    except (jsonpath.JSONPathError, RecursionError) as exc:
        message = getattr(exc, "message", None) or str(exc).splitlines()[0]
        token = getattr(exc, "token", None)
        where = f" at offset {token.index}" if token is not None else ""
        raise ValueError(f"invalid JSONPath: {message}{where}") from None
    if not isinstance(compiled, jsonpath.JSONPath) or not compiled.singular_query():
        raise ValueError(
            "must select a single value: use member names and array indexes only "
            "(such as $.a.b, $.a[0], $[\"a b\"]), not wildcards, filters, slices, unions or '..'"
        )
    if compiled.empty():
        raise ValueError("'$' is the whole data object; name a member, such as $.a")
    steps: list[str | int] = []
    for segment in compiled.segments:
        (selector,) = segment.selectors  # singular_query() guarantees one name or index selector
        if isinstance(selector, NameSelector):
            steps.append(selector.name)
        elif isinstance(selector, IndexSelector):
            steps.append(selector.index)
        else:  # pragma: no cover - excluded by singular_query()
            raise ValueError(f"unsupported selector {selector}")
    return tuple(steps)


def _path_problem(path: str) -> str | None:
    try:
        compile_path(path)
    except ValueError as exc:
        return str(exc)
    return None


class _Missing:
    """The type of ``MISSING``: what a path resolves to when the data has nothing there."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def resolve(steps: Steps, data: object) -> object:
    """The value at ``steps`` in ``data``, or ``MISSING``.

    Plain dict/list lookups, equivalent to python-jsonpath's strict evaluation of a singular query
    (a name selects only in an object, an index only in an array, negative indexes count from the end),
    without its per-call overhead: this runs for every event and every path.
    """
    node = data
    for step in steps:
        if isinstance(step, str):
            if not isinstance(node, dict):
                return MISSING
            node = node.get(step, MISSING)
            if node is MISSING:
                return MISSING
        else:
            if not isinstance(node, list):
                return MISSING
            index = step if step >= 0 else len(node) + step
            if not 0 <= index < len(node):
                return MISSING
            node = node[index]
    return node


# --- reading events -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reading:
    """What a meter reads from one event.

    ``value``: ``Decimal`` for SUM/AVG/MIN/MAX/LATEST, the canonical text (``str``) for UNIQUE_COUNT,
    ``None`` for COUNT. ``groups``: one value per group key in ``MeterDefinition.group_keys`` order,
    ``None`` where the path is missing (or selects null, an object or an array).
    """

    value: Decimal | str | None
    groups: tuple[str | None, ...]


@dataclass(frozen=True, slots=True)
class ReadError:
    """Why a meter skips an event; ``message`` is stored with the event as its validation error."""

    message: str


# A group value or distinct value holding U+0000 (JSON "\u0000") is refused for that meter rather than kept
# cut: SQLite's JSON functions end a text at NUL (two groups "a\u0000b" and "a" merged into "a") and
# PostgreSQL's text and jsonb cannot hold it at all. The event is stored; the meter skips it with this reason.
NUL_IN_TEXT = "holds a NUL character (\\u0000), which meters cannot keep in a group or distinct value"


class MeterReader:
    """Reads one meter's value and group values from event data.

    Built once per meter (paths compiled here) and reused for every event: ``read`` does only dict/list
    lookups and one numeric conversion.
    """

    __slots__ = ("_aggregation", "_group_keys", "_group_steps", "_value_path", "_value_steps")

    def __init__(self, meter: MeterDefinition) -> None:
        """Compile ``meter``'s paths. Raises ``InvalidArgument`` if the meter is not valid."""
        validate_meter(meter)
        self._aggregation = meter.aggregation
        self._value_path = meter.value_property or ""
        # An empty value_property on a COUNT meter means "absent" (as proto3 strings arrive).
        self._value_steps: Steps | None = (
            None if meter.aggregation is Aggregation.COUNT else compile_path(meter.value_property or "")
        )
        self._group_steps: tuple[Steps, ...] = tuple(compile_path(p) for p in meter.group_by.values())
        self._group_keys = tuple(meter.group_by)

    def read(self, data: Mapping[str, Any] | None) -> Reading | ReadError:
        """Read ``data`` (an event's parsed JSON object, or None when the event has no data).

        Returns a ``Reading``, or a ``ReadError`` when the meter cannot use the event's value.
        Never raises: whatever a stored event holds, the meter skips it with a read error and moves on.
        """
        try:
            return self._read(data)
        except Exception as exc:  # defensive: no stored event may stop a meter
            return ReadError(f"cannot read the event: {type(exc).__name__}")

    def _read(self, data: Mapping[str, Any] | None) -> Reading | ReadError:
        groups = tuple(_group_text(resolve(steps, data)) for steps in self._group_steps)
        for key, group in zip(self._group_keys, groups, strict=True):
            if group is not None and "\x00" in group:
                return ReadError(f"group_by {key}: {NUL_IN_TEXT}")
        if self._value_steps is None:  # COUNT: every event of the type counts, data or not
            return Reading(None, groups)
        raw = resolve(self._value_steps, data)
        if self._aggregation is Aggregation.UNIQUE_COUNT:
            text = _unique_text(raw)
            if isinstance(text, ReadError):
                return ReadError(f"value_property {self._value_path}: {text.message}")
            if "\x00" in text:
                return ReadError(f"value_property {self._value_path}: {NUL_IN_TEXT}")
            return Reading(text, groups)
        number = _to_decimal(raw)
        if isinstance(number, ReadError):
            return ReadError(f"value_property {self._value_path}: {number.message}")
        if number and number.adjusted() >= MAX_VALUE_DIGITS:
            return ReadError(
                f"value_property {self._value_path}: {_quote(str(number))} is too large: values must be"
                f" smaller than 1e{MAX_VALUE_DIGITS} in magnitude"
            )
        return Reading(number, groups)


def parse_event_data(
    data: str | None, time_us: int, subject: str = "x"
) -> Mapping[str, Any] | ReadError | None:
    """A stored event's data parsed for meters (see ``read``), or the ReadError that makes every meter skip the
    event: a time outside the stored range, a subject or data that validation refuses today (an older database
    may hold any of them). Never raises."""
    problem = time_problem(time_us)
    if problem is not None:
        return ReadError(f"time: {problem}")
    problem = text_problem(subject) if subject else "is required"
    if problem is not None:
        return ReadError(f"subject: {problem}")
    if data is None:
        return None
    try:
        parsed = parse_stored_data(data)
    except Exception as exc:  # ValueError from the parser; anything else is no less a bad stored event
        return ReadError(f"data is not valid JSON text: {_cut(str(exc))}")
    if parsed is not None and not isinstance(parsed, dict):
        return ReadError(f"data must be a JSON object, got {type(parsed).__name__}")
    return parsed


def _cut(text: str) -> str:
    return text if len(text) <= 200 else text[:200] + "..."


def _quote(text: str) -> str:
    return repr(text if len(text) <= _QUOTE_LIMIT else text[:_QUOTE_LIMIT] + "...")


def _kind(raw: object) -> str:
    """How an error message names a JSON value that is not what the meter needs."""
    if raw is MISSING:
        return "missing"
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, dict):
        return "object"
    if isinstance(raw, list):
        return "array"
    return type(raw).__name__


def _to_decimal(raw: object) -> Decimal | ReadError:
    """A finite Decimal from a JSON number or a string holding a decimal number."""
    # Most likely types first: this runs once per event.
    if isinstance(raw, Decimal):
        return raw if raw.is_finite() else ReadError(f"not a finite number: {raw}")
    if isinstance(raw, int) and not isinstance(raw, bool):
        return Decimal(raw)
    if isinstance(raw, str):
        if not _DECIMAL_TEXT.fullmatch(raw):
            return ReadError(f"not a number: {_quote(raw)}")
        return Decimal(raw)
    if isinstance(raw, float):
        number = Decimal(repr(raw))
        return number if number.is_finite() else ReadError(f"not a finite number: {raw}")
    if raw is MISSING or raw is None:
        return ReadError(_kind(raw))
    return ReadError(f"not a number ({_kind(raw)})")


def _unique_text(raw: object) -> str | ReadError:
    """A string as is; a number as its canonical decimal text (so 1, 1.0 and 1e0 count once)."""
    if isinstance(raw, str):
        return raw
    if raw is MISSING or raw is None:
        return ReadError(_kind(raw))
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | float):
        return ReadError(f"must be a string or a number (got {_kind(raw)})")
    number = _to_decimal(raw)
    if isinstance(number, ReadError):
        return number
    return canonical_decimal_text(number)


# Plain notation up to this many zeros added by the exponent; beyond it, scientific notation keeps the
# text short for absurd exponents (1e999999) while staying one text per value.
_PLAIN_ZEROS_LIMIT = 40


def canonical_decimal_text(number: Decimal) -> str:
    """One text per numeric value: no trailing zeros, no exponent for ordinary magnitudes.

    ``1``, ``1.0``, ``1e0`` -> ``"1"``; ``100``, ``1e2`` -> ``"100"``; ``0.50`` -> ``"0.5"``; ``-0`` -> ``"0"``;
    very large or small magnitudes -> ``"1E+100"``, ``"1.5E-60"``. Exact: no rounding to a context.
    """
    sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int), "finite numbers only"
    text = "".join(map(str, digits)).lstrip("0")
    if not text:
        return "0"
    stripped = text.rstrip("0")
    exponent += len(text) - len(stripped)
    text = stripped
    minus = "-" if sign else ""
    if 0 <= exponent <= _PLAIN_ZEROS_LIMIT:
        return f"{minus}{text}{'0' * exponent}"
    if exponent < 0 and -exponent - len(text) <= _PLAIN_ZEROS_LIMIT:
        point = len(text) + exponent
        if point > 0:
            return f"{minus}{text[:point]}.{text[point:]}"
        return f"{minus}0.{'0' * -point}{text}"
    adjusted = exponent + len(text) - 1
    mantissa = text[0] + (f".{text[1:]}" if len(text) > 1 else "")
    return f"{minus}{mantissa}E{adjusted:+d}"


def _group_text(raw: object) -> str | None:
    """A group value as text: strings as is, numbers and booleans by their JSON text.

    Missing, null, objects and arrays give None (OpenMeter reads non-scalars as no value). A ``Decimal``
    from ``parse_float=Decimal`` keeps its JSON digits (``1.50`` -> ``"1.50"``); an exponent is written
    the way Decimal writes it (``1e3`` -> ``"1E+3"``). A ``float`` is written by its shortest ``repr``.
    """
    if isinstance(raw, str):
        return raw
    if isinstance(raw, bool):
        return "true" if raw else "false"
    if isinstance(raw, int | Decimal):
        return str(raw)
    if isinstance(raw, float):
        return repr(raw)
    return None


def parse_window_size(value: str | WindowSize | None, field_name: str = "meter.window_size") -> WindowSize:
    """The ``WindowSize`` named by ``value`` (case-insensitive), MINUTE when absent; InvalidArgument on
    ``field_name`` for another name."""
    if isinstance(value, WindowSize):
        return value
    if not value:
        return WindowSize.MINUTE
    try:
        return WindowSize(value.upper())
    except ValueError:
        raise InvalidArgument.of(field_name, "must be MINUTE, HOUR or DAY") from None


def definition_from_fields(
    slug: str,
    event_type: str,
    aggregation: str | Aggregation | None,
    value_property: str | None,
    group_by: Mapping[str, str],
    description: str = "",
    window_size: str | WindowSize | None = None,
) -> MeterDefinition:
    """A validated definition (``window_size`` default MINUTE); raises InvalidArgument naming every bad
    ``meter.*`` field."""
    definition = MeterDefinition(
        slug=slug,
        event_type=event_type,
        aggregation=parse_aggregation(aggregation),
        value_property=value_property or None,
        group_by=dict(group_by),
        description=description,
        window_size=parse_window_size(window_size),
    )
    validate_meter(definition)
    return definition


@dataclass(frozen=True, slots=True)
class Meter:
    """A meter: its definition plus identity and times. ``num`` is the store's short key of its aggregate
    rows (0 before it is stored)."""

    id: str
    definition: MeterDefinition
    created_at: datetime
    updated_at: datetime
    num: int = 0

    @property
    def slug(self) -> str:
        return self.definition.slug

    @property
    def event_type(self) -> str:
        return self.definition.event_type

    @property
    def aggregation(self) -> Aggregation:
        return self.definition.aggregation

    @property
    def group_by(self) -> Mapping[str, str]:
        return self.definition.group_by
