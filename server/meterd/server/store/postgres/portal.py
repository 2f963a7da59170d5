"""PostgreSQL storage of portal tokens and the signing secret.

Nothing is cached in memory: every authenticated portal call reads its token's row, so a token invalidated
through one replica is refused by every other at once. The signing secret is generated once (the first
replica's INSERT wins, ON CONFLICT DO NOTHING) and read by all.
"""

from __future__ import annotations

from meterd.server.store.sqlite.portal import SqlitePortalStore


class PgPortalStore(SqlitePortalStore):
    """Tokens in ``portal_tokens``, settings in ``portal_settings`` (the SQLite store's SQL is portable)."""
