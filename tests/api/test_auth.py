"""Authentication through the real server: the admin key, portal tokens on every kind of call, and each
way a portal token is refused (invalidated, expired, tampered with, signed with another secret)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import jwt
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from meterd.client import OpenMeter, PermissionDeniedError, UnauthenticatedError
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import events_pb2, events_pb2_grpc

T0 = datetime(2024, 1, 1, tzinfo=UTC)  # the clocked server's start
ADMIN_KEY = "admin-key-for-tests"
METERS = [
    {"slug": "logins", "eventType": "login", "aggregation": "COUNT"},
    {"slug": "api_calls", "eventType": "api-calls", "aggregation": "COUNT"},
]
RANGE = {"from_": T0 - timedelta(hours=2), "to": T0}


@pytest.fixture
def secured(server_config: Config) -> Config:
    server_config.admin_key = ADMIN_KEY
    server_config.meters = METERS
    return server_config


@pytest.fixture
def admin(secured: Config, clocked_server: MeterdServer) -> Iterator[OpenMeter]:
    """An admin client of a clocked server that requires the admin key, with usage for c1 and c2."""
    with OpenMeter(clocked_server.address, api_key=ADMIN_KEY) as om:
        om.events.ingest(
            [
                {
                    "id": f"{s}-{i}",
                    "source": "t",
                    "type": "login",
                    "subject": s,
                    "time": T0 - timedelta(hours=1),
                }
                for s, n in (("c1", 2), ("c2", 5))
                for i in range(n)
            ]
        )
        yield om


def portal(server: MeterdServer, token: str) -> OpenMeter:
    return OpenMeter(server.address, portal_token=token)


def query_value(server: MeterdServer, token: str, meter: str = "logins") -> float | None:
    """The portal query's single value."""
    with portal(server, token) as om:
        rows = om.portal.query_meter(meter, **RANGE).rows
        return sum(r.value for r in rows)


def refused(server: MeterdServer, token: str, match: str | None = None) -> None:
    with portal(server, token) as om, pytest.raises(UnauthenticatedError, match=match):
        om.portal.query_meter("logins", **RANGE)


def tampered(token: str, **claims: Any) -> str:
    """The token with claims changed in its payload and the original signature kept."""
    header, payload, signature = token.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    data.update(claims)
    new_payload = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return f"{header}.{new_payload}.{signature}"


# -- the admin key -------------------------------------------------------------------------------------
def test_without_an_admin_key_admin_calls_are_open(om: OpenMeter, server: MeterdServer) -> None:
    om.subjects.upsert({"key": "a"})
    with OpenMeter(server.address, api_key="anything") as other:
        assert [s.key for s in other.subjects.list()] == ["a"]


def test_missing_or_wrong_admin_key_is_unauthenticated(secured: Config, server: MeterdServer) -> None:
    with (
        OpenMeter(server.address) as anonymous,
        pytest.raises(UnauthenticatedError, match="missing admin key"),
    ):
        anonymous.subjects.list()
    for key in ("wrong", ADMIN_KEY + "x", ADMIN_KEY[:-1]):
        with (
            OpenMeter(server.address, api_key=key) as wrong,
            pytest.raises(UnauthenticatedError, match="invalid"),
        ):
            wrong.events.list()
    with OpenMeter(server.address, api_key=ADMIN_KEY) as good:
        good.subjects.upsert({"key": "a"})
        assert [s.key for s in good.subjects.list()] == ["a"]


def test_authorization_must_be_a_bearer_credential(secured: Config, server: MeterdServer) -> None:
    stub = events_pb2_grpc.EventServiceStub(grpc.insecure_channel(server.address))
    for value in (f"Basic {ADMIN_KEY}", ADMIN_KEY, "Bearer "):
        with pytest.raises(grpc.RpcError) as info:
            stub.ListEvents(events_pb2.ListEventsRequest(), metadata=[("authorization", value)])
        assert info.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # The scheme is case-insensitive.
    stub.ListEvents(events_pb2.ListEventsRequest(), metadata=[("authorization", f"bearer {ADMIN_KEY}")])


def test_streaming_ingest_needs_the_admin_key(secured: Config, server: MeterdServer) -> None:
    event = {"id": "1", "source": "t", "type": "login", "subject": "c1"}
    with (
        OpenMeter(server.address) as anonymous,
        pytest.raises(UnauthenticatedError),
        anonymous.events.stream() as stream,
    ):
        stream.send(event)
    with OpenMeter(server.address, api_key=ADMIN_KEY) as good:
        with good.events.stream() as stream:
            stream.send(event)
        assert stream.tally.accepted == 1
        assert [e.event.id for e in good.events.list()] == ["1"]


def test_health_and_reflection_stay_open(secured: Config, server: MeterdServer) -> None:
    with grpc.insecure_channel(server.address) as channel:
        health = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest())
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(channel)
        [reply] = list(
            reflection.ServerReflectionInfo(iter([reflection_pb2.ServerReflectionRequest(list_services="")]))
        )
        names = {s.name for s in reply.list_services_response.service}
        assert "meterd.v1.PortalService" in names


# -- portal tokens on admin calls ------------------------------------------------------------------------
def test_a_valid_portal_token_on_an_admin_call_is_permission_denied(
    admin: OpenMeter, clocked_server: MeterdServer
) -> None:
    token = admin.portal.create_token(subject="c1").token
    with portal(clocked_server, token) as om:
        for call in (
            om.events.list,
            om.subjects.list,
            om.portal.list_tokens,
            om.portal.invalidate_tokens,
            lambda: om.portal.create_token(subject="c2"),
            om.meters.list,
        ):
            with pytest.raises(PermissionDeniedError, match="QueryPortalMeter"):
                call()
    # Nothing was invalidated by the refused call.
    assert len(admin.portal.list_tokens()) == 1


def test_a_portal_token_is_not_an_admin_credential_even_without_an_admin_key(
    om: OpenMeter, server: MeterdServer
) -> None:
    token = om.portal.create_token(subject="c1").token
    with portal(server, token) as holder, pytest.raises(PermissionDeniedError):
        holder.subjects.list()
    om.portal.invalidate_tokens()
    with portal(server, token) as holder, pytest.raises(UnauthenticatedError):
        holder.subjects.list()


def test_an_invalid_portal_token_on_an_admin_call_is_unauthenticated(
    admin: OpenMeter, clocked_server: MeterdServer
) -> None:
    token = admin.portal.create_token(subject="c1").token
    with portal(clocked_server, tampered(token, sub="c2")) as om, pytest.raises(UnauthenticatedError):
        om.events.list()


# -- the portal query ------------------------------------------------------------------------------------
def test_a_valid_token_queries_its_own_subject(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    c1 = admin.portal.create_token(subject="c1").token
    c2 = admin.portal.create_token(subject="c2").token
    if query_value(clocked_server, c1) is not None:
        assert query_value(clocked_server, c1) == 2.0
        assert query_value(clocked_server, c2) == 5.0
        # meters.query of a client built with portal_token= goes through the portal query.
        with portal(clocked_server, c1) as om:
            assert [r.value for r in om.meters.query("logins", **RANGE).rows] == [2.0]


def test_the_portal_query_needs_a_portal_token(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    for client in (OpenMeter(clocked_server.address), OpenMeter(clocked_server.address, api_key=ADMIN_KEY)):
        with client, pytest.raises(UnauthenticatedError, match="portal token"):
            client.portal.query_meter("logins")
    refused(clocked_server, "not.a.jwt")


def test_the_portal_query_needs_a_token_even_without_an_admin_key(om: OpenMeter) -> None:
    with pytest.raises(UnauthenticatedError, match="portal token"):
        om.portal.query_meter("logins")


def test_token_for_a_meter_not_in_its_list_is_permission_denied(
    admin: OpenMeter, clocked_server: MeterdServer
) -> None:
    token = admin.portal.create_token(subject="c1", allowed_meter_slugs=["api_calls"]).token
    with portal(clocked_server, token) as om, pytest.raises(PermissionDeniedError, match="logins"):
        om.portal.query_meter("logins", **RANGE)
    query_value(clocked_server, token, meter="api_calls")  # allowed: goes through


def test_invalidating_all_tokens(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    a = admin.portal.create_token(subject="c1").token
    b = admin.portal.create_token(subject="c2").token
    query_value(clocked_server, a)
    assert admin.portal.invalidate_tokens() == 2
    refused(clocked_server, a, match="invalidated")
    refused(clocked_server, b, match="invalidated")
    # Tokens issued afterwards work.
    query_value(clocked_server, admin.portal.create_token(subject="c1").token)


def test_invalidating_one_subjects_tokens(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    a1 = admin.portal.create_token(subject="c1").token
    a2 = admin.portal.create_token(subject="c1", allowed_meter_slugs=["logins"]).token
    b = admin.portal.create_token(subject="c2").token
    assert admin.portal.invalidate_tokens(subject="c1") == 2
    refused(clocked_server, a1, match="invalidated")
    refused(clocked_server, a2, match="invalidated")
    query_value(clocked_server, b)


def test_invalidating_one_token_by_id(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    first = admin.portal.create_token(subject="c1")
    second = admin.portal.create_token(subject="c1")
    assert admin.portal.invalidate_tokens(id=first.id) == 1
    refused(clocked_server, first.token, match="invalidated")
    query_value(clocked_server, second.token)


def test_an_expired_token_is_refused(admin: OpenMeter, clocked_server: MeterdServer, clock: Any) -> None:
    token = admin.portal.create_token(subject="c1", expires_at=T0 + timedelta(minutes=30)).token
    clock.set(T0 + timedelta(minutes=29, seconds=59))
    query_value(clocked_server, token)
    clock.set(T0 + timedelta(minutes=30))
    refused(clocked_server, token, match="expired")
    # The default expiry is one hour.
    clock.set(T0)
    default = admin.portal.create_token(subject="c1").token
    clock.set(T0 + timedelta(minutes=59))
    query_value(clocked_server, default)
    clock.set(T0 + timedelta(hours=1))
    refused(clocked_server, default, match="expired")


def test_a_token_with_a_changed_payload_is_refused(admin: OpenMeter, clocked_server: MeterdServer) -> None:
    token = admin.portal.create_token(subject="c1", allowed_meter_slugs=["api_calls"]).token
    for changes in ({"sub": "c2"}, {"allowed_meter_slugs": ["logins"]}, {"exp": 4102444800}):
        refused(clocked_server, tampered(token, **changes), match="signature")
    # A changed header (alg none) is refused too.
    _, payload, _ = token.split(".")
    none_header = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    refused(clocked_server, f"{none_header}.{payload}.")


def test_a_token_signed_with_another_secret_is_refused(
    admin: OpenMeter, clocked_server: MeterdServer
) -> None:
    issued = admin.portal.create_token(subject="c1")
    claims = jwt.decode(issued.token, options={"verify_signature": False})
    forged = jwt.encode(claims, "another-secret-that-is-long-enough-for-hs256", algorithm="HS256")
    refused(clocked_server, forged, match="signature")


def test_a_token_the_server_never_issued_is_refused(server_config: Config, clock: Any) -> None:
    # Even with the right secret (say, leaked), a token id the server did not issue is refused.
    server_config.portal_secret = "configured-portal-secret-0123456789abcdef"
    server = MeterdServer(server_config, clock=clock).start()
    try:
        claims = {
            "iss": "meterd",
            "sub": "c1",
            "jti": "01HZZZZZZZZZZZZZZZZZZZZZZZ",
            "iat": int(T0.timestamp()),
            "exp": int((T0 + timedelta(hours=1)).timestamp()),
        }
        refused(server, jwt.encode(claims, server_config.portal_secret, algorithm="HS256"), match="unknown")
    finally:
        server.stop(0)


# -- durability ------------------------------------------------------------------------------------------
def test_secret_and_invalidation_survive_a_restart(secured: Config, clock: Any) -> None:
    first = MeterdServer(secured, clock=clock).start()
    try:
        with OpenMeter(first.address, api_key=ADMIN_KEY) as om:
            om.events.ingest(
                {"id": "1", "source": "t", "type": "login", "subject": "c1", "time": T0 - timedelta(hours=1)}
            )
            kept = om.portal.create_token(subject="c1").token
            by_id = om.portal.create_token(subject="c1")
            by_subject = om.portal.create_token(subject="c2").token
            om.portal.invalidate_tokens(id=by_id.id)
            om.portal.invalidate_tokens(subject="c2")
    finally:
        first.stop(0)

    second = MeterdServer(secured, clock=clock).start()
    try:
        # The generated secret was kept in the database: the old token still verifies.
        value = query_value(second, kept)
        assert value in (None, 1.0)
        refused(second, by_id.token, match="invalidated")
        refused(second, by_subject, match="invalidated")
        with OpenMeter(second.address, api_key=ADMIN_KEY) as om:
            assert om.portal.invalidate_tokens() == 1
    finally:
        second.stop(0)

    third = MeterdServer(secured, clock=clock).start()
    try:
        refused(third, kept, match="invalidated")
    finally:
        third.stop(0)


def test_tokens_of_another_database_are_refused(secured: Config, clock: Any, tmp_path: Path) -> None:
    first = MeterdServer(secured, clock=clock).start()
    try:
        with OpenMeter(first.address, api_key=ADMIN_KEY) as om:
            token = om.portal.create_token(subject="c1").token
    finally:
        first.stop(0)
    secured.db = str(tmp_path / "other.db")  # a fresh database generates its own secret
    other = MeterdServer(secured, clock=clock).start()
    try:
        refused(other, token, match="signature")
    finally:
        other.stop(0)
