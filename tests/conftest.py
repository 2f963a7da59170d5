"""Shared fixtures: a real meterd on a loopback port with a temporary database, and a real client."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pgcluster import PgCluster, find_bindir
from support import Clock

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

# CI runs property tests derandomized (same examples every run, so a red CI is reproducible); local runs
# keep exploring new examples.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """A throwaway PostgreSQL cluster for the whole run (initdb in a temporary folder, removed afterwards).

    Skipped where PostgreSQL is not installed, except in CI (``make setup`` installs it there)."""
    if find_bindir() is None:
        if os.environ.get("CI") or os.environ.get("METERD_PG_REQUIRE"):
            pytest.fail("PostgreSQL is not installed: make setup installs Debian's postgresql package")
        pytest.skip("PostgreSQL is not installed (make setup installs it)")
    # fsync off: a test never outlives the machine, and PostgreSQL killed (the fault tests) still recovers
    # from the WAL it wrote to the page cache; commits stay synchronous, so an acknowledged write is in that
    # WAL. Commits and database copies no longer wait on a disk other sessions share.
    cluster = PgCluster({"fsync": "off"})
    try:
        cluster.migrate_template()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_cluster: PgCluster) -> Iterator[str]:
    """The URL of a fresh, migrated PostgreSQL database of its own (dropped afterwards)."""
    url = pg_cluster.acquire()
    yield url
    pg_cluster.release(url)


@pytest.fixture
def clock() -> Clock:
    """The server's clock; tests that depend on 'now' move it."""
    return Clock()


@pytest.fixture
def server_config(tmp_path: Path) -> Config:
    """The config the ``server`` fixture starts with; tests may change it before using ``server``."""
    return Config(listen="127.0.0.1:0", db=str(tmp_path / "meterd.db"), grace_seconds=2.0, log_format="text")


@pytest.fixture
def server(server_config: Config) -> Iterator[MeterdServer]:
    """A running in-process meterd (real gRPC over loopback, real SQLite file) on the real clock."""
    srv = MeterdServer(server_config).start()
    yield srv
    srv.stop(0)


@pytest.fixture
def clocked_server(server_config: Config, clock: Clock) -> Iterator[MeterdServer]:
    """Like ``server`` but on the test's ``clock``."""
    srv = MeterdServer(server_config, clock=clock).start()
    yield srv
    srv.stop(0)


@pytest.fixture
def om(server: MeterdServer) -> Iterator[OpenMeter]:
    """A real client connected to ``server``."""
    with OpenMeter(server.address, timeout=30) as client:
        yield client


@pytest.fixture
def clocked_om(clocked_server: MeterdServer) -> Iterator[OpenMeter]:
    """A real client connected to ``clocked_server``."""
    with OpenMeter(clocked_server.address, timeout=30) as client:
        yield client
