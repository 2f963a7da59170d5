"""Channels, rules and events: validation, defaults and lookups over the store (the protocol below). The
evaluator (crossings into events) and the dispatcher (events to channels) sit beside this service and share
its store; it tells them when something they care about changed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from meterd.server import ids
from meterd.server.errors import (
    FailedPrecondition,
    InvalidArgument,
    MeterdError,
    NotFound,
    ViolationCollector,
)
from meterd.server.notifications import payload, targets
from meterd.server.notifications.model import (
    AttemptOutcome,
    Channel,
    ChannelFilter,
    ChannelInput,
    ChannelMeta,
    ChannelType,
    ClaimedDelivery,
    Event,
    EventFilter,
    FeatureMeta,
    NewEvent,
    Rule,
    RuleFilter,
    RuleInput,
    new_signing_secret,
    page_limit,
    validate_channel,
    validate_rule,
)

log = logging.getLogger("meterd.notifications")

Cursor = tuple[Any, str]
TEST_ANNOTATION = "notification.rule.test"


class NotificationStore(Protocol):
    def insert_channel(self, channel: Channel) -> Channel: ...
    def get_channel(self, channel_id: str) -> Channel | None: ...
    def update_channel(self, channel: Channel) -> Channel: ...
    def delete_channel(self, channel_id: str, at: datetime) -> None: ...
    def list_channels(
        self, filter: ChannelFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Channel], Cursor | None]: ...
    def count_channels(self, filter: ChannelFilter) -> int: ...
    def insert_rule(self, rule: Rule) -> Rule: ...
    def update_rule(self, rule: Rule) -> Rule: ...
    def delete_rule(self, rule_id: str, at: datetime) -> None: ...
    def get_rule(self, rule_id: str) -> Rule | None: ...
    def list_rules(
        self, filter: RuleFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Rule], Cursor | None]: ...
    def count_rules(self, filter: RuleFilter) -> int: ...
    def active_rules(self) -> list[Rule]: ...
    def rules_version(self) -> tuple[int, ...]: ...
    def insert_events(
        self, events: Sequence[NewEvent], now: datetime, *, test: bool = False
    ) -> list[str]: ...
    def fired(self, entitlement_id: str, period_start_us: int) -> set[str]: ...
    def get_event(self, event_id: str) -> Event | None: ...
    def list_events(
        self, filter: EventFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Event], Cursor | None]: ...
    def count_events(self, filter: EventFilter) -> int: ...
    def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        room: Mapping[str, int],
        default_room: int,
    ) -> list[ClaimedDelivery]: ...
    def record(
        self, owner: str, delivery: ClaimedDelivery, outcome: AttemptOutcome, now: datetime
    ) -> bool: ...
    def next_due(self) -> datetime | None: ...
    def queue(self) -> tuple[int, datetime | None]: ...
    def heartbeat(self, replica: str, checkpoint: datetime, now: datetime) -> None: ...
    def take_stale(self, before: datetime, keep: str) -> list[datetime]: ...


class FeatureLookup(Protocol):
    def get(self, id_or_key: str, field: str = "feature") -> Any:
        """The feature by id, or the active one with this key; NotFound otherwise."""
        ...


class NotificationService:
    """OpenMeter's notification API over the store. ``allow_private``: the setting
    notifications.allow_private_targets (see ``targets``)."""

    def __init__(
        self,
        store: NotificationStore,
        features: FeatureLookup,
        clock: Callable[[], datetime],
        allow_private: bool = False,
    ) -> None:
        self.store = store
        self._features = features
        self._clock = clock
        self.allow_private = allow_private
        self._on_rules: list[Callable[[], None]] = []
        self._on_events: list[Callable[[], None]] = []

    def add_rules_listener(self, listener: Callable[[], None]) -> None:
        """Called after a channel or rule changed here (other replicas' changes are polled)."""
        self._on_rules.append(listener)

    def add_events_listener(self, listener: Callable[[], None]) -> None:
        """Called after events (and their deliveries) were stored here."""
        self._on_events.append(listener)

    def _rules_changed(self) -> None:
        for listener in self._on_rules:
            listener()

    def events_stored(self) -> None:
        for listener in self._on_events:
            listener()

    # -- channels ------------------------------------------------------------------------------------
    def check_url(self, url: str, field: str = "url") -> None:
        """InvalidArgument naming ``field`` for a URL meterd will not send to."""
        try:
            targets.parse_url(url, self.allow_private)
        except targets.RefusedTarget as exc:
            raise InvalidArgument.of(field, str(exc)) from None

    def _validate_channel(self, channel: ChannelInput) -> None:
        errors = ViolationCollector()
        validate_channel(channel, errors)
        try:
            targets.parse_url(channel.url, self.allow_private)
        except targets.RefusedTarget as exc:
            errors.add("url", str(exc))
        errors.raise_if_any()

    def create_channel(self, new: ChannelInput) -> Channel:
        """Validates and stores a channel; its signing secret is generated when not given. Raises
        InvalidArgument naming each bad field (a refused URL says why)."""
        self._validate_channel(new)
        now = self._clock()
        channel = self.store.insert_channel(
            Channel(
                id=ids.new_id(),
                type=new.type or ChannelType.WEBHOOK,
                name=new.name.strip(),
                disabled=new.disabled,
                url=new.url,
                custom_headers=dict(new.custom_headers),
                signing_secret=new.signing_secret or new_signing_secret(),
                created_at=now,
                updated_at=now,
            )
        )
        log.info("notification channel created", extra={"channel": channel.id})  # never the URL or secret
        self._rules_changed()
        return channel

    def get_channel(self, channel_id: str) -> Channel:
        """The channel (deleted ones too); NotFound otherwise."""
        found = self.store.get_channel(channel_id) if channel_id else None
        if found is None:
            raise NotFound(f"id: notification channel {channel_id!r} not found")
        return found

    def update_channel(self, channel_id: str, new: ChannelInput) -> Channel:
        """Replaces the channel's settings (its secret stays unless a new one is given); NotFound for an
        unknown or deleted channel, InvalidArgument naming each bad field."""
        self._validate_channel(new)
        current = self.get_channel(channel_id)
        if current.deleted:
            raise NotFound(f"id: notification channel {channel_id!r} not found")
        if new.type is not None and new.type is not current.type:
            raise InvalidArgument.of("type", f"a channel's type cannot change (it is {current.type.value})")
        updated = self.store.update_channel(
            replace(
                current,
                name=new.name.strip(),
                disabled=new.disabled,
                url=new.url,
                custom_headers=dict(new.custom_headers),
                signing_secret=new.signing_secret or current.signing_secret,
                updated_at=self._clock(),
            )
        )
        self._rules_changed()
        return updated

    def delete_channel(self, channel_id: str) -> None:
        """Deletes the channel (NotFound if unknown or deleted): no more deliveries to it."""
        if not channel_id:
            raise NotFound("id: notification channel '' not found")
        self.store.delete_channel(channel_id, self._clock())
        self._rules_changed()

    def list_channels(
        self, filter: ChannelFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Channel], Cursor | None]:
        return self.store.list_channels(filter, page_limit(page_size), after)

    def count_channels(self, filter: ChannelFilter) -> int:
        return self.store.count_channels(filter)

    # -- rules ---------------------------------------------------------------------------------------
    def _resolve_features(self, values: Sequence[str], field: str = "features") -> tuple[FeatureMeta, ...]:
        out = []
        errors = ViolationCollector()
        for i, value in enumerate(values):
            try:
                feature = self._features.get(value, f"{field}[{i}]")
            except NotFound:
                errors.add(f"{field}[{i}]", f"feature {value!r} not found")
                continue
            if getattr(feature, "archived", False):
                errors.add(f"{field}[{i}]", f"feature {feature.key!r} is archived")
                continue
            out.append(FeatureMeta(feature.id, feature.key))
        errors.raise_if_any()
        seen: set[str] = set()
        for i, meta in enumerate(out):  # an id and the key of the same feature
            if meta.id in seen:
                raise InvalidArgument.of(f"{field}[{i}]", f"feature {meta.key!r} is listed twice")
            seen.add(meta.id)
        return tuple(out)

    def _rule(self, rule_id: str, new: RuleInput, created_at: datetime, now: datetime) -> Rule:
        validate_rule(new)
        assert new.type is not None
        return Rule(
            id=rule_id,
            type=new.type,
            name=new.name.strip(),
            disabled=new.disabled,
            channels=tuple(ChannelMeta(c, ChannelType.WEBHOOK) for c in new.channels),
            thresholds=new.thresholds,
            features=self._resolve_features(new.features),
            created_at=created_at,
            updated_at=now,
        )

    def create_rule(self, new: RuleInput) -> Rule:
        """Validates and stores a rule. Raises InvalidArgument naming each bad field (unknown or deleted
        channels, unknown or archived features, thresholds)."""
        now = self._clock()
        rule = self.store.insert_rule(self._rule(ids.new_id(), new, now, now))
        self._rules_changed()
        return rule

    def get_rule(self, rule_id: str) -> Rule:
        """The rule (deleted ones too); NotFound otherwise."""
        found = self.store.get_rule(rule_id) if rule_id else None
        if found is None:
            raise NotFound(f"id: notification rule {rule_id!r} not found")
        return found

    def update_rule(self, rule_id: str, new: RuleInput) -> Rule:
        """Replaces the rule's settings; NotFound for an unknown or deleted rule. Crossings already reported
        in the current usage period are not reported again for thresholds the rule keeps."""
        current = self.get_rule(rule_id)
        if current.deleted_at is not None:
            raise NotFound(f"id: notification rule {rule_id!r} not found")
        if new.type is not None and new.type is not current.type:
            raise InvalidArgument.of("type", f"a rule's type cannot change (it is {current.type.value})")
        rule = self.store.update_rule(self._rule(rule_id, new, current.created_at, self._clock()))
        self._rules_changed()
        return rule

    def delete_rule(self, rule_id: str) -> None:
        if not rule_id:
            raise NotFound("id: notification rule '' not found")
        self.store.delete_rule(rule_id, self._clock())
        self._rules_changed()

    def list_rules(
        self, filter: RuleFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Rule], Cursor | None]:
        return self.store.list_rules(self._rule_filter(filter), page_limit(page_size), after)

    def count_rules(self, filter: RuleFilter) -> int:
        return self.store.count_rules(self._rule_filter(filter))

    def _rule_filter(self, filter: RuleFilter) -> RuleFilter:
        """Features named by key become ids (an unknown one matches no rule)."""
        if not filter.feature_ids:
            return filter
        resolved = []
        for value in filter.feature_ids:
            try:
                resolved.append(self._features.get(value).id)
            except MeterdError:
                resolved.append(value)
        return replace(filter, feature_ids=tuple(resolved))

    def test_rule(self, rule_id: str) -> Event:
        """Stores a test event (example data, annotated ``notification.rule.test``) for the rule's enabled
        channels and returns it. NotFound for an unknown or deleted rule; FailedPrecondition when none of its
        channels is enabled."""
        rule = self.get_rule(rule_id)
        if rule.deleted_at is not None:
            raise NotFound(f"id: notification rule {rule_id!r} not found")
        now = self._clock()
        event_id = ids.new_id()
        stored = self.store.insert_events(
            [
                NewEvent(
                    id=event_id,
                    rule_id=rule.id,
                    created_at=now,
                    payload_json=payload.test_payload(event_id, now),
                    annotations={TEST_ANNOTATION: "true"},
                    crossing=None,
                    dedupe_key=None,
                )
            ],
            now,
            test=True,
        )
        if not stored:
            raise FailedPrecondition(f"id: rule {rule_id} has no enabled channel to send a test event to")
        self.events_stored()
        return self.get_event(event_id)

    # -- events --------------------------------------------------------------------------------------
    def get_event(self, event_id: str) -> Event:
        found = self.store.get_event(event_id) if event_id else None
        if found is None:
            raise NotFound(f"id: notification event {event_id!r} not found")
        return found

    def list_events(
        self, filter: EventFilter, page_size: int, after: Cursor | None
    ) -> tuple[list[Event], Cursor | None]:
        self._check_range(filter)
        return self.store.list_events(filter, page_limit(page_size), after)

    def count_events(self, filter: EventFilter) -> int:
        return self.store.count_events(filter)

    @staticmethod
    def _check_range(filter: EventFilter) -> None:
        if filter.from_time is not None and filter.to_time is not None and filter.from_time > filter.to_time:
            raise InvalidArgument.of("from_time", "must not be after to_time")
