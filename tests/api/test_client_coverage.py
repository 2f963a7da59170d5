"""Every RPC of every service in ``meterd.v1`` is reached by some method of the Python client, blocking and
asyncio alike (as Temporal's ``test_all_grpc_calls_present`` holds its client to its protos): a new RPC
without a client method fails here, as does a client method this table does not exercise.

Each method runs once against the real server, through a channel whose interceptor records the RPCs the
client sends. A server error still counts (the call was reached); a refusal by the client's own checks
does not (nothing was sent)."""

from __future__ import annotations

import asyncio
import functools
import importlib
import inspect
import pkgutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import grpc
import grpc.aio
import pytest

import meterd.v1
from meterd.client import AsyncOpenMeter, MeterdError, OpenMeter
from meterd.server.app import MeterdServer

EVENT = {
    "id": "e1",
    "source": "s",
    "type": "call",
    "subject": "c1",
    "time": datetime(2024, 1, 1, tzinfo=UTC),
    "data": {"v": 1},
}
METERED = {"type": "metered", "featureKey": "f1", "usagePeriod": {"interval": "DAY"}}
GRANT = {
    "amount": 10,
    "effectiveAt": datetime(2024, 1, 1, tzinfo=UTC),
    "expiration": {"duration": "DAY", "count": 1},
}

# (namespace, method, args, kwargs) in an order that leaves something for each call to find. The entries
# marked SPECIAL are streams and watches, which the runners open, use once and close.
SPECIAL = object()
CALLS: list[tuple[str, str, tuple[Any, ...], dict[str, Any]]] = [
    (
        "meters",
        "create",
        ({"slug": "m1", "eventType": "call", "aggregation": "SUM", "valueProperty": "$.v"},),
        {},
    ),
    ("events", "ingest", (EVENT,), {}),
    ("events", "stream", (), {"special": SPECIAL}),
    ("events", "list", (), {}),
    ("events", "list_page", (), {}),
    ("meters", "get", ("m1",), {}),
    ("meters", "list", (), {}),
    ("meters", "list_page", (), {}),
    ("meters", "query", ("m1",), {}),
    ("meters", "subjects", ("m1",), {}),
    ("subjects", "upsert", ({"key": "c1"},), {}),
    ("subjects", "get", ("c1",), {}),
    ("subjects", "list", (), {}),
    ("subjects", "list_page", (), {}),
    ("features", "create", ({"key": "f1", "name": "F1", "meterSlug": "m1"},), {}),
    ("features", "get", ("f1",), {}),
    ("features", "list", (), {}),
    ("features", "list_page", (), {}),
    ("subjects", "create_entitlement", ("c1", METERED), {}),
    ("subjects", "get_entitlement", ("c1", "f1"), {}),
    ("subjects", "list_entitlements", ("c1",), {}),
    ("subjects", "list_entitlements_page", ("c1",), {}),
    ("subjects", "get_entitlement_value", ("c1", "f1"), {}),
    ("subjects", "get_entitlement_history", ("c1", "f1"), {"window_size": "DAY"}),
    ("subjects", "create_entitlement_grant", ("c1", "f1", GRANT), {}),
    ("subjects", "list_entitlement_grants", ("c1", "f1"), {}),
    ("subjects", "list_entitlement_grants_page", ("c1", "f1"), {}),
    ("subjects", "reset_entitlement_usage", ("c1", "f1"), {}),
    ("subjects", "override_entitlement", ("c1", "f1", METERED), {}),
    ("entitlements", "list", (), {}),
    ("entitlements", "list_page", (), {}),
    ("entitlements", "watch", (), {"special": SPECIAL}),
    ("entitlements", "cache", (), {"special": SPECIAL}),
    ("grants", "list", (), {}),
    ("grants", "list_page", (), {}),
    ("grants", "void", ("no-such-grant",), {}),
    ("portal", "create_token", (), {"subject": "c1"}),
    ("portal", "list_tokens", (), {}),
    ("portal", "list_tokens_page", (), {}),
    ("portal", "query_meter", ("m1",), {}),
    ("portal", "invalidate_tokens", (), {"subject": "c1"}),
    ("notifications.channels", "create", ({"name": "hooks", "url": "https://hooks.example.com/meterd"},), {}),
    ("notifications.channels", "get", ("no-such-channel",), {}),
    ("notifications.channels", "list", (), {}),
    ("notifications.channels", "list_page", (), {}),
    (
        "notifications.channels",
        "update",
        ("no-such-channel", {"name": "x", "url": "https://h.example.com"}),
        {},
    ),
    (
        "notifications.rules",
        "create",
        ({"name": "r", "channels": ["c"], "thresholds": [{"value": 1, "type": "NUMBER"}]},),
        {},
    ),
    ("notifications.rules", "get", ("no-such-rule",), {}),
    ("notifications.rules", "list", (), {}),
    ("notifications.rules", "list_page", (), {}),
    (
        "notifications.rules",
        "update",
        ("no-such-rule", {"name": "r", "channels": ["c"], "thresholds": [{"value": 1, "type": "NUMBER"}]}),
        {},
    ),
    ("notifications.rules", "test", ("no-such-rule",), {}),
    ("notifications.events", "get", ("no-such-event",), {}),
    ("notifications.events", "list", (), {}),
    ("notifications.events", "list_page", (), {}),
    ("notifications.rules", "delete", ("no-such-rule",), {}),
    ("notifications.channels", "delete", ("no-such-channel",), {}),
    ("subjects", "delete_entitlement", ("c1", "f1"), {}),
    ("features", "delete", ("f1",), {}),
    ("subjects", "delete", ("c1",), {}),
    ("meters", "delete", ("m1",), {}),
]
NAMESPACES = sorted({namespace for namespace, *_ in CALLS})


def namespace_of(client: Any, namespace: str) -> Any:
    """``om.meters`` for "meters", ``om.notifications.rules`` for "notifications.rules"."""
    return functools.reduce(getattr, namespace.split("."), client)


@pytest.fixture
def backend() -> str:
    """The client's surface does not depend on the storage backend: SQLite only."""
    return "sqlite"


def every_rpc() -> set[str]:
    """``/meterd.v1.Service/Method`` of every RPC in every generated module of meterd.v1."""
    rpcs = set()
    for module_info in pkgutil.iter_modules(meterd.v1.__path__):
        if module_info.name.endswith("_pb2"):
            module = importlib.import_module(f"meterd.v1.{module_info.name}")
            for service in module.DESCRIPTOR.services_by_name.values():
                rpcs.update(f"/{service.full_name}/{method.name}" for method in service.methods)
    return rpcs


def method_name(details: Any) -> str:
    method = details.method
    return method.decode() if isinstance(method, bytes) else str(method)


class Recorder(
    grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor, grpc.StreamStreamClientInterceptor
):
    """The RPCs a blocking channel sent."""

    def __init__(self) -> None:
        self.rpcs: set[str] = set()

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: Any, request: Any) -> Any:
        self.rpcs.add(method_name(details))
        return continuation(details, request)

    intercept_unary_stream = intercept_unary_unary

    def intercept_stream_stream(
        self, continuation: Callable[..., Any], details: Any, requests: Iterator[Any]
    ) -> Any:
        self.rpcs.add(method_name(details))
        return continuation(details, requests)


class AsyncRecorder:
    """The RPCs an aio channel sent: one interceptor of each kind, sharing one set."""

    def __init__(self) -> None:
        self.rpcs: set[str] = set()
        recorder = self

        class Unary(grpc.aio.UnaryUnaryClientInterceptor):
            async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
                recorder.rpcs.add(method_name(details))
                return await continuation(details, request)

        class ServerStreaming(grpc.aio.UnaryStreamClientInterceptor):
            async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
                recorder.rpcs.add(method_name(details))
                return await continuation(details, request)

        class Bidi(grpc.aio.StreamStreamClientInterceptor):
            async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
                recorder.rpcs.add(method_name(details))
                return await continuation(details, requests)

        self.interceptors = [Unary(), ServerStreaming(), Bidi()]


def reached(rpcs: set[str]) -> None:
    expected = every_rpc()
    assert len(expected) >= 35  # seven services when this was written
    assert rpcs == expected, f"RPCs no client method reaches: {sorted(expected - rpcs)}"


def test_every_public_client_method_is_in_the_table(server: MeterdServer) -> None:
    with OpenMeter(server.address) as om:
        for namespace in NAMESPACES:
            public = {
                name
                for name, _ in inspect.getmembers(namespace_of(om, namespace), inspect.ismethod)
                if not name.startswith("_")
            }
            listed = {method for ns, method, *_ in CALLS if ns == namespace}
            assert public == listed, (
                f"om.{namespace}: not exercised {public - listed}, unknown {listed - public}"
            )


def test_every_rpc_is_reached_by_the_blocking_client(server: MeterdServer) -> None:
    recorder = Recorder()
    channel = grpc.intercept_channel(grpc.insecure_channel(server.address), recorder)
    with OpenMeter(channel=channel, timeout=30) as om:
        for namespace, method, args, kwargs in CALLS:
            call = getattr(namespace_of(om, namespace), method)
            try:
                if kwargs.get("special") is not SPECIAL:
                    call(*args, **kwargs)
                elif method == "stream":
                    with call() as stream:
                        stream.send({**EVENT, "id": "e2"})
                elif method == "watch":
                    with call(subject="c1", timeout=30) as watch:
                        assert next(iter(watch)).snapshot_complete
                else:
                    cache = call(subject="c1", wait=30)
                    assert cache.fresh
                    cache.close()
            except MeterdError as error:
                assert not error.local, f"om.{namespace}.{method} sent nothing: {error}"
    reached(recorder.rpcs)


def test_every_rpc_is_reached_by_the_asyncio_client(server: MeterdServer) -> None:
    recorder = AsyncRecorder()

    async def run() -> None:
        channel = grpc.aio.insecure_channel(server.address, interceptors=recorder.interceptors)
        async with AsyncOpenMeter(channel=channel, timeout=30) as om:
            for namespace, method, args, kwargs in CALLS:
                call = getattr(namespace_of(om, namespace), method)
                try:
                    if kwargs.get("special") is not SPECIAL:
                        await call(*args, **kwargs)
                    elif method == "stream":
                        async with call() as stream:
                            await stream.send({**EVENT, "id": "e2"})
                    elif method == "watch":
                        async with call(subject="c1", timeout=30) as watch:
                            async for message in watch:
                                assert message.snapshot_complete
                                break
                    else:
                        cache = await call(subject="c1", wait=30)
                        assert cache.fresh
                        await cache.close()
                except MeterdError as error:
                    assert not error.local, f"om.{namespace}.{method} sent nothing: {error}"

    asyncio.run(run())
    reached(recorder.rpcs)
