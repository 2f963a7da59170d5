"""Test support: a controllable clock, and a meterd server in a child process (for crash tests)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """A clock tests move by hand; starts at a fixed instant unless told otherwise."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def set(self, t: datetime) -> None:
        with self._lock:
            self._now = t

    def advance(self, **kwargs: float) -> datetime:
        with self._lock:
            self._now += timedelta(**kwargs)
            return self._now


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(address: str, deadline_s: float = 30.0) -> None:
    """Blocks until the server's health check answers SERVING, or raises."""
    end = time.monotonic() + deadline_s
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while True:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0, wait_for_ready=True)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
            if time.monotonic() > end:
                raise TimeoutError(f"meterd at {address} did not become healthy")
            time.sleep(0.05)


class ServerProcess:
    """``meterd serve`` in a child process."""

    def __init__(self, db: Path, port: int | None = None, env: dict[str, str] | None = None,
                 config: Path | None = None) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "meterd.server", "serve", "--listen", self.address, "--db", str(db)]
        if config is not None:
            args += ["--config", str(config)]
        self.proc = subprocess.Popen(
            args, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        try:
            wait_healthy(self.address)
        except TimeoutError:
            self.proc.kill()
            raise

    def kill(self) -> None:
        """SIGKILL: no chance to clean up."""
        self.proc.kill()
        self.proc.wait()

    def terminate(self) -> int:
        """SIGTERM and wait for the graceful exit; returns the exit code."""
        self.proc.terminate()
        return self.proc.wait(timeout=30)
