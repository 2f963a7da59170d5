"""One budget for request bytes in flight across every stream (issue 22, idle and hostile load): producers
that send faster than the server commits are held back by flow control, never by the server's memory."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import grpc

from meterd.server.app import MeterdServer
from meterd.server.config import Config
from meterd.v1 import events_pb2, events_pb2_grpc

BUDGET = 1024 * 1024  # the smallest the setting takes
PRODUCERS = 4
BATCHES = 6
EVENTS = 2000  # about 400 KB a batch: at most two fit in the budget at once


def batches(producer: int) -> Iterator[events_pb2.StreamEventsRequest]:
    pad = "x" * 120
    for b in range(BATCHES):
        yield events_pb2.StreamEventsRequest(
            sequence=b + 1,
            events=[
                events_pb2.Event(
                    specversion="1.0",
                    id=f"p{producer}-b{b}-e{i}",
                    source="flow",
                    type="tokens_total",
                    subject=f"c{i % 10}",
                    data=json.dumps({"n": 1, "pad": pad}),
                )
                for i in range(EVENTS)
            ],
        )


def test_producers_faster_than_the_server_are_held_to_one_byte_budget(server_config: Config) -> None:
    srv = MeterdServer(server_config.model_copy(update={"max_inflight_bytes": BUDGET})).start()
    acks: dict[int, list[events_pb2.StreamEventsResponse]] = {}
    failures: list[BaseException] = []
    try:
        with grpc.insecure_channel(srv.address) as channel:
            stub = events_pb2_grpc.EventServiceStub(channel)

            def produce(p: int) -> None:
                try:  # every batch written at once: the server reads them as the budget lets it
                    acks[p] = list(stub.StreamEvents(batches(p), timeout=120))
                except BaseException as exc:
                    failures.append(exc)

            threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(150)
        assert not failures
        for p in range(PRODUCERS):
            assert [a.sequence for a in acks[p]] == list(range(1, BATCHES + 1))
            assert all(a.accepted_count == EVENTS and a.rejected_count == 0 for a in acks[p])
        budget = srv.serving.budget
        assert 0 < budget.peak <= BUDGET  # never more held at once, however many streams pushed
        assert budget.used == 0  # every stream's bytes given back
    finally:
        srv.stop(0)
