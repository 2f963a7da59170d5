package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Grants: credit added to metered entitlements.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class GrantServiceGrpc {

  private GrantServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.GrantService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateGrantRequest,
      dev.meterd.v1.CreateGrantResponse> getCreateGrantMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateGrant",
      requestType = dev.meterd.v1.CreateGrantRequest.class,
      responseType = dev.meterd.v1.CreateGrantResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateGrantRequest,
      dev.meterd.v1.CreateGrantResponse> getCreateGrantMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateGrantRequest, dev.meterd.v1.CreateGrantResponse> getCreateGrantMethod;
    if ((getCreateGrantMethod = GrantServiceGrpc.getCreateGrantMethod) == null) {
      synchronized (GrantServiceGrpc.class) {
        if ((getCreateGrantMethod = GrantServiceGrpc.getCreateGrantMethod) == null) {
          GrantServiceGrpc.getCreateGrantMethod = getCreateGrantMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateGrantRequest, dev.meterd.v1.CreateGrantResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateGrant"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateGrantRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateGrantResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GrantServiceMethodDescriptorSupplier("CreateGrant"))
              .build();
        }
      }
    }
    return getCreateGrantMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementGrantsRequest,
      dev.meterd.v1.ListEntitlementGrantsResponse> getListEntitlementGrantsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListEntitlementGrants",
      requestType = dev.meterd.v1.ListEntitlementGrantsRequest.class,
      responseType = dev.meterd.v1.ListEntitlementGrantsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementGrantsRequest,
      dev.meterd.v1.ListEntitlementGrantsResponse> getListEntitlementGrantsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListEntitlementGrantsRequest, dev.meterd.v1.ListEntitlementGrantsResponse> getListEntitlementGrantsMethod;
    if ((getListEntitlementGrantsMethod = GrantServiceGrpc.getListEntitlementGrantsMethod) == null) {
      synchronized (GrantServiceGrpc.class) {
        if ((getListEntitlementGrantsMethod = GrantServiceGrpc.getListEntitlementGrantsMethod) == null) {
          GrantServiceGrpc.getListEntitlementGrantsMethod = getListEntitlementGrantsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListEntitlementGrantsRequest, dev.meterd.v1.ListEntitlementGrantsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListEntitlementGrants"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListEntitlementGrantsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListEntitlementGrantsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GrantServiceMethodDescriptorSupplier("ListEntitlementGrants"))
              .build();
        }
      }
    }
    return getListEntitlementGrantsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListGrantsRequest,
      dev.meterd.v1.ListGrantsResponse> getListGrantsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListGrants",
      requestType = dev.meterd.v1.ListGrantsRequest.class,
      responseType = dev.meterd.v1.ListGrantsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListGrantsRequest,
      dev.meterd.v1.ListGrantsResponse> getListGrantsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListGrantsRequest, dev.meterd.v1.ListGrantsResponse> getListGrantsMethod;
    if ((getListGrantsMethod = GrantServiceGrpc.getListGrantsMethod) == null) {
      synchronized (GrantServiceGrpc.class) {
        if ((getListGrantsMethod = GrantServiceGrpc.getListGrantsMethod) == null) {
          GrantServiceGrpc.getListGrantsMethod = getListGrantsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListGrantsRequest, dev.meterd.v1.ListGrantsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListGrants"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListGrantsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListGrantsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GrantServiceMethodDescriptorSupplier("ListGrants"))
              .build();
        }
      }
    }
    return getListGrantsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.VoidGrantRequest,
      dev.meterd.v1.VoidGrantResponse> getVoidGrantMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "VoidGrant",
      requestType = dev.meterd.v1.VoidGrantRequest.class,
      responseType = dev.meterd.v1.VoidGrantResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.VoidGrantRequest,
      dev.meterd.v1.VoidGrantResponse> getVoidGrantMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.VoidGrantRequest, dev.meterd.v1.VoidGrantResponse> getVoidGrantMethod;
    if ((getVoidGrantMethod = GrantServiceGrpc.getVoidGrantMethod) == null) {
      synchronized (GrantServiceGrpc.class) {
        if ((getVoidGrantMethod = GrantServiceGrpc.getVoidGrantMethod) == null) {
          GrantServiceGrpc.getVoidGrantMethod = getVoidGrantMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.VoidGrantRequest, dev.meterd.v1.VoidGrantResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "VoidGrant"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.VoidGrantRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.VoidGrantResponse.getDefaultInstance()))
              .setSchemaDescriptor(new GrantServiceMethodDescriptorSupplier("VoidGrant"))
              .build();
        }
      }
    }
    return getVoidGrantMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static GrantServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GrantServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GrantServiceStub>() {
        @java.lang.Override
        public GrantServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GrantServiceStub(channel, callOptions);
        }
      };
    return GrantServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static GrantServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GrantServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GrantServiceBlockingV2Stub>() {
        @java.lang.Override
        public GrantServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GrantServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return GrantServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static GrantServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GrantServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GrantServiceBlockingStub>() {
        @java.lang.Override
        public GrantServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GrantServiceBlockingStub(channel, callOptions);
        }
      };
    return GrantServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static GrantServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<GrantServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<GrantServiceFutureStub>() {
        @java.lang.Override
        public GrantServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new GrantServiceFutureStub(channel, callOptions);
        }
      };
    return GrantServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a grant on a subject's metered entitlement.
     * </pre>
     */
    default void createGrant(dev.meterd.v1.CreateGrantRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateGrantResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateGrantMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the grants of one entitlement.
     * </pre>
     */
    default void listEntitlementGrants(dev.meterd.v1.ListEntitlementGrantsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementGrantsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListEntitlementGrantsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists grants of every entitlement.
     * </pre>
     */
    default void listGrants(dev.meterd.v1.ListGrantsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListGrantsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListGrantsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Voids a grant: its remaining balance is gone from now on (or from a given past instant).
     * </pre>
     */
    default void voidGrant(dev.meterd.v1.VoidGrantRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.VoidGrantResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getVoidGrantMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service GrantService.
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public static abstract class GrantServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return GrantServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service GrantService.
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public static final class GrantServiceStub
      extends io.grpc.stub.AbstractAsyncStub<GrantServiceStub> {
    private GrantServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GrantServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GrantServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a grant on a subject's metered entitlement.
     * </pre>
     */
    public void createGrant(dev.meterd.v1.CreateGrantRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateGrantResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateGrantMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the grants of one entitlement.
     * </pre>
     */
    public void listEntitlementGrants(dev.meterd.v1.ListEntitlementGrantsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementGrantsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListEntitlementGrantsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists grants of every entitlement.
     * </pre>
     */
    public void listGrants(dev.meterd.v1.ListGrantsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListGrantsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListGrantsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Voids a grant: its remaining balance is gone from now on (or from a given past instant).
     * </pre>
     */
    public void voidGrant(dev.meterd.v1.VoidGrantRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.VoidGrantResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getVoidGrantMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service GrantService.
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public static final class GrantServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<GrantServiceBlockingV2Stub> {
    private GrantServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GrantServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GrantServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a grant on a subject's metered entitlement.
     * </pre>
     */
    public dev.meterd.v1.CreateGrantResponse createGrant(dev.meterd.v1.CreateGrantRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateGrantMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the grants of one entitlement.
     * </pre>
     */
    public dev.meterd.v1.ListEntitlementGrantsResponse listEntitlementGrants(dev.meterd.v1.ListEntitlementGrantsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListEntitlementGrantsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists grants of every entitlement.
     * </pre>
     */
    public dev.meterd.v1.ListGrantsResponse listGrants(dev.meterd.v1.ListGrantsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListGrantsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Voids a grant: its remaining balance is gone from now on (or from a given past instant).
     * </pre>
     */
    public dev.meterd.v1.VoidGrantResponse voidGrant(dev.meterd.v1.VoidGrantRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getVoidGrantMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service GrantService.
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public static final class GrantServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<GrantServiceBlockingStub> {
    private GrantServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GrantServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GrantServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a grant on a subject's metered entitlement.
     * </pre>
     */
    public dev.meterd.v1.CreateGrantResponse createGrant(dev.meterd.v1.CreateGrantRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateGrantMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the grants of one entitlement.
     * </pre>
     */
    public dev.meterd.v1.ListEntitlementGrantsResponse listEntitlementGrants(dev.meterd.v1.ListEntitlementGrantsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListEntitlementGrantsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists grants of every entitlement.
     * </pre>
     */
    public dev.meterd.v1.ListGrantsResponse listGrants(dev.meterd.v1.ListGrantsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListGrantsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Voids a grant: its remaining balance is gone from now on (or from a given past instant).
     * </pre>
     */
    public dev.meterd.v1.VoidGrantResponse voidGrant(dev.meterd.v1.VoidGrantRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getVoidGrantMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service GrantService.
   * <pre>
   * Grants: credit added to metered entitlements.
   * </pre>
   */
  public static final class GrantServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<GrantServiceFutureStub> {
    private GrantServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected GrantServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new GrantServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a grant on a subject's metered entitlement.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateGrantResponse> createGrant(
        dev.meterd.v1.CreateGrantRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateGrantMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the grants of one entitlement.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListEntitlementGrantsResponse> listEntitlementGrants(
        dev.meterd.v1.ListEntitlementGrantsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListEntitlementGrantsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists grants of every entitlement.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListGrantsResponse> listGrants(
        dev.meterd.v1.ListGrantsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListGrantsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Voids a grant: its remaining balance is gone from now on (or from a given past instant).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.VoidGrantResponse> voidGrant(
        dev.meterd.v1.VoidGrantRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getVoidGrantMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_GRANT = 0;
  private static final int METHODID_LIST_ENTITLEMENT_GRANTS = 1;
  private static final int METHODID_LIST_GRANTS = 2;
  private static final int METHODID_VOID_GRANT = 3;

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
        case METHODID_CREATE_GRANT:
          serviceImpl.createGrant((dev.meterd.v1.CreateGrantRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateGrantResponse>) responseObserver);
          break;
        case METHODID_LIST_ENTITLEMENT_GRANTS:
          serviceImpl.listEntitlementGrants((dev.meterd.v1.ListEntitlementGrantsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListEntitlementGrantsResponse>) responseObserver);
          break;
        case METHODID_LIST_GRANTS:
          serviceImpl.listGrants((dev.meterd.v1.ListGrantsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListGrantsResponse>) responseObserver);
          break;
        case METHODID_VOID_GRANT:
          serviceImpl.voidGrant((dev.meterd.v1.VoidGrantRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.VoidGrantResponse>) responseObserver);
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
          getCreateGrantMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateGrantRequest,
              dev.meterd.v1.CreateGrantResponse>(
                service, METHODID_CREATE_GRANT)))
        .addMethod(
          getListEntitlementGrantsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListEntitlementGrantsRequest,
              dev.meterd.v1.ListEntitlementGrantsResponse>(
                service, METHODID_LIST_ENTITLEMENT_GRANTS)))
        .addMethod(
          getListGrantsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListGrantsRequest,
              dev.meterd.v1.ListGrantsResponse>(
                service, METHODID_LIST_GRANTS)))
        .addMethod(
          getVoidGrantMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.VoidGrantRequest,
              dev.meterd.v1.VoidGrantResponse>(
                service, METHODID_VOID_GRANT)))
        .build();
  }

  private static abstract class GrantServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    GrantServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.GrantsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("GrantService");
    }
  }

  private static final class GrantServiceFileDescriptorSupplier
      extends GrantServiceBaseDescriptorSupplier {
    GrantServiceFileDescriptorSupplier() {}
  }

  private static final class GrantServiceMethodDescriptorSupplier
      extends GrantServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    GrantServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (GrantServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new GrantServiceFileDescriptorSupplier())
              .addMethod(getCreateGrantMethod())
              .addMethod(getListEntitlementGrantsMethod())
              .addMethod(getListGrantsMethod())
              .addMethod(getVoidGrantMethod())
              .build();
        }
      }
    }
    return result;
  }
}
