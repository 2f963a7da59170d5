-- Balance snapshots of metered entitlements (issue 6): the credit engine's state at an instant, a cache of
-- what a replay from measure_usage_from would give. A value call replays only from the latest snapshot at or
-- before its instant. Any change before a snapshot deletes it: a grant created effective at or before it, a
-- void, a manual reset (rows at or after the changed instant), and a late event of the feature meter's type
-- for the subject (rows after the event's time). Amounts are decimal TEXT (exact).
CREATE TABLE balance_snapshots (
    entitlement_id   TEXT    NOT NULL REFERENCES entitlements (id),
    at_us            INTEGER NOT NULL,                  -- a whole minute; the state has every event at it applied
    event_type       TEXT    NOT NULL,                  -- the feature meter's event type (for late events)
    subject_key      TEXT    NOT NULL,
    balances         TEXT    NOT NULL,                  -- JSON object: grant id -> decimal text (active grants)
    overage          TEXT    NOT NULL,                  -- decimal text
    usage            TEXT    NOT NULL,                  -- decimal text: usage in [period_start, at)
    period_start_us  INTEGER NOT NULL,
    created_us       INTEGER NOT NULL,
    PRIMARY KEY (entitlement_id, at_us)
) WITHOUT ROWID;
-- Late events find the snapshots they invalidate with one range scan.
CREATE INDEX balance_snapshots_by_events ON balance_snapshots (event_type, subject_key, at_us);
