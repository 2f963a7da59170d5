"""The SQLite database: one file in WAL mode, one writer thread with group commit, per-thread readers.

Writes are jobs (functions of a connection) handed to the writer thread. The writer takes every job
waiting in its queue, runs each inside its own savepoint of one transaction, commits once, and only then
resolves the jobs' futures: a caller that got its result knows its rows are on disk (synchronous=FULL),
and a failing job rolls back alone. Readers use their own connection per thread and see the last commit.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from meterd.server.errors import Unavailable
from meterd.server.store.sql.connection import Conflict
from meterd.server.store.sqlite.migrations import migrate

log = logging.getLogger(__name__)

T = TypeVar("T")
WriteJob = Callable[[sqlite3.Connection], T]

# A group is closed after this many jobs so one huge burst does not hold every caller's ack hostage.
MAX_JOBS_PER_COMMIT = 256
# SQLite's automatic checkpoint (every 1,000 pages, on commit) made commits slow; instead the writer
# checkpoints between groups once the WAL passes this size. It must be the writer: a checkpoint on another
# connection never catches up with continuous writes, so the WAL never restarts and grows without bound
# (2.5 GB after 600k metered events), making every lookup slower.
WAL_CHECKPOINT_BYTES = 64 * 1024 * 1024
# Page cache per connection (KiB), the bulk of the server's memory: the writer's fills as a stream touches
# pages, then stays. Readers (one per worker thread that reads, up to server.workers) keep SQLite's default
# 2 MiB: in WAL mode a reader's cache is emptied at its next read after any commit of the writer, a
# one-subject query reads pages no other query reads, and the operating system caches the file for all of
# them (8 and 64 MiB measured the same query CPU at 10M events). So the page caches are bounded by
# WRITER_CACHE_KIB + workers x READER_CACHE_KIB (64 + 32 x 2 MiB by default).
WRITER_CACHE_KIB = 65536
READER_CACHE_KIB = 2048
_STOP = object()


# Errors of the disk's own, SQLite's extended codes: a failed fsync means the kernel may have dropped the pages
# it could not write while marking them clean, so nothing SQLite wrote since the last good sync can be trusted
# to be on disk (PostgreSQL's "fsyncgate", 2018). Retrying the fsync can succeed and still have lost them.
_SYNC_FAILURES = frozenset({sqlite3.SQLITE_IOERR_FSYNC, sqlite3.SQLITE_IOERR_DIR_FSYNC})


class StorageFailed(Unavailable):
    """The database file could not be made durable: this server stops writing (and the process stops, see
    ``add_failure_listener``); a restart recovers from what is on disk."""


def storage_error(exc: BaseException) -> BaseException:
    """The error a caller should see for a failed write: a full disk (or a database at its size limit) or an
    I/O error of the disk is UNAVAILABLE, with a message that says what happened and that nothing of the
    write was stored (SQLite rolled it back; the server carries on, and retrying later works); anything else
    is passed on as it is."""
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(exc, sqlite3.Error) or code is None:
        return exc
    if code & 0xFF == sqlite3.SQLITE_FULL:
        error = Unavailable(
            "storage is full: the disk (or the database's size limit) has no room for this "
            "write, so nothing of it was stored; retry once space has been freed"
        )
    elif code & 0xFF == sqlite3.SQLITE_IOERR and code not in _SYNC_FAILURES:
        error = Unavailable(
            f"the disk reported an I/O error ({getattr(exc, 'sqlite_errorname', code)}) while "
            "writing, so nothing of this write was stored; retry"
        )
    else:
        return exc
    error.__cause__ = exc
    return error


def sync_failed(exc: BaseException) -> bool:
    """Whether ``exc`` is SQLite reporting a failed fsync (of the WAL, the database or its directory)."""
    return isinstance(exc, sqlite3.Error) and getattr(exc, "sqlite_errorcode", None) in _SYNC_FAILURES


def disk_error(exc: BaseException) -> bool:
    """An error of the disk (I/O, full) rather than of the job's own SQL: the whole group fails with it."""
    code = getattr(exc, "sqlite_errorcode", None)
    return (
        isinstance(exc, sqlite3.Error)
        and code is not None
        and code & 0xFF in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL)
    )


def connect(path: str, *, readonly: bool = False) -> sqlite3.Connection:
    """Opens a connection with meterd's pragmas. Autocommit mode: transactions are explicit."""
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30.0)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    conn.execute(f"PRAGMA cache_size=-{READER_CACHE_KIB if readonly else WRITER_CACHE_KIB}")
    conn.execute("PRAGMA temp_store=MEMORY")
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    return conn


class DatabaseInUse(RuntimeError):
    """Another meterd (or another server in this process) has the database file open."""


# Database files this process holds the lock of, by (device, inode): a second open in the same process is
# refused before it opens any descriptor of the file, since closing one would drop the POSIX locks SQLite holds
# on it for the first.
_HELD: set[tuple[int, int]] = set()
_HELD_LOCK = threading.Lock()


def _lock_exclusively(path: str) -> int:
    """Creates the database file readable and writable by its owner only (0600) if it is new (SQLite gives the
    -wal and -shm files it creates the database file's permissions), and takes an exclusive ``flock`` on it
    for as long as the returned descriptor stays open. DatabaseInUse when another process (or another server
    in this one) holds it: two processes writing one file would each miss the other's changes in their
    caches and watchers. ``flock`` locks are apart from the POSIX locks SQLite takes, so SQLite's own locking
    and ``meterd backup`` (which does not take this lock) work as before. Warns when others may read the file."""
    in_use = DatabaseInUse(
        f"database {path} is in use by another meterd process: a SQLite database is served by one process"
        " at a time (stop the other one, or run several replicas on PostgreSQL)"
    )
    with _HELD_LOCK:
        with contextlib.suppress(FileNotFoundError):
            st = os.stat(path)
            if (st.st_dev, st.st_ino) in _HELD:
                raise in_use
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)  # no SQLite connection of this process has the file open yet: nothing to drop
            raise in_use from None
        except BaseException:
            os.close(fd)
            raise
        st = os.fstat(fd)
        _HELD.add((st.st_dev, st.st_ino))
    if st.st_mode & 0o077:
        log.warning(
            "database %s is readable by others than its owner (mode %o); chmod 600 it",
            path,
            st.st_mode & 0o777,
        )
    return fd


def _unlock(fd: int) -> None:
    """Releases the lock of ``_lock_exclusively``; only once every SQLite connection to the file is closed."""
    with _HELD_LOCK:
        st = os.fstat(fd)
        _HELD.discard((st.st_dev, st.st_ino))
        os.close(fd)


class Database:
    """Owns the database file: migrations at open, the writer thread, and reader connections."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._lock_fd: int | None = None
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock_exclusively(self.path)
        self._wal_path = self.path + "-wal"
        try:
            self._write_conn = connect(self.path)
            try:
                migrate(self._write_conn)
            except BaseException:
                self._write_conn.close()
                raise
        except BaseException:
            if self._lock_fd is not None:
                _unlock(self._lock_fd)
            raise
        self._write_conn.execute("PRAGMA wal_autocheckpoint=0")
        # When the WAL restarts, its file is cut back to this size, so its size says how much is unchecked.
        self._write_conn.execute(f"PRAGMA journal_size_limit={WAL_CHECKPOINT_BYTES // 4}")
        self._queue: queue.Queue[Any] = queue.Queue()
        self._rollback_listeners: list[Callable[[], None]] = []
        self._commit_listeners: list[Callable[[int, float], None]] = []
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        self._closed = False
        self._failure: StorageFailed | None = None
        self._failure_listeners: list[Callable[[str], None]] = []
        self._thread = threading.Thread(target=self._write_loop, name="meterd-writer", daemon=True)
        self._thread.start()

    def add_rollback_listener(self, listener: Callable[[], None]) -> None:
        """Called on the writer thread after any rollback, so caches of written ids can be dropped."""
        self._rollback_listeners.append(listener)

    def add_commit_listener(self, listener: Callable[[int, float], None]) -> None:
        """Called on the writer thread after each group commit with (jobs, seconds) (for metrics)."""
        self._commit_listeners.append(listener)

    def add_failure_listener(self, listener: Callable[[str], None]) -> None:
        """Called once, with the reason, when the database can no longer be written safely (a failed fsync,
        or the writer's own failure): every write is refused from then on, and the server should stop so that
        a restart recovers from what is on disk."""
        self._failure_listeners.append(listener)

    @property
    def failure(self) -> str | None:
        """Why writes are refused (see add_failure_listener); None while the database is healthy."""
        return None if self._failure is None else self._failure.message

    def queue_depth(self) -> int:
        """Write jobs waiting for the writer thread."""
        return self._queue.qsize()

    # -- availability (the same surface as PostgreSQL's: a local file does not go away) -------------------
    available = True

    def add_health_listener(self, listener: Callable[[bool], None]) -> None:
        """Never called: the database is a local file, reachable while the server runs."""

    def _rolled_back(self) -> None:
        for listener in self._rollback_listeners:
            listener()

    @contextlib.contextmanager
    def savepoint(self, conn: sqlite3.Connection, name: str = "part") -> Iterator[None]:
        """Inside a write job: a part that rolls back alone when it raises (the error goes on), so a job can
        try a part and carry on without it. Rollback listeners are told, as for a failed job."""
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException as exc:
            # SQLite may have rolled the whole transaction back itself (full disk); after a disk error the
            # writer rolls the whole group back.
            if conn.in_transaction and not disk_error(exc):
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            self._rolled_back()
            raise
        conn.execute(f"RELEASE {name}")

    # -- writes ------------------------------------------------------------------------------------
    def submit(self, job: WriteJob[T]) -> Future[T]:
        """Queues a write job; the future resolves after the transaction holding it has committed."""
        if self._closed:
            raise RuntimeError("database is closed")
        future: Future[T] = Future()
        if self._failure is not None:
            future.set_exception(self._failure)
            return future
        self._queue.put((job, future))
        return future

    def write(self, job: WriteJob[T]) -> T:
        """Runs a write job and waits for its commit."""
        return self.submit(job).result()

    def _write_loop(self) -> None:
        conn = self._write_conn
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            group = [first]
            stop_after = False
            while len(group) < MAX_JOBS_PER_COMMIT:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop_after = True
                    break
                group.append(item)
            if self._failure is not None:
                self._refuse(group)
            else:
                try:
                    self._run_group(conn, group)
                    self._checkpoint_if_large(conn)
                except BaseException as exc:  # the writer never dies silently: its callers would wait forever
                    self._fail(f"the database writer failed ({type(exc).__name__}: {exc})", exc)
                    self._refuse(group)
            if stop_after:
                return

    def _run_group(self, conn: sqlite3.Connection, group: list[tuple[WriteJob[Any], Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        started = time.perf_counter()
        committing = False
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, future in group:
                if not future.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except BaseException as exc:  # the job's own error goes back to its caller alone
                    # SQLite rolled everything back (a full disk), or the disk failed: the group fails as a
                    # whole (a transaction that met an I/O error is not carried on).
                    if not conn.in_transaction or disk_error(exc) or disk_error(exc.__cause__ or exc):
                        raise
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    self._rolled_back()
                    outcomes.append((future, False, storage_error(exc)))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((future, True, result))
            committing = True
            conn.execute("COMMIT")
        except BaseException as exc:
            cause = exc if isinstance(exc, sqlite3.Error) else exc.__cause__ or exc
            if sync_failed(cause):
                # Not durable, and not knowably not stored either: the frames are written, only their sync
                # failed. Nothing more may be acknowledged as durable by this process.
                self._rollback_quietly(conn)
                self._fail(
                    f"the disk reported an error while making the database durable ({cause}); meterd "
                    "stops so that a restart recovers from what is on disk",
                    cause,
                )
                error: BaseException = StorageFailed(
                    "the database could not be made durable (fsync failed), so this write may or may not have "
                    "been stored: ingest is deduplicated, so resending events is safe; check other writes "
                    "before repeating them. meterd is stopping"
                )
                error.__cause__ = cause
            else:
                error = storage_error(cause if isinstance(cause, sqlite3.Error) else exc)
                if isinstance(error, Unavailable):
                    log.error(
                        "write transaction failed%s: %s; %d jobs get the error",
                        " at commit" if committing else "",
                        cause,
                        len(group),
                    )
                else:
                    error = exc
                    log.exception("write transaction failed; %d jobs get the error", len(group))
                if not self._rollback_quietly(conn):
                    self._fail(f"the database writer could not roll back after an error ({cause})", cause)
            self._rolled_back()
            for _, future in group:
                if not future.done():
                    future.set_exception(error)
            return
        if self._commit_listeners:
            seconds = time.perf_counter() - started
            for listener in self._commit_listeners:
                listener(len(group), seconds)
        for future, ok, value in outcomes:
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)

    def _rollback_quietly(self, conn: sqlite3.Connection) -> bool:
        """Rolls back an open transaction; False when even that fails (the connection cannot go on)."""
        try:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
        except sqlite3.Error:
            log.exception("rollback failed")
            return False
        return True

    def _fail(self, reason: str, cause: BaseException | None = None) -> None:
        """Stops all writing for good (see add_failure_listener): queued and later jobs get StorageFailed."""
        if self._failure is not None:
            return
        self._failure = StorageFailed(f"the database cannot be written: {reason}")
        self._failure.__cause__ = cause
        log.critical("the database cannot be written any more: %s", reason)
        for listener in self._failure_listeners:
            try:
                listener(reason)
            except Exception:
                log.exception("a storage failure listener failed")
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                self._queue.put(_STOP)  # still seen by the loop
                break
            self._refuse([item])

    def _refuse(self, group: list[tuple[WriteJob[Any], Future[Any]]]) -> None:
        for _, future in group:
            if future.set_running_or_notify_cancel():
                future.set_exception(self._failure or StorageFailed("the database cannot be written"))

    def _checkpoint_if_large(self, conn: sqlite3.Connection) -> None:
        try:
            size = os.path.getsize(self._wal_path)
        except OSError:
            return
        if size > WAL_CHECKPOINT_BYTES:
            # PASSIVE never waits for readers; with no other writer it copies every frame not pinned by a
            # reader, and the next write transaction then starts the WAL over from its beginning.
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                if sync_failed(exc):
                    self._fail(
                        f"the disk reported an error while syncing a checkpoint ({exc}); meterd stops "
                        "so that a restart recovers from what is on disk",
                        exc,
                    )
                else:  # the WAL keeps every frame: the next checkpoint copies them again
                    log.error("checkpoint failed, tried again later: %s", exc)

    # -- reads -------------------------------------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (opened on first use)."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            conn.row_factory = None
            self._local.conn = conn
            with self._readers_lock:
                self._readers.append(conn)
        return conn

    # -- lifecycle ---------------------------------------------------------------------------------
    def close(self) -> None:
        """Commits every queued job, stops the writer and closes all connections."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()
        if self._failure is None:
            try:
                self._write_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.Error as exc:  # the WAL stays: the next open checkpoints it
                log.error("final checkpoint failed: %s", exc)
        self._write_conn.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.ProgrammingError):  # opened in a thread that is gone
                    conn.close()
            self._readers.clear()
        if self._lock_fd is not None:
            _unlock(self._lock_fd)
            self._lock_fd = None


class SqlConnection:
    """A sqlite3 connection in the shape the shared SQL uses (store/sql/connection.py): a constraint violation
    raises ``Conflict``, chained to sqlite3's IntegrityError."""

    __slots__ = ("raw",)

    def __init__(self, raw: sqlite3.Connection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] = (), /) -> sqlite3.Cursor:
        try:
            return self.raw.execute(sql, params)
        except sqlite3.IntegrityError as exc:
            raise Conflict(str(exc)) from exc


class SharedSql:
    """The database as the shared stores (store/sql/) use it: jobs and readers get ``SqlConnection``s."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def write(self, job: Callable[[SqlConnection], T]) -> T:
        return self._db.write(lambda raw: job(SqlConnection(raw)))

    def reader(self) -> SqlConnection:
        return SqlConnection(self._db.reader())
