"""Certificates made in the test (trustme): a CA, a server certificate for 127.0.0.1/localhost, a client
certificate, and a CA that signed nothing here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path
    other_ca: Path  # a CA that signed nothing here


def make_pki(directory: Path) -> Pki:
    """Writes the PEM files under ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    ca, other = trustme.CA(), trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    client = ca.issue_cert("client.meterd.test")
    paths = {
        name: directory / name
        for name in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key", "other-ca.pem")
    }
    ca.cert_pem.write_to_path(str(paths["ca.pem"]))
    other.cert_pem.write_to_path(str(paths["other-ca.pem"]))
    server.cert_chain_pems[0].write_to_path(str(paths["server.pem"]))
    server.private_key_pem.write_to_path(str(paths["server.key"]))
    client.cert_chain_pems[0].write_to_path(str(paths["client.pem"]))
    client.private_key_pem.write_to_path(str(paths["client.key"]))
    return Pki(
        paths["ca.pem"],
        paths["server.pem"],
        paths["server.key"],
        paths["client.pem"],
        paths["client.key"],
        paths["other-ca.pem"],
    )
