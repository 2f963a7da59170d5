"""Notification channels, rules, events and their deliveries (SQLite migrations/0009, PostgreSQL 0003), for
both backends.

The outbox: an event and its deliveries (one row per channel) are inserted in one write job, so an event is
never stored without its deliveries. A delivery is claimed by setting a lease (owner, until) in a write job,
attempted with no transaction open, and its outcome recorded only while the lease is still the claimer's;
a process that dies mid-attempt leaves a lease that expires, after which any process claims it again.

What differs between the backends is the database handed in and one dialect phrase: on PostgreSQL channels
and rules are written SERIALIZABLE (``crud``: a rule never links a channel another replica deleted at the
same moment), and a claim locks the rows it reads with FOR UPDATE SKIP LOCKED, so replicas claiming at once
take different rows without waiting for each other (the lease then holds a row while it is sent); on SQLite
the single writer thread runs one claim at a time.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from meterd.server.entitlements.model import EntitlementValue
from meterd.server.errors import InvalidArgument, NotFound
from meterd.server.notifications.model import (
    Attempt,
    AttemptOutcome,
    Channel,
    ChannelFilter,
    ChannelMeta,
    ChannelType,
    ClaimedDelivery,
    Crossing,
    Delivery,
    DeliveryState,
    Event,
    EventFilter,
    FeatureMeta,
    NewEvent,
    OrderBy,
    Rule,
    RuleFilter,
    RuleType,
    Threshold,
    ThresholdType,
)
from meterd.server.store.sql.connection import Database, Dialect
from meterd.server.timeutil import from_us, to_us

CHANNEL_COLUMNS = (
    "id, type, name, disabled, url, custom_headers, signing_secret, created_us, updated_us, deleted_us"
)
RULE_COLUMNS = "id, type, name, disabled, thresholds, created_us, updated_us, deleted_us"
EVENT_COLUMNS = (
    "id, type, rule_id, created_us, payload, annotations, entitlement_id, feature_id, feature_key, subject_key,"
    " threshold_type, threshold_value, value, period_start_us"
)
_ORDER_COLUMNS = {
    OrderBy.ID: "id",
    OrderBy.TYPE: "type",
    OrderBy.CREATED_AT: "created_us",
    OrderBy.UPDATED_AT: "updated_us",
}
# A page cursor: (the order column's value, id) of the page's last row.
Cursor = tuple[Any, str]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _marks(values: Sequence[Any]) -> str:
    return ",".join("?" * len(values))


def channel_of(row: Sequence[Any]) -> Channel:
    return Channel(
        id=row[0],
        type=ChannelType(row[1]),
        name=row[2],
        disabled=bool(row[3]),
        url=row[4],
        custom_headers=json.loads(row[5]),
        signing_secret=row[6],
        created_at=from_us(row[7]),
        updated_at=from_us(row[8]),
        deleted_at=from_us(row[9]) if row[9] is not None else None,
    )


def _thresholds_text(thresholds: Iterable[Threshold]) -> str:
    return json.dumps([[t.type.value, str(t.value)] for t in thresholds], separators=(",", ":"))


def _thresholds_of(text: str) -> tuple[Threshold, ...]:
    return tuple(Threshold(ThresholdType(kind), Decimal(value)) for kind, value in json.loads(text))


def _page(
    conn: Any,
    table: str,
    columns: str,
    where: list[str],
    params: list[Any],
    order_by: OrderBy,
    descending: bool,
    limit: int,
    after: Cursor | None,
) -> tuple[list[Any], Cursor | None]:
    """One page of ``table`` in (order column, id) order, and the cursor of the next page."""
    column = _ORDER_COLUMNS[order_by]
    direction, op = ("DESC", "<") if descending else ("ASC", ">")
    where = list(where)
    params = list(params)
    if after is not None:
        if column == "id":
            where.append(f"id {op} ?")
            params.append(after[1])
        else:
            where.append(f"({column} {op} ? OR ({column} = ? AND id {op} ?))")
            params += [after[0], after[0], after[1]]
    order = f"id {direction}" if column == "id" else f"{column} {direction}, id {direction}"
    sql = (
        f"SELECT {columns} FROM {table}"
        + (" WHERE " + " AND ".join(where) if where else "")
        + f" ORDER BY {order} LIMIT ?"
    )
    rows = list(conn.execute(sql, [*params, limit + 1]).fetchall())
    cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        index = [c.strip() for c in columns.split(",")].index(column)
        cursor = (last[index], last[0])
    return rows, cursor


def _count(conn: Any, table: str, where: list[str], params: list[Any]) -> int:
    """How many rows of ``table`` match (a list's ``total_size``)."""
    sql = f"SELECT COUNT(*) FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")
    return int(conn.execute(sql, params).fetchone()[0])


class SqlNotificationStore:
    """Channels, rules, events and deliveries in the ``notification_*`` tables."""

    def __init__(self, db: Database, dialect: Dialect, crud: Database | None = None) -> None:
        self._db = db  # the outbox: events, deliveries, claims
        self._crud = crud or db  # channels and rules (SERIALIZABLE on PostgreSQL)
        self._dialect = dialect

    # -- channels ------------------------------------------------------------------------------------
    def insert_channel(self, channel: Channel) -> Channel:
        def job(conn: Any) -> Channel:
            conn.execute(
                f"INSERT INTO notification_channels ({CHANNEL_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    channel.id,
                    channel.type.value,
                    channel.name,
                    channel.disabled,
                    channel.url,
                    _json(dict(channel.custom_headers)),
                    channel.signing_secret,
                    to_us(channel.created_at),
                    to_us(channel.updated_at),
                ),
            )
            return channel

        return self._crud.write(job)  # type: ignore[no-any-return]

    def get_channel(self, channel_id: str) -> Channel | None:
        row = (
            self._db.reader()
            .execute(f"SELECT {CHANNEL_COLUMNS} FROM notification_channels WHERE id = ?", (channel_id,))
            .fetchone()
        )
        return channel_of(row) if row else None

    def update_channel(self, channel: Channel) -> Channel:
        """Replaces a channel's settings; NotFound if it is unknown or deleted."""

        def job(conn: Any) -> Channel:
            cursor = conn.execute(
                "UPDATE notification_channels SET name = ?, disabled = ?, url = ?, custom_headers = ?,"
                " signing_secret = ?, updated_us = ?, revision = revision + 1 WHERE id = ? AND deleted_us IS NULL",
                (
                    channel.name,
                    channel.disabled,
                    channel.url,
                    _json(dict(channel.custom_headers)),
                    channel.signing_secret,
                    to_us(channel.updated_at),
                    channel.id,
                ),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"id: notification channel {channel.id} not found")
            return channel

        return self._crud.write(job)  # type: ignore[no-any-return]

    def delete_channel(self, channel_id: str, at: datetime) -> None:
        """Marks a channel deleted; NotFound if it is unknown or already deleted."""

        def job(conn: Any) -> None:
            cursor = conn.execute(
                "UPDATE notification_channels SET deleted_us = ?, updated_us = ?, revision = revision + 1"
                " WHERE id = ? AND deleted_us IS NULL",
                (to_us(at), to_us(at), channel_id),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"id: notification channel {channel_id} not found")

        self._crud.write(job)

    def list_channels(
        self, filter: ChannelFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Channel], Cursor | None]:
        where, params = self._channel_where(filter)
        rows, cursor = _page(
            self._db.reader(),
            "notification_channels",
            CHANNEL_COLUMNS,
            where,
            params,
            filter.order_by,
            filter.descending,
            limit,
            after,
        )
        return [channel_of(r) for r in rows], cursor

    def count_channels(self, filter: ChannelFilter) -> int:
        return _count(self._db.reader(), "notification_channels", *self._channel_where(filter))

    @staticmethod
    def _channel_where(filter: ChannelFilter) -> tuple[list[str], list[Any]]:
        where = []
        if not filter.include_disabled:
            where.append("disabled = 0")
        if not filter.include_deleted:
            where.append("deleted_us IS NULL")
        return where, []

    # -- rules ---------------------------------------------------------------------------------------
    def insert_rule(self, rule: Rule) -> Rule:
        """Stores a rule with its channels and features; InvalidArgument naming ``channels[i]`` when one of its
        channels is unknown or deleted (checked in the same transaction as the insert)."""

        def job(conn: Any) -> Rule:
            self._check_channels(conn, rule)
            conn.execute(
                f"INSERT INTO notification_rules ({RULE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)",
                (
                    rule.id,
                    rule.type.value,
                    rule.name,
                    rule.disabled,
                    _thresholds_text(rule.thresholds),
                    to_us(rule.created_at),
                    to_us(rule.updated_at),
                ),
            )
            self._write_links(conn, rule)
            return self._rules_of(conn, [self._rule_row(conn, rule.id)])[0]

        return self._crud.write(job)  # type: ignore[no-any-return]

    def update_rule(self, rule: Rule) -> Rule:
        """Replaces a rule's settings, channels and features; NotFound if it is unknown or deleted."""

        def job(conn: Any) -> Rule:
            self._check_channels(conn, rule)
            cursor = conn.execute(
                "UPDATE notification_rules SET name = ?, disabled = ?, thresholds = ?, updated_us = ?,"
                " revision = revision + 1 WHERE id = ? AND deleted_us IS NULL",
                (
                    rule.name,
                    rule.disabled,
                    _thresholds_text(rule.thresholds),
                    to_us(rule.updated_at),
                    rule.id,
                ),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"id: notification rule {rule.id} not found")
            conn.execute("DELETE FROM notification_rule_channels WHERE rule_id = ?", (rule.id,))
            conn.execute("DELETE FROM notification_rule_features WHERE rule_id = ?", (rule.id,))
            self._write_links(conn, rule)
            return self._rules_of(conn, [self._rule_row(conn, rule.id)])[0]

        return self._crud.write(job)  # type: ignore[no-any-return]

    @staticmethod
    def _check_channels(conn: Any, rule: Rule) -> None:
        ids = [c.id for c in rule.channels]
        found = {
            r[0]
            for r in conn.execute(
                f"SELECT id FROM notification_channels WHERE id IN ({_marks(ids)}) AND deleted_us IS NULL",
                ids,
            )
        }
        for i, channel_id in enumerate(ids):
            if channel_id not in found:
                raise InvalidArgument.of(f"channels[{i}]", f"notification channel {channel_id!r} not found")

    @staticmethod
    def _write_links(conn: Any, rule: Rule) -> None:
        for i, c in enumerate(rule.channels):
            conn.execute(
                "INSERT INTO notification_rule_channels (rule_id, channel_id, position) VALUES (?, ?, ?)",
                (rule.id, c.id, i),
            )
        for i, f in enumerate(rule.features):
            conn.execute(
                "INSERT INTO notification_rule_features (rule_id, feature_id, position) VALUES (?, ?, ?)",
                (rule.id, f.id, i),
            )

    @staticmethod
    def _rule_row(conn: Any, rule_id: str) -> Any:
        return conn.execute(
            f"SELECT {RULE_COLUMNS} FROM notification_rules WHERE id = ?", (rule_id,)
        ).fetchone()

    def delete_rule(self, rule_id: str, at: datetime) -> None:
        def job(conn: Any) -> None:
            cursor = conn.execute(
                "UPDATE notification_rules SET deleted_us = ?, updated_us = ?, revision = revision + 1"
                " WHERE id = ? AND deleted_us IS NULL",
                (to_us(at), to_us(at), rule_id),
            )
            if cursor.rowcount != 1:
                raise NotFound(f"id: notification rule {rule_id} not found")

        self._crud.write(job)

    def get_rule(self, rule_id: str) -> Rule | None:
        conn = self._db.reader()
        row = self._rule_row(conn, rule_id)
        return self._rules_of(conn, [row])[0] if row else None

    def list_rules(
        self, filter: RuleFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Rule], Cursor | None]:
        conn = self._db.reader()
        where, params = self._rule_where(filter)
        rows, cursor = _page(
            conn,
            "notification_rules",
            RULE_COLUMNS,
            where,
            params,
            filter.order_by,
            filter.descending,
            limit,
            after,
        )
        return self._rules_of(conn, rows), cursor

    def count_rules(self, filter: RuleFilter) -> int:
        return _count(self._db.reader(), "notification_rules", *self._rule_where(filter))

    @staticmethod
    def _rule_where(filter: RuleFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if not filter.include_disabled:
            where.append("disabled = 0")
        if not filter.include_deleted:
            where.append("deleted_us IS NULL")
        if filter.feature_ids:
            where.append(
                "id IN (SELECT rule_id FROM notification_rule_features"
                f" WHERE feature_id IN ({_marks(filter.feature_ids)}))"
            )
            params += filter.feature_ids
        if filter.channel_ids:
            where.append(
                "id IN (SELECT rule_id FROM notification_rule_channels"
                f" WHERE channel_id IN ({_marks(filter.channel_ids)}))"
            )
            params += filter.channel_ids
        return where, params

    def active_rules(self) -> list[Rule]:
        """Rules that produce events: neither disabled nor deleted, with at least one channel that is neither."""
        conn = self._db.reader()
        rows = conn.execute(
            f"SELECT {RULE_COLUMNS} FROM notification_rules r WHERE disabled = 0 AND deleted_us IS NULL AND EXISTS ("
            " SELECT 1 FROM notification_rule_channels rc JOIN notification_channels c ON c.id = rc.channel_id"
            " WHERE rc.rule_id = r.id AND c.disabled = 0 AND c.deleted_us IS NULL) ORDER BY id"
        ).fetchall()
        return self._rules_of(conn, rows)

    def rules_version(self) -> tuple[int, ...]:
        """Changes whenever a rule or a channel is created, changed or deleted (evaluators poll it)."""
        conn = self._db.reader()
        r = conn.execute("SELECT COUNT(*), COALESCE(SUM(revision), 0) FROM notification_rules").fetchone()
        c = conn.execute("SELECT COUNT(*), COALESCE(SUM(revision), 0) FROM notification_channels").fetchone()
        return (int(r[0]), int(r[1]), int(c[0]), int(c[1]))

    @staticmethod
    def _rules_of(conn: Any, rows: Sequence[Any]) -> list[Rule]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        channels: dict[str, list[ChannelMeta]] = {}
        for rule_id, channel_id, kind in conn.execute(
            "SELECT rc.rule_id, rc.channel_id, c.type FROM notification_rule_channels rc"
            f" JOIN notification_channels c ON c.id = rc.channel_id WHERE rc.rule_id IN ({_marks(ids)})"
            " ORDER BY rc.rule_id, rc.position",
            ids,
        ):
            channels.setdefault(rule_id, []).append(ChannelMeta(channel_id, ChannelType(kind)))
        features: dict[str, list[FeatureMeta]] = {}
        for rule_id, feature_id, key in conn.execute(
            "SELECT rf.rule_id, rf.feature_id, f.key FROM notification_rule_features rf"
            f" JOIN features f ON f.id = rf.feature_id WHERE rf.rule_id IN ({_marks(ids)})"
            " ORDER BY rf.rule_id, rf.position",
            ids,
        ):
            features.setdefault(rule_id, []).append(FeatureMeta(feature_id, key))
        return [
            Rule(
                id=r[0],
                type=RuleType(r[1]),
                name=r[2],
                disabled=bool(r[3]),
                channels=tuple(channels.get(r[0], ())),
                thresholds=_thresholds_of(r[4]),
                features=tuple(features.get(r[0], ())),
                created_at=from_us(r[5]),
                updated_at=from_us(r[6]),
                deleted_at=from_us(r[7]) if r[7] is not None else None,
            )
            for r in rows
        ]

    # -- events --------------------------------------------------------------------------------------
    def insert_events(self, events: Sequence[NewEvent], now: datetime, *, test: bool = False) -> list[str]:
        """Stores the events, each with a PENDING delivery to every active channel of its rule, in one
        transaction; returns the ids stored. An event is skipped when its dedupe key exists already (another
        replica, or an earlier run, stored it), when its rule was deleted or (unless ``test``) disabled, and
        when the rule has no active channel."""

        def job(conn: Any) -> list[str]:
            stored = []
            for e in events:
                rule = conn.execute(
                    "SELECT disabled, deleted_us FROM notification_rules WHERE id = ?", (e.rule_id,)
                ).fetchone()
                if rule is None or rule[1] is not None or (rule[0] and not test):
                    continue
                channels = [
                    r[0]
                    for r in conn.execute(
                        "SELECT c.id FROM notification_rule_channels rc JOIN notification_channels c ON c.id = rc.channel_id"
                        " WHERE rc.rule_id = ? AND c.disabled = 0 AND c.deleted_us IS NULL ORDER BY rc.position",
                        (e.rule_id,),
                    )
                ]
                if not channels:
                    continue
                c = e.crossing
                cursor = conn.execute(
                    f"INSERT INTO notification_events ({EVENT_COLUMNS}, dedupe_key)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
                    (
                        e.id,
                        RuleType.BALANCE_THRESHOLD.value,
                        e.rule_id,
                        to_us(e.created_at),
                        e.payload_json,
                        _json(dict(e.annotations)),
                        c.entitlement_id if c else None,
                        c.feature_id if c else None,
                        c.feature_key if c else None,
                        c.subject_key if c else None,
                        c.threshold.type.value if c else None,
                        str(c.threshold.value) if c else None,
                        _value_text(c.value) if c else None,
                        to_us(c.period_start) if c else None,
                        e.dedupe_key,
                    ),
                )
                if cursor.rowcount != 1:
                    continue
                now_us = to_us(now)
                for channel_id in channels:
                    conn.execute(
                        "INSERT INTO notification_deliveries (event_id, channel_id, state, attempts,"
                        " next_attempt_us, created_us, updated_us) VALUES (?, ?, 'PENDING', 0, ?, ?, ?)",
                        (e.id, channel_id, now_us, now_us, now_us),
                    )
                stored.append(e.id)
            return stored

        return self._db.write(job)  # type: ignore[no-any-return]

    def fired(self, entitlement_id: str, period_start_us: int) -> set[str]:
        """The dedupe keys of the events stored for this entitlement and usage period."""
        rows = (
            self._db.reader()
            .execute(
                "SELECT dedupe_key FROM notification_events WHERE entitlement_id = ? AND period_start_us = ?"
                " AND dedupe_key IS NOT NULL",
                (entitlement_id, period_start_us),
            )
            .fetchall()
        )
        return {r[0] for r in rows}

    def get_event(self, event_id: str) -> Event | None:
        conn = self._db.reader()
        row = conn.execute(
            f"SELECT {EVENT_COLUMNS} FROM notification_events WHERE id = ?", (event_id,)
        ).fetchone()
        return self._events_of(conn, [row])[0] if row else None

    def list_events(
        self, filter: EventFilter, limit: int, after: Cursor | None
    ) -> tuple[list[Event], Cursor | None]:
        conn = self._db.reader()
        where, params = self._event_where(filter)
        rows, cursor = _page(
            conn,
            "notification_events",
            EVENT_COLUMNS,
            where,
            params,
            filter.order_by,
            filter.descending,
            limit,
            after,
        )
        return self._events_of(conn, rows), cursor

    def count_events(self, filter: EventFilter) -> int:
        return _count(self._db.reader(), "notification_events", *self._event_where(filter))

    @staticmethod
    def _event_where(filter: EventFilter) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if filter.from_time is not None:
            where.append("created_us >= ?")
            params.append(to_us(filter.from_time))
        if filter.to_time is not None:
            where.append("created_us <= ?")
            params.append(to_us(filter.to_time))
        if filter.features:
            marks = _marks(filter.features)
            where.append(f"(feature_id IN ({marks}) OR feature_key IN ({marks}))")
            params += [*filter.features, *filter.features]
        if filter.subjects:
            where.append(f"subject_key IN ({_marks(filter.subjects)})")
            params += filter.subjects
        if filter.rule_ids:
            where.append(f"rule_id IN ({_marks(filter.rule_ids)})")
            params += filter.rule_ids
        if filter.channel_ids:
            where.append(
                "id IN (SELECT event_id FROM notification_deliveries"
                f" WHERE channel_id IN ({_marks(filter.channel_ids)}))"
            )
            params += filter.channel_ids
        return where, params

    @staticmethod
    def _events_of(conn: Any, rows: Sequence[Any]) -> list[Event]:
        if not rows:
            return []
        ids = [r[0] for r in rows]
        # Deliveries first, then their attempts: on PostgreSQL each read may see a later commit, and an
        # attempt is committed with the state it led to, so a state read first has its attempt in the second
        # read (the other order could show SUCCESS without the attempt that succeeded).
        found = conn.execute(
            "SELECT d.event_id, d.channel_id, c.type, d.state, d.reason, d.updated_us, d.next_attempt_us"
            " FROM notification_deliveries d JOIN notification_channels c ON c.id = d.channel_id"
            f" WHERE d.event_id IN ({_marks(ids)}) ORDER BY d.event_id, d.created_us, d.channel_id",
            ids,
        ).fetchall()
        attempts: dict[tuple[str, str], list[Attempt]] = {}
        for event_id, channel_id, at_us, status, error, duration_us in conn.execute(
            "SELECT event_id, channel_id, attempted_us, status_code, error, duration_us"
            f" FROM notification_delivery_attempts WHERE event_id IN ({_marks(ids)}) ORDER BY attempted_us, id",
            ids,
        ):
            attempts.setdefault((event_id, channel_id), []).append(
                Attempt(from_us(at_us), status, error, duration_us / 1e6)
            )
        deliveries: dict[str, list[Delivery]] = {}
        for event_id, channel_id, kind, state, reason, updated_us, next_us in found:
            state = DeliveryState(state)
            deliveries.setdefault(event_id, []).append(
                Delivery(
                    channel=ChannelMeta(channel_id, ChannelType(kind)),
                    state=state,
                    reason=reason,
                    updated_at=from_us(updated_us),
                    next_attempt_at=from_us(next_us)
                    if next_us is not None and state in _OPEN_STATES
                    else None,
                    attempts=tuple(attempts.get((event_id, channel_id), ())),
                )
            )
        out = []
        for r in rows:
            crossing = None
            if r[6] is not None:
                has_access, balance, usage, overage = json.loads(r[12])
                crossing = Crossing(
                    entitlement_id=r[6],
                    feature_id=r[7],
                    feature_key=r[8],
                    subject_key=r[9],
                    threshold=Threshold(ThresholdType(r[10]), Decimal(r[11])),
                    value=EntitlementValue(
                        has_access=has_access,
                        balance=Decimal(balance),
                        usage=Decimal(usage),
                        overage=Decimal(overage),
                    ),
                    period_start=from_us(r[13]),
                )
            out.append(
                Event(
                    id=r[0],
                    type=RuleType(r[1]),
                    rule_id=r[2],
                    created_at=from_us(r[3]),
                    payload_json=r[4],
                    annotations=json.loads(r[5]),
                    crossing=crossing,
                    deliveries=tuple(deliveries.get(r[0], ())),
                )
            )
        return out

    # -- deliveries ----------------------------------------------------------------------------------
    def claim(
        self,
        owner: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        room: Mapping[str, int],
        default_room: int,
    ) -> list[ClaimedDelivery]:
        """Takes up to ``limit`` due deliveries (PENDING, or SENDING with an expired lease), oldest due first,
        at most ``room.get(channel, default_room)`` per channel, and leases them to ``owner`` until
        ``lease_until``."""

        def job(conn: Any) -> list[ClaimedDelivery]:
            now_us = to_us(now)
            rows = conn.execute(
                "SELECT d.event_id, d.channel_id, d.attempts, d.created_us FROM notification_deliveries d"
                " WHERE d.state IN ('PENDING', 'SENDING') AND d.next_attempt_us <= ?"
                " AND (d.lease_until_us IS NULL OR d.lease_until_us < ?)"
                f" ORDER BY d.next_attempt_us LIMIT ?{self._dialect.skip_locked}",
                (now_us, now_us, limit * 4),
            ).fetchall()
            taken: list[tuple[str, str, int, int]] = []
            per_channel: dict[str, int] = {}
            for event_id, channel_id, attempts, created_us in rows:
                used = per_channel.get(channel_id, 0)
                if used >= room.get(channel_id, default_room):
                    continue
                per_channel[channel_id] = used + 1
                taken.append((event_id, channel_id, attempts, created_us))
                if len(taken) >= limit:
                    break
            if not taken:
                return []
            for e, c, _, _ in taken:
                conn.execute(
                    "UPDATE notification_deliveries SET state = 'SENDING', lease_owner = ?, lease_until_us = ?,"
                    " updated_us = ? WHERE event_id = ? AND channel_id = ?",
                    (owner, to_us(lease_until), now_us, e, c),
                )
            events = sorted({e for e, _, _, _ in taken})
            payloads = dict(
                conn.execute(
                    f"SELECT id, payload FROM notification_events WHERE id IN ({_marks(events)})", events
                ).fetchall()
            )
            channels = sorted({c for _, c, _, _ in taken})
            info = {
                r[0]: r
                for r in conn.execute(
                    "SELECT id, url, signing_secret, custom_headers, disabled, deleted_us FROM notification_channels"
                    f" WHERE id IN ({_marks(channels)})",
                    channels,
                ).fetchall()
            }
            return [
                ClaimedDelivery(
                    event_id=e,
                    channel_id=c,
                    attempts=attempts,
                    created_at=from_us(created_us),
                    payload_json=payloads[e],
                    url=info[c][1],
                    signing_secret=info[c][2],
                    custom_headers=json.loads(info[c][3]),
                    channel_active=not info[c][4] and info[c][5] is None,
                )
                for e, c, attempts, created_us in taken
            ]

        return self._db.write(job)  # type: ignore[no-any-return]

    def record(self, owner: str, delivery: ClaimedDelivery, outcome: AttemptOutcome, now: datetime) -> bool:
        """Stores an attempt, and the delivery's new state if ``owner`` still holds its lease (False when the
        lease expired and another process took the delivery over: its outcome then decides)."""

        def job(conn: Any) -> bool:
            a = outcome.attempt
            if a is not None:
                conn.execute(
                    "INSERT INTO notification_delivery_attempts (event_id, channel_id, attempted_us, status_code,"
                    " error, duration_us) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        delivery.event_id,
                        delivery.channel_id,
                        to_us(a.attempted_at),
                        a.status_code,
                        a.error,
                        int(a.duration_seconds * 1e6),
                    ),
                )
            cursor = conn.execute(
                f"UPDATE notification_deliveries SET state = ?, attempts = attempts + {int(a is not None)},"
                " next_attempt_us = ?,"
                " reason = ?, lease_owner = NULL, lease_until_us = NULL, updated_us = ?"
                " WHERE event_id = ? AND channel_id = ? AND lease_owner = ? AND state = 'SENDING'",
                (
                    outcome.state.value,
                    to_us(outcome.next_attempt_at) if outcome.next_attempt_at else None,
                    outcome.reason,
                    to_us(now),
                    delivery.event_id,
                    delivery.channel_id,
                    owner,
                ),
            )
            return bool(cursor.rowcount == 1)

        return self._db.write(job)  # type: ignore[no-any-return]

    def next_due(self) -> datetime | None:
        """When the earliest open delivery is due (or its lease ends, for one being sent)."""
        row = (
            self._db.reader()
            .execute(
                "SELECT MIN(CASE WHEN lease_until_us IS NOT NULL AND lease_until_us > next_attempt_us"
                " THEN lease_until_us ELSE next_attempt_us END) FROM notification_deliveries"
                " WHERE state IN ('PENDING', 'SENDING')"
            )
            .fetchone()
        )
        return from_us(row[0]) if row and row[0] is not None else None

    def queue(self) -> tuple[int, datetime | None]:
        """(open deliveries, creation time of the oldest) for the queue metrics."""
        row = (
            self._db.reader()
            .execute(
                "SELECT COUNT(*), MIN(created_us) FROM notification_deliveries WHERE state IN ('PENDING', 'SENDING')"
            )
            .fetchone()
        )
        return int(row[0]), (from_us(row[1]) if row[1] is not None else None)

    # -- evaluators ----------------------------------------------------------------------------------
    def heartbeat(self, replica: str, checkpoint: datetime, now: datetime) -> None:
        def job(conn: Any) -> None:
            conn.execute(
                "INSERT INTO notification_evaluators (replica, checkpoint_us, heartbeat_us) VALUES (?, ?, ?)"
                " ON CONFLICT (replica) DO UPDATE SET checkpoint_us = excluded.checkpoint_us,"
                " heartbeat_us = excluded.heartbeat_us",
                (replica, to_us(checkpoint), to_us(now)),
            )

        self._db.write(job)

    def take_stale(self, before: datetime, keep: str) -> list[datetime]:
        """Removes the rows of evaluators not heard from since ``before`` (other than ``keep``) and returns
        their checkpoints: the crossings after them are the caller's to re-derive."""

        def job(conn: Any) -> list[datetime]:
            rows = conn.execute(
                "SELECT replica, checkpoint_us FROM notification_evaluators WHERE heartbeat_us < ? AND replica <> ?",
                (to_us(before), keep),
            ).fetchall()
            for replica, _ in rows:
                conn.execute("DELETE FROM notification_evaluators WHERE replica = ?", (replica,))
            return [from_us(r[1]) for r in rows]

        return self._db.write(job)  # type: ignore[no-any-return]


_OPEN_STATES = frozenset({DeliveryState.PENDING, DeliveryState.SENDING})


def _value_text(value: EntitlementValue) -> str:
    return json.dumps(
        [value.has_access, str(value.balance), str(value.usage), str(value.overage)], separators=(",", ":")
    )
