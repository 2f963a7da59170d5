package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class PortalServiceGrpc {

  private PortalServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.PortalService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreatePortalTokenRequest,
      dev.meterd.v1.CreatePortalTokenResponse> getCreatePortalTokenMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreatePortalToken",
      requestType = dev.meterd.v1.CreatePortalTokenRequest.class,
      responseType = dev.meterd.v1.CreatePortalTokenResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreatePortalTokenRequest,
      dev.meterd.v1.CreatePortalTokenResponse> getCreatePortalTokenMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreatePortalTokenRequest, dev.meterd.v1.CreatePortalTokenResponse> getCreatePortalTokenMethod;
    if ((getCreatePortalTokenMethod = PortalServiceGrpc.getCreatePortalTokenMethod) == null) {
      synchronized (PortalServiceGrpc.class) {
        if ((getCreatePortalTokenMethod = PortalServiceGrpc.getCreatePortalTokenMethod) == null) {
          PortalServiceGrpc.getCreatePortalTokenMethod = getCreatePortalTokenMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreatePortalTokenRequest, dev.meterd.v1.CreatePortalTokenResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreatePortalToken"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreatePortalTokenRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreatePortalTokenResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortalServiceMethodDescriptorSupplier("CreatePortalToken"))
              .build();
        }
      }
    }
    return getCreatePortalTokenMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListPortalTokensRequest,
      dev.meterd.v1.ListPortalTokensResponse> getListPortalTokensMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListPortalTokens",
      requestType = dev.meterd.v1.ListPortalTokensRequest.class,
      responseType = dev.meterd.v1.ListPortalTokensResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListPortalTokensRequest,
      dev.meterd.v1.ListPortalTokensResponse> getListPortalTokensMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListPortalTokensRequest, dev.meterd.v1.ListPortalTokensResponse> getListPortalTokensMethod;
    if ((getListPortalTokensMethod = PortalServiceGrpc.getListPortalTokensMethod) == null) {
      synchronized (PortalServiceGrpc.class) {
        if ((getListPortalTokensMethod = PortalServiceGrpc.getListPortalTokensMethod) == null) {
          PortalServiceGrpc.getListPortalTokensMethod = getListPortalTokensMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListPortalTokensRequest, dev.meterd.v1.ListPortalTokensResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListPortalTokens"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListPortalTokensRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListPortalTokensResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortalServiceMethodDescriptorSupplier("ListPortalTokens"))
              .build();
        }
      }
    }
    return getListPortalTokensMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.InvalidatePortalTokensRequest,
      dev.meterd.v1.InvalidatePortalTokensResponse> getInvalidatePortalTokensMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "InvalidatePortalTokens",
      requestType = dev.meterd.v1.InvalidatePortalTokensRequest.class,
      responseType = dev.meterd.v1.InvalidatePortalTokensResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.InvalidatePortalTokensRequest,
      dev.meterd.v1.InvalidatePortalTokensResponse> getInvalidatePortalTokensMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.InvalidatePortalTokensRequest, dev.meterd.v1.InvalidatePortalTokensResponse> getInvalidatePortalTokensMethod;
    if ((getInvalidatePortalTokensMethod = PortalServiceGrpc.getInvalidatePortalTokensMethod) == null) {
      synchronized (PortalServiceGrpc.class) {
        if ((getInvalidatePortalTokensMethod = PortalServiceGrpc.getInvalidatePortalTokensMethod) == null) {
          PortalServiceGrpc.getInvalidatePortalTokensMethod = getInvalidatePortalTokensMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.InvalidatePortalTokensRequest, dev.meterd.v1.InvalidatePortalTokensResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "InvalidatePortalTokens"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.InvalidatePortalTokensRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.InvalidatePortalTokensResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortalServiceMethodDescriptorSupplier("InvalidatePortalTokens"))
              .build();
        }
      }
    }
    return getInvalidatePortalTokensMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.QueryPortalMeterRequest,
      dev.meterd.v1.QueryPortalMeterResponse> getQueryPortalMeterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "QueryPortalMeter",
      requestType = dev.meterd.v1.QueryPortalMeterRequest.class,
      responseType = dev.meterd.v1.QueryPortalMeterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.QueryPortalMeterRequest,
      dev.meterd.v1.QueryPortalMeterResponse> getQueryPortalMeterMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.QueryPortalMeterRequest, dev.meterd.v1.QueryPortalMeterResponse> getQueryPortalMeterMethod;
    if ((getQueryPortalMeterMethod = PortalServiceGrpc.getQueryPortalMeterMethod) == null) {
      synchronized (PortalServiceGrpc.class) {
        if ((getQueryPortalMeterMethod = PortalServiceGrpc.getQueryPortalMeterMethod) == null) {
          PortalServiceGrpc.getQueryPortalMeterMethod = getQueryPortalMeterMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.QueryPortalMeterRequest, dev.meterd.v1.QueryPortalMeterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "QueryPortalMeter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.QueryPortalMeterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.QueryPortalMeterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new PortalServiceMethodDescriptorSupplier("QueryPortalMeter"))
              .build();
        }
      }
    }
    return getQueryPortalMeterMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static PortalServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortalServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortalServiceStub>() {
        @java.lang.Override
        public PortalServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortalServiceStub(channel, callOptions);
        }
      };
    return PortalServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static PortalServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortalServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortalServiceBlockingV2Stub>() {
        @java.lang.Override
        public PortalServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortalServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return PortalServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static PortalServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortalServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortalServiceBlockingStub>() {
        @java.lang.Override
        public PortalServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortalServiceBlockingStub(channel, callOptions);
        }
      };
    return PortalServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static PortalServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<PortalServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<PortalServiceFutureStub>() {
        @java.lang.Override
        public PortalServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new PortalServiceFutureStub(channel, callOptions);
        }
      };
    return PortalServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a signed portal token for a subject.
     * </pre>
     */
    default void createPortalToken(dev.meterd.v1.CreatePortalTokenRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreatePortalTokenResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreatePortalTokenMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists issued portal tokens (without their secret text).
     * </pre>
     */
    default void listPortalTokens(dev.meterd.v1.ListPortalTokensRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListPortalTokensResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListPortalTokensMethod(), responseObserver);
    }

    /**
     * <pre>
     * Invalidates all tokens, one subject's tokens, or one token.
     * </pre>
     */
    default void invalidatePortalTokens(dev.meterd.v1.InvalidatePortalTokensRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.InvalidatePortalTokensResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getInvalidatePortalTokensMethod(), responseObserver);
    }

    /**
     * <pre>
     * Queries a meter for the portal token's subject; the only call a portal token may make.
     * </pre>
     */
    default void queryPortalMeter(dev.meterd.v1.QueryPortalMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.QueryPortalMeterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getQueryPortalMeterMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service PortalService.
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public static abstract class PortalServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return PortalServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service PortalService.
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public static final class PortalServiceStub
      extends io.grpc.stub.AbstractAsyncStub<PortalServiceStub> {
    private PortalServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortalServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortalServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a signed portal token for a subject.
     * </pre>
     */
    public void createPortalToken(dev.meterd.v1.CreatePortalTokenRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreatePortalTokenResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreatePortalTokenMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists issued portal tokens (without their secret text).
     * </pre>
     */
    public void listPortalTokens(dev.meterd.v1.ListPortalTokensRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListPortalTokensResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListPortalTokensMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Invalidates all tokens, one subject's tokens, or one token.
     * </pre>
     */
    public void invalidatePortalTokens(dev.meterd.v1.InvalidatePortalTokensRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.InvalidatePortalTokensResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getInvalidatePortalTokensMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Queries a meter for the portal token's subject; the only call a portal token may make.
     * </pre>
     */
    public void queryPortalMeter(dev.meterd.v1.QueryPortalMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.QueryPortalMeterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getQueryPortalMeterMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service PortalService.
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public static final class PortalServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<PortalServiceBlockingV2Stub> {
    private PortalServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortalServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortalServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a signed portal token for a subject.
     * </pre>
     */
    public dev.meterd.v1.CreatePortalTokenResponse createPortalToken(dev.meterd.v1.CreatePortalTokenRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreatePortalTokenMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists issued portal tokens (without their secret text).
     * </pre>
     */
    public dev.meterd.v1.ListPortalTokensResponse listPortalTokens(dev.meterd.v1.ListPortalTokensRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListPortalTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Invalidates all tokens, one subject's tokens, or one token.
     * </pre>
     */
    public dev.meterd.v1.InvalidatePortalTokensResponse invalidatePortalTokens(dev.meterd.v1.InvalidatePortalTokensRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getInvalidatePortalTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Queries a meter for the portal token's subject; the only call a portal token may make.
     * </pre>
     */
    public dev.meterd.v1.QueryPortalMeterResponse queryPortalMeter(dev.meterd.v1.QueryPortalMeterRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getQueryPortalMeterMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service PortalService.
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public static final class PortalServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<PortalServiceBlockingStub> {
    private PortalServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortalServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortalServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a signed portal token for a subject.
     * </pre>
     */
    public dev.meterd.v1.CreatePortalTokenResponse createPortalToken(dev.meterd.v1.CreatePortalTokenRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreatePortalTokenMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists issued portal tokens (without their secret text).
     * </pre>
     */
    public dev.meterd.v1.ListPortalTokensResponse listPortalTokens(dev.meterd.v1.ListPortalTokensRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListPortalTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Invalidates all tokens, one subject's tokens, or one token.
     * </pre>
     */
    public dev.meterd.v1.InvalidatePortalTokensResponse invalidatePortalTokens(dev.meterd.v1.InvalidatePortalTokensRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getInvalidatePortalTokensMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Queries a meter for the portal token's subject; the only call a portal token may make.
     * </pre>
     */
    public dev.meterd.v1.QueryPortalMeterResponse queryPortalMeter(dev.meterd.v1.QueryPortalMeterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getQueryPortalMeterMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service PortalService.
   * <pre>
   * Consumer portal: tokens that let one subject read its own meters, and the query they may call.
   * </pre>
   */
  public static final class PortalServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<PortalServiceFutureStub> {
    private PortalServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected PortalServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new PortalServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a signed portal token for a subject.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreatePortalTokenResponse> createPortalToken(
        dev.meterd.v1.CreatePortalTokenRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreatePortalTokenMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists issued portal tokens (without their secret text).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListPortalTokensResponse> listPortalTokens(
        dev.meterd.v1.ListPortalTokensRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListPortalTokensMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Invalidates all tokens, one subject's tokens, or one token.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.InvalidatePortalTokensResponse> invalidatePortalTokens(
        dev.meterd.v1.InvalidatePortalTokensRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getInvalidatePortalTokensMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Queries a meter for the portal token's subject; the only call a portal token may make.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.QueryPortalMeterResponse> queryPortalMeter(
        dev.meterd.v1.QueryPortalMeterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getQueryPortalMeterMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_PORTAL_TOKEN = 0;
  private static final int METHODID_LIST_PORTAL_TOKENS = 1;
  private static final int METHODID_INVALIDATE_PORTAL_TOKENS = 2;
  private static final int METHODID_QUERY_PORTAL_METER = 3;

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
        case METHODID_CREATE_PORTAL_TOKEN:
          serviceImpl.createPortalToken((dev.meterd.v1.CreatePortalTokenRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreatePortalTokenResponse>) responseObserver);
          break;
        case METHODID_LIST_PORTAL_TOKENS:
          serviceImpl.listPortalTokens((dev.meterd.v1.ListPortalTokensRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListPortalTokensResponse>) responseObserver);
          break;
        case METHODID_INVALIDATE_PORTAL_TOKENS:
          serviceImpl.invalidatePortalTokens((dev.meterd.v1.InvalidatePortalTokensRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.InvalidatePortalTokensResponse>) responseObserver);
          break;
        case METHODID_QUERY_PORTAL_METER:
          serviceImpl.queryPortalMeter((dev.meterd.v1.QueryPortalMeterRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.QueryPortalMeterResponse>) responseObserver);
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
          getCreatePortalTokenMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreatePortalTokenRequest,
              dev.meterd.v1.CreatePortalTokenResponse>(
                service, METHODID_CREATE_PORTAL_TOKEN)))
        .addMethod(
          getListPortalTokensMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListPortalTokensRequest,
              dev.meterd.v1.ListPortalTokensResponse>(
                service, METHODID_LIST_PORTAL_TOKENS)))
        .addMethod(
          getInvalidatePortalTokensMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.InvalidatePortalTokensRequest,
              dev.meterd.v1.InvalidatePortalTokensResponse>(
                service, METHODID_INVALIDATE_PORTAL_TOKENS)))
        .addMethod(
          getQueryPortalMeterMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.QueryPortalMeterRequest,
              dev.meterd.v1.QueryPortalMeterResponse>(
                service, METHODID_QUERY_PORTAL_METER)))
        .build();
  }

  private static abstract class PortalServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    PortalServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.PortalProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("PortalService");
    }
  }

  private static final class PortalServiceFileDescriptorSupplier
      extends PortalServiceBaseDescriptorSupplier {
    PortalServiceFileDescriptorSupplier() {}
  }

  private static final class PortalServiceMethodDescriptorSupplier
      extends PortalServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    PortalServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (PortalServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new PortalServiceFileDescriptorSupplier())
              .addMethod(getCreatePortalTokenMethod())
              .addMethod(getListPortalTokensMethod())
              .addMethod(getInvalidatePortalTokensMethod())
              .addMethod(getQueryPortalMeterMethod())
              .build();
        }
      }
    }
    return result;
  }
}
