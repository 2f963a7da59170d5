"""``/api/v1/meters``: list, get, query (JSON or CSV), subjects; and the portal's meter query."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.responses import Response

from meterd.server.http import lists, shapes
from meterd.server.http.app import Access, Call, Route, Services, json_response
from meterd.server.limits import filter_values
from meterd.server.meters.model import SUBJECT_KEY
from meterd.server.meters.service import MeterQuery
from meterd.server.meters.windows import WindowSize

# Meters are few (declared in the config or created by an admin): a list answers all of them, up to this many.
MAX_METERS = 10_000


def query_of(call: Call, meter: str, *, subjects: bool = True) -> MeterQuery:
    """The meter query of the call's parameters (OpenMeter's names); the service validates it."""
    window = call.one("windowSize")
    filters = {
        key: tuple(dict.fromkeys(filter_values(values, f"filterGroupBy[{key}]")))
        for key, values in call.deep("filterGroupBy").items()
    }
    return MeterQuery(
        meter=meter,
        from_time=shapes.opt_time(call.one("from"), "from"),
        to_time=shapes.opt_time(call.one("to"), "to"),
        window_size=shapes.enum_of(WindowSize, window, "windowSize") if window is not None else None,
        window_time_zone=call.one("windowTimeZone") or "",
        subjects=filter_values(call.many("subject"), "subject") if subjects else (),
        group_by=tuple(dict.fromkeys(filter_values(call.many("groupBy"), "groupBy"))),
        filter_group_by=filters,
    )


async def _answer(call: Call, s: Services, query: MeterQuery) -> Response:
    """The query's rows as JSON, or as OpenMeter's CSV for ``Accept: text/csv``."""
    result = await call.run(s.meters.query, query, call.token.check)
    accept = call.request.headers.get("accept", "")
    if "text/csv" in accept.lower() and "application/json" not in accept.lower():
        keys = [k for k in query.group_by if k != SUBJECT_KEY]
        return Response(
            shapes.query_csv(result, keys),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{query.meter}.csv"'},
        )
    return json_response(shapes.query_json(result))


async def list_meters(call: Call, s: Services) -> Response:
    def fetch(size: int, after: str | None) -> tuple[list[Any], str | None, None]:
        page, next_slug = s.meters.list(size, after)
        return page, next_slug, None

    meters = await call.run(lists.everything, fetch, MAX_METERS)
    return json_response([shapes.meter_json(m) for m in meters])


async def get_meter(call: Call, s: Services) -> Response:
    return json_response(shapes.meter_json(await call.run(s.meters.get, call.path("meter"))))


async def query_meter(call: Call, s: Services) -> Response:
    return await _answer(call, s, query_of(call, call.path("meter")))


async def meter_subjects(call: Call, s: Services) -> Response:
    return json_response(await call.run(s.meters.subjects, call.path("meter")))


async def query_portal_meter(call: Call, s: Services) -> Response:
    """The portal's query: the token's subject forced (a ``subject`` parameter is refused), a meter the
    token may read (PortalAccess.check_meter, the gRPC front's rule)."""
    access = call.portal
    assert access is not None  # Access.PORTAL routes always have one
    meter = call.path("meter")
    access.check_meter(meter)
    access.check_subject(call.many("subject"))
    query = replace(query_of(call, meter, subjects=False), subjects=(access.subject,))
    return await _answer(call, s, query)


def routes(s: Services) -> list[Route]:
    return [
        Route("GET", "/api/v1/meters", lambda call: list_meters(call, s)),
        Route("GET", "/api/v1/meters/{meter}", lambda call: get_meter(call, s)),
        Route("GET", "/api/v1/meters/{meter}/query", lambda call: query_meter(call, s)),
        Route("GET", "/api/v1/meters/{meter}/subjects", lambda call: meter_subjects(call, s)),
        Route(
            "GET",
            "/api/v1/portal/meters/{meter}/query",
            lambda call: query_portal_meter(call, s),
            Access.PORTAL,
        ),
    ]
