"""OpenTelemetry tracing: one span per RPC, with its method and status code (console exporter, read from
the process's stdout)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("opentelemetry.instrumentation.grpc", reason="tracing needs the meterd[tracing] extra")

from meterd.client import NotFoundError, OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config


def spans(text: str) -> list[dict[str, object]]:
    decoder, found, i = json.JSONDecoder(), [], 0
    while (start := text.find("{", i)) != -1:
        span, i = decoder.raw_decode(text, start)
        found.append(span)
    return found


def test_every_rpc_is_a_span_with_its_status(
    server_config: Config, capfd: pytest.CaptureFixture[str]
) -> None:
    server_config.tracing = "console"
    server = MeterdServer(server_config).start()
    try:
        with OpenMeter(server.address, timeout=30) as om:
            om.events.ingest({"id": "1", "source": "t", "type": "call", "subject": "s"})
            with pytest.raises(NotFoundError):
                om.meters.get("nope")
    finally:
        server.stop(0)  # flushes the buffered spans
    by_name = {span["name"]: span for span in spans(capfd.readouterr().out)}
    ingest = by_name["/meterd.v1.EventService/IngestEvents"]
    assert ingest["kind"] == "SpanKind.SERVER"
    assert ingest["attributes"]["rpc.grpc.status_code"] == 0  # type: ignore[index]
    missing = by_name["/meterd.v1.MeterService/GetMeter"]
    assert missing["attributes"]["rpc.grpc.status_code"] == 5  # type: ignore[index]  # NOT_FOUND
    assert missing["resource"]["attributes"]["service.name"] == "meterd"  # type: ignore[index]
