"""Wires the portal domain: token service over the store, its servicer, and the auth interceptor
that guards every call (so it is wired even when no admin key is configured: portal queries need it)."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from typing import Any

from meterd.server.app import AppContext
from meterd.server.config import read_secret_file
from meterd.server.portal.auth import Authenticator, AuthInterceptor, is_loopback
from meterd.server.portal.service import PortalService
from meterd.server.portal.servicer import PortalServicer
from meterd.server.portal.tokens import TokenSigner

log = logging.getLogger("meterd.auth")

# HS256 keys shorter than the hash output weaken the signature (RFC 7518 § 3.2).
MIN_SECRET_BYTES = 32


def wire(ctx: AppContext) -> None:
    config = ctx.config
    if config.portal_token_ttl_seconds <= 0:
        raise ValueError(f"portal_token_ttl_seconds must be positive, got {config.portal_token_ttl_seconds}")
    if ctx.db.backend == "postgres":
        from meterd.server.store.postgres.portal import PgPortalStore

        store: Any = PgPortalStore(ctx.db)
    else:
        from meterd.server.store.sqlite.portal import SqlitePortalStore

        store = SqlitePortalStore(ctx.db)
    # A configured secret (environment or config, given or in a file) wins; else one generated into the database.
    configured = config.portal_secret or (read_secret_file(config.portal_secret_file) if config.portal_secret_file else None)
    secret = configured or store.secret(lambda: secrets.token_urlsafe(48))
    service = PortalService(store, TokenSigner(secret), ctx.clock, timedelta(seconds=config.portal_token_ttl_seconds))
    ctx.services["portal"] = service
    ctx.add_servicer("PortalService", PortalServicer(service, lambda: ctx.servicers.get("MeterService")))
    authenticator = Authenticator(config.admin_key or None, service)
    ctx.services["authenticator"] = authenticator  # the HTTP API authenticates with the same rules
    ctx.interceptors.append(AuthInterceptor(authenticator))

    def warn_if_open() -> None:
        if configured and len(configured.encode()) < MIN_SECRET_BYTES:
            log.warning("the configured portal secret is shorter than %d bytes; portal tokens are weakly signed",
                        MIN_SECRET_BYTES)
        for listen in (config.listen, config.http_listen):
            if listen and not config.admin_key and not is_loopback(listen):
                log.warning(
                    "NO ADMIN KEY CONFIGURED and listening on %s, which is not a loopback address: anyone who "
                    "can reach this port can read and change every meter, subject and token. Set "
                    "METERD_API_KEY (or auth.admin_key in the config file).", listen,
                )

    ctx.on_start.append(warn_if_open)
