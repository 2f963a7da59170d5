-- The whole schema of the PostgreSQL backend (its own migration series). Times are integer microseconds
-- since the Unix epoch (UTC), as in the SQLite backend; amounts are decimal TEXT; maps are JSON text.
-- Tables that a distributed PostgreSQL would shard carry the subject (or the entitlement's subject_key),
-- so distribution by subject stays possible without a schema change of the rows themselves.

-- Dedupe keys of every event ever accepted, for the life of the database (kept when old partitions of
-- raw events are dropped, so an old id stays a duplicate). A unique index on the partitioned events table
-- would have to include the partition key (time), which would let an id recur in another month.
CREATE TABLE event_keys (
    source  TEXT COLLATE "C" NOT NULL,
    id      TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source, id)
);

CREATE SEQUENCE events_seq AS BIGINT CACHE 1;

-- Raw events, partitioned by event time: one partition per month, created ahead of need (db.py); events
-- outside every monthly partition go to the default one.
CREATE TABLE events (
    seq              BIGINT  NOT NULL,               -- ingestion order (across replicas: allocation order)
    source           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    time_us          BIGINT  NOT NULL,               -- event time, the partition key
    ingested_us      BIGINT  NOT NULL,
    specversion      TEXT    NOT NULL,
    datacontenttype  TEXT,
    dataschema       TEXT,
    data             TEXT,                           -- JSON text as sent; NULL when absent
    has_error        INTEGER NOT NULL DEFAULT 0
) PARTITION BY RANGE (time_us);
CREATE TABLE events_default PARTITION OF events DEFAULT;
CREATE INDEX events_by_time ON events (time_us DESC, seq DESC);
CREATE INDEX events_by_type_seq ON events (type, seq);
CREATE INDEX events_by_type_subject_seq ON events (type, subject, seq);
CREATE INDEX events_by_seq ON events (seq);

-- Why a meter could not read an event (one row per event and meter).
CREATE TABLE event_errors (
    event_seq   BIGINT NOT NULL,
    meter_slug  TEXT   NOT NULL,
    message     TEXT   NOT NULL,
    PRIMARY KEY (event_seq, meter_slug)
);
CREATE INDEX event_errors_by_meter ON event_errors (meter_slug);

-- Meters and their pre-aggregates.
CREATE TABLE meters (
    num             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,
    slug            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    event_type      TEXT NOT NULL,
    aggregation     TEXT NOT NULL,
    value_property  TEXT,
    group_by        TEXT NOT NULL DEFAULT '{}',
    created_us      BIGINT NOT NULL,
    updated_us      BIGINT NOT NULL,
    window_size     TEXT NOT NULL DEFAULT 'MINUTE'   -- the smallest window a query of the meter may ask for
);
-- Bumped by every change of a meter definition: each replica's cache of meters is checked against it.
CREATE TABLE meters_version (
    one      INTEGER PRIMARY KEY CHECK (one = 1),
    version  BIGINT  NOT NULL
);
INSERT INTO meters_version (one, version) VALUES (1, 0);

-- Pre-aggregates (the layout of issue 12): keys led by time, so the rows one batch touches sit together at
-- the recent end of each index. groups is the meter's group values as a JSON array (text, in the meter's
-- sorted group-key order; null for a missing value). Columns hold what the aggregation needs: count always;
-- sum_units + sum_nanos / 1e9 (two integers, exact) for SUM and AVG; min; max; latest with its (event time,
-- ingest seq) for LATEST. Text keys use the "C" collation: byte order, the same on every server.
--
-- Per-subject rows per minute (one subject's range: one index seek per hour) and per day (long ranges).
CREATE TABLE meter_sub_m (
    meter_num       BIGINT NOT NULL,
    hour_us         BIGINT NOT NULL,                 -- time_us rounded down to the UTC hour
    subject         TEXT   COLLATE "C" NOT NULL,
    time_us         BIGINT NOT NULL,                 -- the UTC minute
    groups          TEXT   COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    sum_units       BIGINT,
    sum_nanos       BIGINT,
    min             DOUBLE PRECISION,
    max             DOUBLE PRECISION,
    latest          DOUBLE PRECISION,
    latest_time_us  BIGINT,
    latest_seq      BIGINT,
    PRIMARY KEY (meter_num, hour_us, subject, time_us, groups)
);
CREATE TABLE meter_sub_d (
    meter_num       BIGINT NOT NULL,
    time_us         BIGINT NOT NULL,                 -- the UTC day
    subject         TEXT   COLLATE "C" NOT NULL,
    groups          TEXT   COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    sum_units       BIGINT,
    sum_nanos       BIGINT,
    min             DOUBLE PRECISION,
    max             DOUBLE PRECISION,
    latest          DOUBLE PRECISION,
    latest_time_us  BIGINT,
    latest_seq      BIGINT,
    PRIMARY KEY (meter_num, time_us, subject, groups)
);
-- Rows of all subjects together, per level (minute, hour, day): queries that neither filter nor group by
-- subject cost windows x groups.
CREATE TABLE meter_all_m (
    meter_num       BIGINT NOT NULL,
    time_us         BIGINT NOT NULL,
    groups          TEXT   COLLATE "C" NOT NULL,
    count           BIGINT NOT NULL,
    sum_units       BIGINT,
    sum_nanos       BIGINT,
    min             DOUBLE PRECISION,
    max             DOUBLE PRECISION,
    latest          DOUBLE PRECISION,
    latest_time_us  BIGINT,
    latest_seq      BIGINT,
    PRIMARY KEY (meter_num, time_us, groups)
);
CREATE TABLE meter_all_h (LIKE meter_all_m INCLUDING ALL);
CREATE TABLE meter_all_d (LIKE meter_all_m INCLUDING ALL);

-- Distinct values of UNIQUE_COUNT meters, in the same layouts.
CREATE TABLE meter_sub_distinct_m (
    meter_num  BIGINT NOT NULL,
    hour_us    BIGINT NOT NULL,
    subject    TEXT   COLLATE "C" NOT NULL,
    time_us    BIGINT NOT NULL,
    groups     TEXT   COLLATE "C" NOT NULL,
    value      TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (meter_num, hour_us, subject, time_us, groups, value)
);
CREATE TABLE meter_sub_distinct_d (
    meter_num  BIGINT NOT NULL,
    time_us    BIGINT NOT NULL,
    subject    TEXT   COLLATE "C" NOT NULL,
    groups     TEXT   COLLATE "C" NOT NULL,
    value      TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (meter_num, time_us, subject, groups, value)
);
CREATE TABLE meter_all_distinct_m (
    meter_num  BIGINT NOT NULL,
    time_us    BIGINT NOT NULL,
    groups     TEXT   COLLATE "C" NOT NULL,
    value      TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (meter_num, time_us, groups, value)
);
CREATE TABLE meter_all_distinct_h (LIKE meter_all_distinct_m INCLUDING ALL);
CREATE TABLE meter_all_distinct_d (LIKE meter_all_distinct_m INCLUDING ALL);

-- The subjects a meter has seen (ListMeterSubjects without scanning aggregates).
CREATE TABLE meter_subjects (
    meter_num  BIGINT NOT NULL,
    subject    TEXT   COLLATE "C" NOT NULL,
    PRIMARY KEY (meter_num, subject)
);

-- Subjects and portal tokens.
CREATE TABLE subjects (
    id                       TEXT   PRIMARY KEY,
    key                      TEXT   NOT NULL UNIQUE,
    display_name             TEXT,
    metadata                 TEXT   NOT NULL DEFAULT '{}',
    current_period_start_us  BIGINT,
    current_period_end_us    BIGINT,
    stripe_customer_id       TEXT,
    created_us               BIGINT NOT NULL,
    updated_us               BIGINT NOT NULL
);

CREATE TABLE portal_tokens (
    id                   TEXT   PRIMARY KEY,
    subject              TEXT   NOT NULL,
    allowed_meter_slugs  TEXT   NOT NULL DEFAULT '[]',
    expires_us           BIGINT NOT NULL,
    created_us           BIGINT NOT NULL,
    invalidated_us       BIGINT
);
CREATE INDEX portal_tokens_by_created ON portal_tokens (created_us DESC, id DESC);
CREATE INDEX portal_tokens_by_subject ON portal_tokens (subject, created_us DESC, id DESC);

CREATE TABLE portal_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);

-- Features, entitlements and grants.
CREATE TABLE features (
    id                      TEXT PRIMARY KEY,
    key                     TEXT NOT NULL,
    name                    TEXT NOT NULL,
    meter_slug              TEXT,
    meter_group_by_filters  TEXT NOT NULL DEFAULT '{}',
    metadata                TEXT NOT NULL DEFAULT '{}',
    created_us              BIGINT NOT NULL,
    updated_us              BIGINT NOT NULL,
    archived_us             BIGINT
);
CREATE UNIQUE INDEX features_active_key ON features (key) WHERE archived_us IS NULL;
CREATE INDEX features_by_created ON features (created_us, id);

CREATE TABLE entitlements (
    id                          TEXT PRIMARY KEY,
    subject_key                 TEXT NOT NULL,
    feature_id                  TEXT NOT NULL REFERENCES features (id),
    feature_key                 TEXT NOT NULL,
    type                        TEXT NOT NULL CHECK (type IN ('BOOLEAN', 'STATIC', 'METERED')),
    metadata                    TEXT NOT NULL DEFAULT '{}',
    config                      TEXT,
    usage_period_interval       TEXT,
    usage_period_anchor_us      BIGINT,
    measure_usage_from_us       BIGINT,
    issue_after_reset           TEXT,
    issue_after_reset_priority  INTEGER,
    is_soft_limit               INTEGER NOT NULL DEFAULT 0,
    preserve_overage_at_reset   INTEGER NOT NULL DEFAULT 0,
    created_us                  BIGINT NOT NULL,
    updated_us                  BIGINT NOT NULL,
    deleted_us                  BIGINT
);
CREATE UNIQUE INDEX entitlements_active ON entitlements (subject_key, feature_key) WHERE deleted_us IS NULL;
CREATE INDEX entitlements_by_subject ON entitlements (subject_key, created_us, id);
CREATE INDEX entitlements_by_created ON entitlements (created_us, id);
CREATE INDEX entitlements_by_feature ON entitlements (feature_id);

CREATE TABLE entitlement_resets (
    entitlement_id    TEXT    NOT NULL REFERENCES entitlements (id),
    at_us             BIGINT  NOT NULL,
    retain_anchor     INTEGER NOT NULL,
    preserve_overage  INTEGER,
    created_us        BIGINT  NOT NULL,
    usage_period_interval   TEXT,                    -- a reset that changes the usage period: the new one
    usage_period_anchor_us  BIGINT,
    PRIMARY KEY (entitlement_id, at_us)
);

CREATE TABLE grants (
    id                    TEXT    PRIMARY KEY,
    entitlement_id        TEXT    NOT NULL REFERENCES entitlements (id),
    subject_key           TEXT    NOT NULL,
    feature_key           TEXT    NOT NULL,
    amount                TEXT    NOT NULL,
    priority              INTEGER NOT NULL,
    effective_us          BIGINT  NOT NULL,
    expiration_duration   TEXT    NOT NULL,
    expiration_count      INTEGER NOT NULL,
    expires_us            BIGINT  NOT NULL,
    max_rollover_amount   TEXT    NOT NULL,
    min_rollover_amount   TEXT    NOT NULL,
    recurrence_interval   TEXT,
    recurrence_anchor_us  BIGINT,
    metadata              TEXT    NOT NULL DEFAULT '{}',
    created_us            BIGINT  NOT NULL,
    updated_us            BIGINT  NOT NULL,
    voided_us             BIGINT
);
CREATE INDEX grants_by_entitlement ON grants (entitlement_id, effective_us, created_us, id);
CREATE INDEX grants_by_effective ON grants (effective_us, created_us, id);

-- Balance snapshots: a cache of what a replay would give (see snapshots.py for what invalidates them).
CREATE TABLE balance_snapshots (
    entitlement_id   TEXT   NOT NULL REFERENCES entitlements (id),
    at_us            BIGINT NOT NULL,
    event_type       TEXT   NOT NULL,
    subject_key      TEXT   NOT NULL,
    balances         TEXT   NOT NULL,
    overage          TEXT   NOT NULL,
    usage            TEXT   NOT NULL,
    period_start_us  BIGINT NOT NULL,
    created_us       BIGINT NOT NULL,
    meter_version    TEXT,                           -- the meter definition it was built on (never read on another)
    PRIMARY KEY (entitlement_id, at_us)
);
CREATE INDEX balance_snapshots_by_events ON balance_snapshots (event_type, subject_key, at_us);

-- Server-wide settings kept in the database. page_token_key signs page tokens (HMAC-SHA256), so a token is
-- accepted by every replica of this database and by no other database: 32 random bytes, made once here.
CREATE TABLE server_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
INSERT INTO server_settings (name, value)
VALUES ('page_token_key', encode(sha256((gen_random_uuid()::text || gen_random_uuid()::text)::bytea), 'hex'));
