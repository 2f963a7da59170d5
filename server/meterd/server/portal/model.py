"""Portal tokens (SPEC § Portal): what a token is, what it grants, and the rules for issuing one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from meterd.server.errors import InvalidArgument, PermissionDenied, ViolationCollector
from meterd.server.meters.model import SLUG_MAX_LENGTH, SLUG_PATTERN
from meterd.server.subjects.model import MAX_KEY_LENGTH

ISSUER = "meterd"
ALGORITHM = "HS256"
ALLOWED_METERS_CLAIM = "allowed_meter_slugs"


@dataclass(frozen=True, slots=True)
class PortalToken:
    """An issued token as stored (never its signed text)."""

    id: str
    subject: str
    allowed_meter_slugs: tuple[str, ...]  # empty: every meter
    expires_at: datetime
    created_at: datetime
    invalidated_at: datetime | None = None

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at

    def usable(self, now: datetime) -> bool:
        return self.invalidated_at is None and not self.expired(now)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A new token and its signed text (only CreatePortalToken ever returns the text)."""

    token: PortalToken
    text: str


@dataclass(frozen=True, slots=True)
class PortalAccess:
    """What a verified portal token lets its bearer do: query these meters for this subject, and watch the
    subject's entitlement values (those of these meters, and its boolean and static ones)."""

    token_id: str
    subject: str
    allowed_meter_slugs: tuple[str, ...]  # empty: every meter
    expires_at: datetime | None = None  # a stream it opened ends then

    def allows_meter(self, meter: str) -> bool:
        return not self.allowed_meter_slugs or meter in self.allowed_meter_slugs

    def allows_entitlement(self, metered: bool, meter: str) -> bool:
        """Whether the token may see an entitlement's value: a metered value shows its meter's usage, so the
        meter must be one the token may read; a boolean or static value shows no usage."""
        return not metered or self.allows_meter(meter)

    def check_subject(self, subjects: list[str]) -> None:
        """A portal call reads its token's subject only: naming any subject is refused (InvalidArgument)."""
        if subjects:
            raise InvalidArgument.of("subject", "a portal token reads its own subject only")

    def check_meter(self, meter: str) -> None:
        """The rule of every portal query (gRPC and HTTP): a meter is named and the token may read it.
        Raises InvalidArgument (``meter``) or PermissionDenied."""
        if not meter:
            raise InvalidArgument.of("meter", "is required")
        if not self.allows_meter(meter):
            raise PermissionDenied(f"this portal token may not query meter {meter!r}")


def validate_new_token(
    subject: str, allowed_meter_slugs: tuple[str, ...], expires_at: datetime | None, now: datetime
) -> ViolationCollector:
    """Checks a CreatePortalToken request; the caller raises the collected violations."""
    errors = ViolationCollector()
    if not subject:
        errors.add("subject", "is required")
    elif len(subject) > MAX_KEY_LENGTH:
        errors.add("subject", f"at most {MAX_KEY_LENGTH} characters (got {len(subject)})")
    seen: set[str] = set()
    for i, slug in enumerate(allowed_meter_slugs):
        field = f"allowed_meter_slugs[{i}]"
        if not slug:
            errors.add(field, "must not be empty")
        elif len(slug) > SLUG_MAX_LENGTH or not SLUG_PATTERN.fullmatch(slug):
            errors.add(field, f"{slug!r} is not a meter slug")
        elif slug in seen:
            errors.add(field, f"duplicate meter slug {slug!r}")
        seen.add(slug)
    if expires_at is not None and expires_at <= now:
        errors.add("expires_at", "must be in the future")
    return errors
