-- Raw events older than storage.raw_event_retention_days are removed (issue 23); their dedupe keys move here,
-- so that an event sent again after its row is gone is still a duplicate (SPEC: meterd remembers dedupe keys
-- for the life of the database). Ingest reads this table only once it holds a key.
CREATE TABLE event_keys_retired (
    source  TEXT NOT NULL,
    id      TEXT NOT NULL,
    PRIMARY KEY (source, id)
) WITHOUT ROWID;
