-- Server-wide settings kept in the database (issue 11). page_token_key signs page tokens (HMAC-SHA256), so a
-- token is only accepted by the database that issued it; it is made here, once, for new and existing databases.
CREATE TABLE server_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO server_settings (name, value) VALUES ('page_token_key', lower(hex(randomblob(32))));

-- Balance snapshots are built on one definition of the feature's meter: the meter's id and update time. A
-- snapshot of another version (the meter deleted and created again with the same slug, or its config
-- definition changed) is never read. Existing rows have none, so they are never read either (a cache).
ALTER TABLE balance_snapshots ADD COLUMN meter_version TEXT;
