-- Raw events, kept for ListEvents, for meters created later, and for audit.
-- Times are integer microseconds since the Unix epoch (UTC).
CREATE TABLE events (
    seq              INTEGER PRIMARY KEY,           -- ingestion order
    source           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    type             TEXT    NOT NULL,
    subject          TEXT    NOT NULL,
    time_us          INTEGER NOT NULL,              -- event time
    ingested_us      INTEGER NOT NULL,
    specversion      TEXT    NOT NULL,
    datacontenttype  TEXT,
    dataschema       TEXT,
    data             TEXT,                          -- JSON text as sent; NULL when absent
    has_error        INTEGER NOT NULL DEFAULT 0
);
-- Dedupe for the life of the database.
CREATE UNIQUE INDEX events_dedupe ON events (source, id);
CREATE INDEX events_by_time ON events (time_us DESC, seq DESC);
CREATE INDEX events_by_type_time ON events (type, time_us);

-- Why a meter could not read an event (one row per event and meter).
CREATE TABLE event_errors (
    event_seq   INTEGER NOT NULL REFERENCES events (seq),
    meter_slug  TEXT    NOT NULL,
    message     TEXT    NOT NULL,
    PRIMARY KEY (event_seq, meter_slug)
) WITHOUT ROWID;
CREATE INDEX event_errors_by_meter ON event_errors (meter_slug);
