"""Portal tokens: issuing, listing, invalidating, and turning a bearer token into PortalAccess.
Knows the store only through the small protocol below."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Protocol

from meterd.server.errors import InvalidArgument, NotFound, Unauthenticated
from meterd.server.ids import new_id
from meterd.server.portal.model import IssuedToken, PortalAccess, PortalToken, validate_new_token
from meterd.server.portal.tokens import TokenSigner

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

# A page cursor: (created_us, id) of the previous page's last token.
Cursor = tuple[int, str]


class PortalTokenStore(Protocol):
    def insert(self, token: PortalToken) -> None: ...

    def get(self, token_id: str) -> PortalToken | None: ...

    def list(
        self, subject: str | None, usable_at: datetime | None, limit: int, after: Cursor | None
    ) -> tuple[list[PortalToken], Cursor | None]: ...

    def invalidate(self, subject: str | None, token_id: str | None, at: datetime) -> int: ...


class PortalService:
    """Issues signed tokens and checks them on every portal call."""

    def __init__(
        self, store: PortalTokenStore, signer: TokenSigner, clock: Callable[[], datetime], ttl: timedelta
    ) -> None:
        self._store = store
        self._signer = signer
        self._clock = clock
        self._ttl = ttl

    def create_token(
        self, subject: str, allowed_meter_slugs: Sequence[str], expires_at: datetime | None
    ) -> IssuedToken:
        """A new token for ``subject`` (the subject need not have been upserted: events name subjects freely).

        ``expires_at`` defaults to now + the configured TTL. Raises InvalidArgument for an empty or long
        subject, malformed or duplicate slugs, or an expiry not in the future.
        """
        now = self._clock()
        slugs = tuple(allowed_meter_slugs)
        validate_new_token(subject, slugs, expires_at, now).raise_if_any()
        token = PortalToken(
            id=new_id(),
            subject=subject,
            allowed_meter_slugs=slugs,
            expires_at=expires_at or now + self._ttl,
            created_at=now,
        )
        text = self._signer.sign(token)
        self._store.insert(token)
        return IssuedToken(token, text)

    def list_tokens(
        self, subject: str | None, include_invalid: bool, page_size: int, after: Cursor | None
    ) -> tuple[list[PortalToken], Cursor | None, datetime]:
        """One page of tokens, newest first; without ``include_invalid`` only usable ones.

        Also returns the instant the page was computed at (to report ``expired``).
        """
        if page_size < 0:
            raise InvalidArgument.of("page_size", "must not be negative")
        if page_size > MAX_PAGE_SIZE:
            raise InvalidArgument.of("page_size", f"must be at most {MAX_PAGE_SIZE}")
        now = self._clock()
        page, cursor = self._store.list(
            subject or None, None if include_invalid else now, page_size or DEFAULT_PAGE_SIZE, after
        )
        return page, cursor, now

    def invalidate(self, subject: str | None, token_id: str | None) -> int:
        """Invalidates every token, one subject's, or one by id (both given: that token, if it is the
        subject's). Returns how many tokens were not invalidated before; NotFound for an unknown id."""
        if token_id:
            token = self._store.get(token_id)
            if token is None or (subject and token.subject != subject):
                raise NotFound(f"portal token not found: {token_id}")
        return self._store.invalidate(subject or None, token_id or None, self._clock())

    def authenticate(self, text: str) -> PortalAccess:
        """What a bearer token grants. Unauthenticated for a token that is tampered with, signed with
        another secret, unknown to this server, expired or invalidated."""
        claims = self._signer.verify(text)
        token = self._store.get(claims.token_id)
        # The signature makes a mismatch impossible unless the secret leaked; refuse rather than trust it.
        if token is None or token.subject != claims.subject:
            raise Unauthenticated("portal token: unknown token")
        if token.invalidated_at is not None:
            raise Unauthenticated("portal token: invalidated")
        if token.expired(self._clock()):
            raise Unauthenticated("portal token: expired")
        return PortalAccess(token.id, token.subject, token.allowed_meter_slugs, token.expires_at)
