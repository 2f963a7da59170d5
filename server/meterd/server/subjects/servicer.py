"""SubjectService over gRPC: wire <-> domain.

Upsert field presence: an optional string that is not set, an unset timestamp and an empty metadata map
keep the stored value; an optional string set to "" clears it.
"""

from __future__ import annotations

import grpc

from meterd.server import rpc, wire
from meterd.server.subjects.model import UNSET, Subject, SubjectUpsert
from meterd.server.subjects.service import SubjectService
from meterd.v1 import subjects_pb2, subjects_pb2_grpc


def upsert_from_wire(s: subjects_pb2.Subject) -> SubjectUpsert:
    return SubjectUpsert(
        key=s.key,
        display_name=(s.display_name or None) if s.HasField("display_name") else UNSET,
        metadata=dict(s.metadata) if s.metadata else UNSET,
        current_period_start=wire.ts_to_dt(s.current_period_start, "subject.current_period_start")
        if s.HasField("current_period_start")
        else UNSET,
        current_period_end=wire.ts_to_dt(s.current_period_end, "subject.current_period_end")
        if s.HasField("current_period_end")
        else UNSET,
        stripe_customer_id=(s.stripe_customer_id or None) if s.HasField("stripe_customer_id") else UNSET,
    )


def subject_to_wire(s: Subject) -> subjects_pb2.Subject:
    message = subjects_pb2.Subject(
        id=s.id,
        key=s.key,
        metadata=dict(s.metadata),
        created_at=wire.dt_to_ts(s.created_at),
        updated_at=wire.dt_to_ts(s.updated_at),
    )
    if s.display_name is not None:
        message.display_name = s.display_name
    if s.stripe_customer_id is not None:
        message.stripe_customer_id = s.stripe_customer_id
    if s.current_period_start is not None:
        message.current_period_start.CopyFrom(wire.dt_to_ts(s.current_period_start))
    if s.current_period_end is not None:
        message.current_period_end.CopyFrom(wire.dt_to_ts(s.current_period_end))
    return message


class SubjectServicer(subjects_pb2_grpc.SubjectServiceServicer):
    def __init__(self, service: SubjectService) -> None:
        self._service = service

    @rpc.unary
    def UpsertSubjects(
        self, request: subjects_pb2.UpsertSubjectsRequest, context: grpc.ServicerContext
    ) -> subjects_pb2.UpsertSubjectsResponse:
        stored = self._service.upsert([upsert_from_wire(s) for s in request.subjects])
        return subjects_pb2.UpsertSubjectsResponse(subjects=[subject_to_wire(s) for s in stored])

    @rpc.unary
    def GetSubject(
        self, request: subjects_pb2.GetSubjectRequest, context: grpc.ServicerContext
    ) -> subjects_pb2.GetSubjectResponse:
        return subjects_pb2.GetSubjectResponse(subject=subject_to_wire(self._service.get(request.key)))

    @rpc.unary
    def ListSubjects(
        self, request: subjects_pb2.ListSubjectsRequest, context: grpc.ServicerContext
    ) -> subjects_pb2.ListSubjectsResponse:
        page, next_key = self._service.list(request.page_size, rpc.decode_key_cursor(request.page_token))
        return subjects_pb2.ListSubjectsResponse(
            subjects=[subject_to_wire(s) for s in page],
            next_page_token=rpc.encode_key_cursor(next_key),
        )

    @rpc.unary
    def DeleteSubject(
        self, request: subjects_pb2.DeleteSubjectRequest, context: grpc.ServicerContext
    ) -> subjects_pb2.DeleteSubjectResponse:
        self._service.delete(request.key)
        return subjects_pb2.DeleteSubjectResponse()
