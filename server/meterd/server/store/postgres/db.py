"""The PostgreSQL database: a connection pool, forward-only migrations under an advisory lock, write jobs
each in their own transaction, and reads on pooled connections.

Several meterd replicas share one database, so nothing here assumes one writer: a write job is a function
of a connection run inside one transaction (committed before its result is returned: acknowledged =
durable), and many run at once, on this replica and on others. Jobs that hit a deadlock or a serialization
failure are run again. Stores keep their SQL in the SQLite style (``?`` placeholders) where it is portable:
the connection wrapper turns it into psycopg's (``%s``).

Advisory locks (transaction-scoped) order what must not interleave across replicas:
- ``LOCK_METERS``: ingest holds it shared; creating, redefining or deleting a meter holds it exclusive, so a
  backfill never misses an event committed by an ingest that did not yet know the meter.
- ``LOCK_EVENT_SEQ``: ingest holds it shared; reading the committed event high-water mark for a balance
  snapshot takes it exclusive for an instant, so no event with a lower sequence number commits later.

Entities that two replicas may change at once (features, entitlements and their resets, grants) are written
through ``Serializable``: their jobs check and then write (a grant is not voided yet, no active feature has
this key), so they run at SERIALIZABLE isolation, and the one of two concurrent jobs that PostgreSQL aborts
runs again and sees the other's commit: each caller gets the answer it would get one after the other.
"""

from __future__ import annotations

import calendar
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper
from psycopg_pool import ConnectionPool

from meterd.server.errors import AlreadyExists, Unavailable
from meterd.server.store.postgres.migrations import migrate

log = logging.getLogger(__name__)

T = TypeVar("T")

LOCK_MIGRATE = 0x6D657465_00000001
LOCK_METERS = 0x6D657465_00000002
LOCK_EVENT_SEQ = 0x6D657465_00000003

# Raw event partitions (one per month) are kept this many months ahead of the current one.
PARTITIONS_AHEAD = 3
PARTITION_CHECK_SECONDS = 6 * 3600
MAX_RETRIES = 5

# Errors after which a job is run again from the start.
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure)

_translated: dict[str, str] = {}


def storage_error(exc: BaseException) -> BaseException:
    """The error a caller should see for a failed write: a full disk (or a lost connection to the database)
    is UNAVAILABLE, and retrying later is safe; anything else is passed on as it is."""
    if isinstance(exc, pg_errors.DiskFull):
        error = Unavailable("storage is full: the database server has no room for this write, so nothing of it "
                            "was stored; retry once space has been freed")
    elif isinstance(exc, psycopg.OperationalError) and not isinstance(exc, pg_errors.QueryCanceled):
        error = Unavailable(f"the database is unavailable ({type(exc).__name__}); nothing of this write was "
                            "stored; retry")
    else:
        return exc
    error.__cause__ = exc
    return error


def translate(sql: str) -> str:
    """SQLite-style placeholders to psycopg's: ``%`` escaped, ``?`` to ``%s`` (no SQL here has ``?`` in text)."""
    out = _translated.get(sql)
    if out is None:
        out = _translated[sql] = sql.replace("%", "%%").replace("?", "%s")
    return out


class _BoolAsInt(Dumper):
    """Flags are INTEGER columns (as in SQLite), so Python bools go over as 0/1."""

    oid = psycopg.postgres.types["int8"].oid

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


class Conn:
    """A transaction's connection, with sqlite3's ``execute``/``executemany`` shape, so stores whose SQL is
    portable share it with the SQLite backend. A constraint violation is raised as sqlite3.IntegrityError
    (what that SQL's callers catch), chained to psycopg's error; the transaction is then aborted, so a
    caller may only turn it into its own error."""

    __slots__ = ("raw",)

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        try:
            if params is None or (not params and "?" not in sql):
                cur.execute(sql)  # type: ignore[arg-type]
            else:
                cur.execute(translate(sql), params)  # type: ignore[arg-type]
        except pg_errors.IntegrityError as exc:
            raise sqlite3.IntegrityError(str(exc)) from exc
        return cur

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        rows = list(rows)
        if rows:
            try:
                cur.executemany(translate(sql), rows)  # type: ignore[arg-type]
            except pg_errors.IntegrityError as exc:
                raise sqlite3.IntegrityError(str(exc)) from exc
        return cur

    def native(self, sql: str, params: Any = None) -> psycopg.Cursor[Any]:
        """Runs SQL written for psycopg (``%s`` placeholders) as is."""
        return self.raw.execute(sql, params)  # type: ignore[arg-type]


class _Result:
    __slots__ = ("_rows", "rowcount")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def fetchone(self) -> Any:
        return self._rows[0] if self._rows else None

    def fetchall(self) -> list[Any]:
        return self._rows

    def __iter__(self) -> Any:
        return iter(self._rows)


class Reader:
    """Reads on a pooled connection per statement (each sees the last commit)."""

    def __init__(self, pool: ConnectionPool[Any]) -> None:
        self._pool = pool

    def execute(self, sql: str, params: Any = None) -> _Result:
        with self._pool.connection() as raw:
            cur = Conn(raw).execute(sql, params)
            rows = cur.fetchall() if cur.description else []
            return _Result(rows, cur.rowcount)


class Serializable:
    """The database as stores of concurrently changed entities use it: ``write`` jobs run SERIALIZABLE (see
    the module docstring); everything else is the database's."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(self, job: Callable[[Conn], T]) -> T:
        return self._db.write(job, serializable=True)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._db, name)


class Database:
    """Owns the pool: migrations at open, write jobs in their own transactions, reads."""

    backend = "postgres"

    def __init__(self, url: str, *, min_connections: int = 2, max_connections: int = 24,
                 writers: int = 8) -> None:
        self.url = url
        self.path = url  # what logs name
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url, min_size=min_connections, max_size=max_connections, configure=self._configure, open=False,
            name="meterd", timeout=60.0,
        )
        self._pool.open(wait=True, timeout=60.0)
        with self._pool.connection() as raw:
            migrate(raw, LOCK_MIGRATE)
        self._rollback_listeners: list[Callable[[], None]] = []
        self._commit_listeners: list[Callable[[int, float], None]] = []
        self._executor = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="meterd-pg-writer")
        self._submitted: set[Future[Any]] = set()
        self._submitted_lock = threading.Lock()
        self._reader = Reader(self._pool)
        self._closed = False
        self._stop = threading.Event()
        self.ensure_partitions()
        self._partitioner = threading.Thread(target=self._partition_loop, name="meterd-pg-partitions",
                                             daemon=True)
        self._partitioner.start()

    @staticmethod
    def _configure(raw: psycopg.Connection[Any]) -> None:
        raw.adapters.register_dumper(bool, _BoolAsInt)
        raw.execute("SET TIME ZONE 'UTC'")
        raw.commit()

    def add_rollback_listener(self, listener: Callable[[], None]) -> None:
        """Called after any rolled-back write job, so caches of written ids can be dropped."""
        self._rollback_listeners.append(listener)

    def add_commit_listener(self, listener: Callable[[int, float], None]) -> None:
        """Called after each committed write job with (1, seconds) (for metrics)."""
        self._commit_listeners.append(listener)

    def queue_depth(self) -> int:
        """Write jobs submitted and not yet committed (running or waiting for a writer thread)."""
        with self._submitted_lock:
            return len(self._submitted)

    def rolled_back(self) -> None:
        """Tells the rollback listeners that part of a job (a savepoint) was rolled back."""
        for listener in self._rollback_listeners:
            listener()

    # -- writes ------------------------------------------------------------------------------------
    def write(self, job: Callable[[Conn], T], *, serializable: bool = False) -> T:
        """Runs a write job in its own transaction and returns its result after the commit (``serializable``:
        at that isolation level; a serialization failure runs the job again)."""
        if self._closed:
            raise RuntimeError("database is closed")
        for attempt in range(MAX_RETRIES + 1):
            try:
                with self._pool.connection() as raw:
                    started = time.perf_counter()
                    try:
                        with raw.transaction():
                            if serializable:
                                raw.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                            result = job(Conn(raw))
                    except BaseException:
                        self.rolled_back()
                        raise
                    for listener in self._commit_listeners:
                        listener(1, time.perf_counter() - started)
                    return result
            except RETRYABLE as exc:
                if attempt == MAX_RETRIES:
                    raise
                log.info("write job retried", extra={"reason": type(exc).__name__, "attempt": attempt + 1})
                time.sleep(random.uniform(0.005, 0.02) * (attempt + 1))  # jittered: two retries do not meet again
            except (pg_errors.UniqueViolation, sqlite3.IntegrityError) as exc:
                # A race with another replica that the job's own check could not see (two creations of the
                # same key at once): the unique index decides, and the loser is told it exists.
                cause = exc if isinstance(exc, pg_errors.UniqueViolation) else exc.__cause__
                if not isinstance(cause, pg_errors.UniqueViolation):
                    raise
                constraint = cause.diag.constraint_name or cause.diag.table_name or "row"
                raise AlreadyExists(f"{constraint}: already exists") from exc
            except psycopg.OperationalError as exc:
                error = storage_error(exc)
                if error is exc:
                    raise
                log.error("write job failed: %s", exc)
                raise error from exc
        raise AssertionError("unreachable")

    def submit(self, job: Callable[[Conn], T]) -> Future[T]:
        """Runs a write job on a writer thread; the future resolves after its commit."""
        if self._closed:
            raise RuntimeError("database is closed")
        future = self._executor.submit(self.write, job)
        with self._submitted_lock:
            self._submitted.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future[Any]) -> None:
        with self._submitted_lock:
            self._submitted.discard(future)

    def drain(self) -> None:
        """Waits until every job submitted so far has committed (or failed)."""
        with self._submitted_lock:
            pending = list(self._submitted)
        for future in pending:
            future.exception()

    # -- reads -------------------------------------------------------------------------------------
    def reader(self) -> Reader:
        return self._reader

    def connection(self) -> Any:
        """A pooled connection (a context manager) for reads that need psycopg directly."""
        return self._pool.connection()

    # -- partitions of raw events --------------------------------------------------------------------
    def ensure_partitions(self, now: datetime | None = None) -> None:
        """Creates the monthly partitions of ``events`` from this month to PARTITIONS_AHEAD months ahead."""
        now = now or datetime.now(UTC)
        year, month = now.year, now.month
        months = []
        for _ in range(PARTITIONS_AHEAD + 1):
            months.append((year, month))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        with self._pool.connection() as raw, raw.transaction():
            raw.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_MIGRATE,))
            for y, m in months:
                start = calendar.timegm((y, m, 1, 0, 0, 0)) * 1_000_000
                ny, nm = (y + 1, 1) if m == 12 else (y, m + 1)
                end = calendar.timegm((ny, nm, 1, 0, 0, 0)) * 1_000_000
                name = f"events_{y:04d}{m:02d}"
                exists = raw.execute("SELECT to_regclass(%s)", (name,)).fetchone()
                if exists and exists[0] is not None:
                    continue
                try:
                    with raw.transaction():  # a savepoint: one failure leaves the others
                        raw.execute(
                            f"CREATE TABLE {name} PARTITION OF events FOR VALUES FROM ({start}) TO ({end})"
                        )
                    log.info("created events partition", extra={"partition": name})
                except psycopg.Error as exc:
                    # Rows of that month already in the default partition: they stay there.
                    log.warning("could not create events partition %s: %s", name, exc)

    def _partition_loop(self) -> None:
        while not self._stop.wait(PARTITION_CHECK_SECONDS):
            try:
                self.ensure_partitions()
            except Exception:
                log.exception("partition maintenance failed")

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Waits for queued write jobs, then closes the pool."""
        if self._closed:
            return
        self._closed = True
        self._stop.set()
        self._executor.shutdown(wait=True)
        self._pool.close()
