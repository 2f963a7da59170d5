"""Idle costs nothing, hostile load is contained (issue 22): three figures against a server in its own process.

1. CPU of the server with N idle watchers (each WatchEntitlementValues stream following one subject's
   entitlements, nothing changing, the default heartbeat), over a window after they are all open, against
   the same server with none: the target is under 5% of a core.
2. Unary p50/p99 (GetEntitlementValue, ListMeters) on an idle server, then with the N watchers open and four
   hostile producers streaming batches of 10,000 events that are all rejected (each ack carries 10,000
   results with their reasons): the target is p99 within 2x of the idle server's.
3. Peak resident memory of a fresh server while 10 bulk producers each stream batches of 10,000 events of
   about 2 KB (20 MB messages), keeping 8 in flight: the target is under 1 GB. Run with the server's byte
   budget (server.max_inflight_bytes, default 128 MiB) and, for comparison, with it lifted.

The machine is shared: the load average is recorded with each figure.
"""

from __future__ import annotations

import argparse
import asyncio
import json
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
from common import RESULTS, Server, percentile, table, write_result

from meterd.client import OpenMeter
from meterd.v1 import entitlements_pb2, events_pb2

SUBJECTS = 100  # watchers follow these subjects' entitlements (N / SUBJECTS watchers per subject)


def load() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


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
        for i in range(SUBJECTS):
            om.subjects.create_entitlement(
                f"c{i}",
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
                "c0",
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
                    "subject": "c0",
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


def cpu_seconds(process: psutil.Process) -> float:
    t = process.cpu_times()
    return float(t.user + t.system)


def raw(b: bytes) -> bytes:
    return b


class Load:
    """Watchers and producers on a grpc.aio client in a thread of its own (bytes in and out: the client's
    own CPU stays small)."""

    def __init__(self, address: str, channels: int, heartbeat: float | None = None) -> None:
        # The watches' heartbeat_interval (None: the server's default, server.watch_heartbeat_seconds, 30 s).
        self.heartbeat = heartbeat
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.address = address
        self.channels: list[grpc.aio.Channel] = self._run(self._open_channels(channels))
        self.tasks: list[asyncio.Task[Any]] = []
        self.messages = 0
        self.acks = 0
        self.errors: list[str] = []

    def _run(self, coro: Any, timeout: float = 600) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=timeout)

    async def _open_channels(self, n: int) -> list[grpc.aio.Channel]:
        options = [
            ("grpc.use_local_subchannel_pool", 1),
            ("grpc.max_receive_message_length", 64 * 2**20),
            ("grpc.max_send_message_length", 64 * 2**20),
        ]
        return [grpc.aio.insecure_channel(self.address, options=options) for _ in range(n)]

    def watch(self, n: int) -> float:
        """Opens n watches and waits until each has its snapshot; returns the seconds it took."""

        async def go() -> None:
            ready = [asyncio.Event() for _ in range(n)]
            for i in range(n):
                request = entitlements_pb2.WatchEntitlementValuesRequest(subject_keys=[f"c{i % SUBJECTS}"])
                if self.heartbeat is not None:
                    request.heartbeat_interval.FromTimedelta(timedelta(seconds=self.heartbeat))
                call = self.channels[i % len(self.channels)].unary_stream(
                    "/meterd.v1.EntitlementService/WatchEntitlementValues",
                    request_serializer=entitlements_pb2.WatchEntitlementValuesRequest.SerializeToString,
                    response_deserializer=raw,
                )(request)
                self.tasks.append(asyncio.ensure_future(self._read(call, ready[i])))
            await asyncio.gather(*(r.wait() for r in ready))

        t0 = time.perf_counter()
        self._run(go())
        return time.perf_counter() - t0

    async def _read(self, call: Any, ready: asyncio.Event) -> None:
        try:
            async for _ in call:
                self.messages += 1
                ready.set()
        except grpc.aio.AioRpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.errors.append(f"watch: {exc.code().name} {exc.details()}")
            ready.set()

    def produce(
        self, n: int, batch: bytes, batches: int | None, in_flight: int = 8
    ) -> list[asyncio.Future[Any]]:
        """n producers streaming ``batch`` (a serialized StreamEventsRequest; sequence numbers do not matter
        to the server) ``batches`` times each (None: until closed), ``in_flight`` unacknowledged at most."""

        async def one(channel: grpc.aio.Channel) -> None:
            call = channel.stream_stream(
                "/meterd.v1.EventService/StreamEvents", request_serializer=raw, response_deserializer=raw
            )()
            sent = acked = 0
            try:
                while batches is None or acked < batches:
                    while (batches is None or sent < batches) and sent - acked < in_flight:
                        await call.write(batch)
                        sent += 1
                    await call.read()
                    acked += 1
                    self.acks += 1
                await call.done_writing()
            except grpc.aio.AioRpcError as exc:
                if exc.code() != grpc.StatusCode.CANCELLED:
                    self.errors.append(f"producer: {exc.code().name} {exc.details()}")

        async def go() -> list[asyncio.Future[Any]]:
            futures = [asyncio.ensure_future(one(self.channels[i % len(self.channels)])) for i in range(n)]
            self.tasks.extend(futures)
            return futures

        return list(self._run(go()))

    def wait(self, futures: list[asyncio.Future[Any]]) -> None:
        async def go() -> None:
            await asyncio.gather(*futures)

        self._run(go(), timeout=3600)

    def close(self) -> None:
        async def go() -> None:
            for t in self.tasks:
                t.cancel()
            await asyncio.gather(*self.tasks, return_exceptions=True)
            for channel in self.channels:
                await channel.close()

        self._run(go())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()


def rejected_batch(events: int) -> bytes:
    """A batch whose every event is rejected (an unsupported specversion): its ack names each one."""
    return events_pb2.StreamEventsRequest(
        sequence=1,
        events=[
            events_pb2.Event(
                specversion="0.3",
                id=f"bad-{i}",
                source="hostile",
                type="tokens_total",
                subject="c1",
                data='{"n": 1}',
            )
            for i in range(events)
        ],
    ).SerializeToString()


def bulk_batch(producer: int, index: int, events: int, padding: int) -> bytes:
    pad = "x" * padding
    return events_pb2.StreamEventsRequest(
        sequence=index,
        events=[
            events_pb2.Event(
                specversion="1.0",
                id=f"bulk-{producer}-{index}-{i}",
                source="bulk",
                type="tokens_total",
                subject=f"c{i % SUBJECTS}",
                data=json.dumps({"n": 1, "model": "a", "pad": pad}),
            )
            for i in range(events)
        ],
    ).SerializeToString()


def idle_only(args: argparse.Namespace) -> dict[str, Any]:
    """The idle part alone (``--only idle``): the server's CPU with the watchers open, against meterd or (with
    ``--floor``) the bare grpc.aio server of bench/idle_floor.py."""
    floor = [sys.executable, str(Path(__file__).resolve().parent / "idle_floor.py")]
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "meterd.db", command=floor if args.floor else None)
        try:
            if not args.floor:
                setup(server.address)
            process = psutil.Process(server.proc.pid)
            c0 = cpu_seconds(process)
            time.sleep(args.window)  # measuring: the server's CPU with nothing open
            cpu_none = (cpu_seconds(process) - c0) / args.window
            client = Load(server.address, args.channels, args.heartbeat)
            open_s = client.watch(args.watchers)
            time.sleep(6)  # the last watches opened past their snapshot
            messages0 = client.messages
            c0 = cpu_seconds(process)
            time.sleep(args.window)  # measuring: the server's CPU with the watchers idle
            cpu_watchers = (cpu_seconds(process) - c0) / args.window
            heartbeats = (client.messages - messages0) / args.window
            load_idle = load()
            rss = process.memory_info().rss
            errors = list(client.errors)
            client.close()
        finally:
            server.stop()
    return {
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "server": "bench/idle_floor.py (bare grpc.aio)" if args.floor else "meterd serve",
        "watchers": args.watchers,
        "subjects": SUBJECTS,
        "heartbeat_seconds": args.heartbeat if args.heartbeat is not None else "default (30 s)",
        "opened_in_s": round(open_s, 2),
        "window_s": args.window,
        "server_cpu_share_of_a_core_without": round(cpu_none, 4),
        "server_cpu_share_of_a_core_with": round(cpu_watchers, 4),
        "heartbeats_per_s": round(heartbeats, 1),
        "cpu_ms_per_heartbeat": round(1000 * (cpu_watchers - cpu_none) / heartbeats, 3)
        if heartbeats
        else None,
        "server_rss_mb": round(rss / 2**20, 1),
        "load_average": load_idle,
        "client_errors": errors[:5],
    }


def idle_and_hostile(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "meterd.db")
        try:
            setup(server.address)
            process = psutil.Process(server.proc.pid)
            with OpenMeter(server.address, timeout=60) as om:
                methods: dict[str, Callable[[], object]] = {
                    "GetEntitlementValue": lambda: om.subjects.get_entitlement_value("c0", "ai_tokens"),
                    "ListMeters": lambda: om.meters.list(),
                }
                before = {name: latencies(call, args.calls) for name, call in methods.items()}
                load_before = load()
                c0 = cpu_seconds(process)
                time.sleep(args.window)  # measuring: the server's CPU with nothing open
                cpu_none = (cpu_seconds(process) - c0) / args.window

                client = Load(server.address, args.channels, args.heartbeat)
                open_s = client.watch(args.watchers)
                time.sleep(6)  # every watch past its first heartbeat
                messages0 = client.messages
                c0 = cpu_seconds(process)
                time.sleep(args.window)  # measuring: the server's CPU with the watchers idle
                cpu_watchers = (cpu_seconds(process) - c0) / args.window
                heartbeats = (client.messages - messages0) / args.window
                load_idle = load()
                rss_watchers = process.memory_info().rss

                producers = client.produce(4, rejected_batch(10_000), None)
                time.sleep(2)
                during = {name: latencies(call, args.calls) for name, call in methods.items()}
                acks = client.acks
                load_hostile = load()
                for f in producers:
                    f.cancel()
                errors = list(client.errors)
                client.close()
        finally:
            server.stop()
    return {
        "idle_watchers": {
            "watchers": args.watchers,
            "subjects": SUBJECTS,
            "heartbeat_seconds": args.heartbeat or "default (30 s)",
            "opened_in_s": round(open_s, 2),
            "window_s": args.window,
            "server_cpu_share_of_a_core_without": round(cpu_none, 4),
            "server_cpu_share_of_a_core_with": round(cpu_watchers, 4),
            "heartbeats_per_s": round(heartbeats, 1),
            "server_rss_mb": round(rss_watchers / 2**20, 1),
            "load_average": load_idle,
            "target": "under 0.05 of a core",
        },
        "hostile": {
            "workload": f"{args.calls} sequential calls per method, one client; then the same with {args.watchers} "
            "idle watchers and 4 producers streaming batches of 10,000 rejected events (8 in flight each)",
            "idle_server": {name: summary(s) for name, s in before.items()} | {"load_average": load_before},
            "with_watchers_and_hostile_producers": {name: summary(s) for name, s in during.items()}
            | {"load_average": load_hostile, "hostile_acks": acks},
            "p99_ratio": {
                name: round(percentile(during[name], 99) / percentile(before[name], 99), 2)
                for name in methods
            },
            "target": "p99 ratio within 2",
            "client_errors": errors[:5],
        },
    }


def bulk(args: argparse.Namespace, budget: int | None) -> dict[str, Any]:
    env = {} if budget is None else {"METERD_MAX_INFLIGHT_BYTES": str(budget)}
    batches = [bulk_batch(p, 0, args.bulk_events, args.bulk_padding) for p in range(args.producers)]
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "meterd.db", env=env)
        try:
            with OpenMeter(server.address, timeout=60) as om:
                om.meters.create(
                    {
                        "slug": "tokens_total",
                        "eventType": "tokens_total",
                        "aggregation": "SUM",
                        "valueProperty": "$.n",
                        "groupBy": {"model": "$.model"},
                    }
                )
            client = Load(server.address, args.producers)
            t0 = time.perf_counter()
            # Each producer resends its batch (the same ids: duplicates after the first, which the server still
            # reads, validates and checks against the database: the memory per batch is the same).
            futures = [client.produce(1, batches[p], args.bulk_batches)[0] for p in range(args.producers)]
            client.wait(futures)
            seconds = time.perf_counter() - t0
            errors = list(client.errors)
            client.close()
            peak = server.peak_rss
            after = server.rss()
        finally:
            server.stop()
    return {
        "producers": args.producers,
        "batches_each": args.bulk_batches,
        "events_per_batch": args.bulk_events,
        "message_mb": round(len(batches[0]) / 2**20, 1),
        "in_flight_per_stream": 8,
        "max_inflight_bytes": budget if budget is not None else "default (128 MiB)",
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak / 2**20, 1),
        "rss_after_mb": round(after / 2**20, 1),
        "load_average": load(),
        "client_errors": errors[:5],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--watchers", type=int, default=5000)
    parser.add_argument("--channels", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000, help="calls per method and phase")
    parser.add_argument(
        "--heartbeat",
        type=float,
        default=None,
        help="the watches' heartbeat_interval in seconds (default: the server's, 30 s)",
    )
    parser.add_argument("--window", type=float, default=30.0, help="seconds of CPU measurement")
    parser.add_argument("--producers", type=int, default=10)
    parser.add_argument("--bulk-batches", type=int, default=6)
    parser.add_argument("--bulk-events", type=int, default=10_000)
    parser.add_argument("--bulk-padding", type=int, default=2000)
    parser.add_argument("--result", default="idle", help="bench/results/<this>.json")
    parser.add_argument("--no-compare", action="store_true", help="skip the bulk run without a byte budget")
    parser.add_argument(
        "--only",
        choices=["idle"],
        help="idle: the idle watchers' CPU alone, printed and merged into the result file under --section",
    )
    parser.add_argument(
        "--floor", action="store_true", help="with --only idle: against bench/idle_floor.py (bare grpc.aio)"
    )
    parser.add_argument("--section", help="with --only idle: the key of the result file to write")
    args = parser.parse_args()
    if args.only == "idle":
        section = idle_only(args)
        print(json.dumps(section, indent=2))
        if args.section:
            path = RESULTS / f"{args.result}.json"
            merged = json.loads(path.read_text()) if path.exists() else {}
            merged[args.section] = section
            path.write_text(json.dumps(merged, indent=2) + "\n")
            print(f"  -> {path} [{args.section}]")
        return 0

    result: dict[str, Any] = idle_and_hostile(args)
    result["bulk_producers"] = {"with_budget": bulk(args, None)}
    if not args.no_compare:
        result["bulk_producers"]["budget_lifted"] = bulk(args, 2**40)
    previous = RESULTS / f"{args.result}.json"
    if previous.exists():  # sections written by --only idle (each dated) are kept
        kept = json.loads(previous.read_text())
        result.update({k: v for k, v in kept.items() if k.startswith("idle_") and k not in result})
    path = write_result(args.result, result)

    w, h, b = result["idle_watchers"], result["hostile"], result["bulk_producers"]["with_budget"]
    rows = [
        (
            "server CPU, idle watchers",
            f"{w['server_cpu_share_of_a_core_with']:.3f} of a core with {w['watchers']} "
            f"({w['heartbeats_per_s']} heartbeats/s), {w['server_cpu_share_of_a_core_without']:.3f}"
            f" with none (load {w['load_average'][0]})",
        ),
    ]
    for name in ("GetEntitlementValue", "ListMeters"):
        i, d = h["idle_server"][name], h["with_watchers_and_hostile_producers"][name]
        rows.append(
            (
                f"{name} p50/p99 ms",
                f"{i['p50_ms']}/{i['p99_ms']} idle, {d['p50_ms']}/{d['p99_ms']} with "
                f"watchers + 4 hostile producers (p99 x{h['p99_ratio'][name]})",
            )
        )
    rows.append(
        (
            "peak RSS, 10 bulk producers",
            f"{b['peak_rss_mb']} MB ({b['message_mb']} MB messages, {b['seconds']} s)",
        )
    )
    if "budget_lifted" in result["bulk_producers"]:
        lifted = result["bulk_producers"]["budget_lifted"]
        rows.append(("  without the byte budget", f"{lifted['peak_rss_mb']} MB ({lifted['seconds']} s)"))
    print(table(rows))
    print(f"  -> {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
