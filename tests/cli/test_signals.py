"""SIGTERM stops `meterd serve` gracefully (exit 0, "shutting down" then "meterd stopped" in its log) whenever
it comes and whichever of the server's threads the kernel hands it to; `kill -USR1` prints every thread's
stack to the log.

The kernel delivers a process's signal to any thread that does not block it, and Python runs its handler on
the main thread only: a server whose main thread slept in `Event.wait()` never ran the handler when another
thread took the signal, and slept through it (seen once in a full test run under load). The tests direct
SIGTERM at one non-main thread with tgkill, which is what the kernel did there.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from support import free_port, wait_healthy

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="tgkill and /proc are Linux's")


class Serve:
    """``meterd serve`` (JSON log) in a child process; ``listening()`` returns once it printed its address,
    which it does right before it waits for a signal."""

    def __init__(self, tmp_path: Path) -> None:
        self.address = f"127.0.0.1:{free_port()}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("METERD_")}
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "meterd.server",
                "serve",
                "--listen",
                self.address,
                "--db",
                str(tmp_path / "m.db"),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean,
        )

    def listening(self) -> None:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # "" if it exited: then communicate() below says why
        assert line.startswith("meterd listening on"), (line, self.finish(kill=True))

    def other_threads(self) -> list[int]:
        return sorted(int(t) for t in os.listdir(f"/proc/{self.proc.pid}/task") if int(t) != self.proc.pid)

    def finish(self, kill: bool = False, deadline_s: float = 60.0) -> tuple[int, list[dict[str, Any]]]:
        """Waits for the exit (a generous deadline: it fails only a server that does not stop). When it does
        not stop, the failure carries its threads' stacks (SIGUSR1), then it is killed."""
        if kill:
            self.proc.kill()
        try:
            _, err = self.proc.communicate(timeout=deadline_s)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGUSR1)
            try:
                _, err = self.proc.communicate(timeout=10)  # the stacks reach the log; it still does not stop
            except subprocess.TimeoutExpired:
                self.proc.kill()
                _, err = self.proc.communicate()
            pytest.fail(f"meterd did not stop within {deadline_s} s of SIGTERM; its log:\n{err}")
        return self.proc.returncode, [json.loads(line) for line in err.splitlines() if line.strip()]


def tgkill(pid: int, tid: int, signum: int) -> None:
    """A signal to one thread of another process (os.kill's is the process's: the kernel picks the thread)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.tgkill(pid, tid, signum) != 0 and ctypes.get_errno() != errno.ESRCH:  # ESRCH: that thread ended
        raise OSError(ctypes.get_errno(), f"tgkill {pid} {tid}")


def assert_graceful(code: int, log: list[dict[str, Any]]) -> None:
    messages = [r["msg"] for r in log]
    assert code == 0, log
    assert "shutting down" in messages and messages[-1] == "meterd stopped", messages
    assert next(r for r in log if r["msg"] == "shutting down")["signal"] == "SIGTERM"


@pytest.mark.parametrize("attempt", range(3))
def test_a_sigterm_another_thread_takes_stops_meterd(tmp_path: Path, attempt: int) -> None:
    server = Serve(tmp_path)
    server.listening()
    threads = server.other_threads()
    try:  # each of them: whichever takes it first, the main thread must learn of it
        for tid in threads:
            tgkill(server.proc.pid, tid, signal.SIGTERM)
    except OSError:
        server.finish(kill=True)
        raise
    assert_graceful(*server.finish())


@pytest.mark.parametrize("attempt", range(3))
def test_a_sigterm_as_soon_as_health_answers_is_a_graceful_stop(tmp_path: Path, attempt: int) -> None:
    """Health answers SERVING before `serve` prints its address: SIGTERM then is a graceful stop as well,
    not the default action (killed by the signal, exit -15)."""
    server = Serve(tmp_path)
    try:
        wait_healthy(server.address)
    finally:
        server.proc.terminate()
    assert_graceful(*server.finish())


def test_sigusr1_prints_every_threads_stack_and_serving_goes_on(tmp_path: Path) -> None:
    server = Serve(tmp_path)
    server.listening()
    server.proc.send_signal(signal.SIGUSR1)
    wait_healthy(server.address)  # still serving after the dump
    server.proc.terminate()
    code, log = server.finish()
    assert_graceful(code, log)
    dump = [r["msg"] for r in log if r["logger"] == "stderr"]
    assert any(line.startswith("Current thread") or line.startswith("Thread 0x") for line in dump), dump
    assert any("meterd/server/app.py" in line and "serve" in line for line in dump), dump
