"""Server reflection, v1alpha and v1, so that grpcurl and other tools work without .proto files.

grpcio-reflection implements only ``grpc.reflection.v1alpha``. ``grpc.reflection.v1`` has the same
messages (same fields, same numbers) under another package, so the same servicer answers it: its
requests and responses are parsed and written with the v1alpha classes, byte for byte the v1 encoding.
"""

from __future__ import annotations

from typing import Any

import grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"
SERVICE_NAMES = (reflection.SERVICE_NAME, V1_SERVICE_NAME)


def enable(server: Any, service_names: list[str]) -> None:
    """Serves reflection v1alpha and v1 on ``server`` (grpc.Server or grpc.aio.Server) for
    ``service_names`` (the reflection services themselves are added to the list)."""
    names = [*service_names, *(n for n in SERVICE_NAMES if n not in service_names)]
    if isinstance(server, grpc.aio.Server):
        from grpc_reflection.v1alpha._async import ReflectionServicer as AsyncReflectionServicer

        servicer: Any = AsyncReflectionServicer(names)
    else:
        servicer = reflection.ReflectionServicer(names)
    handler = grpc.stream_stream_rpc_method_handler(
        servicer.ServerReflectionInfo,
        request_deserializer=reflection_pb2.ServerReflectionRequest.FromString,
        response_serializer=reflection_pb2.ServerReflectionResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers([
        grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler}) for name in SERVICE_NAMES
    ])
