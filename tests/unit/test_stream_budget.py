"""A request stream's messages and the server's byte budget (issue 22, hostile load): a stream reads its next
message only when the budget has room for it, counts the message before parsing it, and keeps no message of
its own once the servicer has it. The stream here is the serving layer's, fed by an async iterator that
stands in for gRPC's request iterator (it records when the layer reads from it)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from meterd.server.serving import FIRST_MESSAGE_BYTES, Serving


class Requests:
    """The messages a client sent, read one at a time; ``reads`` counts the reads the layer asked for."""

    def __init__(self, messages: list[bytes]) -> None:
        self.messages = list(messages)
        self.reads = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self

    async def __anext__(self) -> bytes:
        self.reads += 1
        if not self.messages:
            raise StopAsyncIteration
        return self.messages.pop(0)


class Decoded:
    """A parsed message (it can be weakly referenced, to see who keeps it)."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw


async def turns(n: int = 50) -> None:
    """Lets every ready task of the loop run, n times over."""
    for _ in range(n):
        await asyncio.sleep(0)


def serving(limit: int) -> tuple[Serving, ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(max_workers=2)
    return Serving(asyncio.get_running_loop(), executor, max_streams=10, max_inflight_bytes=limit), executor


def test_a_message_is_counted_in_the_budget_before_it_is_parsed() -> None:
    async def go() -> None:
        layer, executor = serving(limit=10_000)
        seen: list[int] = []

        def parse(raw: bytes) -> Decoded:
            seen.append(layer.budget.used)  # what the budget holds while this message is parsed
            return Decoded(raw)

        stream = layer._parsed(Requests([b"a" * 3000, b"b" * 2000]), parse, [False])
        messages = stream.__aiter__()
        await messages.__anext__()
        await messages.__anext__()
        assert seen == [3000, 5000]  # each counted before parsing, the first still held (no done() yet)
        stream.done()
        assert layer.budget.used == 2000
        stream.release_all()
        assert layer.budget.used == 0
        executor.shutdown()

    asyncio.run(go())


def test_a_stream_reads_nothing_while_the_budget_has_no_room_for_its_next_message() -> None:
    async def go() -> None:
        layer, executor = serving(limit=10_000)
        requests = Requests([b"x" * 4000, b"y" * 4000, b"z" * 4000])
        stream = layer._parsed(requests, Decoded, [False])
        messages = stream.__aiter__()
        await messages.__anext__()
        assert requests.reads == 1
        # Another stream holds most of the budget: no room for a second 4,000-byte message beside the first.
        other = await layer.budget.acquire(3000)
        following = asyncio.ensure_future(messages.__anext__())
        await turns()
        assert requests.reads == 1  # not read: it stays with the client (gRPC flow control)
        assert not following.done()
        layer.budget.release(other)
        second = await following
        assert requests.reads == 2 and second.raw == b"y" * 4000
        assert layer.budget.used == 8000
        # While the stream's own messages fill the budget, it waits for them to be done too.
        await layer.budget.acquire(2000)
        third = asyncio.ensure_future(messages.__anext__())
        await turns()
        assert requests.reads == 2
        stream.done()
        assert (await third).raw == b"z" * 4000
        stream.release_all()
        executor.shutdown()

    asyncio.run(go())


def test_an_idle_stream_holds_no_budget() -> None:
    async def go() -> None:
        layer, executor = serving(limit=10_000)
        never = asyncio.get_running_loop().create_future()

        class Idle(Requests):
            async def __anext__(self) -> bytes:
                self.reads += 1
                if self.reads == 1:
                    return b"m" * 5000
                return await never  # the client sends nothing more

        stream = layer._parsed(Idle([]), Decoded, [False])
        messages = stream.__aiter__()
        await messages.__anext__()
        stream.done()
        waiting = asyncio.ensure_future(messages.__anext__())
        await turns()
        assert layer.budget.used == 0  # waiting for its next message, the stream holds nothing
        assert await layer.budget.acquire(10_000) == 10_000
        waiting.cancel()
        executor.shutdown()

    asyncio.run(go())


def test_the_stream_keeps_no_parsed_message_once_the_servicer_has_it() -> None:
    async def go() -> None:
        layer, executor = serving(limit=10 * 2**20)
        big = b"q" * (FIRST_MESSAGE_BYTES * 4)  # parsed on a worker thread, as a bulk batch is
        arrives: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

        class Slow(Requests):
            async def __anext__(self) -> bytes:
                self.reads += 1
                return big if self.reads == 1 else await arrives

        stream = layer._parsed(Slow([]), Decoded, [False])
        messages = stream.__aiter__()
        first: Any = await messages.__anext__()
        gone = weakref.ref(first)
        del first  # the servicer is done with it (validated and dropped)
        following = asyncio.ensure_future(messages.__anext__())
        await turns()
        assert not following.done()
        gc.collect()
        assert gone() is None  # the stream, waiting for its next message, does not keep the last one
        arrives.set_result(b"next")
        assert (await following).raw == b"next"
        stream.release_all()
        executor.shutdown()

    asyncio.run(go())
