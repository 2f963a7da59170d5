"""A fuzz test of the HTTP API, in the manner of the gRPC one (test_wire_fuzz.py): for every route, requests
with random and hostile path parameters, query strings, bodies, content types and headers, sent as raw bytes
through the real server. Whatever the request, the answer is never a 5xx, comes before the deadline (no hang),
an error is application/problem+json (but for the HTTP parser's own 400 on bytes that are no HTTP/1.1), the
server keeps serving, and a refused call leaves the database as it was.

``make test`` runs a few examples per route; ``make fuzz`` runs many (METERD_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_wire_fuzz import _database_digest

from meterd.client import OpenMeter
from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.server.http.routes import all_routes

EXAMPLES = int(os.environ.get("METERD_FUZZ_EXAMPLES", "12"))
CALL_TIMEOUT_S = 20.0
T0 = datetime(2024, 1, 1, tzinfo=UTC)
ADMIN_KEY = "fuzz-admin-key"


def _routes() -> list[tuple[str, str]]:
    services: Any = None  # the routes' paths and methods do not depend on the services
    return [(r.method, r.path) for r in all_routes(services)]


ROUTES = _routes()
KNOWN = [
    "m1",
    "m_count",
    "f1",
    "f_bool",
    "s1",
    "customer-1",
    "calls",
    "model",
    "UTC",
    "Europe/Budapest",
    "2024-01-01T00:00:00Z",
    "2024-01-01T00:05:00.123Z",
    "2023-12-31T23:00:00+01:00",
    "MINUTE",
    "HOUR",
    "DAY",
    "MONTH",
    "WEEK",
    "metered",
    "boolean",
    "static",
    "true",
    "false",
    "ASC",
    "DESC",
    "createdAt",
    "1",
    "0",
    "100",
    "1000",
    "-1",
    "NOW",
    "CURRENT_PERIOD_START",
]
HOSTILE = [
    "",
    "x" * 5000,
    "a\x00b",
    "%",
    "%zz",
    "%2F",
    "..",
    "../../etc/passwd",
    "[object Object]",
    "💥",
    "\ud7ff",
    "1e400",
    "NaN",
    "99999999999999999999999",
    "2024-13-45T99:99:99Z",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
    "{}",
    "[]",
    "' OR 1=1 --",
    "<script>",
    "filterGroupBy[",
    "\r\nX-Injected: 1",
]
PARAMS = [
    "from",
    "to",
    "windowSize",
    "windowTimeZone",
    "subject",
    "groupBy",
    "filterGroupBy[model]",
    "filterGroupBy[nope]",
    "limit",
    "offset",
    "page",
    "pageSize",
    "time",
    "hasError",
    "id",
    "order",
    "orderBy",
    "includeDeleted",
    "includeArchived",
    "entitlementType",
    "feature",
    "meterSlug",
    "ingestedAtFrom",
    "ingestedAtTo",
    "type",
    "includeInvalid",
    "balanceBelow",
    "usageAbove",
    "coalesceInterval",
    "heartbeatInterval",
    "access_token",
]
FIELDS = [
    "id",
    "source",
    "specversion",
    "type",
    "subject",
    "time",
    "data",
    "datacontenttype",
    "key",
    "name",
    "meterSlug",
    "meterGroupByFilters",
    "metadata",
    "featureKey",
    "featureId",
    "usagePeriod",
    "interval",
    "anchor",
    "issueAfterReset",
    "issueAfterResetPriority",
    "isSoftLimit",
    "measureUsageFrom",
    "config",
    "amount",
    "priority",
    "effectiveAt",
    "expiration",
    "duration",
    "count",
    "recurrence",
    "retainAnchor",
    "preserveOverage",
    "allowedMeterSlugs",
    "expiresAt",
    "displayName",
    "tokens",
    "n",
]
CONTENT_TYPES = [
    "application/json",
    "application/cloudevents+json",
    "application/cloudevents-batch+json",
    "application/json; charset=utf-8",
    "text/plain",
    "",
    "multipart/form-data; boundary=x",
    "application/x-www-form-urlencoded",
    "application/problem+json",
    "APPLICATION/JSON",
]


def _json_value() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(KNOWN),
        st.sampled_from(HOSTILE[:20]),
        st.text(max_size=10),
    )
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(st.sampled_from(FIELDS), children, max_size=6),
        ),
        max_leaves=20,
    )


def _body() -> st.SearchStrategy[bytes]:
    return st.one_of(
        _json_value().map(lambda v: json.dumps(v).encode()),
        _json_value().map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=64),
        st.sampled_from(
            [
                b"",
                b"{",
                b"[" * 3000,
                b'{"a":' * 2000,
                b"\xff\xfe",
                b"null",
                b'"\\ud800"',
                b'{"data": {"n": 1e400}}',
                b"[" + b"{}," * 20_000 + b"{}]",
                b"0" * 100_000,
            ]
        ),
    )


def _text() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(KNOWN), st.sampled_from(KNOWN), st.sampled_from(HOSTILE), st.text(max_size=12)
    )


@st.composite
def _request(draw: st.DrawFn, method: str, template: str, portal: str) -> bytes:
    path = template
    while "{" in path:
        start, end = path.index("{"), path.index("}")
        value = draw(_text())
        path = path[:start] + quote(value, safe="" if draw(st.booleans()) else "/%") + path[end + 1 :]
    pairs = draw(st.lists(st.tuples(st.sampled_from(PARAMS), _text()), max_size=6))
    query = "&".join(f"{quote(k, safe='[]')}={quote(v, safe='')}" for k, v in pairs)
    target = path + (f"?{query}" if query else "")
    auth = draw(
        st.sampled_from(
            [
                f"Bearer {ADMIN_KEY}",
                f"Bearer {ADMIN_KEY}",
                f"Bearer {portal}",
                "Bearer nope",
                "Basic dXNlcjpwYXNz",
                "",
                "Bearer " + "a.b.c",
                "Bearer " + "x" * 3000,
            ]
        )
    )
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    body = draw(_body()) if method in ("POST", "PUT") or draw(st.integers(0, 9)) == 0 else b""
    accept = draw(st.sampled_from(["application/json", "text/csv", "*/*", "", "text/csv, application/json"]))
    head = [f"{method} {target} HTTP/1.1", "Host: fuzz", "Connection: close"]
    if auth:
        head.append(f"Authorization: {auth}")
    if content_type:
        head.append(f"Content-Type: {content_type}")
    if accept:
        head.append(f"Accept: {accept}")
    head.append(f"Content-Length: {len(body)}")
    return "\r\n".join(head).encode("utf-8", "surrogatepass") + b"\r\n\r\n" + body


def send(address: str, raw: bytes) -> tuple[int, str, bytes]:
    """Sends raw request bytes; (status, content type, body) of the first answer. The head is read to its end
    and the body by its Content-Length (a request whose Connection header is garbled keeps its connection)."""
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=CALL_TIMEOUT_S) as sock:
        sock.sendall(raw)
        response = b""
        while b"\r\n\r\n" not in response:  # the socket's timeout bounds every read: a hang fails the test
            chunk = sock.recv(65536)
            if not chunk:
                break
            response += chunk
        head, _, body = response.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        # Without a Content-Length (the HTTP parser's own 400, which closes), the body runs to the close.
        length = int(headers.get("content-length", -1))
        if headers.get("content-type", "").startswith("text/event-stream"):
            length = (
                0  # a watch opened: its events run until the client leaves (closing it is part of the test)
            )
        if status in (204, 304) or (raw.startswith(b"HEAD ") and length >= 0):
            length = 0  # no body, whatever the length says
        while length < 0 or len(body) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            body += chunk
    return status, headers.get("content-type", ""), body


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MeterdServer, str]]:
    """One server for every fuzzed route, with a meter, features, a subject, an entitlement and events."""
    path = tmp_path_factory.mktemp("httpfuzz") / "meterd.db"
    server = MeterdServer(
        Config(
            listen="127.0.0.1:0",
            http_listen="127.0.0.1:0",
            db=str(path),
            admin_key=ADMIN_KEY,
            grace_seconds=2.0,
            log_format="text",
        )
    ).start()
    with OpenMeter(server.address, api_key=ADMIN_KEY, timeout=30) as om:
        om.meters.create(
            {
                "slug": "m1",
                "eventType": "calls",
                "aggregation": "SUM",
                "valueProperty": "$.n",
                "groupBy": {"model": "$.model"},
            }
        )
        om.meters.create({"slug": "m_count", "eventType": "calls", "aggregation": "COUNT"})
        om.events.ingest(
            [
                {
                    "id": f"e{i}",
                    "source": "s",
                    "type": "calls",
                    "subject": "s1",
                    "time": T0 + timedelta(minutes=i),
                    "data": {"n": i, "model": "a"},
                }
                for i in range(5)
            ]
        )
        om.subjects.upsert([{"key": "s1", "display_name": "S1"}])
        om.features.create({"key": "f1", "name": "F1", "meterSlug": "m1"})
        om.features.create({"key": "f_bool", "name": "F bool"})
        om.subjects.create_entitlement(
            "s1",
            {
                "type": "metered",
                "featureKey": "f1",
                "usagePeriod": {"interval": "MONTH"},
                "issueAfterReset": 100,
            },
        )
        token = om.portal.create_token(subject="s1").token
    yield server, token
    server.stop(0)


def _check(server: MeterdServer, raw: bytes, what: str) -> None:
    db_path = server.config.db
    before = _database_digest(db_path)
    assert server.http_address is not None
    status, content_type, body = send(server.http_address, raw)
    assert status < 500, f"{what}: {status} {body[:300]!r}"
    if status >= 400:
        assert _database_digest(db_path) == before, f"{what} refused with {status} but changed the database"
        if content_type.startswith("text/plain"):  # the HTTP parser's refusal of bytes that are no HTTP/1.1
            assert status == 400 and b"Invalid HTTP request" in body, (what, status, body[:200])
        else:
            assert content_type == "application/problem+json", (what, status, content_type)
            if not body and what.startswith("HEAD "):  # HEAD: the headers of the answer, no body
                return
            problem = json.loads(body)
            assert problem["status"] == status and problem["title"] and len(problem["detail"]) <= 1000
    else:
        assert content_type in (
            "",
            "application/json",
            "text/event-stream; charset=utf-8",
        ) or content_type.startswith("text/csv"), (what, content_type)


@pytest.mark.parametrize(("method", "template"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_fuzzed_requests_get_a_deliberate_status(
    seeded: tuple[MeterdServer, str], method: str, template: str
) -> None:
    server, token = seeded

    @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(raw=_request(method, template, token))
    def run(raw: bytes) -> None:
        _check(server, raw, f"{method} {template}")

    run()
    with OpenMeter(server.address, api_key=ADMIN_KEY, timeout=10) as om:
        om.meters.list()
    conn = sqlite3.connect(server.config.db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()


@settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "FOO"]),
    path=st.lists(_text(), min_size=0, max_size=6),
    raw_tail=st.binary(max_size=40),
)
def test_random_paths_methods_and_bytes(
    seeded: tuple[MeterdServer, str], method: str, path: list[str], raw_tail: bytes
) -> None:
    server, _ = seeded
    target = "/" + "/".join(quote(p, safe="") for p in path)
    raw = f"{method} {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode() + raw_tail + b"\r\n\r\n"
    _check(server, raw, f"{method} {target}")
