"""Generic gRPC tools against a live meterd, with no .proto files: reflection v1 resolves every listed service
(``list`` then ``describe`` of each, as grpcurl does), ``grpc.health.v1.Health/List`` answers, and event
``data`` goes through grpcurl's JSON as a JSON string. grpcurl itself when ``make setup`` could install it
(from the Go module proxy), and always a reflection client of the test's own doing the same walk."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config

ROOT = Path(__file__).resolve().parents[2]
V1_METHOD = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"


@pytest.fixture
def tool_server(tmp_path: Path) -> Iterator[MeterdServer]:
    server = MeterdServer(Config(listen="127.0.0.1:0", db=str(tmp_path / "m.db"), log_format="text")).start()
    yield server
    server.stop(0)


def _reflect(
    channel: grpc.Channel, requests: list[reflection_pb2.ServerReflectionRequest]
) -> list[reflection_pb2.ServerReflectionResponse]:
    """Calls reflection **v1** (its messages are v1alpha's, byte for byte)."""
    call = channel.stream_stream(
        V1_METHOD,
        request_serializer=reflection_pb2.ServerReflectionRequest.SerializeToString,
        response_deserializer=reflection_pb2.ServerReflectionResponse.FromString,
    )
    return list(call(iter(requests), timeout=10))


def test_reflection_v1_describes_every_listed_service(tool_server: MeterdServer) -> None:
    with grpc.insecure_channel(tool_server.address) as channel:
        (listing,) = _reflect(channel, [reflection_pb2.ServerReflectionRequest(list_services="")])
        services = sorted(s.name for s in listing.list_services_response.service)
        assert "grpc.reflection.v1.ServerReflection" in services and "meterd.v1.EventService" in services
        assert "grpc.health.v1.Health" in services
        for name in services:
            # As grpcurl describes: the file holding the symbol, then every file it imports, into a fresh pool.
            files: dict[str, descriptor_pb2.FileDescriptorProto] = {}
            pending = [reflection_pb2.ServerReflectionRequest(file_containing_symbol=name)]
            while pending:
                (reply,) = _reflect(channel, [pending.pop()])
                assert not reply.HasField("error_response"), (name, reply.error_response)
                for raw in reply.file_descriptor_response.file_descriptor_proto:
                    proto = descriptor_pb2.FileDescriptorProto.FromString(raw)
                    if proto.name not in files:
                        files[proto.name] = proto
                        pending.extend(
                            reflection_pb2.ServerReflectionRequest(file_by_filename=dep)
                            for dep in proto.dependency
                            if dep not in files
                        )
            pool = descriptor_pool.DescriptorPool()
            added: set[str] = set()

            def add(
                file_name: str,
                files: dict[str, descriptor_pb2.FileDescriptorProto] = files,
                pool: descriptor_pool.DescriptorPool = pool,
                added: set[str] = added,
            ) -> None:
                if file_name in added:
                    return
                for dep in files[file_name].dependency:
                    add(dep)  # KeyError: the server did not send an imported file
                pool.Add(files[file_name])
                added.add(file_name)

            for file_name in files:
                add(file_name)
            service = pool.FindServiceByName(name)
            assert service.methods, name


def test_health_list_answers(tool_server: MeterdServer) -> None:
    with grpc.insecure_channel(tool_server.address) as channel:
        reply = health_pb2_grpc.HealthStub(channel).List(health_pb2.HealthListRequest(), timeout=10)
    assert reply.statuses[""].status == health_pb2.HealthCheckResponse.SERVING
    assert reply.statuses["meterd.v1.EventService"].status == health_pb2.HealthCheckResponse.SERVING


def _grpcurl() -> str:
    found = shutil.which("grpcurl") or (
        str(ROOT / ".venv/bin/grpcurl") if (ROOT / ".venv/bin/grpcurl").exists() else None
    )
    if found is None:
        if os.environ.get("CI") and shutil.which("go"):
            pytest.fail("grpcurl is missing: make setup installs it with go install")
        pytest.skip("grpcurl is not installed (make setup installs it where Go is)")
    return found


def test_grpcurl_lists_describes_and_calls(tool_server: MeterdServer) -> None:
    grpcurl = _grpcurl()

    def run(*args: str) -> str:
        done = subprocess.run(
            [grpcurl, "-plaintext", *args], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, (args, done.stderr)
        return done.stdout

    services = run(tool_server.address, "list").split()
    assert "grpc.reflection.v1.ServerReflection" in services and "meterd.v1.MeterService" in services
    for name in services:
        assert f"service {name.rsplit('.', 1)[-1]} {{" in run(tool_server.address, "describe", name), name
    statuses = json.loads(run(tool_server.address, "grpc.health.v1.Health/List"))["statuses"]
    assert statuses["meterd.v1.EventService"]["status"] == "SERVING"
    # Event data over gRPC JSON is a JSON string (the README's example).
    with OpenMeter(tool_server.address) as om:
        om.meters.create(
            {"slug": "tokens", "eventType": "prompt", "aggregation": "SUM", "valueProperty": "$.tokens"}
        )
        body = {
            "events": [
                {
                    "id": "g1",
                    "source": "cli",
                    "specversion": "1.0",
                    "type": "prompt",
                    "subject": "c1",
                    "data": json.dumps({"tokens": 5}),
                }
            ]
        }
        reply = json.loads(
            run("-d", json.dumps(body), tool_server.address, "meterd.v1.EventService/IngestEvents")
        )
        assert reply.get("acceptedCount", reply.get("accepted_count")) == 1, reply
        assert [row.value for row in om.meters.query("tokens").rows] == [5.0]
