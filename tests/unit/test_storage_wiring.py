"""The storage the composition root opens: one backend chosen by the URL, the same Stores and the same
Conflict from both backends."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from meterd.server.store.sql.connection import Conflict, Connection
from meterd.server.store.sqlite.db import Database as SqliteDatabase
from meterd.server.store.sqlite.db import SharedSql
from meterd.server.store.stores import Stores
from meterd.server.wiring.storage import Database, open_storage

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Database, Stores]]:
    url = request.getfixturevalue("pg_url") if request.param == "postgresql" else str(tmp_path / "m.db")
    db, stores = open_storage(url, wait_seconds=5)
    try:
        yield request.param, db, stores
    finally:
        db.close()


class Refused(Exception):
    """Ends a job after its refused statement, so that its transaction rolls back."""


def test_both_backends_raise_one_conflict_inside_a_job(storage: tuple[str, Database, Stores]) -> None:
    backend, db, _ = storage
    shared = SharedSql(db) if isinstance(db, SqliteDatabase) else db

    def job(conn: Connection) -> None:
        with pytest.raises(
            Conflict
        ) as refused:  # the migration made the key: a second one breaks the primary key
            conn.execute("INSERT INTO server_settings (name, value) VALUES (?, ?)", ("page_token_key", "00"))
        raise Refused(str(refused.value.__cause__.__class__.__name__))

    with pytest.raises(Refused) as info:
        shared.write(job)  # type: ignore[arg-type]
    assert str(info.value) == ("IntegrityError" if backend == "sqlite" else "UniqueViolation")


def test_each_backend_declares_its_capabilities(storage: tuple[str, Database, Stores]) -> None:
    backend, db, stores = storage
    if backend == "sqlite":
        assert db.backend == "sqlite"
        assert stores.meter_windows is stores.meters  # groups rows into query windows in SQL
        assert stores.replicas is None  # one process owns the file
    else:
        assert db.backend == "postgres"
        assert stores.meter_windows is stores.meters  # groups rows into query windows in SQL too
        assert stores.replicas is not None  # LISTEN/NOTIFY between replicas
    assert len(stores.page_token_key) == 32
