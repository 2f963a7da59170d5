"""The SQLite database: one file in WAL mode, one writer thread with group commit, per-thread readers.

Writes are jobs (functions of a connection) handed to the writer thread. The writer takes every job
waiting in its queue, runs each inside its own savepoint of one transaction, commits once, and only then
resolves the jobs' futures: a caller that got its result knows its rows are on disk (synchronous=FULL),
and a failing job rolls back alone. Readers use their own connection per thread and see the last commit.
"""

from __future__ import annotations

import contextlib
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


def storage_error(exc: BaseException) -> BaseException:
    """The error a caller should see for a failed write: a full disk (or a database at its size limit) is
    UNAVAILABLE, with a message that says so (the server carries on, and retrying once space returns
    works); anything else is passed on as it is."""
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(exc, sqlite3.Error) and code is not None and code & 0xFF == sqlite3.SQLITE_FULL:
        error = Unavailable("storage is full: the disk (or the database's size limit) has no room for this "
                            "write, so nothing of it was stored; retry once space has been freed")
        error.__cause__ = exc
        return error
    return exc


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


def _create_private(path: str) -> None:
    """Creates the database file readable and writable by its owner only (0600), before SQLite opens it:
    SQLite gives the -wal and -shm files it creates the database file's permissions. An existing file keeps
    its mode; a warning says when others may read it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        mode = os.fstat(fd).st_mode
    finally:
        os.close(fd)
    if mode & 0o077:
        log.warning("database %s is readable by others than its owner (mode %o); chmod 600 it", path, mode & 0o777)


class Database:
    """Owns the database file: migrations at open, the writer thread, and reader connections."""

    backend = "sqlite"

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            _create_private(self.path)
        self._wal_path = self.path + "-wal"
        self._write_conn = connect(self.path)
        migrate(self._write_conn)
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
        self._thread = threading.Thread(target=self._write_loop, name="meterd-writer", daemon=True)
        self._thread.start()

    def add_rollback_listener(self, listener: Callable[[], None]) -> None:
        """Called on the writer thread after any rollback, so caches of written ids can be dropped."""
        self._rollback_listeners.append(listener)

    def add_commit_listener(self, listener: Callable[[int, float], None]) -> None:
        """Called on the writer thread after each group commit with (jobs, seconds) (for metrics)."""
        self._commit_listeners.append(listener)

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
        except BaseException:
            if conn.in_transaction:  # SQLite may have rolled the whole transaction back itself (full disk)
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
            self._run_group(conn, group)
            self._checkpoint_if_large(conn)
            if stop_after:
                return

    def _run_group(self, conn: sqlite3.Connection, group: list[tuple[WriteJob[Any], Future[Any]]]) -> None:
        outcomes: list[tuple[Future[Any], bool, Any]] = []
        started = time.perf_counter()
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job, future in group:
                if not future.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    result = job(conn)
                except BaseException as exc:  # the job's own error goes back to its caller alone
                    if not conn.in_transaction:  # SQLite rolled everything back (a full disk): fail the group
                        raise
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    self._rolled_back()
                    outcomes.append((future, False, storage_error(exc)))
                else:
                    conn.execute("RELEASE job")
                    outcomes.append((future, True, result))
            conn.execute("COMMIT")
        except BaseException as exc:
            error = storage_error(exc)
            if isinstance(error, Unavailable):
                log.error("write transaction failed: %s; %d jobs get the error", exc, len(group))
            else:
                log.exception("write transaction failed; %d jobs get the error", len(group))
            if conn.in_transaction:
                conn.execute("ROLLBACK")
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

    def _checkpoint_if_large(self, conn: sqlite3.Connection) -> None:
        try:
            size = os.path.getsize(self._wal_path)
        except OSError:
            return
        if size > WAL_CHECKPOINT_BYTES:
            # PASSIVE never waits for readers; with no other writer it copies every frame not pinned by a
            # reader, and the next write transaction then starts the WAL over from its beginning.
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")

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
        self._write_conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self._write_conn.close()
        with self._readers_lock:
            for conn in self._readers:
                with contextlib.suppress(sqlite3.ProgrammingError):  # opened in a thread that is gone
                    conn.close()
            self._readers.clear()


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
