"""The database setting picks the backend: a path or sqlite: URL is SQLite, a postgresql:// URL PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterd.server import config as config_module
from meterd.server.store import backend_of, sqlite_path


@pytest.mark.parametrize(
    ("url", "backend", "path"),
    [
        ("./meterd.db", "sqlite", "./meterd.db"),
        ("/var/lib/meterd/meterd.db", "sqlite", "/var/lib/meterd/meterd.db"),
        ("sqlite:meterd.db", "sqlite", "meterd.db"),
        ("sqlite:///var/lib/meterd.db", "sqlite", "/var/lib/meterd.db"),
        ("postgresql://meterd@db.internal/meterd", "postgres", None),
        ("postgres://meterd:secret@127.0.0.1:5432/meterd?sslmode=require", "postgres", None),
    ],
)
def test_backend_and_path(url: str, backend: str, path: str | None) -> None:
    assert backend_of(url) == backend
    if path is not None:
        assert sqlite_path(url) == path


def test_config_storage_url_and_env(tmp_path: Path) -> None:
    file = tmp_path / "meterd.yaml"
    file.write_text("storage:\n  url: postgresql://meterd@db/meterd\n")
    assert config_module.load(file, env={}).db == "postgresql://meterd@db/meterd"
    file.write_text("storage:\n  path: ./x.db\n")
    assert config_module.load(file, env={}).db == "./x.db"
    assert config_module.load(file, env={"METERD_DB": "postgresql://other/db"}).db == "postgresql://other/db"
