"""grpc.health.v1 with every method its descriptor lists: grpcio-health-checking's asyncio servicer has no
``List`` (it answered UNIMPLEMENTED and logged a traceback), which grpcurl and load balancers may call."""

from __future__ import annotations

from typing import Any

from grpc_health.v1 import health, health_pb2


class HealthServicer(health.aio.HealthServicer):  # type: ignore[misc, name-defined]
    """Check, Watch and List over the statuses ``set`` records (one per service name, "" for the server)."""

    async def List(
        self, request: health_pb2.HealthListRequest, context: Any
    ) -> health_pb2.HealthListResponse:
        """Every service's status, the server's own ("") included."""
        return health_pb2.HealthListResponse(
            statuses={
                name: health_pb2.HealthCheckResponse(status=status)
                for name, status in self._server_status.items()
            }
        )
