"""The client over TLS and mutual TLS: the real meterd server given gRPC TLS credentials for a certificate
that the test makes (trustme: a throwaway CA, a server certificate for 127.0.0.1, a client certificate)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
import trustme

from meterd.client import AsyncOpenMeter, InvalidArgumentError, MeterdError, OpenMeter, UnavailableError
from meterd.server.app import MeterdServer
from meterd.server.config import Config


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def start_tls_server(
    config: Config, ca: trustme.CA, *, client_ca: trustme.CA | None = None
) -> tuple[MeterdServer, str]:
    cert = ca.issue_cert("127.0.0.1", "localhost")
    credentials = grpc.ssl_server_credentials(
        [(cert.private_key_pem.bytes(), cert.cert_chain_pems[0].bytes())],
        root_certificates=client_ca.cert_pem.bytes() if client_ca else None,
        require_client_auth=client_ca is not None,
    )
    server = MeterdServer(config)
    port = server.grpc.add_secure_port("127.0.0.1:0", credentials)
    server.start()
    return server, f"127.0.0.1:{port}"


@pytest.fixture
def tls_target(server_config: Config, ca: trustme.CA) -> Iterator[str]:
    server, target = start_tls_server(server_config, ca)
    yield target
    server.stop(0)


@pytest.fixture
def mtls_target(server_config: Config, ca: trustme.CA) -> Iterator[str]:
    server, target = start_tls_server(server_config, ca, client_ca=ca)
    yield target
    server.stop(0)


def test_tls_with_a_private_ca_as_a_file_or_bytes(tls_target: str, ca: trustme.CA, tmp_path: Path) -> None:
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    with OpenMeter(tls_target, ca=str(ca_file)) as om:
        om.meters.create({"slug": "m1", "eventType": "t", "aggregation": "COUNT"})
    with OpenMeter(tls_target, tls=True, ca=ca.cert_pem.bytes()) as om:
        assert [m.slug for m in om.meters.list()] == ["m1"]


def test_plaintext_or_an_untrusted_ca_cannot_talk_to_a_tls_server(tls_target: str) -> None:
    with OpenMeter(tls_target, timeout=5) as om, pytest.raises(MeterdError):
        om.meters.list()
    other = trustme.CA()
    with OpenMeter(tls_target, ca=other.cert_pem.bytes(), timeout=5) as om, pytest.raises(UnavailableError):
        om.meters.list()


def test_mutual_tls_needs_the_client_certificate(mtls_target: str, ca: trustme.CA, tmp_path: Path) -> None:
    client_cert = ca.issue_cert("meterd-client@example.com")
    cert_file, key_file = tmp_path / "client.pem", tmp_path / "client-key.pem"
    client_cert.cert_chain_pems[0].write_to_path(str(cert_file))
    client_cert.private_key_pem.write_to_path(str(key_file))
    with OpenMeter(mtls_target, ca=ca.cert_pem.bytes(), cert=cert_file, key=key_file) as om:
        assert om.meters.list() == []
    with OpenMeter(mtls_target, ca=ca.cert_pem.bytes(), timeout=5) as om, pytest.raises(UnavailableError):
        om.meters.list()


def test_async_client_over_tls(tls_target: str, ca: trustme.CA) -> None:
    async def run() -> list[object]:
        async with AsyncOpenMeter(tls_target, ca=ca.cert_pem.bytes()) as om:
            return await om.meters.list()

    assert asyncio.run(run()) == []


def test_bad_tls_options_are_refused_before_connecting(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="cert and key go together"):
        OpenMeter("127.0.0.1:1", cert=b"x")
    with pytest.raises(InvalidArgumentError, match="ca: cannot read"):
        OpenMeter("127.0.0.1:1", ca=str(tmp_path / "missing.pem"))
    with pytest.raises(InvalidArgumentError, match="tls=False"):
        OpenMeter("127.0.0.1:1", tls=False, ca=b"x")
