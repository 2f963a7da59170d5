"""The authentication rules, without gRPC: which credential may make which call."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from meterd.server.config import Config
from meterd.server.errors import PermissionDenied, Unauthenticated
from meterd.server.portal.auth import PORTAL_QUERY_METHOD, Authenticator, bearer_of, is_loopback
from meterd.server.portal.model import PortalAccess
from meterd.server.portal.service import PortalService
from meterd.server.store.sql.portal import SqlPortalStore
from meterd.server.store.sqlite.db import Database, SharedSql
from meterd.server.timeutil import utcnow
from meterd.server.wiring import portal as portal_wiring

ADMIN = "/meterd.v1.SubjectService/ListSubjects"
GOOD_JWT = "good.portal.token"
BAD_JWT = "bad.portal.token"


class FakePortal:
    def authenticate(self, text: str) -> PortalAccess:
        if text == GOOD_JWT:
            return PortalAccess("T1", "c1", ())
        raise Unauthenticated("portal token: invalid signature")


def auth(admin_key: str | None) -> Authenticator:
    return Authenticator(admin_key, FakePortal())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ([], None),
        ([("x-other", "1")], None),
        ([("authorization", "Bearer abc")], "abc"),
        ([("authorization", "bearer  abc ")], "abc"),
        ([("Authorization", "BEARER abc")], "abc"),
    ],
)
def test_bearer_of(metadata: list[tuple[str, str]], expected: str | None) -> None:
    assert bearer_of(metadata) == expected


@pytest.mark.parametrize("value", ["Basic abc", "abc", "Bearer", "Bearer   "])
def test_bearer_of_refuses_other_schemes(value: str) -> None:
    with pytest.raises(Unauthenticated):
        bearer_of([("authorization", value)])


def test_admin_calls_with_an_admin_key() -> None:
    a = auth("secret-key")
    assert a.check(ADMIN, "secret-key") is None
    for bearer, message in ((None, "missing"), ("secret-ke", "invalid"), ("secret-key2", "invalid")):
        with pytest.raises(Unauthenticated, match=message):
            a.check(ADMIN, bearer)
    with pytest.raises(PermissionDenied):
        a.check(ADMIN, GOOD_JWT)
    with pytest.raises(Unauthenticated):
        a.check(ADMIN, BAD_JWT)


def test_admin_calls_without_an_admin_key() -> None:
    a = auth(None)
    assert a.check(ADMIN, None) is None
    assert a.check(ADMIN, "some-api-key") is None
    with pytest.raises(PermissionDenied):
        a.check(ADMIN, GOOD_JWT)
    with pytest.raises(Unauthenticated):
        a.check(ADMIN, BAD_JWT)


@pytest.mark.parametrize("admin_key", [None, "secret-key"])
def test_the_portal_query_needs_a_valid_portal_token(admin_key: str | None) -> None:
    a = auth(admin_key)
    assert a.check(PORTAL_QUERY_METHOD, GOOD_JWT) == PortalAccess("T1", "c1", ())
    for bearer in (None, "secret-key", BAD_JWT):
        with pytest.raises(Unauthenticated):
            a.check(PORTAL_QUERY_METHOD, bearer)


@pytest.mark.parametrize(
    ("listen", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.0.0.2:1", True),
        ("localhost:50051", True),
        ("[::1]:50051", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        ("10.0.0.5:50051", False),
        (":50051", False),
        ("example.com:50051", False),
    ],
)
def test_is_loopback(listen: str, loopback: bool) -> None:
    assert is_loopback(listen) is loopback


def _wire(tmp_path: Path, **config: object) -> tuple[PortalService, Database]:
    db = Database(tmp_path / "meterd.db")
    try:
        settings = Config(db=str(tmp_path / "meterd.db"), **config)  # type: ignore[arg-type]
        return portal_wiring.build(settings, SqlPortalStore(SharedSql(db)), utcnow), db
    except BaseException:
        db.close()
        raise


def test_open_non_loopback_listener_logs_a_loud_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="meterd.auth"):
        _, db = _wire(tmp_path, listen="0.0.0.0:50051")
    db.close()
    assert any("NO ADMIN KEY" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    "config", [{"listen": "127.0.0.1:50051"}, {"listen": "0.0.0.0:50051", "admin_key": "k"}]
)
def test_no_warning_on_loopback_or_with_an_admin_key(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, config: dict[str, str]
) -> None:
    with caplog.at_level(logging.WARNING, logger="meterd.auth"):
        _, db = _wire(tmp_path, **config)
    db.close()
    assert not [r for r in caplog.records if "NO ADMIN KEY" in r.getMessage()]


def test_generated_secret_is_kept_in_the_database(tmp_path: Path) -> None:
    ctx, db = _wire(tmp_path)
    text = ctx.create_token("c1", [], None).text
    db.close()
    ctx2, db2 = _wire(tmp_path)
    try:
        assert ctx2.authenticate(text).subject == "c1"
    finally:
        db2.close()


def test_ttl_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="portal_token_ttl_seconds"):
        _wire(tmp_path, portal_token_ttl_seconds=0)


def test_default_ttl_is_an_hour(tmp_path: Path) -> None:
    ctx, db = _wire(tmp_path)
    try:
        token = ctx.create_token("c1", [], None).token
        assert token.expires_at - token.created_at == timedelta(hours=1)
    finally:
        db.close()
