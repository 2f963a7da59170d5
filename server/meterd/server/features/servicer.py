"""FeatureService over gRPC: wire <-> domain."""

from __future__ import annotations

import grpc

from meterd.server import errors, rpc
from meterd.server.features.model import Feature, FeatureFilter, NewFeature
from meterd.server.features.service import FeatureService
from meterd.v1 import features_pb2, features_pb2_grpc


def feature_to_wire(f: Feature) -> features_pb2.Feature:
    message = features_pb2.Feature(
        id=f.id, key=f.key, name=f.name, meter_slug=f.meter_slug or "",
        meter_group_by_filters=dict(f.meter_group_by_filters), metadata=dict(f.metadata),
        created_at=rpc.dt_to_ts(f.created_at), updated_at=rpc.dt_to_ts(f.updated_at),
    )
    if f.archived_at is not None:
        message.archived_at.CopyFrom(rpc.dt_to_ts(f.archived_at))
    return message


def decode_cursor(token: str) -> tuple[int, str] | None:
    """A (created_us, id) cursor from a page token."""
    cursor = rpc.decode_page_token(token)
    if cursor is None:
        return None
    if not (isinstance(cursor, list) and len(cursor) == 2 and isinstance(cursor[0], int)
            and isinstance(cursor[1], str)):
        raise errors.InvalidArgument.of("page_token", "is not a valid page token")
    return cursor[0], cursor[1]


def encode_cursor(cursor: tuple[int, str] | None) -> str:
    return rpc.encode_page_token(list(cursor)) if cursor else ""


class FeatureServicer(features_pb2_grpc.FeatureServiceServicer):
    def __init__(self, service: FeatureService) -> None:
        self._service = service

    @rpc.unary
    def CreateFeature(
        self, request: features_pb2.CreateFeatureRequest, context: grpc.ServicerContext
    ) -> features_pb2.CreateFeatureResponse:
        f = request.feature
        feature = self._service.create(
            NewFeature(
                key=f.key, name=f.name, meter_slug=f.meter_slug or None,
                meter_group_by_filters=dict(f.meter_group_by_filters), metadata=dict(f.metadata),
            )
        )
        return features_pb2.CreateFeatureResponse(feature=feature_to_wire(feature))

    @rpc.unary
    def GetFeature(
        self, request: features_pb2.GetFeatureRequest, context: grpc.ServicerContext
    ) -> features_pb2.GetFeatureResponse:
        if not request.feature:
            raise errors.InvalidArgument.of("feature", "is required")
        return features_pb2.GetFeatureResponse(feature=feature_to_wire(self._service.get(request.feature)))

    @rpc.unary
    def ListFeatures(
        self, request: features_pb2.ListFeaturesRequest, context: grpc.ServicerContext
    ) -> features_pb2.ListFeaturesResponse:
        filter = FeatureFilter(meter_slugs=rpc.filter_values(request.meter_slug, "meter_slug"), include_archived=request.include_archived)
        page, cursor = self._service.list(filter, request.page_size, decode_cursor(request.page_token))
        return features_pb2.ListFeaturesResponse(
            features=[feature_to_wire(f) for f in page], next_page_token=encode_cursor(cursor),
            total_size=self._service.count(filter),
        )

    @rpc.unary
    def DeleteFeature(
        self, request: features_pb2.DeleteFeatureRequest, context: grpc.ServicerContext
    ) -> features_pb2.DeleteFeatureResponse:
        if not request.feature:
            raise errors.InvalidArgument.of("feature", "is required")
        self._service.delete(request.feature)
        return features_pb2.DeleteFeatureResponse()
