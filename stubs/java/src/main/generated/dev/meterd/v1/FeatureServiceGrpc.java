package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Features: what a product sells, optionally measured by a meter.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class FeatureServiceGrpc {

  private FeatureServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.FeatureService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateFeatureRequest,
      dev.meterd.v1.CreateFeatureResponse> getCreateFeatureMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateFeature",
      requestType = dev.meterd.v1.CreateFeatureRequest.class,
      responseType = dev.meterd.v1.CreateFeatureResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateFeatureRequest,
      dev.meterd.v1.CreateFeatureResponse> getCreateFeatureMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateFeatureRequest, dev.meterd.v1.CreateFeatureResponse> getCreateFeatureMethod;
    if ((getCreateFeatureMethod = FeatureServiceGrpc.getCreateFeatureMethod) == null) {
      synchronized (FeatureServiceGrpc.class) {
        if ((getCreateFeatureMethod = FeatureServiceGrpc.getCreateFeatureMethod) == null) {
          FeatureServiceGrpc.getCreateFeatureMethod = getCreateFeatureMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateFeatureRequest, dev.meterd.v1.CreateFeatureResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateFeature"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateFeatureRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateFeatureResponse.getDefaultInstance()))
              .setSchemaDescriptor(new FeatureServiceMethodDescriptorSupplier("CreateFeature"))
              .build();
        }
      }
    }
    return getCreateFeatureMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetFeatureRequest,
      dev.meterd.v1.GetFeatureResponse> getGetFeatureMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetFeature",
      requestType = dev.meterd.v1.GetFeatureRequest.class,
      responseType = dev.meterd.v1.GetFeatureResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetFeatureRequest,
      dev.meterd.v1.GetFeatureResponse> getGetFeatureMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetFeatureRequest, dev.meterd.v1.GetFeatureResponse> getGetFeatureMethod;
    if ((getGetFeatureMethod = FeatureServiceGrpc.getGetFeatureMethod) == null) {
      synchronized (FeatureServiceGrpc.class) {
        if ((getGetFeatureMethod = FeatureServiceGrpc.getGetFeatureMethod) == null) {
          FeatureServiceGrpc.getGetFeatureMethod = getGetFeatureMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetFeatureRequest, dev.meterd.v1.GetFeatureResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetFeature"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetFeatureRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetFeatureResponse.getDefaultInstance()))
              .setSchemaDescriptor(new FeatureServiceMethodDescriptorSupplier("GetFeature"))
              .build();
        }
      }
    }
    return getGetFeatureMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListFeaturesRequest,
      dev.meterd.v1.ListFeaturesResponse> getListFeaturesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListFeatures",
      requestType = dev.meterd.v1.ListFeaturesRequest.class,
      responseType = dev.meterd.v1.ListFeaturesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListFeaturesRequest,
      dev.meterd.v1.ListFeaturesResponse> getListFeaturesMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListFeaturesRequest, dev.meterd.v1.ListFeaturesResponse> getListFeaturesMethod;
    if ((getListFeaturesMethod = FeatureServiceGrpc.getListFeaturesMethod) == null) {
      synchronized (FeatureServiceGrpc.class) {
        if ((getListFeaturesMethod = FeatureServiceGrpc.getListFeaturesMethod) == null) {
          FeatureServiceGrpc.getListFeaturesMethod = getListFeaturesMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListFeaturesRequest, dev.meterd.v1.ListFeaturesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListFeatures"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListFeaturesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListFeaturesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new FeatureServiceMethodDescriptorSupplier("ListFeatures"))
              .build();
        }
      }
    }
    return getListFeaturesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteFeatureRequest,
      dev.meterd.v1.DeleteFeatureResponse> getDeleteFeatureMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteFeature",
      requestType = dev.meterd.v1.DeleteFeatureRequest.class,
      responseType = dev.meterd.v1.DeleteFeatureResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteFeatureRequest,
      dev.meterd.v1.DeleteFeatureResponse> getDeleteFeatureMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteFeatureRequest, dev.meterd.v1.DeleteFeatureResponse> getDeleteFeatureMethod;
    if ((getDeleteFeatureMethod = FeatureServiceGrpc.getDeleteFeatureMethod) == null) {
      synchronized (FeatureServiceGrpc.class) {
        if ((getDeleteFeatureMethod = FeatureServiceGrpc.getDeleteFeatureMethod) == null) {
          FeatureServiceGrpc.getDeleteFeatureMethod = getDeleteFeatureMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteFeatureRequest, dev.meterd.v1.DeleteFeatureResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteFeature"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteFeatureRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteFeatureResponse.getDefaultInstance()))
              .setSchemaDescriptor(new FeatureServiceMethodDescriptorSupplier("DeleteFeature"))
              .build();
        }
      }
    }
    return getDeleteFeatureMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static FeatureServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeatureServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeatureServiceStub>() {
        @java.lang.Override
        public FeatureServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeatureServiceStub(channel, callOptions);
        }
      };
    return FeatureServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static FeatureServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeatureServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeatureServiceBlockingV2Stub>() {
        @java.lang.Override
        public FeatureServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeatureServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return FeatureServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static FeatureServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeatureServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeatureServiceBlockingStub>() {
        @java.lang.Override
        public FeatureServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeatureServiceBlockingStub(channel, callOptions);
        }
      };
    return FeatureServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static FeatureServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<FeatureServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<FeatureServiceFutureStub>() {
        @java.lang.Override
        public FeatureServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new FeatureServiceFutureStub(channel, callOptions);
        }
      };
    return FeatureServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a feature.
     * </pre>
     */
    default void createFeature(dev.meterd.v1.CreateFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateFeatureResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateFeatureMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a feature by id or key (a key names the non-archived feature).
     * </pre>
     */
    default void getFeature(dev.meterd.v1.GetFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetFeatureResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetFeatureMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists features.
     * </pre>
     */
    default void listFeatures(dev.meterd.v1.ListFeaturesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListFeaturesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListFeaturesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Archives a feature: it gets no new entitlements and its key can be reused.
     * </pre>
     */
    default void deleteFeature(dev.meterd.v1.DeleteFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteFeatureResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteFeatureMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service FeatureService.
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public static abstract class FeatureServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return FeatureServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service FeatureService.
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public static final class FeatureServiceStub
      extends io.grpc.stub.AbstractAsyncStub<FeatureServiceStub> {
    private FeatureServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeatureServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeatureServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a feature.
     * </pre>
     */
    public void createFeature(dev.meterd.v1.CreateFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateFeatureResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateFeatureMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a feature by id or key (a key names the non-archived feature).
     * </pre>
     */
    public void getFeature(dev.meterd.v1.GetFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetFeatureResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetFeatureMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists features.
     * </pre>
     */
    public void listFeatures(dev.meterd.v1.ListFeaturesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListFeaturesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListFeaturesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Archives a feature: it gets no new entitlements and its key can be reused.
     * </pre>
     */
    public void deleteFeature(dev.meterd.v1.DeleteFeatureRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteFeatureResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteFeatureMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service FeatureService.
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public static final class FeatureServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<FeatureServiceBlockingV2Stub> {
    private FeatureServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeatureServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeatureServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a feature.
     * </pre>
     */
    public dev.meterd.v1.CreateFeatureResponse createFeature(dev.meterd.v1.CreateFeatureRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateFeatureMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a feature by id or key (a key names the non-archived feature).
     * </pre>
     */
    public dev.meterd.v1.GetFeatureResponse getFeature(dev.meterd.v1.GetFeatureRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetFeatureMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists features.
     * </pre>
     */
    public dev.meterd.v1.ListFeaturesResponse listFeatures(dev.meterd.v1.ListFeaturesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListFeaturesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Archives a feature: it gets no new entitlements and its key can be reused.
     * </pre>
     */
    public dev.meterd.v1.DeleteFeatureResponse deleteFeature(dev.meterd.v1.DeleteFeatureRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteFeatureMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service FeatureService.
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public static final class FeatureServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<FeatureServiceBlockingStub> {
    private FeatureServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeatureServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeatureServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a feature.
     * </pre>
     */
    public dev.meterd.v1.CreateFeatureResponse createFeature(dev.meterd.v1.CreateFeatureRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateFeatureMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a feature by id or key (a key names the non-archived feature).
     * </pre>
     */
    public dev.meterd.v1.GetFeatureResponse getFeature(dev.meterd.v1.GetFeatureRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetFeatureMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists features.
     * </pre>
     */
    public dev.meterd.v1.ListFeaturesResponse listFeatures(dev.meterd.v1.ListFeaturesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListFeaturesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Archives a feature: it gets no new entitlements and its key can be reused.
     * </pre>
     */
    public dev.meterd.v1.DeleteFeatureResponse deleteFeature(dev.meterd.v1.DeleteFeatureRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteFeatureMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service FeatureService.
   * <pre>
   * Features: what a product sells, optionally measured by a meter.
   * </pre>
   */
  public static final class FeatureServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<FeatureServiceFutureStub> {
    private FeatureServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected FeatureServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new FeatureServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a feature.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateFeatureResponse> createFeature(
        dev.meterd.v1.CreateFeatureRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateFeatureMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a feature by id or key (a key names the non-archived feature).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetFeatureResponse> getFeature(
        dev.meterd.v1.GetFeatureRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetFeatureMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists features.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListFeaturesResponse> listFeatures(
        dev.meterd.v1.ListFeaturesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListFeaturesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Archives a feature: it gets no new entitlements and its key can be reused.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteFeatureResponse> deleteFeature(
        dev.meterd.v1.DeleteFeatureRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteFeatureMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_FEATURE = 0;
  private static final int METHODID_GET_FEATURE = 1;
  private static final int METHODID_LIST_FEATURES = 2;
  private static final int METHODID_DELETE_FEATURE = 3;

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
        case METHODID_CREATE_FEATURE:
          serviceImpl.createFeature((dev.meterd.v1.CreateFeatureRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateFeatureResponse>) responseObserver);
          break;
        case METHODID_GET_FEATURE:
          serviceImpl.getFeature((dev.meterd.v1.GetFeatureRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetFeatureResponse>) responseObserver);
          break;
        case METHODID_LIST_FEATURES:
          serviceImpl.listFeatures((dev.meterd.v1.ListFeaturesRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListFeaturesResponse>) responseObserver);
          break;
        case METHODID_DELETE_FEATURE:
          serviceImpl.deleteFeature((dev.meterd.v1.DeleteFeatureRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteFeatureResponse>) responseObserver);
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
          getCreateFeatureMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateFeatureRequest,
              dev.meterd.v1.CreateFeatureResponse>(
                service, METHODID_CREATE_FEATURE)))
        .addMethod(
          getGetFeatureMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetFeatureRequest,
              dev.meterd.v1.GetFeatureResponse>(
                service, METHODID_GET_FEATURE)))
        .addMethod(
          getListFeaturesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListFeaturesRequest,
              dev.meterd.v1.ListFeaturesResponse>(
                service, METHODID_LIST_FEATURES)))
        .addMethod(
          getDeleteFeatureMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteFeatureRequest,
              dev.meterd.v1.DeleteFeatureResponse>(
                service, METHODID_DELETE_FEATURE)))
        .build();
  }

  private static abstract class FeatureServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    FeatureServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.FeaturesProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("FeatureService");
    }
  }

  private static final class FeatureServiceFileDescriptorSupplier
      extends FeatureServiceBaseDescriptorSupplier {
    FeatureServiceFileDescriptorSupplier() {}
  }

  private static final class FeatureServiceMethodDescriptorSupplier
      extends FeatureServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    FeatureServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (FeatureServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new FeatureServiceFileDescriptorSupplier())
              .addMethod(getCreateFeatureMethod())
              .addMethod(getGetFeatureMethod())
              .addMethod(getListFeaturesMethod())
              .addMethod(getDeleteFeatureMethod())
              .build();
        }
      }
    }
    return result;
  }
}
