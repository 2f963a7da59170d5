"""The SQL both backends share, written once against ``connection.Connection`` (sqlite3's ``execute`` shape,
``?`` placeholders) and a ``connection.Dialect`` for the few phrases that differ. See README.md."""
