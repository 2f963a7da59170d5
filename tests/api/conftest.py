"""The API suite runs against both storage backends: every test that uses the ``server`` fixtures runs once
on SQLite and once on PostgreSQL (a database of its own in the session's throwaway cluster)."""

from __future__ import annotations

from pathlib import Path

import pytest

from meterd.server.config import Config


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    """The storage backend the test's server runs on."""
    return str(request.param)


@pytest.fixture
def server_config(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> Config:
    """The config the ``server`` fixture starts with, on the test's backend."""
    db = request.getfixturevalue("pg_url") if backend == "postgresql" else str(tmp_path / "meterd.db")
    return Config(listen="127.0.0.1:0", db=db, grace_seconds=2.0, log_format="text")
