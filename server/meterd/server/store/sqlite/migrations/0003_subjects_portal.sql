-- Subjects and portal tokens (issue 4).
-- Times are integer microseconds since the Unix epoch (UTC).

-- The customers usage belongs to. Events name subjects by key; no foreign key, so deleting a subject
-- leaves its events and usage in place.
CREATE TABLE subjects (
    id                       TEXT    PRIMARY KEY,
    key                      TEXT    NOT NULL UNIQUE,
    display_name             TEXT,
    metadata                 TEXT    NOT NULL DEFAULT '{}',   -- JSON object: string -> string
    current_period_start_us  INTEGER,
    current_period_end_us    INTEGER,
    stripe_customer_id       TEXT,
    created_us               INTEGER NOT NULL,
    updated_us               INTEGER NOT NULL
);

-- Every portal token issued (never its signed text). A token is accepted only if its id is here and
-- invalidated_us is NULL, so invalidation survives restarts.
CREATE TABLE portal_tokens (
    id                   TEXT    PRIMARY KEY,                 -- the JWT's jti
    subject              TEXT    NOT NULL,
    allowed_meter_slugs  TEXT    NOT NULL DEFAULT '[]',       -- JSON array; empty: all meters
    expires_us           INTEGER NOT NULL,
    created_us           INTEGER NOT NULL,
    invalidated_us       INTEGER
);
CREATE INDEX portal_tokens_by_created ON portal_tokens (created_us DESC, id DESC);
CREATE INDEX portal_tokens_by_subject ON portal_tokens (subject, created_us DESC, id DESC);

-- Portal settings kept in the database, such as the signing secret when none is configured.
CREATE TABLE portal_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
