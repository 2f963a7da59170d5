-- Notifications (issue 24): webhook channels, balance-threshold rules, the events they produce and each
-- event's delivery to each channel (the outbox), with every attempt. Times are integer microseconds since
-- the epoch (UTC); maps are JSON objects. Channels and rules are soft-deleted (events keep naming them).

CREATE TABLE notification_channels (
    id              TEXT PRIMARY KEY,
    type            TEXT NOT NULL CHECK (type IN ('WEBHOOK')),
    name            TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    url             TEXT NOT NULL,
    custom_headers  TEXT NOT NULL DEFAULT '{}',
    signing_secret  TEXT NOT NULL,
    created_us      INTEGER NOT NULL,
    updated_us      INTEGER NOT NULL,
    deleted_us      INTEGER,                                -- NULL while it exists
    revision        INTEGER NOT NULL DEFAULT 0               -- +1 on every change (evaluators poll the sum)
);

CREATE TABLE notification_rules (
    id          TEXT PRIMARY KEY,
    type        TEXT NOT NULL CHECK (type IN ('entitlements.balance.threshold')),
    name        TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    thresholds  TEXT NOT NULL,                              -- JSON [[type, decimal text], ...]
    created_us  INTEGER NOT NULL,
    updated_us  INTEGER NOT NULL,
    deleted_us  INTEGER,
    revision    INTEGER NOT NULL DEFAULT 0
);

-- A rule's channels and features (none: every feature), in the order given.
CREATE TABLE notification_rule_channels (
    rule_id     TEXT NOT NULL REFERENCES notification_rules (id),
    channel_id  TEXT NOT NULL REFERENCES notification_channels (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (rule_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX notification_rule_channels_by_channel ON notification_rule_channels (channel_id);

CREATE TABLE notification_rule_features (
    rule_id     TEXT NOT NULL REFERENCES notification_rules (id),
    feature_id  TEXT NOT NULL REFERENCES features (id),
    position    INTEGER NOT NULL,
    PRIMARY KEY (rule_id, feature_id)
) WITHOUT ROWID;
CREATE INDEX notification_rule_features_by_feature ON notification_rule_features (feature_id);

-- Events. dedupe_key (rule/entitlement/usage period start/threshold) makes a crossing produce one event
-- whichever replica (or restart) sees it; NULL for test events.
CREATE TABLE notification_events (
    id               TEXT PRIMARY KEY,
    type             TEXT NOT NULL,
    rule_id          TEXT NOT NULL REFERENCES notification_rules (id),
    created_us       INTEGER NOT NULL,
    payload          TEXT NOT NULL,                         -- the exact body sent to channels
    annotations      TEXT NOT NULL DEFAULT '{}',
    entitlement_id   TEXT,
    feature_id       TEXT,
    feature_key      TEXT,
    subject_key      TEXT,
    threshold_type   TEXT,
    threshold_value  TEXT,                                  -- decimal text
    value            TEXT,                                  -- JSON [has_access, balance, usage, overage]
    period_start_us  INTEGER,
    dedupe_key       TEXT UNIQUE
);
CREATE INDEX notification_events_by_created ON notification_events (created_us, id);
CREATE INDEX notification_events_by_entitlement ON notification_events (entitlement_id, period_start_us);

-- The outbox: one row per event and channel, written in the event's transaction. A row is PENDING until
-- an attempt is due (next_attempt_us), SENDING while a process holds its lease (lease_until_us: after
-- that, another process may take it over), then SUCCESS or FAILED.
CREATE TABLE notification_deliveries (
    event_id         TEXT NOT NULL REFERENCES notification_events (id),
    channel_id       TEXT NOT NULL REFERENCES notification_channels (id),
    state            TEXT NOT NULL CHECK (state IN ('PENDING', 'SENDING', 'SUCCESS', 'FAILED')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_us  INTEGER,                               -- NULL once no attempt is left
    reason           TEXT NOT NULL DEFAULT '',
    lease_owner      TEXT,
    lease_until_us   INTEGER,
    created_us       INTEGER NOT NULL,
    updated_us       INTEGER NOT NULL,
    PRIMARY KEY (event_id, channel_id)
) WITHOUT ROWID;
CREATE INDEX notification_deliveries_due ON notification_deliveries (next_attempt_us)
    WHERE state IN ('PENDING', 'SENDING');
CREATE INDEX notification_deliveries_by_channel ON notification_deliveries (channel_id, event_id);

CREATE TABLE notification_delivery_attempts (
    id            INTEGER PRIMARY KEY,
    event_id      TEXT NOT NULL,
    channel_id    TEXT NOT NULL,
    attempted_us  INTEGER NOT NULL,
    status_code   INTEGER NOT NULL,                         -- 0: no HTTP answer
    error         TEXT NOT NULL,
    duration_us   INTEGER NOT NULL,
    FOREIGN KEY (event_id, channel_id) REFERENCES notification_deliveries (event_id, channel_id)
);
CREATE INDEX notification_delivery_attempts_by_delivery
    ON notification_delivery_attempts (event_id, channel_id, attempted_us);

-- Each running evaluator's heartbeat and the instant up to which it has evaluated every change (recovery
-- after a crash re-derives the crossings of usage periods that ended after a stale row's checkpoint).
CREATE TABLE notification_evaluators (
    replica        TEXT PRIMARY KEY,
    checkpoint_us  INTEGER NOT NULL,
    heartbeat_us   INTEGER NOT NULL
);
