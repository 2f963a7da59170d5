-- Features, entitlements and grants (issue 5). Times are integer microseconds since the epoch (UTC);
-- amounts are decimal TEXT (exact; the wire's doubles are converted at the edge); maps are JSON objects.

-- Features: archived, never deleted, so entitlements keep pointing at them.
CREATE TABLE features (
    id                      TEXT PRIMARY KEY,
    key                     TEXT NOT NULL,
    name                    TEXT NOT NULL,
    meter_slug              TEXT,                           -- NULL: a feature without usage
    meter_group_by_filters  TEXT NOT NULL DEFAULT '{}',
    metadata                TEXT NOT NULL DEFAULT '{}',
    created_us              INTEGER NOT NULL,
    updated_us              INTEGER NOT NULL,
    archived_us             INTEGER                         -- NULL while active
);
-- A key names at most one non-archived feature; archived ones may share it.
CREATE UNIQUE INDEX features_active_key ON features (key) WHERE archived_us IS NULL;
CREATE INDEX features_by_created ON features (created_us, id);

-- Entitlements: soft-deleted. Metered settings are NULL for boolean and static ones.
CREATE TABLE entitlements (
    id                          TEXT PRIMARY KEY,
    subject_key                 TEXT NOT NULL,              -- need not name an upserted subject
    feature_id                  TEXT NOT NULL REFERENCES features (id),
    feature_key                 TEXT NOT NULL,              -- the feature's key (features are immutable)
    type                        TEXT NOT NULL CHECK (type IN ('BOOLEAN', 'STATIC', 'METERED')),
    metadata                    TEXT NOT NULL DEFAULT '{}',
    config                      TEXT,                       -- STATIC: JSON text as given
    usage_period_interval       TEXT,                       -- METERED: DAY, WEEK, MONTH, YEAR
    usage_period_anchor_us      INTEGER,
    measure_usage_from_us       INTEGER,
    issue_after_reset           TEXT,                       -- decimal text; NULL: none
    issue_after_reset_priority  INTEGER,
    is_soft_limit               INTEGER NOT NULL DEFAULT 0,
    preserve_overage_at_reset   INTEGER NOT NULL DEFAULT 0,
    created_us                  INTEGER NOT NULL,
    updated_us                  INTEGER NOT NULL,
    deleted_us                  INTEGER                     -- NULL while active
);
-- One non-deleted entitlement per subject and feature key (a key names one active feature).
CREATE UNIQUE INDEX entitlements_active ON entitlements (subject_key, feature_key) WHERE deleted_us IS NULL;
CREATE INDEX entitlements_by_subject ON entitlements (subject_key, created_us, id);
CREATE INDEX entitlements_by_created ON entitlements (created_us, id);
CREATE INDEX entitlements_by_feature ON entitlements (feature_id);

-- Manual usage resets of metered entitlements (written by ResetEntitlementUsage, issue 6). Automatic
-- resets at usage-period boundaries are computed from the anchor and never stored.
CREATE TABLE entitlement_resets (
    entitlement_id    TEXT    NOT NULL REFERENCES entitlements (id),
    at_us             INTEGER NOT NULL,                     -- truncated to the minute
    retain_anchor     INTEGER NOT NULL,
    preserve_overage  INTEGER,                              -- NULL: the entitlement's setting
    created_us        INTEGER NOT NULL,
    PRIMARY KEY (entitlement_id, at_us)
) WITHOUT ROWID;

-- Grants: immutable except for voiding.
CREATE TABLE grants (
    id                    TEXT PRIMARY KEY,
    entitlement_id        TEXT    NOT NULL REFERENCES entitlements (id),
    subject_key           TEXT    NOT NULL,
    feature_key           TEXT    NOT NULL,
    amount                TEXT    NOT NULL,                 -- decimal text, > 0
    priority              INTEGER NOT NULL,
    effective_us          INTEGER NOT NULL,                 -- truncated to the minute
    expiration_duration   TEXT    NOT NULL,                 -- HOUR, DAY, WEEK, MONTH, YEAR
    expiration_count      INTEGER NOT NULL,
    expires_us            INTEGER NOT NULL,
    max_rollover_amount   TEXT    NOT NULL,
    min_rollover_amount   TEXT    NOT NULL,
    recurrence_interval   TEXT,                             -- NULL: not recurring
    recurrence_anchor_us  INTEGER,
    metadata              TEXT    NOT NULL DEFAULT '{}',
    created_us            INTEGER NOT NULL,
    updated_us            INTEGER NOT NULL,
    voided_us             INTEGER                           -- NULL while valid
);
CREATE INDEX grants_by_entitlement ON grants (entitlement_id, effective_us, created_us, id);
CREATE INDEX grants_by_effective ON grants (effective_us, created_us, id);
