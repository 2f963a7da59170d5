"""TLS for the server: credentials from the configured PEM files (works for grpc and grpc.aio servers)."""

from __future__ import annotations

from pathlib import Path

import grpc

from meterd.server.config import Config


def server_credentials(config: Config) -> grpc.ServerCredentials | None:
    """TLS credentials for ``add_secure_port``; None when TLS is not configured (plaintext).

    With ``tls_client_ca``, clients must present a certificate signed by it (mutual TLS). Raises
    ValueError for a half-configured TLS (a certificate without its key).
    """
    problems = config.problems()
    if problems:
        raise ValueError("; ".join(problems))
    if not (config.tls_cert and config.tls_key):
        return None
    pair = (Path(config.tls_key).read_bytes(), Path(config.tls_cert).read_bytes())
    client_ca = Path(config.tls_client_ca).read_bytes() if config.tls_client_ca else None
    return grpc.ssl_server_credentials(
        [pair], root_certificates=client_ca, require_client_auth=client_ca is not None
    )
