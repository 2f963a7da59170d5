"""Unary latency with thousands of idle ingest streams open (issue 11).

Against a server in its own process: p50/p99 of GetEntitlementValue (one metered entitlement, a few grants,
a day of hourly usage) and ListMeters (three meters), first with no stream open, then with N idle
StreamEvents calls open (each sends one one-event batch, waits for its ack, then sends nothing; opened by a grpc.aio client in this process on
--channels connections). The ratio with/without is the figure: an idle stream should cost a unary call
nothing. Also the server's resident memory and thread count with the streams open."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import grpc
import grpc.aio
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, percentile, table, write_result

from meterd.client import OpenMeter
from meterd.v1 import events_pb2


def setup(address: str) -> None:
    now = datetime.now(UTC)
    start = (now - timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    with OpenMeter(address, timeout=60) as om:
        for slug in ("tokens_total", "requests", "seats"):
            om.meters.create(
                {
                    "slug": slug,
                    "eventType": slug,
                    "aggregation": "SUM",
                    "valueProperty": "$.n",
                    "groupBy": {"model": "$.model"},
                }
            )
        om.features.create({"key": "ai_tokens", "name": "AI tokens", "meterSlug": "tokens_total"})
        om.subjects.create_entitlement(
            "c1",
            {
                "type": "metered",
                "featureKey": "ai_tokens",
                "usagePeriod": {"interval": "MONTH", "anchor": start},
                "measureUsageFrom": start,
                "issueAfterReset": 100_000,
            },
        )
        for i in range(5):
            om.subjects.create_entitlement_grant(
                "c1",
                "ai_tokens",
                {
                    "amount": 1000,
                    "priority": 1 + i,
                    "effectiveAt": start,
                    "expiration": {"duration": "MONTH", "count": 1},
                },
            )
        om.events.ingest(
            [
                {
                    "id": f"e{h}",
                    "source": "bench",
                    "type": "tokens_total",
                    "subject": "c1",
                    "time": start + timedelta(hours=h, minutes=7),
                    "data": {"n": 10, "model": "a"},
                }
                for h in range(24)
            ]
        )


def latencies(call: Callable[[], object], n: int) -> list[float]:
    for _ in range(20):
        call()
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        out.append(time.perf_counter() - t0)
    return out


def summary(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples, 50) * 1000, 2),
        "p99_ms": round(percentile(samples, 99) * 1000, 2),
        "samples": len(samples),
    }


class IdleStreams:
    """N connected StreamEvents calls that send nothing, on a grpc.aio client in a thread of its own."""

    def __init__(self, address: str, n: int, channels: int) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.address, self.n, self.channels_n = address, n, channels
        self.calls: list[Any] = []
        self.channels: list[grpc.aio.Channel] = []

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=300)

    def open(self) -> float:
        async def go() -> None:
            self.channels = [
                grpc.aio.insecure_channel(self.address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(self.channels_n)
            ]
            for i in range(self.n):
                self.calls.append(
                    self.channels[i % self.channels_n].stream_stream(
                        "/meterd.v1.EventService/StreamEvents",
                        request_serializer=events_pb2.StreamEventsRequest.SerializeToString,
                        response_deserializer=events_pb2.StreamEventsResponse.FromString,
                    )()
                )
            await asyncio.gather(*(self._first_ack(i, call) for i, call in enumerate(self.calls)))

        t0 = time.perf_counter()
        self._run(go())
        return time.perf_counter() - t0

    @staticmethod
    async def _first_ack(i: int, call: Any) -> None:
        """One one-event batch and its ack: the server is then surely serving the stream, which stays idle."""
        event = events_pb2.Event(
            specversion="1.0", id=f"idle-{i}", source="bench-idle", type="idle", subject="c9", data="{}"
        )
        await call.write(events_pb2.StreamEventsRequest(sequence=1, events=[event]))
        ack = await call.read()
        assert ack.accepted_count == 1, ack

    def alive(self) -> int:
        return sum(1 for call in self.calls if not call.done())

    def close(self) -> None:
        async def go() -> None:
            for call in self.calls:
                call.cancel()
            for channel in self.channels:
                await channel.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self._run(go())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, default=2000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000, help="calls per method and phase")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "meterd.db")
        try:
            setup(server.address)
            process = psutil.Process(server.proc.pid)
            with OpenMeter(server.address, timeout=60) as om:
                methods: dict[str, Callable[[], object]] = {
                    "GetEntitlementValue": lambda: om.subjects.get_entitlement_value("c1", "ai_tokens"),
                    "ListMeters": lambda: om.meters.list(),
                }
                before = {name: latencies(call, args.calls) for name, call in methods.items()}
                base = {
                    "rss_mb": round(process.memory_info().rss / 2**20, 1),
                    "threads": process.num_threads(),
                }
                streams = IdleStreams(server.address, args.streams, args.channels)
                open_s = streams.open()
                during = {name: latencies(call, args.calls) for name, call in methods.items()}
                loaded = {
                    "rss_mb": round(process.memory_info().rss / 2**20, 1),
                    "threads": process.num_threads(),
                    "streams_still_open": streams.alive(),
                }
                streams.close()
        finally:
            server.stop()
    result: dict[str, Any] = {
        "workload": f"{args.calls} sequential calls per method, one client, before and with {args.streams} idle "
        f"StreamEvents calls open on {args.channels} connections; server in its own process",
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],  # the machine is shared: context
        "idle_streams": args.streams,
        "open_seconds": round(open_s, 2),
        "without_streams": {name: summary(s) for name, s in before.items()} | {"server": base},
        "with_streams": {name: summary(s) for name, s in during.items()} | {"server": loaded},
    }
    result["p99_ratio_with_over_without"] = {
        name: round(percentile(during[name], 99) / percentile(before[name], 99), 2) for name in methods
    }
    path = write_result("serving", result)
    rows = []
    for name in methods:
        w, d = result["without_streams"][name], result["with_streams"][name]
        rows.append(
            (
                f"{name} p50/p99 ms",
                f"{w['p50_ms']}/{w['p99_ms']} without, {d['p50_ms']}/{d['p99_ms']} with "
                f"{args.streams} idle streams (p99 x{result['p99_ratio_with_over_without'][name]})",
            )
        )
    rows.append(
        (
            "server threads / RSS",
            f"{base['threads']} / {base['rss_mb']} MB without, "
            f"{loaded['threads']} / {loaded['rss_mb']} MB with",
        )
    )
    rows.append(
        (
            "streams opened in",
            f"{result['open_seconds']} s; still open at the end: {loaded['streams_still_open']}",
        )
    )
    print(table(rows))
    print(f"  -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
