"""OpenMeter's list shapes over meterd's keyset-paged services.

OpenMeter answers a list as a whole array, bounded by ``limit`` (default 100) and ``offset``, or, when
``page`` or ``pageSize`` is given, as ``{items, page, pageSize, totalCount}``. meterd's services page with a
cursor; the rows before ``offset`` are read and skipped page by page (at most MAX_OFFSET of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from meterd.server import errors
from meterd.server.http import shapes
from meterd.server.http.app import Call

MAX_LIMIT = 1000
MAX_OFFSET = 100_000
MAX_PAGE = 10_000
# The services' largest page: rows skipped for an offset are read this many at a time.
_SERVICE_PAGE = 1000

# fetch(page_size, cursor) -> (rows, next cursor or None, total over every page or None)
Fetch = Callable[[int, Any], tuple[list[Any], Any, int | None]]


def collect(fetch: Fetch, skip: int, take: int) -> tuple[list[Any], int | None]:
    """``take`` rows after the first ``skip`` (on a worker thread: it reads the store), and the total."""
    kept: list[Any] = []
    seen = 0
    cursor: Any = None
    total: int | None = None
    while len(kept) < take:
        page, cursor, total = fetch(min(_SERVICE_PAGE, skip + take - seen), cursor)
        for row in page:
            if seen >= skip:
                kept.append(row)
            seen += 1
        if cursor is None or not page:
            break
    return kept[:take], total


def everything(fetch: Fetch, limit: int) -> list[Any]:
    """Every row up to ``limit`` (a whole-array list of OpenMeter's without paging parameters)."""
    rows, _ = collect(fetch, 0, limit)
    return rows


async def listing(
    call: Call, fetch: Fetch, to_json: Callable[[Any], Any], *, default_limit: int = 100
) -> Any:
    """The JSON answer of an admin list (features, entitlements, grants) for the call's paging parameters."""
    page_text, size_text = call.one("page"), call.one("pageSize")
    if page_text is not None or size_text is not None:
        page = shapes.integer(page_text, "page", 1, MAX_PAGE) if page_text is not None else 1
        size = shapes.integer(size_text, "pageSize", 1, MAX_LIMIT) if size_text is not None else 100
        skip = (page - 1) * size
        if skip > MAX_OFFSET:
            raise errors.InvalidArgument.of("page", f"(page - 1) x pageSize must be at most {MAX_OFFSET}")
        rows, total = await call.run(collect, fetch, skip, size)
        return {"items": [to_json(r) for r in rows], "page": page, "pageSize": size, "totalCount": total or 0}
    limit_text, offset_text = call.one("limit"), call.one("offset")
    limit = shapes.integer(limit_text, "limit", 1, MAX_LIMIT) if limit_text is not None else default_limit
    offset = shapes.integer(offset_text, "offset", 0, MAX_OFFSET) if offset_text is not None else 0
    rows, _ = await call.run(collect, fetch, offset, limit)
    return [to_json(r) for r in rows]


def order_of(call: Call) -> bool:
    """``order`` ASC (default) or DESC: True when descending."""
    value = call.one("order")
    if value is None:
        return False
    if value.upper() not in ("ASC", "DESC"):
        raise errors.InvalidArgument.of("order", f"must be ASC or DESC, got {errors.quote(value)}")
    return value.upper() == "DESC"
