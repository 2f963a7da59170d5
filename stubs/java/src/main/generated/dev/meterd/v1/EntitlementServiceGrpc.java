package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Entitlements: a subject's access to a feature, and the balance of metered ones.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class EntitlementServiceGrpc {

  private EntitlementServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.EntitlementService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateEntitlementRequest,
      dev.meterd.v1.CreateEntitlementResponse> getCreateEntitlementMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateEntitlement",
      requestType = dev.meterd.v1.CreateEntitlementRequest.class,
      responseType = dev.meterd.v1.CreateEntitlementResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateEntitlementRequest,
      dev.meterd.v1.CreateEntitlementResponse> getCreateEntitlementMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateEntitlementRequest, dev.meterd.v1.CreateEntitlementResponse> getCreateEntitlementMethod;
    if ((getCreateEntitlementMethod = EntitlementServiceGrpc.getCreateEntitlementMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getCreateEntitlementMethod = EntitlementServiceGrpc.getCreateEntitlementMethod) == null) {
          EntitlementServiceGrpc.getCreateEntitlementMethod = getCreateEntitlementMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateEntitlementRequest, dev.meterd.v1.CreateEntitlementResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateEntitlement"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateEntitlementRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateEntitlementResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("CreateEntitlement"))
              .build();
        }
      }
    }
    return getCreateEntitlementMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementRequest,
      dev.meterd.v1.GetEntitlementResponse> getGetEntitlementMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetEntitlement",
      requestType = dev.meterd.v1.GetEntitlementRequest.class,
      responseType = dev.meterd.v1.GetEntitlementResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementRequest,
      dev.meterd.v1.GetEntitlementResponse> getGetEntitlementMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementRequest, dev.meterd.v1.GetEntitlementResponse> getGetEntitlementMethod;
    if ((getGetEntitlementMethod = EntitlementServiceGrpc.getGetEntitlementMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getGetEntitlementMethod = EntitlementServiceGrpc.getGetEntitlementMethod) == null) {
          EntitlementServiceGrpc.getGetEntitlementMethod = getGetEntitlementMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetEntitlementRequest, dev.meterd.v1.GetEntitlementResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetEntitlement"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("GetEntitlement"))
              .build();
        }
      }
    }
    return getGetEntitlementMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementsRequest,
      dev.meterd.v1.ListEntitlementsResponse> getListEntitlementsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListEntitlements",
      requestType = dev.meterd.v1.ListEntitlementsRequest.class,
      responseType = dev.meterd.v1.ListEntitlementsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementsRequest,
      dev.meterd.v1.ListEntitlementsResponse> getListEntitlementsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementsRequest, dev.meterd.v1.ListEntitlementsResponse> getListEntitlementsMethod;
    if ((getListEntitlementsMethod = EntitlementServiceGrpc.getListEntitlementsMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getListEntitlementsMethod = EntitlementServiceGrpc.getListEntitlementsMethod) == null) {
          EntitlementServiceGrpc.getListEntitlementsMethod = getListEntitlementsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListEntitlementsRequest, dev.meterd.v1.ListEntitlementsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListEntitlements"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListEntitlementsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListEntitlementsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("ListEntitlements"))
              .build();
        }
      }
    }
    return getListEntitlementsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectEntitlementsRequest,
      dev.meterd.v1.ListSubjectEntitlementsResponse> getListSubjectEntitlementsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSubjectEntitlements",
      requestType = dev.meterd.v1.ListSubjectEntitlementsRequest.class,
      responseType = dev.meterd.v1.ListSubjectEntitlementsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectEntitlementsRequest,
      dev.meterd.v1.ListSubjectEntitlementsResponse> getListSubjectEntitlementsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectEntitlementsRequest, dev.meterd.v1.ListSubjectEntitlementsResponse> getListSubjectEntitlementsMethod;
    if ((getListSubjectEntitlementsMethod = EntitlementServiceGrpc.getListSubjectEntitlementsMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getListSubjectEntitlementsMethod = EntitlementServiceGrpc.getListSubjectEntitlementsMethod) == null) {
          EntitlementServiceGrpc.getListSubjectEntitlementsMethod = getListSubjectEntitlementsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListSubjectEntitlementsRequest, dev.meterd.v1.ListSubjectEntitlementsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSubjectEntitlements"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListSubjectEntitlementsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListSubjectEntitlementsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("ListSubjectEntitlements"))
              .build();
        }
      }
    }
    return getListSubjectEntitlementsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteEntitlementRequest,
      dev.meterd.v1.DeleteEntitlementResponse> getDeleteEntitlementMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteEntitlement",
      requestType = dev.meterd.v1.DeleteEntitlementRequest.class,
      responseType = dev.meterd.v1.DeleteEntitlementResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteEntitlementRequest,
      dev.meterd.v1.DeleteEntitlementResponse> getDeleteEntitlementMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteEntitlementRequest, dev.meterd.v1.DeleteEntitlementResponse> getDeleteEntitlementMethod;
    if ((getDeleteEntitlementMethod = EntitlementServiceGrpc.getDeleteEntitlementMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getDeleteEntitlementMethod = EntitlementServiceGrpc.getDeleteEntitlementMethod) == null) {
          EntitlementServiceGrpc.getDeleteEntitlementMethod = getDeleteEntitlementMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteEntitlementRequest, dev.meterd.v1.DeleteEntitlementResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteEntitlement"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteEntitlementRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteEntitlementResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("DeleteEntitlement"))
              .build();
        }
      }
    }
    return getDeleteEntitlementMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementValueRequest,
      dev.meterd.v1.GetEntitlementValueResponse> getGetEntitlementValueMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetEntitlementValue",
      requestType = dev.meterd.v1.GetEntitlementValueRequest.class,
      responseType = dev.meterd.v1.GetEntitlementValueResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementValueRequest,
      dev.meterd.v1.GetEntitlementValueResponse> getGetEntitlementValueMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementValueRequest, dev.meterd.v1.GetEntitlementValueResponse> getGetEntitlementValueMethod;
    if ((getGetEntitlementValueMethod = EntitlementServiceGrpc.getGetEntitlementValueMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getGetEntitlementValueMethod = EntitlementServiceGrpc.getGetEntitlementValueMethod) == null) {
          EntitlementServiceGrpc.getGetEntitlementValueMethod = getGetEntitlementValueMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetEntitlementValueRequest, dev.meterd.v1.GetEntitlementValueResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetEntitlementValue"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementValueRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementValueResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("GetEntitlementValue"))
              .build();
        }
      }
    }
    return getGetEntitlementValueMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementHistoryRequest,
      dev.meterd.v1.GetEntitlementHistoryResponse> getGetEntitlementHistoryMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetEntitlementHistory",
      requestType = dev.meterd.v1.GetEntitlementHistoryRequest.class,
      responseType = dev.meterd.v1.GetEntitlementHistoryResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementHistoryRequest,
      dev.meterd.v1.GetEntitlementHistoryResponse> getGetEntitlementHistoryMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetEntitlementHistoryRequest, dev.meterd.v1.GetEntitlementHistoryResponse> getGetEntitlementHistoryMethod;
    if ((getGetEntitlementHistoryMethod = EntitlementServiceGrpc.getGetEntitlementHistoryMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getGetEntitlementHistoryMethod = EntitlementServiceGrpc.getGetEntitlementHistoryMethod) == null) {
          EntitlementServiceGrpc.getGetEntitlementHistoryMethod = getGetEntitlementHistoryMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetEntitlementHistoryRequest, dev.meterd.v1.GetEntitlementHistoryResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetEntitlementHistory"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementHistoryRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetEntitlementHistoryResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("GetEntitlementHistory"))
              .build();
        }
      }
    }
    return getGetEntitlementHistoryMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ResetEntitlementUsageRequest,
      dev.meterd.v1.ResetEntitlementUsageResponse> getResetEntitlementUsageMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResetEntitlementUsage",
      requestType = dev.meterd.v1.ResetEntitlementUsageRequest.class,
      responseType = dev.meterd.v1.ResetEntitlementUsageResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ResetEntitlementUsageRequest,
      dev.meterd.v1.ResetEntitlementUsageResponse> getResetEntitlementUsageMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ResetEntitlementUsageRequest, dev.meterd.v1.ResetEntitlementUsageResponse> getResetEntitlementUsageMethod;
    if ((getResetEntitlementUsageMethod = EntitlementServiceGrpc.getResetEntitlementUsageMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getResetEntitlementUsageMethod = EntitlementServiceGrpc.getResetEntitlementUsageMethod) == null) {
          EntitlementServiceGrpc.getResetEntitlementUsageMethod = getResetEntitlementUsageMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ResetEntitlementUsageRequest, dev.meterd.v1.ResetEntitlementUsageResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResetEntitlementUsage"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ResetEntitlementUsageRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ResetEntitlementUsageResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("ResetEntitlementUsage"))
              .build();
        }
      }
    }
    return getResetEntitlementUsageMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.OverrideEntitlementRequest,
      dev.meterd.v1.OverrideEntitlementResponse> getOverrideEntitlementMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "OverrideEntitlement",
      requestType = dev.meterd.v1.OverrideEntitlementRequest.class,
      responseType = dev.meterd.v1.OverrideEntitlementResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.OverrideEntitlementRequest,
      dev.meterd.v1.OverrideEntitlementResponse> getOverrideEntitlementMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.OverrideEntitlementRequest, dev.meterd.v1.OverrideEntitlementResponse> getOverrideEntitlementMethod;
    if ((getOverrideEntitlementMethod = EntitlementServiceGrpc.getOverrideEntitlementMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getOverrideEntitlementMethod = EntitlementServiceGrpc.getOverrideEntitlementMethod) == null) {
          EntitlementServiceGrpc.getOverrideEntitlementMethod = getOverrideEntitlementMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.OverrideEntitlementRequest, dev.meterd.v1.OverrideEntitlementResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "OverrideEntitlement"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.OverrideEntitlementRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.OverrideEntitlementResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("OverrideEntitlement"))
              .build();
        }
      }
    }
    return getOverrideEntitlementMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.WatchEntitlementValuesRequest,
      dev.meterd.v1.WatchEntitlementValuesResponse> getWatchEntitlementValuesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchEntitlementValues",
      requestType = dev.meterd.v1.WatchEntitlementValuesRequest.class,
      responseType = dev.meterd.v1.WatchEntitlementValuesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.WatchEntitlementValuesRequest,
      dev.meterd.v1.WatchEntitlementValuesResponse> getWatchEntitlementValuesMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.WatchEntitlementValuesRequest, dev.meterd.v1.WatchEntitlementValuesResponse> getWatchEntitlementValuesMethod;
    if ((getWatchEntitlementValuesMethod = EntitlementServiceGrpc.getWatchEntitlementValuesMethod) == null) {
      synchronized (EntitlementServiceGrpc.class) {
        if ((getWatchEntitlementValuesMethod = EntitlementServiceGrpc.getWatchEntitlementValuesMethod) == null) {
          EntitlementServiceGrpc.getWatchEntitlementValuesMethod = getWatchEntitlementValuesMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.WatchEntitlementValuesRequest, dev.meterd.v1.WatchEntitlementValuesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchEntitlementValues"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.WatchEntitlementValuesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.WatchEntitlementValuesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new EntitlementServiceMethodDescriptorSupplier("WatchEntitlementValues"))
              .build();
        }
      }
    }
    return getWatchEntitlementValuesMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static EntitlementServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceStub>() {
        @java.lang.Override
        public EntitlementServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EntitlementServiceStub(channel, callOptions);
        }
      };
    return EntitlementServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static EntitlementServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceBlockingV2Stub>() {
        @java.lang.Override
        public EntitlementServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EntitlementServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return EntitlementServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static EntitlementServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceBlockingStub>() {
        @java.lang.Override
        public EntitlementServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EntitlementServiceBlockingStub(channel, callOptions);
        }
      };
    return EntitlementServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static EntitlementServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<EntitlementServiceFutureStub>() {
        @java.lang.Override
        public EntitlementServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new EntitlementServiceFutureStub(channel, callOptions);
        }
      };
    return EntitlementServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates an entitlement for a subject (at most one active per subject and feature).
     * </pre>
     */
    default void createEntitlement(dev.meterd.v1.CreateEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateEntitlementResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateEntitlementMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a subject's entitlement by id or feature key, or (without a subject) any subject's by id.
     * </pre>
     */
    default void getEntitlement(dev.meterd.v1.GetEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetEntitlementMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists entitlements of every subject.
     * </pre>
     */
    default void listEntitlements(dev.meterd.v1.ListEntitlementsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListEntitlementsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists one subject's entitlements.
     * </pre>
     */
    default void listSubjectEntitlements(dev.meterd.v1.ListSubjectEntitlementsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectEntitlementsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSubjectEntitlementsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a subject's entitlement by id or feature key.
     * </pre>
     */
    default void deleteEntitlement(dev.meterd.v1.DeleteEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteEntitlementResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteEntitlementMethod(), responseObserver);
    }

    /**
     * <pre>
     * Whether the subject has access now or at an instant, and for metered ones the balance.
     * </pre>
     */
    default void getEntitlementValue(dev.meterd.v1.GetEntitlementValueRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementValueResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetEntitlementValueMethod(), responseObserver);
    }

    /**
     * <pre>
     * Windowed usage and the grant burn-down of a metered entitlement.
     * </pre>
     */
    default void getEntitlementHistory(dev.meterd.v1.GetEntitlementHistoryRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementHistoryResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetEntitlementHistoryMethod(), responseObserver);
    }

    /**
     * <pre>
     * Resets a metered entitlement's usage and starts a new period; grants roll over.
     * </pre>
     */
    default void resetEntitlementUsage(dev.meterd.v1.ResetEntitlementUsageRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ResetEntitlementUsageResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResetEntitlementUsageMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replaces a subject's entitlement for a feature with a new definition, atomically: the old one is deleted
     * and the new one created, or nothing changes (OpenMeter's PUT .../entitlements/{id}/override).
     * </pre>
     */
    default void overrideEntitlement(dev.meterd.v1.OverrideEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.OverrideEntitlementResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getOverrideEntitlementMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams the values of the selected entitlements: first the current ones, then every change (coalesced).
     * </pre>
     */
    default void watchEntitlementValues(dev.meterd.v1.WatchEntitlementValuesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.WatchEntitlementValuesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchEntitlementValuesMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service EntitlementService.
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public static abstract class EntitlementServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return EntitlementServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service EntitlementService.
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public static final class EntitlementServiceStub
      extends io.grpc.stub.AbstractAsyncStub<EntitlementServiceStub> {
    private EntitlementServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EntitlementServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EntitlementServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates an entitlement for a subject (at most one active per subject and feature).
     * </pre>
     */
    public void createEntitlement(dev.meterd.v1.CreateEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateEntitlementResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateEntitlementMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a subject's entitlement by id or feature key, or (without a subject) any subject's by id.
     * </pre>
     */
    public void getEntitlement(dev.meterd.v1.GetEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetEntitlementMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists entitlements of every subject.
     * </pre>
     */
    public void listEntitlements(dev.meterd.v1.ListEntitlementsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListEntitlementsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists one subject's entitlements.
     * </pre>
     */
    public void listSubjectEntitlements(dev.meterd.v1.ListSubjectEntitlementsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectEntitlementsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSubjectEntitlementsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a subject's entitlement by id or feature key.
     * </pre>
     */
    public void deleteEntitlement(dev.meterd.v1.DeleteEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteEntitlementResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteEntitlementMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Whether the subject has access now or at an instant, and for metered ones the balance.
     * </pre>
     */
    public void getEntitlementValue(dev.meterd.v1.GetEntitlementValueRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementValueResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetEntitlementValueMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Windowed usage and the grant burn-down of a metered entitlement.
     * </pre>
     */
    public void getEntitlementHistory(dev.meterd.v1.GetEntitlementHistoryRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementHistoryResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetEntitlementHistoryMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Resets a metered entitlement's usage and starts a new period; grants roll over.
     * </pre>
     */
    public void resetEntitlementUsage(dev.meterd.v1.ResetEntitlementUsageRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ResetEntitlementUsageResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResetEntitlementUsageMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replaces a subject's entitlement for a feature with a new definition, atomically: the old one is deleted
     * and the new one created, or nothing changes (OpenMeter's PUT .../entitlements/{id}/override).
     * </pre>
     */
    public void overrideEntitlement(dev.meterd.v1.OverrideEntitlementRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.OverrideEntitlementResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getOverrideEntitlementMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams the values of the selected entitlements: first the current ones, then every change (coalesced).
     * </pre>
     */
    public void watchEntitlementValues(dev.meterd.v1.WatchEntitlementValuesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.WatchEntitlementValuesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchEntitlementValuesMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service EntitlementService.
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public static final class EntitlementServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<EntitlementServiceBlockingV2Stub> {
    private EntitlementServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EntitlementServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EntitlementServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates an entitlement for a subject (at most one active per subject and feature).
     * </pre>
     */
    public dev.meterd.v1.CreateEntitlementResponse createEntitlement(dev.meterd.v1.CreateEntitlementRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a subject's entitlement by id or feature key, or (without a subject) any subject's by id.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementResponse getEntitlement(dev.meterd.v1.GetEntitlementRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists entitlements of every subject.
     * </pre>
     */
    public dev.meterd.v1.ListEntitlementsResponse listEntitlements(dev.meterd.v1.ListEntitlementsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListEntitlementsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists one subject's entitlements.
     * </pre>
     */
    public dev.meterd.v1.ListSubjectEntitlementsResponse listSubjectEntitlements(dev.meterd.v1.ListSubjectEntitlementsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListSubjectEntitlementsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a subject's entitlement by id or feature key.
     * </pre>
     */
    public dev.meterd.v1.DeleteEntitlementResponse deleteEntitlement(dev.meterd.v1.DeleteEntitlementRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Whether the subject has access now or at an instant, and for metered ones the balance.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementValueResponse getEntitlementValue(dev.meterd.v1.GetEntitlementValueRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetEntitlementValueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Windowed usage and the grant burn-down of a metered entitlement.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementHistoryResponse getEntitlementHistory(dev.meterd.v1.GetEntitlementHistoryRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetEntitlementHistoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resets a metered entitlement's usage and starts a new period; grants roll over.
     * </pre>
     */
    public dev.meterd.v1.ResetEntitlementUsageResponse resetEntitlementUsage(dev.meterd.v1.ResetEntitlementUsageRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResetEntitlementUsageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a subject's entitlement for a feature with a new definition, atomically: the old one is deleted
     * and the new one created, or nothing changes (OpenMeter's PUT .../entitlements/{id}/override).
     * </pre>
     */
    public dev.meterd.v1.OverrideEntitlementResponse overrideEntitlement(dev.meterd.v1.OverrideEntitlementRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getOverrideEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the values of the selected entitlements: first the current ones, then every change (coalesced).
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.meterd.v1.WatchEntitlementValuesResponse>
        watchEntitlementValues(dev.meterd.v1.WatchEntitlementValuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchEntitlementValuesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service EntitlementService.
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public static final class EntitlementServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<EntitlementServiceBlockingStub> {
    private EntitlementServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EntitlementServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EntitlementServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates an entitlement for a subject (at most one active per subject and feature).
     * </pre>
     */
    public dev.meterd.v1.CreateEntitlementResponse createEntitlement(dev.meterd.v1.CreateEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a subject's entitlement by id or feature key, or (without a subject) any subject's by id.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementResponse getEntitlement(dev.meterd.v1.GetEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists entitlements of every subject.
     * </pre>
     */
    public dev.meterd.v1.ListEntitlementsResponse listEntitlements(dev.meterd.v1.ListEntitlementsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListEntitlementsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists one subject's entitlements.
     * </pre>
     */
    public dev.meterd.v1.ListSubjectEntitlementsResponse listSubjectEntitlements(dev.meterd.v1.ListSubjectEntitlementsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSubjectEntitlementsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a subject's entitlement by id or feature key.
     * </pre>
     */
    public dev.meterd.v1.DeleteEntitlementResponse deleteEntitlement(dev.meterd.v1.DeleteEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Whether the subject has access now or at an instant, and for metered ones the balance.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementValueResponse getEntitlementValue(dev.meterd.v1.GetEntitlementValueRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetEntitlementValueMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Windowed usage and the grant burn-down of a metered entitlement.
     * </pre>
     */
    public dev.meterd.v1.GetEntitlementHistoryResponse getEntitlementHistory(dev.meterd.v1.GetEntitlementHistoryRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetEntitlementHistoryMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Resets a metered entitlement's usage and starts a new period; grants roll over.
     * </pre>
     */
    public dev.meterd.v1.ResetEntitlementUsageResponse resetEntitlementUsage(dev.meterd.v1.ResetEntitlementUsageRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResetEntitlementUsageMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a subject's entitlement for a feature with a new definition, atomically: the old one is deleted
     * and the new one created, or nothing changes (OpenMeter's PUT .../entitlements/{id}/override).
     * </pre>
     */
    public dev.meterd.v1.OverrideEntitlementResponse overrideEntitlement(dev.meterd.v1.OverrideEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getOverrideEntitlementMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the values of the selected entitlements: first the current ones, then every change (coalesced).
     * </pre>
     */
    public java.util.Iterator<dev.meterd.v1.WatchEntitlementValuesResponse> watchEntitlementValues(
        dev.meterd.v1.WatchEntitlementValuesRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchEntitlementValuesMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service EntitlementService.
   * <pre>
   * Entitlements: a subject's access to a feature, and the balance of metered ones.
   * </pre>
   */
  public static final class EntitlementServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<EntitlementServiceFutureStub> {
    private EntitlementServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected EntitlementServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new EntitlementServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates an entitlement for a subject (at most one active per subject and feature).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateEntitlementResponse> createEntitlement(
        dev.meterd.v1.CreateEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateEntitlementMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a subject's entitlement by id or feature key, or (without a subject) any subject's by id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetEntitlementResponse> getEntitlement(
        dev.meterd.v1.GetEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetEntitlementMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists entitlements of every subject.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListEntitlementsResponse> listEntitlements(
        dev.meterd.v1.ListEntitlementsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListEntitlementsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists one subject's entitlements.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListSubjectEntitlementsResponse> listSubjectEntitlements(
        dev.meterd.v1.ListSubjectEntitlementsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSubjectEntitlementsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a subject's entitlement by id or feature key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteEntitlementResponse> deleteEntitlement(
        dev.meterd.v1.DeleteEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteEntitlementMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Whether the subject has access now or at an instant, and for metered ones the balance.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetEntitlementValueResponse> getEntitlementValue(
        dev.meterd.v1.GetEntitlementValueRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetEntitlementValueMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Windowed usage and the grant burn-down of a metered entitlement.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetEntitlementHistoryResponse> getEntitlementHistory(
        dev.meterd.v1.GetEntitlementHistoryRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetEntitlementHistoryMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Resets a metered entitlement's usage and starts a new period; grants roll over.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ResetEntitlementUsageResponse> resetEntitlementUsage(
        dev.meterd.v1.ResetEntitlementUsageRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResetEntitlementUsageMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Replaces a subject's entitlement for a feature with a new definition, atomically: the old one is deleted
     * and the new one created, or nothing changes (OpenMeter's PUT .../entitlements/{id}/override).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.OverrideEntitlementResponse> overrideEntitlement(
        dev.meterd.v1.OverrideEntitlementRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getOverrideEntitlementMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_ENTITLEMENT = 0;
  private static final int METHODID_GET_ENTITLEMENT = 1;
  private static final int METHODID_LIST_ENTITLEMENTS = 2;
  private static final int METHODID_LIST_SUBJECT_ENTITLEMENTS = 3;
  private static final int METHODID_DELETE_ENTITLEMENT = 4;
  private static final int METHODID_GET_ENTITLEMENT_VALUE = 5;
  private static final int METHODID_GET_ENTITLEMENT_HISTORY = 6;
  private static final int METHODID_RESET_ENTITLEMENT_USAGE = 7;
  private static final int METHODID_OVERRIDE_ENTITLEMENT = 8;
  private static final int METHODID_WATCH_ENTITLEMENT_VALUES = 9;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_CREATE_ENTITLEMENT:
          serviceImpl.createEntitlement((dev.meterd.v1.CreateEntitlementRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateEntitlementResponse>) responseObserver);
          break;
        case METHODID_GET_ENTITLEMENT:
          serviceImpl.getEntitlement((dev.meterd.v1.GetEntitlementRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementResponse>) responseObserver);
          break;
        case METHODID_LIST_ENTITLEMENTS:
          serviceImpl.listEntitlements((dev.meterd.v1.ListEntitlementsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementsResponse>) responseObserver);
          break;
        case METHODID_LIST_SUBJECT_ENTITLEMENTS:
          serviceImpl.listSubjectEntitlements((dev.meterd.v1.ListSubjectEntitlementsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectEntitlementsResponse>) responseObserver);
          break;
        case METHODID_DELETE_ENTITLEMENT:
          serviceImpl.deleteEntitlement((dev.meterd.v1.DeleteEntitlementRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteEntitlementResponse>) responseObserver);
          break;
        case METHODID_GET_ENTITLEMENT_VALUE:
          serviceImpl.getEntitlementValue((dev.meterd.v1.GetEntitlementValueRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementValueResponse>) responseObserver);
          break;
        case METHODID_GET_ENTITLEMENT_HISTORY:
          serviceImpl.getEntitlementHistory((dev.meterd.v1.GetEntitlementHistoryRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetEntitlementHistoryResponse>) responseObserver);
          break;
        case METHODID_RESET_ENTITLEMENT_USAGE:
          serviceImpl.resetEntitlementUsage((dev.meterd.v1.ResetEntitlementUsageRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ResetEntitlementUsageResponse>) responseObserver);
          break;
        case METHODID_OVERRIDE_ENTITLEMENT:
          serviceImpl.overrideEntitlement((dev.meterd.v1.OverrideEntitlementRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.OverrideEntitlementResponse>) responseObserver);
          break;
        case METHODID_WATCH_ENTITLEMENT_VALUES:
          serviceImpl.watchEntitlementValues((dev.meterd.v1.WatchEntitlementValuesRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.WatchEntitlementValuesResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getCreateEntitlementMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateEntitlementRequest,
              dev.meterd.v1.CreateEntitlementResponse>(
                service, METHODID_CREATE_ENTITLEMENT)))
        .addMethod(
          getGetEntitlementMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetEntitlementRequest,
              dev.meterd.v1.GetEntitlementResponse>(
                service, METHODID_GET_ENTITLEMENT)))
        .addMethod(
          getListEntitlementsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListEntitlementsRequest,
              dev.meterd.v1.ListEntitlementsResponse>(
                service, METHODID_LIST_ENTITLEMENTS)))
        .addMethod(
          getListSubjectEntitlementsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListSubjectEntitlementsRequest,
              dev.meterd.v1.ListSubjectEntitlementsResponse>(
                service, METHODID_LIST_SUBJECT_ENTITLEMENTS)))
        .addMethod(
          getDeleteEntitlementMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteEntitlementRequest,
              dev.meterd.v1.DeleteEntitlementResponse>(
                service, METHODID_DELETE_ENTITLEMENT)))
        .addMethod(
          getGetEntitlementValueMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetEntitlementValueRequest,
              dev.meterd.v1.GetEntitlementValueResponse>(
                service, METHODID_GET_ENTITLEMENT_VALUE)))
        .addMethod(
          getGetEntitlementHistoryMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetEntitlementHistoryRequest,
              dev.meterd.v1.GetEntitlementHistoryResponse>(
                service, METHODID_GET_ENTITLEMENT_HISTORY)))
        .addMethod(
          getResetEntitlementUsageMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ResetEntitlementUsageRequest,
              dev.meterd.v1.ResetEntitlementUsageResponse>(
                service, METHODID_RESET_ENTITLEMENT_USAGE)))
        .addMethod(
          getOverrideEntitlementMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.OverrideEntitlementRequest,
              dev.meterd.v1.OverrideEntitlementResponse>(
                service, METHODID_OVERRIDE_ENTITLEMENT)))
        .addMethod(
          getWatchEntitlementValuesMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.meterd.v1.WatchEntitlementValuesRequest,
              dev.meterd.v1.WatchEntitlementValuesResponse>(
                service, METHODID_WATCH_ENTITLEMENT_VALUES)))
        .build();
  }

  private static abstract class EntitlementServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    EntitlementServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.EntitlementsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("EntitlementService");
    }
  }

  private static final class EntitlementServiceFileDescriptorSupplier
      extends EntitlementServiceBaseDescriptorSupplier {
    EntitlementServiceFileDescriptorSupplier() {}
  }

  private static final class EntitlementServiceMethodDescriptorSupplier
      extends EntitlementServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    EntitlementServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (EntitlementServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new EntitlementServiceFileDescriptorSupplier())
              .addMethod(getCreateEntitlementMethod())
              .addMethod(getGetEntitlementMethod())
              .addMethod(getListEntitlementsMethod())
              .addMethod(getListSubjectEntitlementsMethod())
              .addMethod(getDeleteEntitlementMethod())
              .addMethod(getGetEntitlementValueMethod())
              .addMethod(getGetEntitlementHistoryMethod())
              .addMethod(getResetEntitlementUsageMethod())
              .addMethod(getOverrideEntitlementMethod())
              .addMethod(getWatchEntitlementValuesMethod())
              .build();
        }
      }
    }
    return result;
  }
}
