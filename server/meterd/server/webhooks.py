"""Outbound webhook requests (the notifications' delivery adapter, as store/ is their storage adapter).

Built on httpcore, the connection layer of httpx, chosen for what a sender to many tenants' endpoints needs
and for what it leaves out:
- one connection pool per channel, capped (``per_channel`` connections), so a slow or dead endpoint holds at
  most that many connections and never takes one another channel needs;
- a network backend of our own that resolves the host and checks every address before connecting to the
  checked one (so a name that resolves to an internal address, DNS rebinding included, is refused at the
  moment of the connection, not only when the channel was created), while TLS still verifies the name;
- explicit per-phase timeouts (connect, write, read, pool) under an overall deadline per attempt;
- a response read as a stream, stopped after ``max_response_bytes``;
- no redirect following, no proxy taken from the environment, no cookies: nothing to turn off. (httpx's
  client adds those conveniences on top of httpcore; aiohttp would do as well with its resolver hook, but
  brings a larger dependency tree for nothing used here.)
Asyncio only: the dispatcher runs it on an event loop of its own.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpcore

from meterd.server.notifications.targets import IPAddress, RefusedTarget, check_address

MAX_RESPONSE_BYTES = 64 * 1024
PER_CHANNEL_CONNECTIONS = 4
IDLE_POOL_SECONDS = 300.0
_SNIPPET = 200

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]


@dataclass(frozen=True, slots=True)
class SendResult:
    """An attempt's result: ``status`` 0 when no HTTP answer came; ``error`` empty for a 2xx answer;
    ``refused`` when the target itself is refused (retrying would not help)."""

    status: int
    error: str = ""
    refused: bool = False

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


async def system_resolve(host: str, port: int) -> list[IPAddress]:
    """Every address of ``host`` (a literal address resolves to itself), in the resolver's order."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[IPAddress] = []
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if address not in out:
            out.append(address)
    return out


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses ``check_address`` allows: resolves first, refuses the connection if any
    address of the name is refused, then connects to the checked addresses in turn."""

    def __init__(self, allow_private: bool, resolve: Resolver = system_resolve) -> None:
        self._allow_private = allow_private
        self._resolve = resolve
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            addresses = await asyncio.wait_for(self._resolve(host, port), timeout)
        except TimeoutError:
            raise httpcore.ConnectTimeout(f"resolving the host took more than {timeout:g} s") from None
        except OSError as exc:
            raise httpcore.ConnectError(f"could not resolve the host ({exc.strerror or exc})") from None
        if not addresses:
            raise httpcore.ConnectError("the host has no address")
        for address in addresses:
            check_address(address, self._allow_private)
        last: Exception | None = None
        for address in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise RefusedTarget("unix sockets are not webhook targets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class WebhookSender:
    """POSTs bodies to channels' URLs, one capped connection pool per channel."""

    def __init__(
        self,
        allow_private: bool,
        *,
        per_channel: int = PER_CHANNEL_CONNECTIONS,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
        resolve: Resolver = system_resolve,
    ) -> None:
        self._backend = GuardedBackend(allow_private, resolve)
        self._per_channel = per_channel
        self._max_response = max_response_bytes
        self._pools: dict[str, tuple[httpcore.AsyncConnectionPool, float]] = {}

    def _pool(self, channel_id: str) -> httpcore.AsyncConnectionPool:
        entry = self._pools.get(channel_id)
        pool = (
            entry[0]
            if entry
            else httpcore.AsyncConnectionPool(
                max_connections=self._per_channel,
                max_keepalive_connections=self._per_channel,
                keepalive_expiry=30.0,
                network_backend=self._backend,
                retries=0,
            )
        )
        self._pools[channel_id] = (pool, time.monotonic())
        return pool

    async def send(
        self, channel_id: str, url: str, headers: Sequence[tuple[str, str]], body: bytes, timeout: float
    ) -> SendResult:
        """One attempt, within ``timeout`` seconds in all. Never raises for what the endpoint or the network
        does; the error text names no URL, header or secret."""
        phases = {"connect": timeout, "read": timeout, "write": timeout, "pool": timeout}
        try:
            async with asyncio.timeout(timeout):
                async with self._pool(channel_id).stream(
                    "POST",
                    url,
                    headers=[(k.encode(), v.encode()) for k, v in headers],
                    content=body,
                    extensions={"timeout": phases},
                ) as response:
                    snippet = b""
                    read = 0
                    async for chunk in response.aiter_stream():
                        if len(snippet) < _SNIPPET:
                            snippet += chunk[: _SNIPPET - len(snippet)]
                        read += len(chunk)
                        if read >= self._max_response:
                            break  # the rest is not read: the connection is closed instead of reused
                    status = response.status
        except RefusedTarget as exc:
            return SendResult(0, f"refused: {exc}", refused=True)
        except (TimeoutError, httpcore.TimeoutException):
            return SendResult(0, f"no answer within {timeout:g} s")
        except httpcore.ConnectError as exc:
            return SendResult(0, f"could not connect: {_reason(exc)}")
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            return SendResult(0, f"the connection failed: {_reason(exc)}")
        except httpcore.UnsupportedProtocol:
            return SendResult(0, "unsupported URL scheme", refused=True)
        except OSError as exc:
            return SendResult(0, f"network error: {exc.strerror or type(exc).__name__}")
        if 200 <= status < 300:
            return SendResult(status)
        text = snippet.decode("utf-8", "replace").strip()
        if 300 <= status < 400:
            return SendResult(status, f"HTTP {status}: redirects are not followed")
        return SendResult(status, f"HTTP {status}" + (f": {text}" if text else ""))

    async def prune(self) -> None:
        """Closes the pools of channels not sent to for a while."""
        cutoff = time.monotonic() - IDLE_POOL_SECONDS
        for channel_id, (pool, used) in list(self._pools.items()):
            if used < cutoff and not pool.connections:
                del self._pools[channel_id]
                await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = self._pools, {}
        for pool, _ in pools.values():
            await pool.aclose()


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:_SNIPPET]
