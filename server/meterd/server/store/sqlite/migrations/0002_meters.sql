-- Meters and their pre-aggregates (issue 3).
CREATE TABLE meters (
    num             INTEGER PRIMARY KEY,            -- compact key used by the aggregate tables
    id              TEXT NOT NULL UNIQUE,
    slug            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    event_type      TEXT NOT NULL,
    aggregation     TEXT NOT NULL,
    value_property  TEXT,
    group_by        TEXT NOT NULL DEFAULT '{}',     -- JSON object: group key -> JSONPath
    created_us      INTEGER NOT NULL,
    updated_us      INTEGER NOT NULL
);

-- Each distinct tuple of group values a meter has seen (a JSON array in the meter's sorted group-key
-- order, null for a missing value), interned so aggregate rows carry a small integer.
CREATE TABLE meter_groups (
    gid        INTEGER PRIMARY KEY,
    meter_num  INTEGER NOT NULL,
    groups     TEXT    NOT NULL,
    UNIQUE (meter_num, groups)
);

-- Pre-aggregates, one table per level (minute, hour, day; UTC-aligned). A row summarises one meter's
-- events of one subject and one group tuple in one unit of time starting at time_us; subject '' rolls up
-- every subject. Sums are exact: sum_units + sum_nanos / 1e9 (two integers, so SQL adds them without
-- floating point and without overflow).

CREATE TABLE meter_agg_m (
    meter_num       INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    time_us         INTEGER NOT NULL,
    gid             INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    sum_units       INTEGER NOT NULL,
    sum_nanos       INTEGER NOT NULL,
    min             REAL,
    max             REAL,
    latest          REAL,
    latest_time_us  INTEGER,
    latest_seq      INTEGER,
    PRIMARY KEY (meter_num, subject, time_us, gid)
) WITHOUT ROWID;
-- Distinct values of UNIQUE_COUNT meters, per minute.
CREATE TABLE meter_distinct_m (
    meter_num  INTEGER NOT NULL,
    subject    TEXT    NOT NULL,
    time_us    INTEGER NOT NULL,
    gid        INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (meter_num, subject, time_us, gid, value)
) WITHOUT ROWID;

CREATE TABLE meter_agg_h (
    meter_num       INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    time_us         INTEGER NOT NULL,
    gid             INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    sum_units       INTEGER NOT NULL,
    sum_nanos       INTEGER NOT NULL,
    min             REAL,
    max             REAL,
    latest          REAL,
    latest_time_us  INTEGER,
    latest_seq      INTEGER,
    PRIMARY KEY (meter_num, subject, time_us, gid)
) WITHOUT ROWID;
-- Distinct values of UNIQUE_COUNT meters, per hour.
CREATE TABLE meter_distinct_h (
    meter_num  INTEGER NOT NULL,
    subject    TEXT    NOT NULL,
    time_us    INTEGER NOT NULL,
    gid        INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (meter_num, subject, time_us, gid, value)
) WITHOUT ROWID;

CREATE TABLE meter_agg_d (
    meter_num       INTEGER NOT NULL,
    subject         TEXT    NOT NULL,
    time_us         INTEGER NOT NULL,
    gid             INTEGER NOT NULL,
    count           INTEGER NOT NULL,
    sum_units       INTEGER NOT NULL,
    sum_nanos       INTEGER NOT NULL,
    min             REAL,
    max             REAL,
    latest          REAL,
    latest_time_us  INTEGER,
    latest_seq      INTEGER,
    PRIMARY KEY (meter_num, subject, time_us, gid)
) WITHOUT ROWID;
-- Distinct values of UNIQUE_COUNT meters, per day.
CREATE TABLE meter_distinct_d (
    meter_num  INTEGER NOT NULL,
    subject    TEXT    NOT NULL,
    time_us    INTEGER NOT NULL,
    gid        INTEGER NOT NULL,
    value      TEXT    NOT NULL,
    PRIMARY KEY (meter_num, subject, time_us, gid, value)
) WITHOUT ROWID;
