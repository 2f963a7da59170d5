"""Notification rules at scale, against a server in its own process (SQLite) and a webhook receiver on
loopback in this process.

Measures:
- what armed rules cost ingest: the same events streamed as fast as possible (StreamEvents, batches of
  1,000, 8 in flight) to metered entitlements of 2,000 subjects, without any rule and with 1,000 rules of
  10 thresholds each over every entitlement (thresholds far above the usage, so every change is evaluated
  against all 10,000 of them and none fires); after a warm-up run, runs alternate without and with (the
  rules' channel disabled, then enabled);
- crossing-to-delivery latency: events sent one at a time (IngestEvents) at a fixed rate, each taking one
  subject past a rule's threshold; for each, the time from the ingest call's acknowledgement to the signed
  webhook's arrival at the receiver (both read on CLOCK_MONOTONIC in this process).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import psutil
from common import Server, percentile, table, write_result

from meterd.client import OpenMeter
from meterd.v1 import events_pb2, events_pb2_grpc, notifications_pb2_grpc
from meterd.v1 import notifications_pb2 as pb

FEATURE = "ai_tokens"
ENV = {"METERD_NOTIFICATIONS_ALLOW_PRIVATE_TARGETS": "true"}


class Receiver:
    """Records when each webhook arrives, by the subject its payload names."""

    def __init__(self) -> None:
        self.arrivals: dict[str, float] = {}
        self.count = 0
        lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                now = time.monotonic()
                subject = json.loads(body)["data"]["subject"]["key"]
                with lock:
                    receiver.count += 1
                    receiver.arrivals.setdefault(subject, now)
                self.send_response(204)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def setup(address: str, subjects: list[str]) -> None:
    with OpenMeter(address, timeout=120) as om:
        om.meters.create(
            {"slug": "tokens_total", "eventType": "tokens", "aggregation": "SUM", "valueProperty": "$.tokens"}
        )
        om.features.create({"key": FEATURE, "name": "AI tokens", "meterSlug": "tokens_total"})

        def create(subject: str) -> None:
            om.subjects.create_entitlement(
                subject,
                {
                    "type": "metered",
                    "featureKey": FEATURE,
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 1_000_000_000,
                },
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, subjects))


def notifications(om: OpenMeter) -> Any:
    return notifications_pb2_grpc.NotificationServiceStub(om.channel)


def arm(address: str, url: str, rules: int, thresholds: int) -> str:
    """A channel (disabled: the rules are off until it is enabled) and ``rules`` rules of ``thresholds`` NUMBER
    thresholds each, far above any usage, plus a probe rule at 1; returns the channel's id."""
    with OpenMeter(address, timeout=120) as om:
        n = notifications(om)
        channel = n.CreateNotificationChannel(
            pb.CreateNotificationChannelRequest(
                type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name="bench", url=url, disabled=True
            )
        ).channel

        def create(i: int) -> None:
            n.CreateNotificationRule(
                pb.CreateNotificationRuleRequest(
                    type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
                    name=f"armed-{i}",
                    channels=[channel.id],
                    thresholds=[
                        pb.NotificationThreshold(
                            type=pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER, value=1e9 + i * 100 + k
                        )
                        for k in range(thresholds)
                    ],
                ),
                timeout=60,
            )

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(create, range(rules)))
        n.CreateNotificationRule(
            pb.CreateNotificationRuleRequest(
                type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
                name="probe",
                channels=[channel.id],
                features=[FEATURE],
                thresholds=[pb.NotificationThreshold(type=pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER, value=1)],
            )
        )
        return str(channel.id)


def switch(
    address: str, channel_id: str, receiver: Receiver, on: bool, probe: str, deadline: float = 600
) -> float:
    """Turns the rules on (enables their channel) or off. Turning them on waits until the evaluator has loaded
    them: a probe entitlement already past the probe rule's threshold is reported once the rules' initial
    evaluation is done. Returns the seconds waited."""
    started = time.perf_counter()
    with OpenMeter(address, timeout=120) as om:
        if on:
            om.subjects.create_entitlement(
                probe,
                {
                    "type": "metered",
                    "featureKey": FEATURE,
                    "usagePeriod": {"interval": "MONTH"},
                    "issueAfterReset": 10,
                },
            )
            om.events.ingest(
                {
                    "specversion": "1.0",
                    "id": f"probe-{probe}",
                    "source": "bench",
                    "type": "tokens",
                    "subject": probe,
                    "time": datetime.now(UTC),
                    "data": {"tokens": 5},
                }
            )
        notifications(om).UpdateNotificationChannel(
            pb.UpdateNotificationChannelRequest(
                id=channel_id,
                type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK,
                name="bench",
                url=receiver.url,
                disabled=not on,
            )
        )
    if on:
        end = time.monotonic() + deadline
        while probe not in receiver.arrivals:
            if time.monotonic() > end:
                raise RuntimeError("the rules were not loaded in time")
            time.sleep(0.05)
    return time.perf_counter() - started


def full_speed(address: str, subjects: list[str], events: int, base: int, rng: random.Random) -> float:
    import grpc

    now = datetime.now(UTC)
    batches = []
    for b in range(0, events, 1000):
        batch = []
        for j in range(min(1000, events - b)):
            e = events_pb2.Event(
                specversion="1.0",
                id=f"e-{base + b + j}",
                source="bench",
                type="tokens",
                subject=rng.choice(subjects),
                data='{"tokens":1}',
            )
            e.time.FromDatetime(now)
            batch.append(e)
        batches.append(batch)
    in_flight = threading.Semaphore(8)
    with grpc.insecure_channel(address, options=[("grpc.max_send_message_length", 64 << 20)]) as channel:
        stub = events_pb2_grpc.EventServiceStub(channel)

        def requests() -> Iterator[events_pb2.StreamEventsRequest]:
            for i, batch in enumerate(batches):
                in_flight.acquire()
                yield events_pb2.StreamEventsRequest(sequence=i, events=batch)

        started = time.perf_counter()
        for _ in stub.StreamEvents(requests()):
            in_flight.release()
        return events / (time.perf_counter() - started)


def quiesce(proc: psutil.Process, deadline: float = 120) -> None:
    """Waits until the server is idle: under 5% of a core over half a second."""
    end = time.monotonic() + deadline
    proc.cpu_percent()
    while time.monotonic() < end:
        time.sleep(0.5)
        if proc.cpu_percent() < 5:
            return


def ingest_cost(args: argparse.Namespace, rng: random.Random) -> dict[str, Any]:
    """Full-speed runs alternating without and with the rules armed (their channel disabled, then enabled), after
    a warm-up run: the machine's drift (the database grows, other work comes and goes) falls on both sides."""
    receiver = Receiver()
    subjects = [f"s-{i}" for i in range(args.subjects)]
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "m.db", env=ENV)
        proc = psutil.Process(server.proc.pid)
        cpu: dict[str, list[float]] = {"without": [], "with": []}
        rates: dict[str, list[float]] = {"without": [], "with": []}
        k = 0

        def run(side: str) -> None:
            nonlocal k
            k += 1
            quiesce(proc)  # the evaluator's work on rule changes is not the run's
            before = proc.cpu_times()
            rate = full_speed(server.address, subjects, args.events, 10_000_000 * k, rng)
            after = proc.cpu_times()
            if side:
                rates[side].append(rate)
                cpu[side].append(
                    ((after.user - before.user) + (after.system - before.system)) / args.events * 1e6
                )

        try:
            setup(server.address, subjects)
            started = time.perf_counter()
            channel = arm(server.address, receiver.url, args.rules, args.thresholds)
            create_s = time.perf_counter() - started
            run("")  # warm-up
            loads = []
            for pair in range(args.pairs):
                run("without")
                loads.append(switch(server.address, channel, receiver, True, f"probe-{pair}"))
                run("with")
                switch(server.address, channel, receiver, False, "")
        finally:
            server.stop()
            receiver.close()
    mean_without = sum(rates["without"]) / len(rates["without"])
    mean_with = sum(rates["with"]) / len(rates["with"])
    return {
        "rules": args.rules,
        "thresholds_per_rule": args.thresholds,
        "entitlements": args.subjects,
        "events_per_run": args.events,
        "rules_created_in_seconds": round(create_s, 1),
        "rules_loaded_in_seconds": [round(x, 1) for x in loads],
        "events_per_s": {
            "without_rules": round(mean_without),
            "with_rules": round(mean_with),
            "runs": {side: [round(r) for r in v] for side, v in rates.items()},
            "order": "warm-up, then (without, with) x pairs",
        },
        "ratio": round(mean_with / mean_without, 3),
        "pair_ratios": [round(w / o, 3) for o, w in zip(rates["without"], rates["with"], strict=True)],
        "server_cpu_us_per_event": {side: round(sum(v) / len(v), 1) for side, v in cpu.items()},
    }


def latency(args: argparse.Namespace) -> dict[str, Any]:
    receiver = Receiver()
    subjects = [f"l-{i}" for i in range(args.crossings)]
    acks: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "m.db", env=ENV)
        try:
            setup(server.address, subjects)
            with OpenMeter(server.address, timeout=60) as om:
                n = notifications(om)
                channel = n.CreateNotificationChannel(
                    pb.CreateNotificationChannelRequest(
                        type=pb.NOTIFICATION_CHANNEL_TYPE_WEBHOOK, name="bench", url=receiver.url
                    )
                ).channel
                n.CreateNotificationRule(
                    pb.CreateNotificationRuleRequest(
                        type=pb.NOTIFICATION_EVENT_TYPE_ENTITLEMENTS_BALANCE_THRESHOLD,
                        name="latency",
                        channels=[channel.id],
                        thresholds=[
                            pb.NotificationThreshold(type=pb.NOTIFICATION_THRESHOLD_TYPE_NUMBER, value=5)
                        ],
                    )
                )
                time.sleep(1.0)  # the rule's initial evaluation (nothing is past it yet)
                start = time.monotonic()
                for i, subject in enumerate(subjects):
                    delay = start + i / args.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                    om.events.ingest(
                        {
                            "specversion": "1.0",
                            "id": f"x-{i}",
                            "source": "bench",
                            "type": "tokens",
                            "subject": subject,
                            "time": datetime.now(UTC),
                            "data": {"tokens": 10},
                        }
                    )
                    acks[subject] = time.monotonic()
            end = time.monotonic() + 60
            while len(receiver.arrivals) < len(subjects) and time.monotonic() < end:
                time.sleep(0.05)
        finally:
            server.stop()
            receiver.close()
    ms = [(receiver.arrivals[s] - acks[s]) * 1000 for s in subjects if s in receiver.arrivals]
    return {
        "crossings": len(subjects),
        "rate_per_s": args.rate,
        "delivered": len(ms),
        "ack_to_delivery_ms": {
            "p50": round(percentile(ms, 50), 1),
            "p99": round(percentile(ms, 99), 1),
            "max": round(max(ms), 1) if ms else None,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subjects", type=int, default=2000)
    parser.add_argument("--rules", type=int, default=1000)
    parser.add_argument("--thresholds", type=int, default=10)
    parser.add_argument("--events", type=int, default=100_000, help="events of each full-speed run")
    parser.add_argument("--pairs", type=int, default=3, help="full-speed runs without and with the rules")
    parser.add_argument("--crossings", type=int, default=400, help="crossings in the latency run")
    parser.add_argument("--rate", type=float, default=20, help="crossings per second in the latency run")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.subjects, args.rules, args.events, args.crossings, args.pairs = 200, 100, 20_000, 40, 1
    load_start = round(os.getloadavg()[0], 1)
    rng = random.Random(24)
    cost = ingest_cost(args, rng)
    lat = latency(args)
    result = {
        "ingest": cost,
        "latency": lat,
        "targets": {"ratio": 0.9, "ack_to_delivery_p99_ms": 1000},
        "load_average_1m": {"start": load_start, "end": round(os.getloadavg()[0], 1)},
    }
    write_result("notifications", result)
    print(
        table(
            [
                (
                    "rules armed",
                    f"{args.rules:,} x {args.thresholds} thresholds over {args.subjects:,} entitlements",
                ),
                (
                    "ingest without / with rules",
                    f"{cost['events_per_s']['without_rules']:,} / "
                    f"{cost['events_per_s']['with_rules']:,} events/s (ratio {cost['ratio']}; "
                    "target >= 0.9)",
                ),
                (
                    "server CPU per event without / with",
                    f"{cost['server_cpu_us_per_event']['without']} / "
                    f"{cost['server_cpu_us_per_event']['with']} us",
                ),
                (
                    "crossing -> delivery p50 / p99",
                    f"{lat['ack_to_delivery_ms']['p50']} / {lat['ack_to_delivery_ms']['p99']}"
                    f" ms ({lat['delivered']}/{lat['crossings']} delivered; target p99 < 1 s)",
                ),
                (
                    "load average (1 min) start / end",
                    f"{result['load_average_1m']['start']} / {result['load_average_1m']['end']}",
                ),
            ]
        )
    )


if __name__ == "__main__":
    main()
