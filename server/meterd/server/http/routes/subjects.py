"""``/api/v1/subjects`` (upsert, list, get, delete) and ``/api/v1/portal/tokens`` (create, invalidate)."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from meterd.server import errors
from meterd.server.http import lists, shapes
from meterd.server.http.app import Call, Route, Services, json_response, no_content
from meterd.server.subjects.model import UNSET, SubjectUpsert

# An upsert field absent from the JSON keeps the stored value; null clears it (OpenMeter's semantics).
_UPSERT_FIELDS = {
    "key",
    "displayName",
    "metadata",
    "currentPeriodStart",
    "currentPeriodEnd",
    "stripeCustomerId",
    "id",
}


def upsert_of(item: Any, i: int) -> SubjectUpsert:
    at = f"subjects[{i}]."
    subject = shapes.obj(item, f"subjects[{i}]")
    unknown = sorted(subject.keys() - _UPSERT_FIELDS)
    if unknown:
        raise errors.InvalidArgument.of(at + unknown[0], "is not a subject field")

    def optional_text(name: str) -> Any:
        return shapes.text(subject[name], at + name) or None if name in subject else UNSET

    def optional_time(name: str) -> Any:
        return shapes.opt_time(subject[name], at + name) if name in subject else UNSET

    return SubjectUpsert(
        key=shapes.text(subject.get("key"), at + "key"),
        display_name=optional_text("displayName"),
        metadata=shapes.string_map(subject["metadata"], at + "metadata") if "metadata" in subject else UNSET,
        current_period_start=optional_time("currentPeriodStart"),
        current_period_end=optional_time("currentPeriodEnd"),
        stripe_customer_id=optional_text("stripeCustomerId"),
    )


async def upsert(call: Call, s: Services) -> Response:
    body = await call.json()
    items = body if isinstance(body, list) else [shapes.obj(body, "body")]  # one subject object is taken too
    upserts = [upsert_of(item, i) for i, item in enumerate(items)]
    stored = await call.run(s.subjects.upsert, upserts)
    return json_response([shapes.subject_json(x) for x in stored])


async def list_subjects(call: Call, s: Services) -> Response:
    limit_text, offset_text = call.one("limit"), call.one("offset")
    limit = (
        shapes.integer(limit_text, "limit", 1, lists.MAX_LIMIT) if limit_text is not None else lists.MAX_LIMIT
    )
    offset = shapes.integer(offset_text, "offset", 0, lists.MAX_OFFSET) if offset_text is not None else 0

    def fetch(size: int, after: str | None) -> tuple[list[Any], str | None, None]:
        page, next_key = s.subjects.list(size, after)
        return page, next_key, None

    rows, _ = await call.run(lists.collect, fetch, offset, limit)
    return json_response([shapes.subject_json(x) for x in rows])


async def get_subject(call: Call, s: Services) -> Response:
    return json_response(shapes.subject_json(await call.run(s.subjects.get, call.path("subject"))))


async def delete_subject(call: Call, s: Services) -> Response:
    await call.run(s.subjects.delete, call.path("subject"))
    return no_content()


async def create_token(call: Call, s: Services) -> Response:
    body = shapes.obj(await call.json(), "body")
    slugs = body.get("allowedMeterSlugs") or []
    if not isinstance(slugs, list) or not all(isinstance(x, str) for x in slugs):
        raise errors.InvalidArgument.of("allowedMeterSlugs", "must be an array of meter slugs")
    issued = await call.run(
        s.portal.create_token,
        shapes.text(body.get("subject"), "subject"),
        slugs,
        shapes.opt_time(body.get("expiresAt"), "expiresAt"),
    )
    return json_response(shapes.token_json(issued.token, issued.token.created_at, issued.text))


async def invalidate_tokens(call: Call, s: Services) -> Response:
    body = shapes.obj(await call.json(optional=True) or {}, "body")
    await call.run(
        s.portal.invalidate,
        shapes.text(body.get("subject"), "subject") or None,
        shapes.text(body.get("id"), "id") or None,
    )
    return no_content()


async def list_tokens(call: Call, s: Services) -> Response:
    limit_text = call.one("limit")
    limit = shapes.integer(limit_text, "limit", 1, lists.MAX_LIMIT) if limit_text is not None else 100
    include = call.one("includeInvalid")
    page, _, now = await call.run(
        s.portal.list_tokens,
        call.one("subject"),
        shapes.boolean(include, "includeInvalid") if include else False,
        limit,
        None,
    )
    return json_response([shapes.token_json(t, now) for t in page])


def routes(s: Services) -> list[Route]:
    return [
        Route("POST", "/api/v1/subjects", lambda call: upsert(call, s)),
        Route("GET", "/api/v1/subjects", lambda call: list_subjects(call, s)),
        Route("GET", "/api/v1/subjects/{subject}", lambda call: get_subject(call, s)),
        Route("DELETE", "/api/v1/subjects/{subject}", lambda call: delete_subject(call, s)),
        Route("POST", "/api/v1/portal/tokens", lambda call: create_token(call, s)),
        Route("GET", "/api/v1/portal/tokens", lambda call: list_tokens(call, s)),
        Route("POST", "/api/v1/portal/tokens/invalidate", lambda call: invalidate_tokens(call, s)),
    ]
