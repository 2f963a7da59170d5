"""The portal domain: the token service (its signing secret configured, or generated into the database) and
the authentication interceptor that guards every call (so it is there even when no admin key is configured:
portal queries need it)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta

from meterd.server.config import Config, read_secret_file
from meterd.server.portal.auth import Authenticator, is_loopback
from meterd.server.portal.service import PortalService
from meterd.server.portal.tokens import TokenSigner
from meterd.server.store.stores import PortalStore

log = logging.getLogger("meterd.auth")

# HS256 keys shorter than the hash output weaken the signature (RFC 7518 § 3.2).
MIN_SECRET_BYTES = 32


def build(config: Config, store: PortalStore, clock: Callable[[], datetime]) -> PortalService:
    """The token service; a ValueError for a non-positive token lifetime. Warns when the configured secret
    is short, and loudly when nothing guards a port others can reach."""
    if config.portal_token_ttl_seconds <= 0:
        raise ValueError(f"portal_token_ttl_seconds must be positive, got {config.portal_token_ttl_seconds}")
    # A configured secret (environment or config, given or in a file) wins; else one generated into the database.
    configured = config.portal_secret or (
        read_secret_file(config.portal_secret_file) if config.portal_secret_file else None
    )
    secret = configured or store.secret(lambda: secrets.token_urlsafe(48))
    if configured and len(configured.encode()) < MIN_SECRET_BYTES:
        log.warning(
            "the configured portal secret is shorter than %d bytes; portal tokens are weakly signed",
            MIN_SECRET_BYTES,
        )
    for listen in (config.listen, config.http_listen):
        if listen and not config.admin_key and not is_loopback(listen):
            log.warning(
                "NO ADMIN KEY CONFIGURED and listening on %s, which is not a loopback address: anyone who "
                "can reach this port can read and change every meter, subject and token. Set "
                "METERD_API_KEY (or auth.admin_key in the config file).",
                listen,
            )
    ttl = timedelta(seconds=config.portal_token_ttl_seconds)
    return PortalService(store, TokenSigner(secret), clock, ttl)


def authenticator(config: Config, service: PortalService) -> Authenticator:
    """Who may make which call (the admin key, or a portal token for the portal's meter query): one set of
    rules for the gRPC interceptor and the HTTP API."""
    return Authenticator(config.admin_key or None, service)
