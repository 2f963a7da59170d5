"""`meterd serve` with the ingest path's CPU time measured per part, for the per-event cost breakdown of
bench/meters_ingest.py (``--breakdown``).

Run as ``python bench/profiled_server.py serve --listen ... --db ...`` with ``METERD_PROFILE_OUT`` set to
a JSON path: SIGUSR2 starts the measure (after a warm-up; ``<path>.started`` then exists), SIGUSR2 again
writes it to the path (``meterd serve`` keeps SIGUSR1 for its thread dump). What is measured: the CPU
time of each thread (user + system) and, with ``time.thread_time`` (the calling thread's CPU time, so time
waiting for the GIL or the disk does not count), the ingest functions below and every SQL statement by its
first words. Wrapped functions are per batch or per statement, never per event, so the overhead is small.
"""

from __future__ import annotations

import collections
import json
import os
import re
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psutil

seconds: collections.Counter[str] = collections.Counter()
calls: collections.Counter[str] = collections.Counter()
_clock = time.thread_time


def _wrap(owner: Any, name: str, label: str) -> None:
    inner = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = _clock()
        try:
            return inner(*args, **kwargs)
        finally:
            seconds[label] += _clock() - start
            calls[label] += 1

    setattr(owner, name, timed)


_SQL_HEAD = re.compile(
    r"(INSERT OR IGNORE INTO \w+|INSERT OR REPLACE INTO \w+|INSERT INTO \w+|UPDATE \w+|"
    r"DELETE FROM \w+|SELECT .{0,30}|PRAGMA \w+|\w+)"
)


def _sql_label(sql: str) -> str:
    match = _SQL_HEAD.match(" ".join(sql.split()))
    return "writer: sql " + (match.group(0) if match else sql[:30])


class _TimedConnection(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
        start = _clock()
        try:
            return super().execute(sql, *args)
        finally:
            label = _sql_label(sql)
            seconds[label] += _clock() - start
            calls[label] += 1

    def executemany(self, sql: str, rows: Any) -> sqlite3.Cursor:  # type: ignore[override]
        start = _clock()
        try:
            return super().executemany(sql, rows)
        finally:
            label = _sql_label(sql)
            seconds[label] += _clock() - start
            calls[label] += 1


def _install() -> None:
    connect: Callable[..., sqlite3.Connection] = sqlite3.connect

    def timed_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _TimedConnection)
        return connect(*args, **kwargs)

    sqlite3.connect = timed_connect  # type: ignore[assignment]
    from meterd.server.events import service, servicer
    from meterd.server.meters import fold
    from meterd.server.store.sqlite import db, events, meters

    _wrap(servicer, "events_from_wire", "submit: wire to events")
    _wrap(service.EventService, "submit_batch", "submit: batch (validation and all below)")
    _wrap(events.SqliteEventStore, "submit_ingest", "submit: store submit (event rows, fold)")
    _wrap(fold.Folder, "fold", "submit: fold")
    _wrap(db.Database, "_run_group", "writer: transaction (all below)")
    _wrap(events.SqliteEventStore, "_insert", "writer: events and meters")
    _wrap(meters.SqliteMeterStore, "apply", "writer: meters")
    _wrap(db.Database, "_checkpoint_if_large", "writer: checkpoint")


def _threads() -> dict[str, float]:
    names = {t.native_id: t.name for t in threading.enumerate()}
    out: collections.Counter[str] = collections.Counter()
    for t in psutil.Process().threads():
        out[re.sub(r"_\d+$", "", names.get(t.id, "other"))] += t.user_time + t.system_time
    return dict(out)


_base: dict[str, float] = {}


def _start(*_: Any) -> None:
    seconds.clear()
    calls.clear()
    _base.update(_threads())
    with open(os.environ["METERD_PROFILE_OUT"] + ".started", "w"):
        pass


def _write(*_: Any) -> None:
    now = _threads()
    payload = {
        "seconds": dict(seconds),
        "calls": dict(calls),
        "threads": {k: v - _base.get(k, 0.0) for k, v in now.items()},
    }
    path = os.environ["METERD_PROFILE_OUT"]
    with open(path + ".tmp", "w") as f:
        json.dump(payload, f)
    os.replace(path + ".tmp", path)


def _on_usr2(*_: Any) -> None:
    """The first SIGUSR2 starts the measure, the next writes it."""
    if _base:
        _write()
    else:
        _start()


if __name__ == "__main__":
    _install()
    signal.signal(signal.SIGUSR2, _on_usr2)
    from meterd.server.cli import main

    sys.argv = ["meterd", *sys.argv[1:]]
    main()
