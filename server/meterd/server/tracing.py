"""OpenTelemetry tracing of RPCs, when ``tracing.exporter`` is set (optional: ``pip install 'meterd[server,tracing]'``).

One span per RPC through OpenTelemetry's own gRPC server instrumentation, exported by the OTLP exporter
(configured by OpenTelemetry's standard variables: ``OTEL_EXPORTER_OTLP_ENDPOINT``, ``OTEL_SERVICE_NAME``,
...) or printed on stdout (``console``, for a quick look). The tracer provider is meterd's own, not the
process-wide one, and is flushed when the server stops.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from typing import Any

EXPORTERS = ("otlp", "console")


def available() -> bool:
    """Whether the optional OpenTelemetry packages are installed."""
    return (
        importlib.util.find_spec("opentelemetry.instrumentation.grpc") is not None
        and importlib.util.find_spec("opentelemetry.sdk") is not None
    )


class Tracing:
    """A tracer provider with its exporter, and the server interceptor that makes the spans."""

    def __init__(self, exporter: str) -> None:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        if exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            span_exporter: Any = OTLPSpanExporter()
        elif exporter == "console":
            span_exporter = ConsoleSpanExporter(out=sys.stdout)  # today's stdout, not the one at its import
        else:
            raise ValueError(f"unknown tracing exporter {exporter!r}; expected one of {', '.join(EXPORTERS)}")
        resource = Resource.create({"service.name": os.environ.get("OTEL_SERVICE_NAME", "meterd")})
        self.provider = TracerProvider(resource=resource)
        self.provider.add_span_processor(BatchSpanProcessor(span_exporter))

    def interceptor(self, aio: bool) -> Any:
        """OpenTelemetry's server interceptor (for a grpc.aio server when ``aio``)."""
        from opentelemetry.instrumentation.grpc import aio_server_interceptor, server_interceptor

        make = aio_server_interceptor if aio else server_interceptor
        return make(tracer_provider=self.provider)

    def stop(self) -> None:
        """Exports the spans still buffered, then stops the exporter."""
        self.provider.shutdown()
