"""The cancellation token the serving layer hands to every call, through a real grpc.aio server and the
serving layer (a test service whose sync body loops until the token says stop)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc
import grpc.aio
import pytest

from meterd.server import cancellation, errors
from meterd.server.serving import Serving


def test_the_token_checks_deadline_and_cancel() -> None:
    cancellation.NEVER.check()
    token = cancellation.Cancellation.after(60)
    token.check()
    assert 0 < (token.time_remaining() or 0) <= 60
    token.cancel()
    with pytest.raises(errors.Cancelled):
        token.check()
    with pytest.raises(errors.DeadlineExceeded):
        cancellation.Cancellation.after(0).check()


@pytest.fixture
def slow_server() -> Iterator[tuple[str, queue.Queue[type]]]:
    """A grpc.aio server through ``Serving`` with one method, /test.Slow/Run, whose body loops until its
    call's token raises, then reports which error stopped it."""
    stopped: queue.Queue[type] = queue.Queue()

    def run(request: bytes, context: Any) -> bytes:
        check = cancellation.checker()
        try:
            while True:
                check()
                time.sleep(0.005)
        except errors.MeterdError as exc:
            stopped.put(type(exc))
            raise

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    executor = ThreadPoolExecutor(4)

    async def start() -> tuple[grpc.aio.Server, int]:
        server = grpc.aio.server()
        handlers = Serving(loop, executor, max_streams=10).adapt(
            "test.Slow", {"Run": grpc.unary_unary_rpc_method_handler(run)}
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Slow", handlers),))
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        return server, port

    server, port = asyncio.run_coroutine_threadsafe(start(), loop).result()
    yield f"127.0.0.1:{port}", stopped
    asyncio.run_coroutine_threadsafe(server.stop(0), loop).result()
    executor.shutdown()
    loop.call_soon_threadsafe(loop.stop)
    thread.join()


def test_a_passed_deadline_stops_the_body(slow_server: tuple[str, queue.Queue[type]]) -> None:
    address, stopped = slow_server
    with grpc.insecure_channel(address) as channel, pytest.raises(grpc.RpcError) as failed:
        channel.unary_unary("/test.Slow/Run")(b"", timeout=0.3)
    assert failed.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert stopped.get(timeout=10) is errors.DeadlineExceeded


def test_a_cancelled_call_stops_the_body(slow_server: tuple[str, queue.Queue[type]]) -> None:
    address, stopped = slow_server
    with grpc.insecure_channel(address) as channel:
        call = channel.unary_unary("/test.Slow/Run").future(b"", timeout=60)
        with pytest.raises(queue.Empty):
            stopped.get(timeout=0.3)  # still running
        call.cancel()
        assert stopped.get(timeout=10) is errors.Cancelled
