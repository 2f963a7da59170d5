"""Server reflection, v1alpha and v1, so that grpcurl and other tools work without .proto files.

grpcio-reflection implements only ``grpc.reflection.v1alpha``. ``grpc.reflection.v1`` has the same
messages (same fields, same numbers) under another package, so the same servicer answers it: its
requests and responses are parsed and written with the v1alpha classes, byte for byte the v1 encoding.
The servicer describes what the default descriptor pool holds, which has no v1 file: ``v1_descriptor``
adds one (v1alpha's, renamed), so that ``grpcurl describe grpc.reflection.v1.ServerReflection`` resolves
like every other listed service (before, grpcurl and ``buf curl --list-methods`` stopped at it).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha import reflection, reflection_pb2

V1_SERVICE_NAME = "grpc.reflection.v1.ServerReflection"
SERVICE_NAMES = (reflection.SERVICE_NAME, V1_SERVICE_NAME)
V1_FILE = "grpc/reflection/v1/reflection.proto"


def v1_descriptor() -> None:
    """Adds ``grpc/reflection/v1/reflection.proto`` to the default descriptor pool (once): v1alpha's file
    under v1's package and name, which is what v1's .proto declares."""
    pool = descriptor_pool.Default()
    try:
        pool.FindFileByName(V1_FILE)
        return
    except KeyError:
        pass
    proto = descriptor_pb2.FileDescriptorProto()
    reflection_pb2.DESCRIPTOR.CopyToProto(proto)
    proto.name = V1_FILE
    proto.package = "grpc.reflection.v1"
    proto.options.Clear()
    for message in proto.message_type:
        for field in message.field:
            if field.type_name.startswith(".grpc.reflection.v1alpha."):
                field.type_name = ".grpc.reflection.v1." + field.type_name[len(".grpc.reflection.v1alpha.") :]
    for service in proto.service:
        for method in service.method:
            for name in ("input_type", "output_type"):
                setattr(
                    method,
                    name,
                    getattr(method, name).replace(".grpc.reflection.v1alpha.", ".grpc.reflection.v1."),
                )
    pool.Add(proto)


def enable(server: Any, service_names: list[str]) -> None:
    """Serves reflection v1alpha and v1 on ``server`` (grpc.Server or grpc.aio.Server) for
    ``service_names`` (the reflection services themselves are added to the list)."""
    v1_descriptor()
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
    server.add_generic_rpc_handlers(
        [
            grpc.method_handlers_generic_handler(name, {"ServerReflectionInfo": handler})
            for name in SERVICE_NAMES
        ]
    )
