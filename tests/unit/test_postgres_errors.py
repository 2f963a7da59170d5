"""How PostgreSQL's errors reach callers (store/postgres/db.py ``storage_error``): the transient ones are
UNAVAILABLE with a message that says whether the write may have been stored and never PostgreSQL's own text;
anything else passes on unchanged (a domain error, or a bug that becomes INTERNAL without its message)."""

from __future__ import annotations

import pytest
from psycopg import errors as pg_errors
from psycopg_pool import PoolTimeout

from meterd.server.errors import NotFound, ResourceExhausted, Unavailable
from meterd.server.store.postgres.db import connection_lost, storage_error

SECRET = "relation events_202401 at 10.0.0.7"  # what must never reach a caller


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (pg_errors.SerializationFailure(SECRET), "conflicting concurrent writes (SerializationFailure)"),
        (pg_errors.DeadlockDetected(SECRET), "conflicting concurrent writes (DeadlockDetected)"),
        (pg_errors.LockNotAvailable(SECRET), "conflicting concurrent writes (LockNotAvailable)"),
        (pg_errors.DiskFull(SECRET), "storage is full"),
        (pg_errors.OutOfMemory(SECRET), "out of resources (OutOfMemory)"),
        (pg_errors.TooManyConnections(SECRET), "connection to the database was lost (TooManyConnections)"),
        (pg_errors.QueryCanceled(SECRET), "cancelled the statement (its statement_timeout, or an operator)"),
        (pg_errors.ReadOnlySqlTransaction(SECRET), "the database is read-only"),
        (pg_errors.AdminShutdown(SECRET), "connection to the database was lost (AdminShutdown)"),
        (pg_errors.ConnectionFailure(SECRET), "connection to the database was lost (ConnectionFailure)"),
        (PoolTimeout(SECRET), "no connection to it became free in time"),
    ],
)
def test_transient_errors_are_unavailable_without_the_servers_text(error: Exception, says: str) -> None:
    mapped = storage_error(error)
    assert isinstance(mapped, Unavailable)
    assert says in mapped.message and SECRET not in mapped.message
    assert mapped.__cause__ is error


def test_the_message_says_whether_the_write_may_have_been_stored() -> None:
    lost = pg_errors.AdminShutdown("terminating connection due to administrator command")
    assert connection_lost(lost)
    assert "nothing of this write was stored" in storage_error(lost).message  # type: ignore[attr-defined]
    during_commit = storage_error(lost, committing=True).message  # type: ignore[attr-defined]
    assert "while committing" in during_commit and "may or may not have been stored" in during_commit
    assert storage_error(lost, writing=False).message.endswith("; retry")  # type: ignore[attr-defined]


def test_a_value_too_large_for_an_index_is_resource_exhausted() -> None:
    mapped = storage_error(pg_errors.ProgramLimitExceeded("index row size 4120 exceeds btree maximum 2704"))
    assert isinstance(mapped, ResourceExhausted)
    assert "too large for the database" in mapped.message and "4120" not in mapped.message


@pytest.mark.parametrize(
    "error",
    [
        pg_errors.UndefinedTable("relation x does not exist"),
        pg_errors.UniqueViolation("duplicate key"),
        NotFound("meter: not found"),
        ValueError("a bug"),
    ],
)
def test_other_errors_pass_on_unchanged(error: Exception) -> None:
    assert storage_error(error) is error
    assert not connection_lost(error)
