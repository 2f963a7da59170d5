"""Portal token signing and the token service's checks, with an in-memory store and a hand-moved clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import jwt
import pytest

from meterd.server.errors import InvalidArgument, NotFound, Unauthenticated
from meterd.server.portal.model import PortalToken
from meterd.server.portal.service import Cursor, PortalService
from meterd.server.portal.tokens import TokenSigner, looks_like_jwt

T0 = datetime(2024, 1, 1, tzinfo=UTC)
SECRET = "unit-test-portal-secret-0123456789abcdef"


class MemoryStore:
    def __init__(self) -> None:
        self.tokens: dict[str, PortalToken] = {}

    def insert(self, token: PortalToken) -> None:
        self.tokens[token.id] = token

    def get(self, token_id: str) -> PortalToken | None:
        return self.tokens.get(token_id)

    def list(
        self, subject: str | None, usable_at: datetime | None, limit: int, after: Cursor | None
    ) -> tuple[list[PortalToken], Cursor | None]:
        found = [
            t
            for t in self.tokens.values()
            if (subject is None or t.subject == subject) and (usable_at is None or t.usable(usable_at))
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)[:limit], None

    def invalidate(self, subject: str | None, token_id: str | None, at: datetime) -> int:
        count = 0
        for t in list(self.tokens.values()):
            if t.invalidated_at is None and subject in (None, t.subject) and token_id in (None, t.id):
                self.tokens[t.id] = PortalToken(
                    t.id, t.subject, t.allowed_meter_slugs, t.expires_at, t.created_at, at
                )
                count += 1
        return count


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def service(clock: Clock) -> PortalService:
    return PortalService(MemoryStore(), TokenSigner(SECRET), clock, timedelta(hours=1))


def test_signed_claims() -> None:
    token = PortalToken(
        "ID1", "c1", ("a", "b"), T0 + timedelta(minutes=5, microseconds=1), T0 + timedelta(seconds=0.7)
    )
    text = TokenSigner(SECRET).sign(token)
    assert looks_like_jwt(text)
    claims = jwt.decode(text, SECRET, algorithms=["HS256"], options={"verify_exp": False})
    # exp rounds up and iat down to whole seconds: the token never outlives its stored expiry by more than 1s.
    assert claims == {
        "iss": "meterd",
        "sub": "c1",
        "jti": "ID1",
        "iat": int(T0.timestamp()),
        "exp": int(T0.timestamp()) + 301,
        "allowed_meter_slugs": ["a", "b"],
    }
    verified = TokenSigner(SECRET).verify(text)
    assert (verified.token_id, verified.subject, verified.allowed_meter_slugs) == ("ID1", "c1", ("a", "b"))


@pytest.mark.parametrize(
    "text",
    [
        jwt.encode(
            {"iss": "meterd", "sub": "c1", "jti": "x", "iat": 0, "exp": 1},
            "other-secret-0123456789abcdef01234",
            algorithm="HS256",
        ),
        jwt.encode(
            {"iss": "openmeter", "sub": "c1", "jti": "x", "iat": 0, "exp": 1}, SECRET, algorithm="HS256"
        ),
        jwt.encode({"iss": "meterd", "sub": "c1", "iat": 0, "exp": 1}, SECRET, algorithm="HS256"),  # no jti
        jwt.encode({"iss": "meterd", "sub": "", "jti": "x", "iat": 0, "exp": 1}, SECRET, algorithm="HS256"),
        jwt.encode(
            {"iss": "meterd", "sub": "c1", "jti": "x", "iat": 0, "exp": 1, "allowed_meter_slugs": "a"},
            SECRET,
            algorithm="HS256",
        ),
        # Another HMAC algorithm (a 64-byte key, which HS512 wants).
        jwt.encode(
            {"iss": "meterd", "sub": "c1", "jti": "x", "iat": 0, "exp": 1}, SECRET * 2, algorithm="HS512"
        ),
        jwt.encode({"iss": "meterd", "sub": "c1", "jti": "x", "iat": 0, "exp": 1}, None, algorithm="none"),
        "a.b.c",
        "",
    ],
)
def test_verify_refuses_anything_but_our_own_tokens(text: str) -> None:
    with pytest.raises(Unauthenticated):
        TokenSigner(SECRET).verify(text)


def test_authenticate_checks_expiry_against_the_clock(service: PortalService, clock: Clock) -> None:
    issued = service.create_token("c1", ["api_calls"], None)
    assert issued.token.expires_at == T0 + timedelta(hours=1)
    clock.now = T0 + timedelta(minutes=59, seconds=59, microseconds=999_999)
    access = service.authenticate(issued.text)
    assert (access.subject, access.allowed_meter_slugs) == ("c1", ("api_calls",))
    assert access.allows_meter("api_calls") and not access.allows_meter("logins")
    clock.now = T0 + timedelta(hours=1)
    with pytest.raises(Unauthenticated, match="expired"):
        service.authenticate(issued.text)


def test_empty_allowed_list_allows_every_meter(service: PortalService) -> None:
    access = service.authenticate(service.create_token("c1", [], None).text)
    assert access.allows_meter("anything")


def test_authenticate_refuses_invalidated_and_unknown_tokens(service: PortalService) -> None:
    a = service.create_token("c1", [], None)
    b = service.create_token("c2", [], None)
    assert service.invalidate("c1", None) == 1
    with pytest.raises(Unauthenticated, match="invalidated"):
        service.authenticate(a.text)
    service.authenticate(b.text)
    stranger = TokenSigner(SECRET).sign(PortalToken("NEVER-ISSUED", "c1", (), T0 + timedelta(hours=1), T0))
    with pytest.raises(Unauthenticated, match="unknown"):
        service.authenticate(stranger)


def test_invalidate_by_id_checks_the_id_and_subject(service: PortalService) -> None:
    a = service.create_token("c1", [], None)
    with pytest.raises(NotFound):
        service.invalidate(None, "missing")
    with pytest.raises(NotFound):
        service.invalidate("c2", a.token.id)
    assert service.invalidate("c1", a.token.id) == 1
    assert service.invalidate(None, a.token.id) == 0


def test_create_validation_collects_every_field(service: PortalService) -> None:
    with pytest.raises(InvalidArgument) as info:
        service.create_token("", ["ok", "Bad", "ok", ""], T0)
    assert [v.field for v in info.value.violations] == [
        "subject",
        "allowed_meter_slugs[1]",
        "allowed_meter_slugs[2]",
        "allowed_meter_slugs[3]",
        "expires_at",
    ]


def test_list_page_size_limits(service: PortalService) -> None:
    with pytest.raises(InvalidArgument):
        service.list_tokens(None, False, -1, None)
    with pytest.raises(InvalidArgument):
        service.list_tokens(None, False, 1001, None)
