"""TLS and mutual TLS, with certificates generated in the test: the client, the CLI and the health check."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from tls_support import Pki, make_pki

from meterd.client import MeterdError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))


def credentials(pki: Pki, ca: Path | None = None, client: bool = False) -> grpc.ChannelCredentials:
    return grpc.ssl_channel_credentials(
        root_certificates=(ca or pki.ca).read_bytes(),
        private_key=pki.client_key.read_bytes() if client else None,
        certificate_chain=pki.client_cert.read_bytes() if client else None,
    )


def serve(config: Config, pki: Pki, mutual: bool) -> Iterator[MeterdServer]:
    config.tls_cert, config.tls_key = str(pki.server_cert), str(pki.server_key)
    config.tls_client_ca = str(pki.ca) if mutual else None
    config.meters = [{"slug": "calls", "eventType": "call", "aggregation": "COUNT"}]  # type: ignore[list-item]
    server = MeterdServer(config).start()
    yield server
    server.stop(0)


@pytest.fixture
def tls_server(server_config: Config, pki: Pki) -> Iterator[MeterdServer]:
    yield from serve(server_config, pki, mutual=False)


@pytest.fixture
def mtls_server(server_config: Config, pki: Pki) -> Iterator[MeterdServer]:
    yield from serve(server_config, pki, mutual=True)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("METERD_")}
    return subprocess.run(
        [sys.executable, "-m", "meterd.server", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_a_tls_server_answers_a_client_that_trusts_its_ca(tls_server: MeterdServer, pki: Pki) -> None:
    with OpenMeter(tls_server.address, credentials=credentials(pki), timeout=10) as om:
        om.events.ingest({"id": "1", "source": "tls", "type": "call", "subject": "c1"})
        assert [m.slug for m in om.meters.list()] == ["calls"]
        assert om.meters.query("calls").rows[0].value == 1


def test_a_tls_server_refuses_plaintext_and_unknown_cas(tls_server: MeterdServer, pki: Pki) -> None:
    with OpenMeter(tls_server.address, timeout=5) as plain, pytest.raises(MeterdError) as refused:
        plain.meters.list()
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    with (
        OpenMeter(tls_server.address, credentials=credentials(pki, ca=pki.other_ca), timeout=5) as wrong,
        pytest.raises(MeterdError) as untrusted,
    ):
        wrong.meters.list()
    assert untrusted.value.code == grpc.StatusCode.UNAVAILABLE


def test_mutual_tls_needs_a_client_certificate_signed_by_the_client_ca(
    mtls_server: MeterdServer, pki: Pki
) -> None:
    with (
        OpenMeter(mtls_server.address, credentials=credentials(pki), timeout=5) as anonymous,
        pytest.raises(MeterdError) as refused,
    ):
        anonymous.meters.list()
    assert refused.value.code == grpc.StatusCode.UNAVAILABLE
    with OpenMeter(mtls_server.address, credentials=credentials(pki, client=True), timeout=10) as om:
        assert [m.slug for m in om.meters.list()] == ["calls"]


def test_the_cli_speaks_tls_and_mutual_tls(mtls_server: MeterdServer, pki: Pki) -> None:
    target = ["--target", mtls_server.address]
    mtls = ["--ca", str(pki.ca), "--client-cert", str(pki.client_cert), "--client-key", str(pki.client_key)]
    healthy = cli("health", *target, *mtls)
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout.strip() == f"{mtls_server.address}: SERVING"
    listed = cli("meters", "list", "--format", "json", *target, *mtls)
    assert listed.returncode == 0, listed.stderr
    assert '"slug": "calls"' in listed.stdout
    assert cli("health", *target, "--timeout", "3").returncode == 1  # plaintext
    assert (
        cli("health", *target, "--ca", str(pki.ca), "--timeout", "3").returncode == 1
    )  # no client certificate
    half = cli("health", *target, "--ca", str(pki.ca), "--client-cert", str(pki.client_cert))
    assert half.returncode == 2 and "--client-cert and --client-key go together" in half.stderr
