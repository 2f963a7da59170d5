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

Faults (the database restarts, a backend is terminated, a commit fails): ``storage_error`` turns PostgreSQL's
errors into what a caller should see (UNAVAILABLE for the transient ones, with a message that says whether
anything was stored; never the server's raw message). A job whose connection is lost before its COMMIT was
sent is run again on another connection (the server rolled it back), as are jobs that hit a deadlock, a
serialization failure or a lock timeout; a COMMIT whose answer was lost is never repeated (it may have
committed). A monitor thread probes the database: while it is unreachable every call fails at once with
UNAVAILABLE (health listeners hear NOT_SERVING), and once it answers again the pool's stale connections are
dropped and calls are served again (no restart of meterd).
"""

from __future__ import annotations

import calendar
import contextlib
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import psycopg
from psycopg import errors as pg_errors
from psycopg.adapt import Dumper
from psycopg_pool import ConnectionPool, PoolTimeout

from meterd.server.errors import AlreadyExists, MeterdError, ResourceExhausted, Unavailable
from meterd.server.store import redact_url
from meterd.server.store.postgres.migrations import migrate
from meterd.server.store.sql.connection import Conflict, Rows

log = logging.getLogger(__name__)

T = TypeVar("T")
# A statement taking a session-level advisory lock, and its parameters (``Database.write``'s locks_first).
LockFirst = tuple[str, tuple[Any, ...]]

LOCK_MIGRATE = 0x6D657465_00000001
LOCK_METERS = 0x6D657465_00000002
LOCK_EVENT_SEQ = 0x6D657465_00000003

# Raw event partitions (one per month) are kept this many months ahead of the current one.
PARTITIONS_AHEAD = 3
PARTITION_CHECK_SECONDS = 6 * 3600
# Serialization failures are also false positives of SERIALIZABLE's predicate locks (index pages, not rows:
# grants of new entitlements, keyed by time-ordered ids, all go to the last page of their index), so a busy
# provisioning job meets them in runs: 8 threads creating 10,000 entitlements had one fail 6 attempts in a
# row. Retried up to 12 times with a jittered backoff doubling from 5 ms (at most about 1.5 s of waiting).
MAX_RETRIES = 12

# Errors after which a job is run again from the start (another transaction's conflicting write, or a lock
# that did not come within the database's lock_timeout), at most MAX_RETRIES times.
RETRYABLE = (pg_errors.DeadlockDetected, pg_errors.SerializationFailure, pg_errors.LockNotAvailable)
# A job whose connection was lost before its COMMIT was sent is run again on another connection this many times
# (a restart of PostgreSQL leaves every pooled connection broken; each failure drops one from the pool).
CONNECTION_RETRIES = 3
# Waiting for a free pooled connection (all busy) before answering UNAVAILABLE.
ACQUIRE_SECONDS = 30.0
ACQUIRE_SLICE_SECONDS = 0.25
# The monitor: a probe this often while the database answers, this often while it does not, each given this
# long to connect.
PROBE_SECONDS = 2.0
PROBE_DOWN_SECONDS = 0.25
PROBE_TIMEOUT_SECONDS = 5
# At start: attempts to connect this often until Database(wait_seconds=...) has passed.
START_RETRY_SECONDS = 0.5
# SQLSTATEs that mean the connection is gone or the server cannot take it (class 08: connection exception):
# admin_shutdown, crash_shutdown, cannot_connect_now, too_many_connections, idle_session_timeout.
_CONNECTION_STATES = frozenset({"57P01", "57P02", "57P03", "53300", "57P05"})
# At start, errors that waiting does not cure: bad password or role, no such database.
_FATAL_AT_START = ("28", "3D000")

_translated: dict[str, str] = {}


def connection_lost(exc: BaseException) -> bool:
    """Whether ``exc`` says the connection to the database is gone (or was refused), rather than that a
    statement failed: the database restarting, a terminated backend, a network failure."""
    if isinstance(exc, psycopg.InterfaceError):  # "the connection is closed"
        return True
    if not isinstance(exc, psycopg.OperationalError) or isinstance(exc, PoolTimeout):
        return False
    state = exc.sqlstate
    return state is None or state.startswith("08") or state in _CONNECTION_STATES


def storage_error(exc: BaseException, *, committing: bool = False, writing: bool = True) -> BaseException:
    """The error a caller should see for a failed database call: UNAVAILABLE (retrying later is safe) for what
    passes (the database unreachable or restarting, full, out of resources, cancelling a statement, read-only,
    conflicts that retries did not resolve), with a message that says whether the write may have been stored;
    anything else (a domain error, a bug) is passed on as it is. ``committing``: the failure came while the
    COMMIT was in flight, so the write may have been stored. PostgreSQL's own message is never passed on
    (it goes to the log)."""
    if isinstance(exc, MeterdError) or not isinstance(exc, psycopg.Error):
        return exc
    name = type(exc).__name__
    if not writing:
        outcome = "retry"
    elif committing:
        outcome = (
            "this write may or may not have been stored: ingest is deduplicated, so resending events is "
            "safe; check other writes before repeating them"
        )
    else:
        outcome = "nothing of this write was stored; retry"
    if isinstance(exc, PoolTimeout):
        error: MeterdError = Unavailable(
            f"the database is busy: no connection to it became free in time; {outcome}"
        )
    elif isinstance(exc, _Down):
        error = Unavailable(f"the database is unreachable (meterd retries it in the background); {outcome}")
    elif connection_lost(exc):
        where = " while committing" if committing and writing else ""
        error = Unavailable(f"the connection to the database was lost{where} ({name}); {outcome}")
    elif isinstance(exc, pg_errors.DiskFull):
        error = Unavailable(
            "storage is full: the database server has no room for this write, so nothing of it "
            "was stored; retry once space has been freed"
        )
    elif exc.sqlstate is not None and exc.sqlstate.startswith("53"):  # insufficient resources
        error = Unavailable(f"the database server is out of resources ({name}); {outcome}")
    elif isinstance(exc, RETRYABLE):
        error = Unavailable(
            f"the database kept reporting conflicting concurrent writes ({name}) after "
            f"{MAX_RETRIES + 1} attempts; {outcome}"
        )
    elif isinstance(exc, pg_errors.QueryCanceled):
        error = Unavailable(
            f"the database cancelled the statement (its statement_timeout, or an operator); {outcome}"
        )
    elif isinstance(exc, pg_errors.ProgramLimitExceeded):
        # Deterministic: the same write fails again. Mostly a key too large for a btree index (2704 bytes: an
        # event's source and id, or type and subject, of long multi-byte text).
        error = ResourceExhausted(
            "a value of this write is too large for the database (PostgreSQL indexes "
            "hold at most 2704 bytes per key, e.g. an event's source and id together, or "
            "its type and subject); nothing of it was stored"
        )
    elif isinstance(exc, pg_errors.ReadOnlySqlTransaction):
        error = Unavailable(f"the database is read-only (a standby, or in recovery); {outcome}")
    else:
        return exc
    error.__cause__ = exc
    return error


class _Down(psycopg.OperationalError):
    """Raised instead of waiting for a connection while the monitor knows the database is unreachable."""


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
    """A transaction's connection in the shape the shared SQL uses (store/sql/connection.py): ``?``
    placeholders, and a constraint violation raised as ``Conflict``, chained to psycopg's error (the
    transaction is then aborted, so a caller may only turn it into its own error)."""

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
            raise Conflict(str(exc)) from exc
        return cur

    def executemany(self, sql: str, rows: Any) -> psycopg.Cursor[Any]:
        cur = self.raw.cursor()
        rows = list(rows)
        if rows:
            try:
                cur.executemany(translate(sql), rows)  # type: ignore[arg-type]
            except pg_errors.IntegrityError as exc:
                raise Conflict(str(exc)) from exc
        return cur

    def native(self, sql: str, params: Any = None) -> Rows:
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
    """Reads on a pooled connection per statement (each sees the last commit). A read whose connection was
    lost is run again on another (reads are safe to repeat); a failure that persists is UNAVAILABLE."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def execute(self, sql: str, params: Any = None) -> _Result:
        for attempt in range(CONNECTION_RETRIES + 1):
            try:
                with self._db._acquire() as raw:
                    cur = Conn(raw).execute(sql, params)
                    rows = cur.fetchall() if cur.description else []
                    return _Result(rows, cur.rowcount)
            except psycopg.Error as exc:
                if connection_lost(exc) and not isinstance(exc, _Down):
                    self._db.suspect()
                    if attempt < CONNECTION_RETRIES and self._db.available:
                        if not attempt:
                            self._db.drop_broken()
                        continue
                error = storage_error(exc, writing=False)
                if error is exc:
                    raise
                log.warning("database read failed: %s", exc)
                raise error from exc
        raise AssertionError("unreachable")


class Serializable:
    """The database as stores of concurrently changed entities use it: ``write`` jobs run SERIALIZABLE (see
    the module docstring); everything else is the database's."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(self, job: Callable[[Conn], T]) -> T:
        return self._db.write(job, serializable=True)

    def reader(self) -> Reader:
        return self._db.reader()


class Database:
    """Owns the pool: migrations at open, write jobs in their own transactions, reads, the monitor.

    ``wait_seconds``: at open, how long an unreachable database is retried before giving up with a
    RuntimeError that names the database and the reason (a bad password or an unknown database fails at
    once)."""

    backend = "postgres"

    def __init__(
        self,
        url: str,
        *,
        min_connections: int = 2,
        max_connections: int = 24,
        writers: int = 8,
        wait_seconds: float = 30.0,
    ) -> None:
        self.url = url
        self.path = redact_url(url)  # what logs name: never the password
        self._wait_until_reachable(wait_seconds)
        self._pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=min_connections,
            max_size=max_connections,
            configure=self._configure,
            open=False,
            name="meterd",
            timeout=ACQUIRE_SECONDS,
        )
        self._available = True
        self._health_listeners: list[Callable[[bool], None]] = []
        self._wake = threading.Event()
        try:
            self._pool.open(wait=True, timeout=max(wait_seconds, PROBE_TIMEOUT_SECONDS))
            with self._pool.connection() as raw:
                migrate(raw, LOCK_MIGRATE)
        except BaseException as exc:
            self._pool.close()
            if isinstance(exc, psycopg.Error):  # lost between the first connection and here
                raise RuntimeError(f"cannot open PostgreSQL at {_where(url)}: {_reason(exc)}") from None
            raise
        self._rollback_listeners: list[Callable[[], None]] = []
        self._commit_listeners: list[Callable[[int, float], None]] = []
        self._executor = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="meterd-pg-writer")
        self._submitted: set[Future[Any]] = set()
        self._submitted_lock = threading.Lock()
        self._reader = Reader(self)
        self._closed = False
        self._stop = threading.Event()
        self.ensure_partitions()
        self._partitioner = threading.Thread(
            target=self._partition_loop, name="meterd-pg-partitions", daemon=True
        )
        self._partitioner.start()
        self._monitor = threading.Thread(target=self._monitor_loop, name="meterd-pg-monitor", daemon=True)
        self._monitor.start()

    def _wait_until_reachable(self, wait_seconds: float) -> None:
        """Connects once (retrying for ``wait_seconds``) before the pool is built, so an unreachable database
        is one clear error rather than the pool's timeout."""
        deadline = time.monotonic() + wait_seconds
        logged = False
        while True:
            try:
                with psycopg.connect(
                    self.url, connect_timeout=PROBE_TIMEOUT_SECONDS, autocommit=True
                ) as conn:
                    conn.execute("SELECT 1")
                if logged:
                    log.info("the database is reachable", extra={"db": _where(self.url)})
                return
            except psycopg.Error as exc:
                reason = _reason(exc)
                fatal = (
                    (exc.sqlstate or "").startswith(_FATAL_AT_START)
                    or "authentication failed" in reason
                    or "does not exist" in reason
                )
                if fatal or time.monotonic() >= deadline:
                    waited = "" if fatal or wait_seconds <= 0 else f" after trying for {wait_seconds:g} s"
                    raise RuntimeError(
                        f"cannot connect to PostgreSQL at {_where(self.url)}{waited}: {reason}"
                    ) from None
                if not logged:
                    log.warning(
                        "the database is not reachable yet; retrying for up to %g s: %s",
                        wait_seconds,
                        reason,
                        extra={"db": _where(self.url)},
                    )
                    logged = True
                time.sleep(min(START_RETRY_SECONDS, max(0.0, deadline - time.monotonic())))

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

    # -- availability ------------------------------------------------------------------------------
    @property
    def available(self) -> bool:
        """False while the monitor finds the database unreachable (calls then fail at once)."""
        return self._available

    def add_health_listener(self, listener: Callable[[bool], None]) -> None:
        """Called (on the monitor's thread) with False when the database becomes unreachable and True when
        it answers again."""
        self._health_listeners.append(listener)

    def add_failure_listener(self, listener: Callable[[str], None]) -> None:
        """Never called: PostgreSQL makes its writes durable itself, and an unreachable database is waited
        out (``add_health_listener``), not a reason to stop (SQLite's Database stops on a failed fsync)."""

    def suspect(self) -> None:
        """A call lost its connection: the monitor probes now rather than at its next round."""
        self._wake.set()

    def drop_broken(self) -> None:
        """Checks the pool's idle connections and drops the broken ones (after a lost connection: a restart
        or terminated backends leave several), so the next job gets a working one."""
        try:
            self._pool.check()
        except Exception as exc:  # the pool is closing
            log.debug("checking the pool's connections failed: %s", exc)

    @contextlib.contextmanager
    def _acquire(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection; waits for one in short slices, so a wait that began before the monitor found
        the database unreachable ends as soon as it does."""
        deadline = time.monotonic() + ACQUIRE_SECONDS
        while True:
            if not self._available:
                raise _Down("the database is unreachable")
            try:
                raw = self._pool.getconn(
                    timeout=min(ACQUIRE_SLICE_SECONDS, max(0.01, deadline - time.monotonic()))
                )
                break
            except PoolTimeout:
                if time.monotonic() >= deadline:
                    raise
        try:
            with raw:  # as the pool's connection(): commits, or rolls back on an error
                yield raw
        finally:
            self._pool.putconn(raw)

    def _probe(self, through_pool: bool) -> str | None:
        """None if the database answers, else why not. Through the pool first (no new backend on the server
        each round); a fresh connection decides when the pool's fails (its connections may be stale)."""
        if through_pool:
            try:
                with self._pool.connection(timeout=PROBE_TIMEOUT_SECONDS) as raw:
                    raw.execute("SELECT 1")
                return None
            except psycopg.Error:
                pass
        try:
            with psycopg.connect(self.url, connect_timeout=PROBE_TIMEOUT_SECONDS, autocommit=True) as conn:
                conn.execute("SELECT 1")
        except psycopg.Error as exc:
            return _reason(exc)
        if through_pool:  # the database answers but the pool's connection did not: it has stale ones
            self.drop_broken()
        return None

    def _monitor_loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(PROBE_SECONDS if self._available else PROBE_DOWN_SECONDS)
            if self._stop.is_set():
                return
            suspected = self._wake.is_set()
            self._wake.clear()
            try:
                reason = self._probe(through_pool=self._available and not suspected)
                if reason is None and (suspected or not self._available):
                    self.drop_broken()  # the connections a restart or a terminated backend left broken
            except Exception as exc:  # the pool closing under it, ...
                reason = _reason(exc)
            up = reason is None
            if up == self._available:
                continue
            self._available = up
            if up:
                log.warning("the database is reachable again; serving", extra={"db": _where(self.url)})
            else:
                log.error(
                    "the database is unreachable; calls get UNAVAILABLE until it answers: %s",
                    reason,
                    extra={"db": _where(self.url)},
                )
            for listener in self._health_listeners:
                try:
                    listener(up)
                except Exception:
                    log.exception("a database health listener failed")

    # -- writes ------------------------------------------------------------------------------------
    def write(
        self, job: Callable[[Conn], T], *, serializable: bool = False, locks_first: Sequence[LockFirst] = ()
    ) -> T:
        """Runs a write job in its own transaction and returns its result after the commit (``serializable``:
        at that isolation level). Conflicts (a serialization failure too) and a connection lost before the
        COMMIT was sent run it again; a lost COMMIT is UNAVAILABLE ("may or may not have been stored").

        ``locks_first``: advisory locks (a statement taking one, session-level, and its parameters) held from
        before the transaction begins until it ends. A SERIALIZABLE transaction reads from a snapshot taken at
        its first statement, so a lock taken inside it is taken after that snapshot: whatever committed while
        it waited for the lock stays invisible to it. Taken first, the snapshot follows the lock."""
        if self._closed:
            raise RuntimeError("database is closed")
        conflicts = lost = 0
        while True:
            committing = False
            try:
                with self._acquire() as raw:
                    started = time.perf_counter()
                    try:
                        for sql, params in locks_first:
                            raw.execute(sql, params)
                        if locks_first:
                            raw.commit()  # session-level locks outlive this, the transaction below starts anew
                        with raw.transaction():
                            if serializable:
                                raw.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                                # A sequential scan under SERIALIZABLE takes a predicate lock on the whole
                                # table, so that any concurrent insert into it is a conflict (PostgreSQL's docs,
                                # "Serializable Isolation Level"); the planner picks one for a small table.
                                # Index scans lock only the ranges read: creations for different subjects
                                # stopped failing after their retries (test_replica_races).
                                raw.execute("SET LOCAL enable_seqscan = off")
                            result = job(Conn(raw))
                            committing = True
                    except BaseException:
                        self.rolled_back()
                        raise
                    finally:
                        if locks_first:
                            _unlock_all(raw)
                    for listener in self._commit_listeners:
                        listener(1, time.perf_counter() - started)
                    return result
            except RETRYABLE as exc:
                if conflicts == MAX_RETRIES:
                    raise self._failed(exc, committing) from exc
                conflicts += 1
                log.info("write job retried", extra={"reason": type(exc).__name__, "attempt": conflicts})
                # Jittered, so that two retries do not meet again; doubling, capped at 0.2 s a wait.
                time.sleep(random.uniform(0.5, 1.0) * min(0.2, 0.005 * 2 ** (conflicts - 1)))
            except (pg_errors.UniqueViolation, Conflict) as exc:
                # A race with another replica that the job's own check could not see (two creations of the
                # same key at once): the unique index decides, and the loser is told it exists.
                cause = exc if isinstance(exc, pg_errors.UniqueViolation) else exc.__cause__
                if not isinstance(cause, pg_errors.UniqueViolation):
                    raise
                constraint = cause.diag.constraint_name or cause.diag.table_name or "row"
                raise AlreadyExists(f"{constraint}: already exists") from exc
            except psycopg.Error as exc:
                if connection_lost(exc) and not isinstance(exc, _Down):
                    self.suspect()
                    if not committing and lost < CONNECTION_RETRIES and self._available:
                        if not lost:
                            self.drop_broken()
                        lost += 1  # rolled back by the server: nothing of it was committed
                        log.info("write job retried", extra={"reason": type(exc).__name__, "attempt": lost})
                        continue
                raise self._failed(exc, committing) from exc

    def _failed(self, exc: psycopg.Error, committing: bool) -> BaseException:
        error = storage_error(exc, committing=committing)
        if error is exc:
            return exc
        log.warning("write job failed: %s", error, extra={"cause": _reason(exc)})
        return error

    def submit(
        self, job: Callable[[Conn], T], *, serializable: bool = False, locks_first: Sequence[LockFirst] = ()
    ) -> Future[T]:
        """Runs a write job on a writer thread (as ``write``); the future resolves after its commit."""
        if self._closed:
            raise RuntimeError("database is closed")
        future = self._executor.submit(self.write, job, serializable=serializable, locks_first=locks_first)
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

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        """A pooled connection for reads that need psycopg directly. Its failures come out as ``Reader``'s
        do (UNAVAILABLE for the transient ones); it is not run again."""
        try:
            with self._acquire() as raw:
                yield raw
        except psycopg.Error as exc:
            if connection_lost(exc) and not isinstance(exc, _Down):
                self.suspect()
            error = storage_error(exc, writing=False)
            if error is exc:
                raise
            log.warning("database call failed: %s", error, extra={"cause": _reason(exc)})
            raise error from exc

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
        self._wake.set()
        self._executor.shutdown(wait=True)
        self._monitor.join(timeout=PROBE_TIMEOUT_SECONDS + 1)
        self._pool.close()


def _unlock_all(raw: psycopg.Connection[Any]) -> None:
    """Releases the session's advisory locks (``locks_first``), whatever state the job left the connection in;
    a lost connection has released them already."""
    with contextlib.suppress(psycopg.Error):
        raw.rollback()
        raw.execute("SELECT pg_advisory_unlock_all()")
        raw.commit()


def _where(url: str) -> str:
    """host:port/database of a connection URL (without the user or password), for messages and logs."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
    except psycopg.Error:
        return "the configured URL"
    return f"{info.get('host') or 'localhost'}:{info.get('port') or 5432}/{info.get('dbname') or ''}"


def _reason(exc: BaseException) -> str:
    """The first line of a connection error, without libpq's "connection failed:" prefix and hints."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    for prefix in ("connection failed: ",):
        text = text.removeprefix(prefix)
    return text
