"""Test support: a controllable clock, and a meterd server in a child process (for crash tests)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

ROOT = Path(__file__).resolve().parent.parent


class Clock:
    """A clock tests move by hand; starts at a fixed instant unless told otherwise. It tells subscribers when
    it moves (a server's watches then look at their timers at once, instead of sleeping through the jump)."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()
        self._subscribers: list[Callable[[], None]] = []

    def __call__(self) -> datetime:
        with self._lock:
            return self._now

    def subscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._subscribers:
                self._subscribers.remove(callback)

    def _moved(self) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            callback()

    def set(self, t: datetime) -> None:
        with self._lock:
            self._now = t
        self._moved()

    def advance(self, **kwargs: float) -> datetime:
        with self._lock:
            self._now += timedelta(**kwargs)
            now = self._now
        self._moved()
        return now


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

    def __init__(
        self, db: Path, port: int | None = None, env: dict[str, str] | None = None, config: Path | None = None
    ) -> None:
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        args = [sys.executable, "-m", "meterd.server", "serve", "--listen", self.address, "--db", str(db)]
        if config is not None:
            args += ["--config", str(config)]
        self.proc = subprocess.Popen(
            args,
            env={**os.environ, **(env or {})},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
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


def wait_until(condition: Callable[[], bool], deadline_s: float = 60.0, what: str = "condition") -> None:
    """Polls ``condition`` until it holds, or raises TimeoutError after ``deadline_s``."""
    end = time.monotonic() + deadline_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError(f"timed out waiting for {what}")
        time.sleep(0.01)


class IdleStreams:
    """``n`` open StreamEvents calls that send nothing, on ``channels`` connections (grpc.aio client in a
    thread of its own, so the test thread stays free). ``open()`` returns once every call is connected."""

    def __init__(
        self, address: str, n: int, channels: int = 10, metadata: tuple[tuple[str, str], ...] = ()
    ) -> None:
        self.address, self.n, self.channels, self.metadata = address, n, channels, metadata
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="idle-streams", daemon=True)
        self.calls: list[Any] = []
        self._channels: list[grpc.aio.Channel] = []

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    async def _open(self) -> None:
        self._channels = [
            grpc.aio.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(self.channels)
        ]
        for i in range(self.n):
            method = self._channels[i % self.channels].stream_stream("/meterd.v1.EventService/StreamEvents")
            self.calls.append(method(metadata=self.metadata or None))
        await asyncio.gather(*(call.wait_for_connection() for call in self.calls))

    async def _close(self) -> None:
        for call in self.calls:
            call.cancel()
        for channel in self._channels:
            await channel.close()
        tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def open(self) -> IdleStreams:
        self.thread.start()
        self._run(self._open())
        return self

    def close(self) -> None:
        self._run(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        # Not closed: grpc's completion-queue poller may still post a late callback to it.

    def __enter__(self) -> IdleStreams:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


README_BLOCKS = re.findall(r"^```python\n(.*?)^```", (ROOT / "README.md").read_text(), flags=re.S | re.M)


class Tour:
    """Runs the README's ```python blocks in order (each at most once), in one namespace, against a server
    at ``target``, and keeps what each printed."""

    def __init__(self, target: str) -> None:
        self.target = target
        self.namespace: dict[str, object] = {"__name__": "__readme__"}
        self.outputs: dict[int, str | BaseException] = {}

    def output(self, index: int) -> str:
        for i in range(index + 1):
            if i not in self.outputs:
                self.outputs[i] = self._run(README_BLOCKS[i])
        result = self.outputs[index]
        if isinstance(result, BaseException):
            raise result
        return result

    def run_all(self) -> list[str]:
        return [self.output(i) for i in range(len(README_BLOCKS))]

    def close(self) -> None:
        for value in self.namespace.values():
            close = getattr(value, "close", None)
            if type(value).__name__ == "OpenMeter" and close is not None:
                close()

    def _run(self, code: str) -> str | BaseException:
        # The README talks to `make run`'s server; the test's server listens elsewhere.
        code = code.replace('"localhost:50051"', repr(self.target))
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                exec(compile(code, str(ROOT / "README.md"), "exec"), self.namespace)
        except Exception as error:
            return error
        return out.getvalue()
