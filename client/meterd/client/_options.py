"""OpenMeter's option names on every client method, and one error class for every bad argument.

``accept_sdk_names(cls)`` wraps each public method of a namespace class so that:
- the SDK's camelCase option names work beside the snake_case ones (``windowSize=``, ``groupBy=``,
  ``filterGroupBy=``, ``windowTimeZone=``, and ``from``/``to`` through ``**{"from": t0}``), as does the
  SDK's options dict after the positional arguments (``om.meters.query("m", {"windowSize": "HOUR"})``);
- an unknown option raises InvalidArgumentError naming the closest known one;
- a request that cannot be built (a wrong argument, a string that is not valid UTF-8, a number out of the
  wire's range) raises InvalidArgumentError rather than a built-in ValueError/TypeError/UnicodeError, so one
  ``except MeterdError`` catches the client's checks and the server's alike.
No I/O: the same wrapping serves the sync and the async namespaces.
"""

from __future__ import annotations

import difflib
import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from meterd.client._convert import snake
from meterd.client._errors import MeterdError, invalid_argument

T = TypeVar("T")

# The wrappers made so far: a subclass's inherited methods are wrapped already.
_WRAPPED: set[Callable[..., Any]] = set()
# SDK option names whose snake_case is not the client's parameter name.
_ALIASES = {"ingested_at_from": "ingested_from", "ingested_at_to": "ingested_to"}


def _parameter_name(key: str, names: frozenset[str]) -> str | None:
    """The method's parameter for option ``key`` (camelCase or snake_case; ``from`` -> ``from_``)."""
    if key in names:
        return key
    candidate = _ALIASES.get(snake(key), snake(key))
    for name in (candidate, candidate + "_"):
        if name in names:
            return name
    return None


def _rename(qualname: str, names: frozenset[str], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in kwargs.items():
        if not isinstance(key, str):
            raise invalid_argument(qualname, f"option names must be strings, got {key!r}")
        name = _parameter_name(key, names)
        if name is None:
            close = difflib.get_close_matches(snake(key), sorted(names), n=1)
            hint = f" (did you mean {close[0]}?)" if close else f" (options: {', '.join(sorted(names))})"
            raise invalid_argument(key, f"unknown option of {qualname}{hint}")
        if name in out:
            raise invalid_argument(key, f"given twice (as {name} too)")
        out[name] = value
    return out


def _wrap(function: Callable[..., Any]) -> Callable[..., Any]:
    signature = inspect.signature(function)
    parameters = list(signature.parameters.values())[1:]  # after self
    names = frozenset(p.name for p in parameters if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD))
    positional = sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))
    takes_options = any(p.kind == p.KEYWORD_ONLY for p in parameters)
    qualname = function.__qualname__

    def arguments(
        self: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        if takes_options and len(args) == positional + 1 and isinstance(args[-1], Mapping):
            *args_list, options = args
            args = tuple(args_list)
            for key, value in _rename(qualname, names, options).items():
                if key in kwargs:
                    raise invalid_argument(key, "given in the options dict and as a keyword argument")
                kwargs[key] = value
        kwargs = _rename(qualname, names, kwargs)
        try:
            signature.bind(self, *args, **kwargs)
        except TypeError as exc:
            raise invalid_argument(qualname, str(exc)) from None
        return args, kwargs

    def refused(exc: Exception) -> MeterdError:
        return invalid_argument(qualname, f"the request cannot be built: {exc}")

    if inspect.iscoroutinefunction(function):

        @functools.wraps(function)
        async def call_async(self: Any, *args: Any, **kwargs: Any) -> Any:
            args, kwargs = arguments(self, args, kwargs)
            try:
                return await function(self, *args, **kwargs)
            except MeterdError:
                raise
            except (ValueError, TypeError) as exc:  # UnicodeError included
                raise refused(exc) from exc

        return call_async

    @functools.wraps(function)
    def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        args, kwargs = arguments(self, args, kwargs)
        try:
            return function(self, *args, **kwargs)
        except MeterdError:
            raise
        except (ValueError, TypeError) as exc:  # UnicodeError included
            raise refused(exc) from exc

    return call


def accept_sdk_names(cls: type[T]) -> type[T]:
    """Wraps every public method of ``cls`` (inherited ones too) as the module's docstring says."""
    for name, member in inspect.getmembers(cls, inspect.isfunction):
        if name.startswith("_") or member in _WRAPPED:
            continue
        wrapped = _wrap(member)
        _WRAPPED.add(wrapped)
        setattr(cls, name, wrapped)
    return cls
