"""The floor of an idle watch's cost: a bare grpc.aio server whose WatchEntitlementValues handler sends one
small pre-serialized message when the stream opens, then one every ``heartbeat_interval`` (default 5 s),
and does nothing else (no session, no clock, no protobuf built per message, an ``asyncio.sleep`` per
stream), with meterd's gRPC server options. What meterd's idle watches cost beyond this is meterd's own; this much is gRPC's (HTTP/2 framing,
the completion queue, the per-message Python of grpc.aio).

Run by ``bench/idle.py --floor`` in place of ``meterd serve`` (same arguments; ``--db`` is ignored), so the
same client opens the same 5,000 watches against it.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from typing import Any

import grpc
import grpc.aio
from grpc_health.v1 import health, health_pb2_grpc

from meterd.server.app import server_options
from meterd.server.config import Config
from meterd.v1 import entitlements_pb2

DEFAULT_HEARTBEAT = 5.0


async def serve(listen: str) -> None:
    beat = entitlements_pb2.WatchEntitlementValuesResponse(position="1.1").SerializeToString()

    async def watch(request: bytes, context: Any) -> AsyncIterator[bytes]:
        r = entitlements_pb2.WatchEntitlementValuesRequest.FromString(request)
        seconds = DEFAULT_HEARTBEAT
        if r.HasField("heartbeat_interval"):
            seconds = r.heartbeat_interval.ToTimedelta().total_seconds()
        yield beat  # stands for the snapshot
        while True:
            await asyncio.sleep(seconds)
            yield beat

    server = grpc.aio.server(options=server_options(Config()))  # meterd's HTTP/2 settings
    handler = grpc.method_handlers_generic_handler(
        "meterd.v1.EntitlementService",
        {"WatchEntitlementValues": grpc.unary_stream_rpc_method_handler(watch)},
    )
    server.add_generic_rpc_handlers((handler,))
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)
    server.add_insecure_port(listen)
    await server.start()
    await server.wait_for_termination()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["serve"])
    parser.add_argument("--listen", required=True)
    parser.add_argument("--db")
    args = parser.parse_args()
    asyncio.run(serve(args.listen))


if __name__ == "__main__":
    main()
