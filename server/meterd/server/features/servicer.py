"""FeatureService over gRPC: wire <-> domain."""

from __future__ import annotations

import grpc

from meterd.server import errors, rpc, wire
from meterd.server.features.model import Feature, FeatureFilter, NewFeature
from meterd.server.features.service import FeatureService
from meterd.v1 import features_pb2, features_pb2_grpc


def feature_to_wire(f: Feature) -> features_pb2.Feature:
    message = features_pb2.Feature(
        id=f.id,
        key=f.key,
        name=f.name,
        meter_slug=f.meter_slug or "",
        meter_group_by_filters=dict(f.meter_group_by_filters),
        metadata=dict(f.metadata),
        created_at=wire.dt_to_ts(f.created_at),
        updated_at=wire.dt_to_ts(f.updated_at),
    )
    if f.archived_at is not None:
        message.archived_at.CopyFrom(wire.dt_to_ts(f.archived_at))
    return message


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
                key=f.key,
                name=f.name,
                meter_slug=f.meter_slug or None,
                meter_group_by_filters=dict(f.meter_group_by_filters),
                metadata=dict(f.metadata),
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
        filter = FeatureFilter(
            meter_slugs=wire.filter_values(request.meter_slug, "meter_slug"),
            include_archived=request.include_archived,
        )
        page, cursor = self._service.list(
            filter, request.page_size, rpc.decode_cursor(request.page_token, int, str)
        )
        return features_pb2.ListFeaturesResponse(
            features=[feature_to_wire(f) for f in page],
            next_page_token=rpc.encode_cursor(cursor),
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
