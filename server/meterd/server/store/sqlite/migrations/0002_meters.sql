-- Meters and their minute pre-aggregates (issue 3).
CREATE TABLE meters (
    id              TEXT PRIMARY KEY,
    slug            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    event_type      TEXT NOT NULL,
    aggregation     TEXT NOT NULL,
    value_property  TEXT,
    group_by        TEXT NOT NULL DEFAULT '{}',     -- JSON object: group key -> JSONPath
    created_us      INTEGER NOT NULL,
    updated_us      INTEGER NOT NULL
);
