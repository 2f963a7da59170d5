"""The blocking and the asyncio client are twins: the same classes (``Async`` + the blocking name), the same
public methods and properties, each with the same parameters, defaults and types up to the asyncio
spelling (``AsyncX`` for ``X``, ``Awaitable[T]`` for ``T``, ``grpc.aio.`` for ``grpc.``, the generated
stubs' ``XAsyncStub`` for ``XStub``).

Most of the blocking side is generated from the asyncio side (scripts/unasync.py, checked here and in
``make lint``); the pairs kept by hand (the entry points, the entitlement caches, the transports, the
streams and the concurrency primitives) are why this test compares signatures rather than trusting the
generator."""

from __future__ import annotations

import asyncio
import functools
import importlib.util
import inspect
import pkgutil
import re
import subprocess
import sys
from types import ModuleType
from typing import Any

from support import ROOT

from meterd.client import AsyncOpenMeter, OpenMeter, _async, _concurrency, _streams, _sync, _transport, _watch


def _load_unasync() -> ModuleType:
    spec = importlib.util.spec_from_file_location("unasync", ROOT / "scripts" / "unasync.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


UNASYNC = _load_unasync()
_DUNDERS = {"__aiter__": "__iter__", "__aenter__": "__enter__", "__aexit__": "__exit__"}
_OWN = {"__init__", "__iter__", "__enter__", "__exit__", "__aiter__", "__aenter__", "__aexit__"}


def classes(package: ModuleType) -> dict[str, type]:
    """The classes defined in the modules of a package, by name."""
    found: dict[str, type] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{info.name}")
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ == module.__name__:
                found[name] = value
    return found


def as_blocking(annotation: str) -> str:
    """An asyncio annotation spelled as its blocking twin's."""
    annotation = UNASYNC.unasync(annotation).replace("grpc.aio.", "grpc.").replace("AsyncStub", "Stub")
    while (
        unwrapped := re.sub(r"\bAwaitable\[([^\[\]]*(?:\[[^\[\]]*\])?[^\[\]]*)\]", r"\1", annotation)
    ) != annotation:
        annotation = unwrapped
    return annotation


def surface(cls: type) -> dict[str, Any]:
    """Public methods and properties of a class (inherited ones too), and the protocol dunders it defines."""
    members = {}
    for name, value in inspect.getmembers(cls):
        if (name.startswith("_") and name not in _OWN) or not (
            inspect.isfunction(value) or isinstance(value, property | functools.cached_property)
        ):
            continue
        members[_DUNDERS.get(name, name)] = value
    return members


def signature(member: Any, blocking: bool) -> tuple[Any, ...]:
    if isinstance(member, property | functools.cached_property):
        getter = member.fget if isinstance(member, property) else member.func
        assert getter is not None
        returns = inspect.signature(getter).return_annotation
        return ("property", returns if blocking else as_blocking(returns))
    spelled = (lambda text: text) if blocking else as_blocking
    parameters = [
        (p.name, p.kind, p.default, spelled(p.annotation) if isinstance(p.annotation, str) else p.annotation)
        for p in inspect.signature(member).parameters.values()
    ]
    returns = inspect.signature(member).return_annotation
    return ("method", parameters, spelled(returns) if isinstance(returns, str) else returns)


def twins() -> list[tuple[type, type]]:
    generated = classes(_sync)
    pairs = [(generated[name.removeprefix("Async")], cls) for name, cls in classes(_async).items()]
    assert len(pairs) >= 10, pairs
    by_hand = [
        (OpenMeter, AsyncOpenMeter),
        (_watch.EntitlementCache, _watch.AsyncEntitlementCache),
        (_transport.Transport, _transport.AsyncTransport),
        (_streams.ServerStream, _streams.AsyncServerStream),
        (_streams.BidiStream, _streams.AsyncBidiStream),
        (_concurrency.Signal, _concurrency.AsyncSignal),
        (_concurrency.Condition, _concurrency.AsyncCondition),
        (_concurrency.Worker, _concurrency.AsyncWorker),
    ]
    return pairs + by_hand


# Constructors that take grpc's own call objects (which differ between grpc and grpc.aio) or a thread's
# target (a task's is a coroutine function); their methods still match.
_BUILT_FROM_DIFFERENT_THINGS = (_streams.ServerStream, _streams.BidiStream, _concurrency.Worker)


def test_every_asyncio_class_has_a_blocking_twin_with_the_same_surface() -> None:
    for blocking, asyncio_twin in twins():
        assert asyncio_twin.__name__ == "Async" + blocking.__name__
        ours, theirs = surface(blocking), surface(asyncio_twin)
        assert sorted(ours) == sorted(theirs), f"{blocking.__name__}: {sorted(set(ours) ^ set(theirs))}"
        for name in ours:
            if name == "__init__" and blocking in _BUILT_FROM_DIFFERENT_THINGS:
                continue
            assert signature(ours[name], True) == signature(theirs[name], False), (
                f"{blocking.__name__}.{name}"
            )


def test_the_clients_hold_the_same_namespaces() -> None:
    async def namespaces() -> dict[str, str]:
        async with AsyncOpenMeter("localhost:1") as om:  # nothing is called: no server needed
            return {
                name: type(value).__name__ for name, value in vars(om).items() if not name.startswith("_")
            }

    with OpenMeter("localhost:1") as om:
        blocking = {
            name: type(value).__name__ for name, value in vars(om).items() if not name.startswith("_")
        }
    asynchronous = asyncio.run(namespaces())
    assert len(blocking) >= 7 and asynchronous == {
        name: kind if kind == "NoneType" else "Async" + kind for name, kind in blocking.items()
    }


def test_the_blocking_twin_is_generated_from_the_asyncio_code() -> None:
    """What ``make lint`` runs: _sync/ is exactly what scripts/unasync.py writes from _async/."""
    check = subprocess.run(
        [sys.executable, "scripts/unasync.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr


def test_unasync_drops_async_spelling_only_in_whole_words() -> None:
    text = "async with AsyncFoo() as f:\n    await f.asynchronous(awaited)\n    async for x in AsyncIterator:"
    assert UNASYNC.unasync(text) == "with Foo() as f:\n    f.asynchronous(awaited)\n    for x in Iterator:"
