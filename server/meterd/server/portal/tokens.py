"""Signing and checking portal token text: HS256 JWTs with claims sub, jti, iat, exp, iss and the
allowed meter slugs. Expiry and invalidation are checked by the service against its clock and store."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import jwt

from meterd.server.errors import Unauthenticated
from meterd.server.portal.model import ALGORITHM, ALLOWED_METERS_CLAIM, ISSUER, PortalToken

_REQUIRED_CLAIMS = ["sub", "jti", "iat", "exp", "iss"]


@dataclass(frozen=True, slots=True)
class VerifiedClaims:
    """The claims of a token whose signature, algorithm and issuer are good."""

    token_id: str
    subject: str
    allowed_meter_slugs: tuple[str, ...]
    expires_at_s: int


def looks_like_jwt(text: str) -> bool:
    """Whether a bearer credential has a JWT's shape (three dot-separated parts)."""
    return text.count(".") == 2


class TokenSigner:
    """Signs and verifies portal token text with one secret."""

    def __init__(self, secret: str) -> None:
        if not secret:
            raise ValueError("the portal secret must not be empty")
        self._key = secret.encode()

    def sign(self, token: PortalToken) -> str:
        """The JWT for a token; exp is rounded up to the second (the stored expiry stays exact)."""
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": token.subject,
            "jti": token.id,
            "iat": math.floor(token.created_at.timestamp()),
            "exp": math.ceil(token.expires_at.timestamp()),
        }
        if token.allowed_meter_slugs:
            claims[ALLOWED_METERS_CLAIM] = list(token.allowed_meter_slugs)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, text: str) -> VerifiedClaims:
        """The claims of a token signed with this secret; Unauthenticated for anything else.

        Time claims are not checked here: the service checks them against its own clock.
        """
        try:
            claims = jwt.decode(
                text,
                self._key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                options={
                    "require": _REQUIRED_CLAIMS,
                    "verify_exp": False,
                    "verify_iat": False,
                    "verify_nbf": False,
                    "verify_aud": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise Unauthenticated("portal token: invalid signature") from exc
        except jwt.InvalidTokenError as exc:
            raise Unauthenticated(f"portal token: {exc}") from exc
        subject, token_id = claims.get("sub"), claims.get("jti")
        allowed = claims.get(ALLOWED_METERS_CLAIM, [])
        if not isinstance(subject, str) or not subject or not isinstance(token_id, str) or not token_id:
            raise Unauthenticated("portal token: sub and jti must be non-empty strings")
        if not isinstance(allowed, list) or not all(isinstance(s, str) for s in allowed):
            raise Unauthenticated(f"portal token: {ALLOWED_METERS_CLAIM} must be a list of strings")
        exp = claims.get("exp")
        if not isinstance(exp, int | float):
            raise Unauthenticated("portal token: exp must be a number")
        return VerifiedClaims(token_id, subject, tuple(allowed), int(exp))
