"""Columns of many rows as PostgreSQL arrays in binary form, built with a few C-level calls per column.

Ingest sends each column of its rows as one array parameter (``INSERT ... SELECT FROM unnest(%b, %b, ...)``).
psycopg's own list dumper inspects and dumps each element in Python, which cost more than folding the
events; these build the binary array format (header, then length and bytes of each element) in one
``struct.pack`` per numeric column. A column that these cannot encode (a None, an integer beyond 64 bits)
is passed as a plain list, for psycopg to dump as usual.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format

_HEADER = struct.Struct(">iiIii")  # ndim, has nulls, element type, length, lower bound
_TYPES = psycopg.postgres.types
_INT8, _FLOAT8, _TEXT = (_TYPES[name].oid for name in ("int8", "float8", "text"))


class Int8Array(bytes):
    """A bigint[] in binary form."""


class Float8Array(bytes):
    """A double precision[] in binary form."""


class TextArray(bytes):
    """A text[] in binary form (UTF-8)."""


class _ArrayDumper(Dumper):
    format = Format.BINARY

    def dump(self, obj: Any) -> bytes:
        return obj  # type: ignore[no-any-return]


class _Int8ArrayDumper(_ArrayDumper):
    oid = _TYPES["int8"].array_oid


class _Float8ArrayDumper(_ArrayDumper):
    oid = _TYPES["float8"].array_oid


class _TextArrayDumper(_ArrayDumper):
    oid = _TYPES["text"].array_oid


def register(conn: psycopg.Connection[Any]) -> None:
    """Lets the connection send these arrays (cheap: a few dictionary entries)."""
    adapters = conn.adapters
    adapters.register_dumper(Int8Array, _Int8ArrayDumper)
    adapters.register_dumper(Float8Array, _Float8ArrayDumper)
    adapters.register_dumper(TextArray, _TextArrayDumper)


def _fixed(values: Sequence[Any], oid: int, code: str) -> bytes:
    n = len(values)
    interleaved: list[Any] = [8] * (2 * n)
    interleaved[1::2] = values
    return _HEADER.pack(1, 0, oid, n, 1) + struct.pack(f">{('i' + code) * n}", *interleaved)


def int8_array(values: Sequence[Any]) -> Any:
    """A bigint[] parameter (a list when some value is not a 64-bit integer)."""
    try:
        return Int8Array(_fixed(values, _INT8, "q"))
    except struct.error:
        return list(values)


def float8_array(values: Sequence[Any]) -> Any:
    """A double precision[] parameter (a list when some value is not a number)."""
    try:
        return Float8Array(_fixed(values, _FLOAT8, "d"))
    except struct.error:
        return list(values)


def text_array(values: Sequence[Any]) -> Any:
    """A text[] parameter (a list when some value is not a string, or not encodable)."""
    try:
        encoded = [v.encode() for v in values]
    except (AttributeError, UnicodeEncodeError):
        return list(values)
    n = len(encoded)
    lengths = struct.pack(f">{n}i", *map(len, encoded))
    parts: list[bytes] = [b""] * (2 * n)
    parts[0::2] = [lengths[i : i + 4] for i in range(0, 4 * n, 4)]
    parts[1::2] = encoded
    return TextArray(_HEADER.pack(1, 0, _TEXT, n, 1) + b"".join(parts))


BY_TYPE = {"bigint": int8_array, "float8": float8_array, "text": text_array}
