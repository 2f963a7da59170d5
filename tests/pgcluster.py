"""A throwaway PostgreSQL cluster for tests and benchmarks: initdb into a temporary folder, started on a free
loopback port, removed afterwards. No test depends on a server started by hand.

PostgreSQL refuses to run as root (CI runs as root), so the cluster then runs as an unprivileged system user
(``postgres`` when Debian's package created it, else ``nobody``) that owns the temporary folder.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/N/bin), or the PATH's."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PgCluster:
    """One running cluster; ``create_database()`` gives a fresh database URL (a copy of the template)."""

    SUPERUSER = "meterd"

    def __init__(self, settings: dict[str, str] | None = None) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise RuntimeError(
                "PostgreSQL is not installed (make setup installs Debian's postgresql package)"
            )
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="meterd-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._user: pwd.struct_passwd | None = None
        self._free: list[str] = []
        if os.geteuid() == 0:
            name = "postgres" if _has_user("postgres") else "nobody"
            self._user = pwd.getpwnam(name)
            os.chown(self.root, self._user.pw_uid, self._user.pw_gid)
        self._settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": "",
            "fsync": "on",
            "max_connections": "400",
            "log_min_messages": "warning",
            **(settings or {}),
        }
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data),
                "-U",
                self.SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-instructions",
            ]
        )
        with open(self.data / "postgresql.conf", "a") as conf:
            for name, value in self._settings.items():
                conf.write(f"{name} = '{value}'\n")
        self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        atexit.register(self.stop)  # also when the run ends without its fixtures' teardown
        self.template = "meterd_template"
        self.admin_url = self.url("postgres")
        self._execute(f"CREATE DATABASE {self.template}")

    def _run(self, args: list[str]) -> None:
        kwargs: dict[str, object] = {}
        if self._user is not None:
            setpriv = shutil.which("setpriv")
            if setpriv:
                # setpriv switches the user after exec: Python then starts the child with vfork, not fork. A
                # fork in a process with gRPC threads (the fault tests restart the cluster under running
                # servers) runs gRPC's fork handlers and the child can die before its exec.
                args = [
                    setpriv,
                    f"--reuid={self._user.pw_uid}",
                    f"--regid={self._user.pw_gid}",
                    "--clear-groups",
                    *args,
                ]
            else:
                kwargs = {"user": self._user.pw_uid, "group": self._user.pw_gid, "extra_groups": []}
        result = subprocess.run(args, cwd=self.root, capture_output=True, text=True, check=False, **kwargs)  # type: ignore[call-overload]
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stdout}{result.stderr}")

    def url(self, database: str) -> str:
        return f"postgresql://{self.SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def _execute(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql)  # type: ignore[arg-type]

    def migrate_template(self) -> None:
        """Brings the template to the current schema, so databases copied from it start migrated."""
        from meterd.server.store.postgres.db import Database

        Database(self.url(self.template), min_connections=1).close()

    def acquire(self) -> str:
        """A clean, migrated database: a released one emptied by TRUNCATE (much cheaper than CREATE
        DATABASE with fsync on), else a new copy of the template."""
        if self._free:
            return self._free.pop()
        return self.create_database()

    def release(self, url: str) -> None:
        """Empties the database (every connection to it is closed first) and keeps it for ``acquire``.

        DELETE, not TRUNCATE: a test leaves a few rows in a few of the 90-odd tables and partitions, and
        TRUNCATE gives every one of them a new file (300 ms a database, 0.7 s under load: 220 s of a run),
        where DELETE on empty tables is 3 ms. Foreign keys are not checked meanwhile (replica role, so the
        order does not matter); the sequences restart, as TRUNCATE ... RESTART IDENTITY did."""
        import psycopg

        name = url.rsplit("/", 1)[1]
        try:
            self._execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                f" WHERE datname = '{name}' AND pid <> pg_backend_pid()"
            )
            with psycopg.connect(url, autocommit=True) as conn:
                tables = [
                    r[0]
                    for r in conn.execute(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
                        " AND c.relname NOT IN ('schema_version', 'meters_version', 'server_settings')"
                    )
                ]
                sequences = [
                    r[0]
                    for r in conn.execute(
                        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                        " WHERE n.nspname = 'public' AND c.relkind = 'S'"
                    )
                ]
                with conn.transaction():
                    conn.execute("SET LOCAL session_replication_role = replica")
                    for table in tables:
                        conn.execute(f"DELETE FROM {table}")  # type: ignore[arg-type]
                    for sequence in sequences:
                        conn.execute(f"ALTER SEQUENCE {sequence} RESTART")  # type: ignore[arg-type]
                    conn.execute("UPDATE meters_version SET version = 0")
        except Exception:
            self.drop_database(url)
            return
        self._free.append(url)

    def create_database(self, name: str | None = None) -> str:
        """A new database copied from the template; returns its URL."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        self._execute(f"CREATE DATABASE {name} TEMPLATE {self.template}")
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with contextlib.suppress(Exception):
            self._execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def shutdown(self, mode: str = "fast") -> None:
        """Stops the server (``fast``: backends are terminated, ``immediate``: a crash and recovery at the
        next start) and keeps its data, for fault tests; ``start_again`` brings it back on the same port."""
        self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "-t", "60", "stop"])

    def start_again(self) -> None:
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.root / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ]
        )

    def stop(self) -> None:
        """Stops the cluster (immediately: nothing in it is kept) and removes its folder. Idempotent."""
        if not self.root.exists():
            return
        with contextlib.suppress(Exception):
            self._run([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True
