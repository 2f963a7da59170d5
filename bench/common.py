"""Benchmark helpers: a meterd server in its own process, its peak RSS, bulk loading through meterd's own ingest
code, percentiles, result files."""

from __future__ import annotations

import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import grpc
import psutil
from grpc_health.v1 import health_pb2, health_pb2_grpc

from meterd.v1 import events_pb2

RESULTS = Path(__file__).resolve().parent / "results"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`meterd serve` in a child process, with its peak resident memory sampled in the background."""

    def __init__(
        self,
        db: Path,
        config: Path | None = None,
        *,
        command: list[str] | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        """``command`` runs instead of ``python -m meterd.server`` (given the same arguments)."""
        self.address = f"127.0.0.1:{free_port()}"
        args = [
            *(command or [sys.executable, "-m", "meterd.server"]),
            "serve",
            "--listen",
            self.address,
            "--db",
            str(db),
        ]
        if config:
            args += ["--config", str(config)]
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, "METERD_LOG_FORMAT": "text", **(env or {})},
        )
        self.peak_rss = 0
        self._stop = threading.Event()
        deadline = time.monotonic() + 120
        with grpc.insecure_channel(self.address) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            while True:
                try:
                    stub.Check(health_pb2.HealthCheckRequest(), timeout=1, wait_for_ready=True)
                    break
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        process = psutil.Process(self.proc.pid)
        while not self._stop.wait(0.2):
            try:
                self.peak_rss = max(self.peak_rss, process.memory_info().rss)
            except psutil.Error:
                return

    def rss(self) -> int:
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def stop(self) -> None:
        self._stop.set()
        self.proc.terminate()
        self.proc.wait(timeout=120)


def load_in_process(
    db: Any,
    event_store: Callable[[Any], Any],
    meter_store: Callable[[Any, Any], Any],
    specs: list[dict[str, Any]],
    event: Callable[[str, int, int, random.Random], events_pb2.Event],
    n: int,
) -> float:
    """Creates the meters in ``specs`` and ingests n events ``event("e", i, n, rng)`` into ``db`` (a store
    backend's Database, closed at the end; its stores built by ``event_store(db)`` and ``meter_store(db,
    events)``) through meterd's own ingest code in this process (validation, dedupe, the meters'
    pre-aggregation, group commit; no gRPC hop): batches of 1,000, up to 8 waiting for their commit. Returns
    events/s (the meters' creation not counted)."""
    # Imported here: the benches that drive only a server in a child process keep loading no server code.
    from meterd.server.events.service import EventService
    from meterd.server.meters.model import definition_from_fields
    from meterd.server.meters.service import MeterService
    from meterd.server.timeutil import utcnow

    events = event_store(db)
    meters = MeterService(meter_store(db, events), utcnow)
    for spec in specs:
        meters.create(
            definition_from_fields(
                spec["slug"],
                spec["event_type"],
                spec["aggregation"],
                spec.get("value_property"),
                spec["group_by"],
            )
        )
    service = EventService(events, utcnow)
    rng = random.Random(n)
    start = time.perf_counter()
    pending = []
    batch = 1000
    for base in range(0, n, batch):
        wire = [event("e", i, n, rng) for i in range(base, min(n, base + batch))]
        pending.append(
            service.submit_batch([(e, e.time.seconds * 1_000_000 + e.time.nanos // 1000) for e in wire])
        )
        if len(pending) > 8:
            pending.pop(0).result()
        if base and base % 1_000_000 == 0:
            print(f"  loaded {base:,} events ({base / (time.perf_counter() - start):,.0f}/s)", flush=True)
    for f in pending:
        f.result()
    rate = n / (time.perf_counter() - start)
    db.close()
    return rate


def percentile(samples: list[float], p: float) -> float:
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {
        "benchmark": name,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        **payload,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2) + "\n")
    return path


def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k.ljust(width)}  {v}" for k, v in rows)
