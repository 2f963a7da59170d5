"""A fuzz test of the wire (issue 11): requests built from the proto descriptors of every RPC, with random and
extreme field values, sent through the real server. Whatever the request, the answer is a deliberate status
(never INTERNAL or UNKNOWN), it comes before the deadline (no hang), the server keeps serving, and a refused
call leaves the database as it was.

Hypothesis strategies are derived from each request's descriptor: strings mix names that exist (so calls get
past the lookups), empty and huge texts, NUL and lone-surrogate-free Unicode; integers and doubles reach their
type's extremes; Timestamps cover protobuf's range, beyond it and bad nanos; enums include unknown numbers.

``make test`` runs a few examples per RPC; ``make fuzz`` runs many (METERD_FUZZ_EXAMPLES).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.protobuf import descriptor as d
from google.protobuf import message_factory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meterd.client import OpenMeter
from meterd.server.app import SERVICES, MeterdServer
from meterd.server.config import Config

EXAMPLES = int(os.environ.get("METERD_FUZZ_EXAMPLES", "12"))
CALL_TIMEOUT_S = 20.0
T0 = datetime(2024, 1, 1, tzinfo=UTC)
ALLOWED = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INVALID_ARGUMENT,
    grpc.StatusCode.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS,
    grpc.StatusCode.FAILED_PRECONDITION,
    grpc.StatusCode.UNAUTHENTICATED,
    grpc.StatusCode.PERMISSION_DENIED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.OUT_OF_RANGE,
}
# Tables whose rows are caches written after an answer (a value call's balance snapshot), or written in the
# background by workers (notification events, their deliveries and attempts, evaluator heartbeats): not the
# state a refused call could have changed.
VOLATILE_TABLES = {
    "balance_snapshots",
    "notification_events",
    "notification_deliveries",
    "notification_delivery_attempts",
    "notification_evaluators",
}

METHODS = [
    (service, method)
    for module, name, _, _ in SERVICES
    for service in [module.DESCRIPTOR.services_by_name[name]]
    for method in service.methods
]

# Names that exist in the seeded database, so that generated calls reach past the lookups.
KNOWN = [
    "m1",
    "m_count",
    "f1",
    "f_bool",
    "s1",
    "customer-1",
    "calls",
    "model",
    "$.n",
    "$.model",
    "UTC",
    "Europe/Budapest",
    "Asia/Kolkata",
    "1.0",
    "application/json",
    '{"n": 1}',
    '{"n": 1e20}',
]
_SECONDS = [
    0,
    1,
    -1,
    1_704_067_200,
    1_704_067_230,
    253_370_764_799,
    253_370_764_800,
    253_402_300_799,
    253_402_300_800,
    -62_135_596_800,
    -62_135_596_801,
    2**63 - 1,
    -(2**63),
    4_102_444_800,
]
_NANOS = [0, 1, 999_999_999, 1_000_000_000, -1, 2**31 - 1, -(2**31)]
_INT_LIMITS = {
    d.FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    d.FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    d.FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    d.FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    d.FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _text() -> st.SearchStrategy[str]:
    valid_unicode = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
    known = st.sampled_from(KNOWN)
    return st.one_of(
        known,
        known,
        known,
        known,
        st.just(""),
        valid_unicode,
        st.just("x" * 20_000),
        st.just("a\x00b"),
        st.sampled_from(
            ["[" * 5000, '{"a":' * 3000, "0" * 400, "9" * 30, "-1", "1e400", "NaN", "$..a", "$", "*"]
        ),
    )


# String fields whose name says what they hold get that, most of the time: calls reach past the lookups.
NAMED = {
    "meter": ["m1", "m_count"],
    "meter_slug": ["m1", "m_count"],
    "slug": ["m1", "m2"],
    "subject_key": ["s1"],
    "subject": ["s1"],
    "entitlement": ["f1", "f_bool"],
    "feature_key": ["f1", "f_bool"],
    "feature": ["f1"],
    "key": ["s1", "f1", "f2"],
    "event_type": ["calls"],
    "type": ["calls"],
    "value_property": ["$.n"],
    "window_time_zone": [
        "UTC",
        "Europe/Budapest",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Pacific/Kiritimati",
    ],
    "specversion": ["1.0"],
    "source": ["s"],
    "id": ["e1", "e-new"],
    "data": ['{"n": 1, "model": "a"}'],
    "config": ['{"a": 1}'],
}


def _scalar(field: d.FieldDescriptor) -> st.SearchStrategy[Any]:
    t = field.type
    if t == d.FieldDescriptor.TYPE_STRING:
        named = NAMED.get(field.name)
        if named:
            choice = st.sampled_from(named)
            return st.one_of(choice, choice, choice, _text())
        return _text()
    if t == d.FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=16)
    if t == d.FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if t in (d.FieldDescriptor.TYPE_DOUBLE, d.FieldDescriptor.TYPE_FLOAT):
        extremes = [
            0.0,
            -0.0,
            1.0,
            -1.0,
            0.1,
            1e20,
            -1e20,
            1e308,
            5e-324,
            float("inf"),
            float("-inf"),
            float("nan"),
        ]
        return st.one_of(
            st.sampled_from(extremes), st.floats(width=32 if t == d.FieldDescriptor.TYPE_FLOAT else 64)
        )
    if t == d.FieldDescriptor.TYPE_ENUM:
        numbers = [v.number for v in field.enum_type.values]
        return st.sampled_from([*numbers, 999, -1])
    low, high = _INT_LIMITS[t]
    return st.one_of(
        st.sampled_from([low, high, 0, 1, -1 if low < 0 else 2, 100, 1000, 10_001]), st.integers(low, high)
    )


def _message(descriptor: d.Descriptor, depth: int = 0) -> st.SearchStrategy[Any]:
    cls = message_factory.GetMessageClass(descriptor)
    if descriptor.full_name == "google.protobuf.Timestamp":
        return st.builds(
            lambda s, n: cls(seconds=s, nanos=n),
            st.one_of(
                st.sampled_from(_SECONDS),
                st.sampled_from(_SECONDS),
                st.integers(-(2**63), 2**63 - 1),
                st.integers(0, 4_102_444_800).map(lambda s: s - s % 60),
            ),
            st.one_of(st.sampled_from([0, 0, 0, *_NANOS]), st.integers(-(2**31), 2**31 - 1)),
        )
    if depth > 4:
        return st.just(cls())
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in descriptor.fields:
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            key_field, value_field = (
                field.message_type.fields_by_name["key"],
                field.message_type.fields_by_name["value"],
            )
            values = (
                _message(value_field.message_type, depth + 1)
                if value_field.message_type
                else _scalar(value_field)
            )
            fields[field.name] = st.dictionaries(_scalar(key_field), values, max_size=3)
        elif field.message_type is not None:
            inner = _message(field.message_type, depth + 1)
            fields[field.name] = (
                st.lists(inner, max_size=3) if _repeated(field) else st.one_of(st.none(), inner)
            )
        elif _repeated(field):
            fields[field.name] = st.lists(_scalar(field), max_size=4)
        else:
            fields[field.name] = st.one_of(st.none(), _scalar(field))
    return st.fixed_dictionaries({}, optional=fields).map(lambda values: _build(cls, values))


def _repeated(field: d.FieldDescriptor) -> bool:
    return (
        bool(field.is_repeated)
        if hasattr(field, "is_repeated")
        else field.label == d.FieldDescriptor.LABEL_REPEATED
    )


def _build(cls: Any, values: dict[str, Any]) -> Any:
    message = cls()
    for name, value in values.items():
        if value is None:
            continue
        field = message.DESCRIPTOR.fields_by_name[name]
        target = getattr(message, name)
        if field.message_type is not None and field.message_type.GetOptions().map_entry:
            for k, v in value.items():
                if hasattr(v, "DESCRIPTOR"):
                    target[k].CopyFrom(v)
                else:
                    target[k] = v
        elif field.message_type is not None and _repeated(field):
            target.extend(value)
        elif field.message_type is not None:
            target.CopyFrom(value)
        elif _repeated(field):
            target.extend(value)
        else:
            setattr(message, name, value)
    return message


def _database_digest(path: str) -> str:
    """A digest of every table's rows (caches excluded), read on a connection of its own."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        digest = hashlib.sha256()
        tables = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            if table in VOLATILE_TABLES:
                continue
            digest.update(table.encode())
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                digest.update(repr(row).encode())
        return digest.hexdigest()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[MeterdServer, str]]:
    """One server for every fuzzed RPC, with a meter, features, a subject, an entitlement and events."""
    path = tmp_path_factory.mktemp("fuzz") / "meterd.db"
    server = MeterdServer(
        Config(listen="127.0.0.1:0", db=str(path), grace_seconds=2.0, log_format="text")
    ).start()
    with OpenMeter(server.address, timeout=30) as om:
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


@pytest.mark.parametrize(("service", "method"), METHODS, ids=[f"{s.name}.{m.name}" for s, m in METHODS])
def test_fuzzed_requests_get_a_deliberate_status(
    seeded: tuple[MeterdServer, str], service: d.ServiceDescriptor, method: d.MethodDescriptor
) -> None:
    server, token = seeded
    request_cls = message_factory.GetMessageClass(method.input_type)
    response_cls = message_factory.GetMessageClass(method.output_type)
    path = f"/{service.full_name}/{method.name}"
    metadata = [("authorization", f"Bearer {token}")] if method.name == "QueryPortalMeter" else None
    db_path = server.config.db

    with grpc.insecure_channel(server.address) as channel:
        if method.client_streaming:
            call = channel.stream_stream(
                path,
                request_serializer=request_cls.SerializeToString,
                response_deserializer=response_cls.FromString,
            )
            requests = st.lists(_message(method.input_type), min_size=1, max_size=3)
        elif (
            method.server_streaming
        ):  # WatchEntitlementValues: runs until cancelled; its first message will do
            call = channel.unary_stream(
                path,
                request_serializer=request_cls.SerializeToString,
                response_deserializer=response_cls.FromString,
            )
            requests = _message(method.input_type)
        else:
            call = channel.unary_unary(
                path,
                request_serializer=request_cls.SerializeToString,
                response_deserializer=response_cls.FromString,
            )
            requests = _message(method.input_type)

        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(request=requests)
        def run(request: Any) -> None:
            before = _database_digest(db_path)
            try:
                if method.client_streaming:
                    list(call(iter(request), timeout=CALL_TIMEOUT_S, metadata=metadata))
                elif method.server_streaming:
                    responses = call(request, timeout=CALL_TIMEOUT_S, metadata=metadata)
                    try:
                        next(responses, None)
                    finally:
                        responses.cancel()
                else:
                    call(request, timeout=CALL_TIMEOUT_S, metadata=metadata)
            except grpc.RpcError as error:
                code = error.code()
                assert code in ALLOWED, f"{method.name} answered {code}: {error.details()}"
                assert len(error.details() or "") <= 1100
                assert _database_digest(db_path) == before, (
                    f"{method.name} refused with {code} but changed the database"
                )

        run()
    # Still serving, and the database is intact.
    with OpenMeter(server.address, timeout=10) as om:
        om.meters.list()
    conn = sqlite3.connect(db_path)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
