"""The entitlement watch as Server-Sent Events (GET /api/v1/entitlements/watch), on one server in its own
process (issue 20, browsers).

- Delay: one SSE stream watches subject c0's metered entitlement; single events for c0 are ingested over gRPC
  one at a time, each after the previous one's update arrived; the delay from the ingest's acknowledgement
  to the SSE event carrying the new balance, p50 and p99 over --events events. The same through gRPC's
  WatchEntitlementValues (the Python client's watch), interleaved, for comparison (the 100 ms coalescing
  interval is most of either).
- Idle cost: --streams SSE streams open and idle (each watching a subject of its own), the server's CPU over
  --idle-seconds, as a share of one core, against the same window with none open; and the server's resident
  memory per open stream.

The load average is recorded before and after: the machine is shared.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, free_port, percentile, table, write_result

from meterd.client import OpenMeter

METERS = '[{"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.n"}]'


class SseReader:
    """One SSE stream read on a thread of its own; ``updates`` gets (arrival time, balance) per update."""

    def __init__(self, http_address: str, path: str) -> None:
        host, port = http_address.rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=120)
        self.conn.request("GET", path)
        self.response = self.conn.getresponse()
        assert self.response.status == 200, self.response.status
        self.balances: list[tuple[float, float]] = []
        self.ready = threading.Event()
        self.arrived = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while line := self.response.readline():
                if not line.startswith(b"data: "):
                    continue
                message = json.loads(line[6:])
                if "updates" not in message:  # a heartbeat: its position and currentAsOf only
                    continue
                if message["snapshotComplete"]:
                    self.ready.set()
                at = time.perf_counter()
                with self.arrived:
                    for u in message["updates"]:
                        if "USAGE" in u["reasons"]:
                            self.balances.append((at, u["value"]["balance"]))
                    self.arrived.notify_all()
        except Exception:  # closed by close() while reading: the stream is over
            pass

    def wait_for(self, count: int, deadline: float = 60.0) -> tuple[float, float]:
        with self.arrived:
            if not self.arrived.wait_for(lambda: len(self.balances) >= count, deadline):
                raise TimeoutError("no SSE update")
            return self.balances[count - 1]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.sock.shutdown(socket.SHUT_RDWR)  # type: ignore[union-attr]
        self.conn.close()


def event(i: int, subject: str = "c0") -> dict[str, Any]:
    return {
        "specversion": "1.0",
        "id": f"w{i}",
        "source": "bench",
        "type": "prompt",
        "subject": subject,
        "data": {"n": 1},
    }


def measure_delay(server: Server, http_address: str, om: OpenMeter, events: int) -> dict[str, Any]:
    sse = SseReader(http_address, "/api/v1/entitlements/watch?subject=c0&feature=ai_tokens")
    sse.ready.wait(60)
    sse_delays, grpc_delays = [], []
    with om.entitlements.watch(subject="c0", feature="ai_tokens") as watch:
        messages = iter(watch)
        while not next(messages).snapshot_complete:
            pass
        for i in range(events):
            om.events.ingest(event(i))
            acked = time.perf_counter()
            at, _ = sse.wait_for(i + 1)
            sse_delays.append(at - acked)
            while not any(u.reasons for u in next(messages).updates):
                pass
            grpc_delays.append(time.perf_counter() - acked)
    sse.close()
    return {
        "events": events,
        "sse_delay_ms": {"p50": 1000 * percentile(sse_delays, 50), "p99": 1000 * percentile(sse_delays, 99)},
        "grpc_delay_ms": {
            "p50": 1000 * percentile(grpc_delays, 50),
            "p99": 1000 * percentile(grpc_delays, 99),
        },
    }


def cpu_share(pid: int, seconds: float) -> float:
    process = psutil.Process(pid)
    before = process.cpu_times()
    time.sleep(seconds)  # a measurement window, not a wait for a condition
    after = process.cpu_times()
    return (after.user + after.system - before.user - before.system) / seconds


def measure_idle(server: Server, http_address: str, streams: int, seconds: float) -> dict[str, Any]:
    idle_none = cpu_share(server.proc.pid, seconds)
    rss_before = server.rss()
    readers = [
        SseReader(http_address, f"/api/v1/entitlements/watch?subject=c{1 + i}") for i in range(streams)
    ]
    for r in readers:
        r.ready.wait(120)
    idle_open = cpu_share(server.proc.pid, seconds)
    rss_after = server.rss()
    for r in readers:
        r.close()
    return {
        "streams": streams,
        "window_s": seconds,
        "cpu_share_of_a_core_none": idle_none,
        "cpu_share_of_a_core_open": idle_open,
        "rss_per_stream_kib": (rss_after - rss_before) / streams / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--idle-seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.events, args.streams, args.idle_seconds = 20, 50, 2.0
    load_before = os.getloadavg()
    http_address = f"127.0.0.1:{free_port()}"
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(
            Path(tmp) / "bench.db",
            env={"METERD_HTTP_LISTEN": http_address, "METERD_METERS": METERS, "METERD_MAX_STREAMS": "100000"},
        )
        try:
            with OpenMeter(server.address, timeout=60) as om:
                om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens"})
                for i in range(args.streams + 1):
                    om.subjects.create_entitlement(
                        f"c{i}",
                        {
                            "type": "metered",
                            "featureKey": "ai_tokens",
                            "usagePeriod": {"interval": "MONTH"},
                            "issueAfterReset": 1_000_000,
                        },
                    )
                delay = measure_delay(server, http_address, om, args.events)
            idle = measure_idle(server, http_address, args.streams, args.idle_seconds)
        finally:
            server.stop()
    result = {"delay": delay, "idle": idle, "load_average": {"before": load_before, "after": os.getloadavg()}}
    path = write_result("http_watch", result)
    print(
        table(
            [
                (
                    "SSE delay p50 / p99",
                    f"{delay['sse_delay_ms']['p50']:.0f} / {delay['sse_delay_ms']['p99']:.0f} ms",
                ),
                (
                    "gRPC watch delay p50 / p99",
                    f"{delay['grpc_delay_ms']['p50']:.0f} / {delay['grpc_delay_ms']['p99']:.0f} ms",
                ),
                (
                    f"server CPU, {idle['streams']} idle SSE streams",
                    f"{100 * idle['cpu_share_of_a_core_open']:.1f}% of a core",
                ),
                ("server CPU, none open", f"{100 * idle['cpu_share_of_a_core_none']:.1f}% of a core"),
                ("memory per open stream", f"{idle['rss_per_stream_kib']:.0f} KiB"),
                (
                    "load average before / after",
                    f"{load_before[0]:.1f} / {result['load_average']['after'][0]:.1f}",
                ),
            ]
        )
    )
    print(f"written {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
