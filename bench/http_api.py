"""The HTTP API against gRPC, on one server in its own process (issue 20).

- Ingest: ``POST /api/v1/events`` (application/cloudevents-batch+json) against gRPC ``IngestEvents``, batches
  of --batch events of one meter's type, the same events (ids differ), each batch acknowledged before the
  next; the two alternate in rounds so that both see the same machine. Target: HTTP at least 0.5 of gRPC.
- Value: a warm ``GET /api/v1/subjects/c1/entitlements/ai_tokens/value`` against gRPC ``GetEntitlementValue``
  (the entitlement of bench/serving.py: a day of hourly usage, six grants), p50 and p99 over --calls calls
  each, interleaved. Target: HTTP p50 within 1.5x of gRPC's.

Both clients send prebuilt requests (protobuf messages, JSON bytes) on one kept-alive connection, so the
figures are the server's cost plus one loopback round trip. The load average is recorded before and after.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Server, free_port, percentile, table, write_result
from serving import setup

from meterd.v1 import entitlements_pb2, entitlements_pb2_grpc, events_pb2, events_pb2_grpc


def batches(
    prefix: str, count: int, size: int, start: datetime
) -> tuple[list[bytes], list[events_pb2.IngestEventsRequest]]:
    """``count`` batches of ``size`` events, as HTTP bodies and as gRPC requests (the same events, other ids)."""
    bodies, requests = [], []
    for b in range(count):
        events = [
            {
                "specversion": "1.0",
                "id": f"{prefix}-{b}-{i}",
                "source": "bench",
                "type": "tokens_total",
                "subject": f"c{i % 100}",
                "time": (start + timedelta(seconds=i)).isoformat().replace("+00:00", "Z"),
                "data": {"n": i % 17, "model": "gpt" if i % 3 else "llama"},
            }
            for i in range(size)
        ]
        bodies.append(json.dumps([{**e, "id": "h" + e["id"]} for e in events]).encode())
        requests.append(
            events_pb2.IngestEventsRequest(
                events=[
                    events_pb2.Event(
                        id="g" + e["id"],
                        source=e["source"],
                        specversion="1.0",
                        type=e["type"],
                        subject=e["subject"],
                        time=_ts(start + timedelta(seconds=i)),
                        data=json.dumps(e["data"]),
                    )
                    for i, e in enumerate(events)
                ]
            )
        )
    return bodies, requests


def _ts(t: datetime) -> object:
    from google.protobuf import timestamp_pb2

    ts = timestamp_pb2.Timestamp()
    ts.FromDatetime(t)
    return ts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=60, help="batches per protocol")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--calls", type=int, default=2000, help="value calls per protocol")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.batches, args.rounds, args.calls = 6, 2, 200
    load_before = os.getloadavg()
    http_port = free_port()
    with tempfile.TemporaryDirectory() as tmp:
        server = Server(Path(tmp) / "bench.db", env={"METERD_HTTP_LISTEN": f"127.0.0.1:{http_port}"})
        try:
            setup(server.address)
            channel = grpc.insecure_channel(server.address)
            ingest = events_pb2_grpc.EventServiceStub(channel).IngestEvents
            value = entitlements_pb2_grpc.EntitlementServiceStub(channel).GetEntitlementValue
            conn = http.client.HTTPConnection("127.0.0.1", http_port, timeout=60)

            def post(body: bytes) -> None:
                conn.request(
                    "POST", "/api/v1/events", body, {"Content-Type": "application/cloudevents-batch+json"}
                )
                response = conn.getresponse()
                response.read()
                assert response.status == 204, response.status

            def get_value() -> None:
                conn.request("GET", "/api/v1/subjects/c1/entitlements/ai_tokens/value")
                response = conn.getresponse()
                response.read()
                assert response.status == 200, response.status

            start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=2)
            bodies, requests = batches("b", args.batches, args.batch, start)
            post(bodies[0])  # warm both paths (parsers, prepared statements)
            ingest(requests[0], timeout=60)
            http_s = grpc_s = 0.0
            per_round = max(1, (args.batches - 1) // args.rounds)
            sent = 1
            while sent < args.batches:
                chunk = range(sent, min(args.batches, sent + per_round))
                t0 = time.perf_counter()
                for i in chunk:
                    ingest(requests[i], timeout=60)
                grpc_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                for i in chunk:
                    post(bodies[i])
                http_s += time.perf_counter() - t0
                sent = chunk.stop
            events = (args.batches - 1) * args.batch
            grpc_rate, http_rate = events / grpc_s, events / http_s

            request = entitlements_pb2.GetEntitlementValueRequest(subject_key="c1", entitlement="ai_tokens")
            for _ in range(50):
                value(request, timeout=30)
                get_value()
            grpc_lat: list[float] = []
            http_lat: list[float] = []
            for _ in range(args.calls):
                t0 = time.perf_counter()
                value(request, timeout=30)
                t1 = time.perf_counter()
                get_value()
                t2 = time.perf_counter()
                grpc_lat.append((t1 - t0) * 1000)
                http_lat.append((t2 - t1) * 1000)
            conn.close()
            channel.close()
        finally:
            server.stop()
    load_after = os.getloadavg()
    result = {
        "ingest": {
            "batch_events": args.batch,
            "events_per_protocol": events,
            "grpc_events_per_s": round(grpc_rate),
            "http_events_per_s": round(http_rate),
            "http_of_grpc": round(http_rate / grpc_rate, 3),
            "target": ">= 0.5",
        },
        "value": {
            "calls_per_protocol": args.calls,
            "grpc_p50_ms": round(percentile(grpc_lat, 50), 3),
            "grpc_p99_ms": round(percentile(grpc_lat, 99), 3),
            "http_p50_ms": round(percentile(http_lat, 50), 3),
            "http_p99_ms": round(percentile(http_lat, 99), 3),
            "http_p50_of_grpc": round(percentile(http_lat, 50) / percentile(grpc_lat, 50), 3),
            "target": "<= 1.5",
        },
        "load_average": {
            "before": [round(x, 2) for x in load_before],
            "after": [round(x, 2) for x in load_after],
        },
        "quick": args.quick,
    }
    path = write_result("http_api", result)
    print(
        table(
            [
                (f"ingest gRPC (batches of {args.batch})", f"{grpc_rate:,.0f} events/s"),
                (
                    "ingest HTTP",
                    f"{http_rate:,.0f} events/s ({http_rate / grpc_rate:.2f} of gRPC; target >= 0.5)",
                ),
                (
                    "value gRPC p50 / p99",
                    f"{percentile(grpc_lat, 50):.2f} / {percentile(grpc_lat, 99):.2f} ms",
                ),
                (
                    "value HTTP p50 / p99",
                    f"{percentile(http_lat, 50):.2f} / {percentile(http_lat, 99):.2f} ms "
                    f"({percentile(http_lat, 50) / percentile(grpc_lat, 50):.2f}x; target <= 1.5x)",
                ),
                ("load average before / after", f"{load_before[0]:.2f} / {load_after[0]:.2f}"),
                ("written", str(path)),
            ]
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
