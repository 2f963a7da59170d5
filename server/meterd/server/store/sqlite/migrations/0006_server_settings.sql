-- Server-wide settings kept in the database (issue 11). page_token_key signs page tokens (HMAC-SHA256), so a
-- token is only accepted by the database that issued it; it is made here, once, for new and existing databases.
CREATE TABLE server_settings (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;
INSERT INTO server_settings (name, value) VALUES ('page_token_key', lower(hex(randomblob(32))));
