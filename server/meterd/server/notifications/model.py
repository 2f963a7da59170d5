"""Notification channels, rules and events, and their validation (OpenMeter's notification API). Pure domain
code: no gRPC, no HTTP, no SQL.

Field names in errors are the wire's (``thresholds[2].value``), so a caller sees the field it sent.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from meterd.server.entitlements.model import EntitlementValue
from meterd.server.errors import InvalidArgument, ViolationCollector

NAME_MAX_LENGTH = 256
# OpenMeter's limits: a rule has 1 to 10 thresholds and 1 to 5 channels.
MAX_THRESHOLDS = 10
MAX_RULE_CHANNELS = 5
MAX_RULE_FEATURES = 100
MAX_CUSTOM_HEADERS = 20
MAX_HEADER_NAME = 256
MAX_HEADER_VALUE = 4096
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
# Thresholds are compared exactly, as decimals; a value past this is no amount anybody meters.
MAX_THRESHOLD_VALUE = Decimal("1e15")

# OpenMeter's pattern for a signing secret; the generated one is "whsec_" + base64 of 32 random bytes.
SECRET_PATTERN = re.compile(r"^(whsec_)?[a-zA-Z0-9+/=]{32,100}$")
SECRET_BYTES = 32
SECRET_PREFIX = "whsec_"
# RFC 9110 token characters: what a header name may contain.
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
# Headers a channel may not set: the signature's own, and what the HTTP layer writes.
RESERVED_HEADERS = frozenset(
    {
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "content-type",
        "content-length",
        "host",
        "transfer-encoding",
        "connection",
    }
)


class ChannelType(StrEnum):
    WEBHOOK = "WEBHOOK"


class RuleType(StrEnum):
    """OpenMeter's NotificationEventType (the JSON value)."""

    BALANCE_THRESHOLD = "entitlements.balance.threshold"


class ThresholdType(StrEnum):
    NUMBER = "NUMBER"
    PERCENT = "PERCENT"


class DeliveryState(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"
    SENDING = "SENDING"
    PENDING = "PENDING"


class OrderBy(StrEnum):
    """What channel, rule and event lists order by (ties: id, in the same direction)."""

    ID = "ID"
    TYPE = "TYPE"
    CREATED_AT = "CREATED_AT"
    UPDATED_AT = "UPDATED_AT"


@dataclass(frozen=True, slots=True)
class Threshold:
    """A level of a rule: usage reaching ``value`` (NUMBER), or ``value`` percent of the period's credit
    (PERCENT)."""

    type: ThresholdType
    value: Decimal

    @property
    def key(self) -> str:
        """What identifies the threshold in an event's deduplication key (stable across rule updates)."""
        return f"{self.type.value}:{self.value.normalize():f}"


@dataclass(frozen=True, slots=True)
class ChannelInput:
    """A channel as requested (create, or the full replacement of update)."""

    type: ChannelType | None
    name: str
    url: str
    disabled: bool = False
    custom_headers: Mapping[str, str] = field(default_factory=dict)
    signing_secret: str | None = None


@dataclass(frozen=True, slots=True)
class Channel:
    """A stored channel. ``signing_secret`` is shown only where the API says so (see the servicer)."""

    id: str
    type: ChannelType
    name: str
    disabled: bool
    # Left out of repr: a URL's path or a header may carry a credential, and nothing prints a secret.
    url: str = field(repr=False)
    custom_headers: Mapping[str, str] = field(repr=False)
    signing_secret: str = field(repr=False)
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def active(self) -> bool:
        return not self.disabled and self.deleted_at is None


@dataclass(frozen=True, slots=True)
class ChannelMeta:
    id: str
    type: ChannelType


@dataclass(frozen=True, slots=True)
class FeatureMeta:
    id: str
    key: str


@dataclass(frozen=True, slots=True)
class RuleInput:
    """A rule as requested: channels by id, features by id or key (empty: every feature)."""

    type: RuleType | None
    name: str
    channels: tuple[str, ...]
    thresholds: tuple[Threshold, ...]
    features: tuple[str, ...] = ()
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Rule:
    """A stored rule: its channels and features as metas (features resolved to ids at creation)."""

    id: str
    type: RuleType
    name: str
    disabled: bool
    channels: tuple[ChannelMeta, ...]
    thresholds: tuple[Threshold, ...]
    features: tuple[FeatureMeta, ...]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None

    @property
    def feature_ids(self) -> frozenset[str]:
        return frozenset(f.id for f in self.features)

    def covers(self, feature_id: str) -> bool:
        return not self.features or feature_id in self.feature_ids


@dataclass(frozen=True, slots=True)
class Attempt:
    """One delivery attempt: ``status_code`` 0 when the channel gave no HTTP answer."""

    attempted_at: datetime
    status_code: int
    error: str
    duration_seconds: float


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event's delivery to one channel."""

    channel: ChannelMeta
    state: DeliveryState
    reason: str
    updated_at: datetime
    next_attempt_at: datetime | None
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Crossing:
    """What a balance-threshold event reports (beside its full payload)."""

    entitlement_id: str
    feature_id: str
    feature_key: str
    subject_key: str
    threshold: Threshold
    value: EntitlementValue
    period_start: datetime


@dataclass(frozen=True, slots=True)
class Event:
    """A stored event. ``payload_json`` is the exact body every channel receives."""

    id: str
    type: RuleType
    rule_id: str
    created_at: datetime
    payload_json: str
    annotations: Mapping[str, str]
    crossing: Crossing | None
    deliveries: tuple[Delivery, ...] = ()


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to store with a delivery to each of its rule's active channels (``dedupe_key``: None for a
    test event; otherwise at most one event per key ever exists)."""

    id: str
    rule_id: str
    created_at: datetime
    payload_json: str
    annotations: Mapping[str, str]
    crossing: Crossing | None
    dedupe_key: str | None


@dataclass(frozen=True, slots=True)
class ChannelFilter:
    include_disabled: bool = False
    include_deleted: bool = False
    order_by: OrderBy = OrderBy.ID
    descending: bool = False


@dataclass(frozen=True, slots=True)
class RuleFilter:
    include_disabled: bool = False
    include_deleted: bool = False
    feature_ids: tuple[str, ...] = ()  # rules scoped to one of these (resolved from ids or keys)
    channel_ids: tuple[str, ...] = ()
    order_by: OrderBy = OrderBy.ID
    descending: bool = False


@dataclass(frozen=True, slots=True)
class EventFilter:
    from_time: datetime | None = None
    to_time: datetime | None = None  # inclusive
    features: tuple[str, ...] = ()  # ids or keys
    subjects: tuple[str, ...] = ()
    rule_ids: tuple[str, ...] = ()
    channel_ids: tuple[str, ...] = ()
    order_by: OrderBy = OrderBy.CREATED_AT
    descending: bool = False


def new_signing_secret() -> str:
    """``whsec_`` + base64 of 32 random bytes (OpenMeter's and Svix's format)."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def validate_channel(channel: ChannelInput, errors: ViolationCollector) -> None:
    """Checks a channel's fields (the URL's target is checked by ``targets``); adds violations."""
    if channel.type is None:
        errors.add("type", "is required: WEBHOOK")
    _check_name(channel.name, errors)
    if channel.signing_secret is not None:
        secret = channel.signing_secret
        body = secret.removeprefix(SECRET_PREFIX)
        if not SECRET_PATTERN.fullmatch(secret):
            errors.add(
                "signing_secret", "must be 'whsec_' (optional) followed by 32 to 100 base64 characters"
            )
        else:
            try:
                decoded = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
            except (binascii.Error, ValueError):
                decoded = b""
            if len(decoded) < 24:
                errors.add("signing_secret", "must be base64 of at least 24 bytes")
    if len(channel.custom_headers) > MAX_CUSTOM_HEADERS:
        errors.add(
            "custom_headers", f"at most {MAX_CUSTOM_HEADERS} headers, got {len(channel.custom_headers)}"
        )
        return
    for name, value in channel.custom_headers.items():
        where = f"custom_headers[{name[:MAX_HEADER_NAME]}]"
        if not name or len(name) > MAX_HEADER_NAME or not _HEADER_NAME.fullmatch(name):
            errors.add(where, "is not a valid HTTP header name")
        elif name.lower() in RESERVED_HEADERS:
            errors.add(where, "is set by meterd itself and cannot be overridden")
        if len(value) > MAX_HEADER_VALUE:
            errors.add(where, f"at most {MAX_HEADER_VALUE} characters")
        elif any(c in value for c in "\r\n\x00"):
            errors.add(where, "must not contain line breaks or NUL")


def validate_rule(rule: RuleInput) -> None:
    """Checks what can be checked without the store; raises InvalidArgument naming every bad field."""
    errors = ViolationCollector()
    if rule.type is None:
        errors.add("type", f"is required: {RuleType.BALANCE_THRESHOLD.value}")
    _check_name(rule.name, errors)
    if not rule.channels:
        errors.add("channels", "at least one channel is required")
    elif len(rule.channels) > MAX_RULE_CHANNELS:
        errors.add("channels", f"at most {MAX_RULE_CHANNELS} channels, got {len(rule.channels)}")
    else:
        _check_unique(rule.channels, "channels", errors)
    if not rule.thresholds:
        errors.add("thresholds", "at least one threshold is required")
    elif len(rule.thresholds) > MAX_THRESHOLDS:
        errors.add("thresholds", f"at most {MAX_THRESHOLDS} thresholds, got {len(rule.thresholds)}")
    else:
        seen: dict[str, int] = {}
        for i, t in enumerate(rule.thresholds):
            if not t.value.is_finite() or t.value <= 0:
                errors.add(f"thresholds[{i}].value", "must be a number greater than 0")
            elif t.value > MAX_THRESHOLD_VALUE:
                errors.add(f"thresholds[{i}].value", f"must be at most {MAX_THRESHOLD_VALUE:f}")
            elif t.key in seen:
                errors.add(f"thresholds[{i}]", f"is the same threshold as thresholds[{seen[t.key]}]")
            seen.setdefault(t.key, i)
    if len(rule.features) > MAX_RULE_FEATURES:
        errors.add("features", f"at most {MAX_RULE_FEATURES} features, got {len(rule.features)}")
    else:
        _check_unique(rule.features, "features", errors)
    errors.raise_if_any()


def _check_name(name: str, errors: ViolationCollector) -> None:
    if not name.strip():
        errors.add("name", "is required")
    elif len(name) > NAME_MAX_LENGTH:
        errors.add("name", f"at most {NAME_MAX_LENGTH} characters")


def _check_unique(values: tuple[str, ...], name: str, errors: ViolationCollector) -> None:
    seen: set[str] = set()
    for i, value in enumerate(values):
        if not value:
            errors.add(f"{name}[{i}]", "must not be empty")
        elif value in seen:
            errors.add(f"{name}[{i}]", f"{value!r} is listed twice")
        seen.add(value)


def page_limit(page_size: int) -> int:
    """The page size to use for a List call's ``page_size`` (0: the default)."""
    if page_size < 0:
        raise InvalidArgument.of("page_size", "must not be negative")
    if page_size > MAX_PAGE_SIZE:
        raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
    return page_size or DEFAULT_PAGE_SIZE


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A delivery taken for one attempt (its lease held), with what sending it needs."""

    event_id: str
    channel_id: str
    attempts: int  # attempts made before this one
    created_at: datetime  # when the event (and this delivery) was created
    payload_json: str
    url: str = field(repr=False)
    signing_secret: str = field(repr=False)
    custom_headers: Mapping[str, str] = field(repr=False)
    channel_active: bool  # False: the channel was disabled or deleted since


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one attempt did: ``state`` is where the delivery goes next (SUCCESS, PENDING or FAILED);
    ``attempt`` is None when nothing was sent (the channel was disabled or deleted meanwhile)."""

    state: DeliveryState
    attempt: Attempt | None
    reason: str
    next_attempt_at: datetime | None
