package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Meters: named aggregations over events of one type.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class MeterServiceGrpc {

  private MeterServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.MeterService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateMeterRequest,
      dev.meterd.v1.CreateMeterResponse> getCreateMeterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateMeter",
      requestType = dev.meterd.v1.CreateMeterRequest.class,
      responseType = dev.meterd.v1.CreateMeterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateMeterRequest,
      dev.meterd.v1.CreateMeterResponse> getCreateMeterMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateMeterRequest, dev.meterd.v1.CreateMeterResponse> getCreateMeterMethod;
    if ((getCreateMeterMethod = MeterServiceGrpc.getCreateMeterMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getCreateMeterMethod = MeterServiceGrpc.getCreateMeterMethod) == null) {
          MeterServiceGrpc.getCreateMeterMethod = getCreateMeterMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateMeterRequest, dev.meterd.v1.CreateMeterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateMeter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateMeterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateMeterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("CreateMeter"))
              .build();
        }
      }
    }
    return getCreateMeterMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetMeterRequest,
      dev.meterd.v1.GetMeterResponse> getGetMeterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetMeter",
      requestType = dev.meterd.v1.GetMeterRequest.class,
      responseType = dev.meterd.v1.GetMeterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetMeterRequest,
      dev.meterd.v1.GetMeterResponse> getGetMeterMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetMeterRequest, dev.meterd.v1.GetMeterResponse> getGetMeterMethod;
    if ((getGetMeterMethod = MeterServiceGrpc.getGetMeterMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getGetMeterMethod = MeterServiceGrpc.getGetMeterMethod) == null) {
          MeterServiceGrpc.getGetMeterMethod = getGetMeterMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetMeterRequest, dev.meterd.v1.GetMeterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetMeter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetMeterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetMeterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("GetMeter"))
              .build();
        }
      }
    }
    return getGetMeterMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListMetersRequest,
      dev.meterd.v1.ListMetersResponse> getListMetersMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListMeters",
      requestType = dev.meterd.v1.ListMetersRequest.class,
      responseType = dev.meterd.v1.ListMetersResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListMetersRequest,
      dev.meterd.v1.ListMetersResponse> getListMetersMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListMetersRequest, dev.meterd.v1.ListMetersResponse> getListMetersMethod;
    if ((getListMetersMethod = MeterServiceGrpc.getListMetersMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getListMetersMethod = MeterServiceGrpc.getListMetersMethod) == null) {
          MeterServiceGrpc.getListMetersMethod = getListMetersMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListMetersRequest, dev.meterd.v1.ListMetersResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListMeters"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListMetersRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListMetersResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("ListMeters"))
              .build();
        }
      }
    }
    return getListMetersMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteMeterRequest,
      dev.meterd.v1.DeleteMeterResponse> getDeleteMeterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteMeter",
      requestType = dev.meterd.v1.DeleteMeterRequest.class,
      responseType = dev.meterd.v1.DeleteMeterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteMeterRequest,
      dev.meterd.v1.DeleteMeterResponse> getDeleteMeterMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteMeterRequest, dev.meterd.v1.DeleteMeterResponse> getDeleteMeterMethod;
    if ((getDeleteMeterMethod = MeterServiceGrpc.getDeleteMeterMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getDeleteMeterMethod = MeterServiceGrpc.getDeleteMeterMethod) == null) {
          MeterServiceGrpc.getDeleteMeterMethod = getDeleteMeterMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteMeterRequest, dev.meterd.v1.DeleteMeterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteMeter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteMeterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteMeterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("DeleteMeter"))
              .build();
        }
      }
    }
    return getDeleteMeterMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.QueryMeterRequest,
      dev.meterd.v1.QueryMeterResponse> getQueryMeterMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "QueryMeter",
      requestType = dev.meterd.v1.QueryMeterRequest.class,
      responseType = dev.meterd.v1.QueryMeterResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.QueryMeterRequest,
      dev.meterd.v1.QueryMeterResponse> getQueryMeterMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.QueryMeterRequest, dev.meterd.v1.QueryMeterResponse> getQueryMeterMethod;
    if ((getQueryMeterMethod = MeterServiceGrpc.getQueryMeterMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getQueryMeterMethod = MeterServiceGrpc.getQueryMeterMethod) == null) {
          MeterServiceGrpc.getQueryMeterMethod = getQueryMeterMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.QueryMeterRequest, dev.meterd.v1.QueryMeterResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "QueryMeter"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.QueryMeterRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.QueryMeterResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("QueryMeter"))
              .build();
        }
      }
    }
    return getQueryMeterMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListMeterSubjectsRequest,
      dev.meterd.v1.ListMeterSubjectsResponse> getListMeterSubjectsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListMeterSubjects",
      requestType = dev.meterd.v1.ListMeterSubjectsRequest.class,
      responseType = dev.meterd.v1.ListMeterSubjectsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListMeterSubjectsRequest,
      dev.meterd.v1.ListMeterSubjectsResponse> getListMeterSubjectsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListMeterSubjectsRequest, dev.meterd.v1.ListMeterSubjectsResponse> getListMeterSubjectsMethod;
    if ((getListMeterSubjectsMethod = MeterServiceGrpc.getListMeterSubjectsMethod) == null) {
      synchronized (MeterServiceGrpc.class) {
        if ((getListMeterSubjectsMethod = MeterServiceGrpc.getListMeterSubjectsMethod) == null) {
          MeterServiceGrpc.getListMeterSubjectsMethod = getListMeterSubjectsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListMeterSubjectsRequest, dev.meterd.v1.ListMeterSubjectsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListMeterSubjects"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListMeterSubjectsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListMeterSubjectsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new MeterServiceMethodDescriptorSupplier("ListMeterSubjects"))
              .build();
        }
      }
    }
    return getListMeterSubjectsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static MeterServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MeterServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MeterServiceStub>() {
        @java.lang.Override
        public MeterServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MeterServiceStub(channel, callOptions);
        }
      };
    return MeterServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static MeterServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MeterServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MeterServiceBlockingV2Stub>() {
        @java.lang.Override
        public MeterServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MeterServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return MeterServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static MeterServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MeterServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MeterServiceBlockingStub>() {
        @java.lang.Override
        public MeterServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MeterServiceBlockingStub(channel, callOptions);
        }
      };
    return MeterServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static MeterServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<MeterServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<MeterServiceFutureStub>() {
        @java.lang.Override
        public MeterServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new MeterServiceFutureStub(channel, callOptions);
        }
      };
    return MeterServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a meter; existing events of its type are aggregated into it.
     * </pre>
     */
    default void createMeter(dev.meterd.v1.CreateMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateMeterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateMeterMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a meter by id or slug.
     * </pre>
     */
    default void getMeter(dev.meterd.v1.GetMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetMeterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetMeterMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists meters, ordered by slug.
     * </pre>
     */
    default void listMeters(dev.meterd.v1.ListMetersRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListMetersResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListMetersMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a meter and its aggregates; events stay.
     * </pre>
     */
    default void deleteMeter(dev.meterd.v1.DeleteMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteMeterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteMeterMethod(), responseObserver);
    }

    /**
     * <pre>
     * Queries a meter's values by window, subject and group.
     * </pre>
     */
    default void queryMeter(dev.meterd.v1.QueryMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.QueryMeterResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getQueryMeterMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists the subjects that have events for a meter.
     * </pre>
     */
    default void listMeterSubjects(dev.meterd.v1.ListMeterSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListMeterSubjectsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListMeterSubjectsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service MeterService.
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public static abstract class MeterServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return MeterServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service MeterService.
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public static final class MeterServiceStub
      extends io.grpc.stub.AbstractAsyncStub<MeterServiceStub> {
    private MeterServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MeterServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MeterServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a meter; existing events of its type are aggregated into it.
     * </pre>
     */
    public void createMeter(dev.meterd.v1.CreateMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateMeterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateMeterMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a meter by id or slug.
     * </pre>
     */
    public void getMeter(dev.meterd.v1.GetMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetMeterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetMeterMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists meters, ordered by slug.
     * </pre>
     */
    public void listMeters(dev.meterd.v1.ListMetersRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListMetersResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListMetersMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a meter and its aggregates; events stay.
     * </pre>
     */
    public void deleteMeter(dev.meterd.v1.DeleteMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteMeterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteMeterMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Queries a meter's values by window, subject and group.
     * </pre>
     */
    public void queryMeter(dev.meterd.v1.QueryMeterRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.QueryMeterResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getQueryMeterMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists the subjects that have events for a meter.
     * </pre>
     */
    public void listMeterSubjects(dev.meterd.v1.ListMeterSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListMeterSubjectsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListMeterSubjectsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service MeterService.
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public static final class MeterServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<MeterServiceBlockingV2Stub> {
    private MeterServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MeterServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MeterServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a meter; existing events of its type are aggregated into it.
     * </pre>
     */
    public dev.meterd.v1.CreateMeterResponse createMeter(dev.meterd.v1.CreateMeterRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a meter by id or slug.
     * </pre>
     */
    public dev.meterd.v1.GetMeterResponse getMeter(dev.meterd.v1.GetMeterRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists meters, ordered by slug.
     * </pre>
     */
    public dev.meterd.v1.ListMetersResponse listMeters(dev.meterd.v1.ListMetersRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListMetersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a meter and its aggregates; events stay.
     * </pre>
     */
    public dev.meterd.v1.DeleteMeterResponse deleteMeter(dev.meterd.v1.DeleteMeterRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Queries a meter's values by window, subject and group.
     * </pre>
     */
    public dev.meterd.v1.QueryMeterResponse queryMeter(dev.meterd.v1.QueryMeterRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getQueryMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the subjects that have events for a meter.
     * </pre>
     */
    public dev.meterd.v1.ListMeterSubjectsResponse listMeterSubjects(dev.meterd.v1.ListMeterSubjectsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListMeterSubjectsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service MeterService.
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public static final class MeterServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<MeterServiceBlockingStub> {
    private MeterServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MeterServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MeterServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a meter; existing events of its type are aggregated into it.
     * </pre>
     */
    public dev.meterd.v1.CreateMeterResponse createMeter(dev.meterd.v1.CreateMeterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a meter by id or slug.
     * </pre>
     */
    public dev.meterd.v1.GetMeterResponse getMeter(dev.meterd.v1.GetMeterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists meters, ordered by slug.
     * </pre>
     */
    public dev.meterd.v1.ListMetersResponse listMeters(dev.meterd.v1.ListMetersRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListMetersMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a meter and its aggregates; events stay.
     * </pre>
     */
    public dev.meterd.v1.DeleteMeterResponse deleteMeter(dev.meterd.v1.DeleteMeterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Queries a meter's values by window, subject and group.
     * </pre>
     */
    public dev.meterd.v1.QueryMeterResponse queryMeter(dev.meterd.v1.QueryMeterRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getQueryMeterMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists the subjects that have events for a meter.
     * </pre>
     */
    public dev.meterd.v1.ListMeterSubjectsResponse listMeterSubjects(dev.meterd.v1.ListMeterSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListMeterSubjectsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service MeterService.
   * <pre>
   * Meters: named aggregations over events of one type.
   * </pre>
   */
  public static final class MeterServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<MeterServiceFutureStub> {
    private MeterServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected MeterServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new MeterServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a meter; existing events of its type are aggregated into it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateMeterResponse> createMeter(
        dev.meterd.v1.CreateMeterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateMeterMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a meter by id or slug.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetMeterResponse> getMeter(
        dev.meterd.v1.GetMeterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetMeterMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists meters, ordered by slug.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListMetersResponse> listMeters(
        dev.meterd.v1.ListMetersRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListMetersMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a meter and its aggregates; events stay.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteMeterResponse> deleteMeter(
        dev.meterd.v1.DeleteMeterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteMeterMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Queries a meter's values by window, subject and group.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.QueryMeterResponse> queryMeter(
        dev.meterd.v1.QueryMeterRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getQueryMeterMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists the subjects that have events for a meter.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListMeterSubjectsResponse> listMeterSubjects(
        dev.meterd.v1.ListMeterSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListMeterSubjectsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_METER = 0;
  private static final int METHODID_GET_METER = 1;
  private static final int METHODID_LIST_METERS = 2;
  private static final int METHODID_DELETE_METER = 3;
  private static final int METHODID_QUERY_METER = 4;
  private static final int METHODID_LIST_METER_SUBJECTS = 5;

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
        case METHODID_CREATE_METER:
          serviceImpl.createMeter((dev.meterd.v1.CreateMeterRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateMeterResponse>) responseObserver);
          break;
        case METHODID_GET_METER:
          serviceImpl.getMeter((dev.meterd.v1.GetMeterRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetMeterResponse>) responseObserver);
          break;
        case METHODID_LIST_METERS:
          serviceImpl.listMeters((dev.meterd.v1.ListMetersRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListMetersResponse>) responseObserver);
          break;
        case METHODID_DELETE_METER:
          serviceImpl.deleteMeter((dev.meterd.v1.DeleteMeterRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteMeterResponse>) responseObserver);
          break;
        case METHODID_QUERY_METER:
          serviceImpl.queryMeter((dev.meterd.v1.QueryMeterRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.QueryMeterResponse>) responseObserver);
          break;
        case METHODID_LIST_METER_SUBJECTS:
          serviceImpl.listMeterSubjects((dev.meterd.v1.ListMeterSubjectsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListMeterSubjectsResponse>) responseObserver);
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
          getCreateMeterMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateMeterRequest,
              dev.meterd.v1.CreateMeterResponse>(
                service, METHODID_CREATE_METER)))
        .addMethod(
          getGetMeterMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetMeterRequest,
              dev.meterd.v1.GetMeterResponse>(
                service, METHODID_GET_METER)))
        .addMethod(
          getListMetersMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListMetersRequest,
              dev.meterd.v1.ListMetersResponse>(
                service, METHODID_LIST_METERS)))
        .addMethod(
          getDeleteMeterMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteMeterRequest,
              dev.meterd.v1.DeleteMeterResponse>(
                service, METHODID_DELETE_METER)))
        .addMethod(
          getQueryMeterMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.QueryMeterRequest,
              dev.meterd.v1.QueryMeterResponse>(
                service, METHODID_QUERY_METER)))
        .addMethod(
          getListMeterSubjectsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListMeterSubjectsRequest,
              dev.meterd.v1.ListMeterSubjectsResponse>(
                service, METHODID_LIST_METER_SUBJECTS)))
        .build();
  }

  private static abstract class MeterServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    MeterServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.MetersProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("MeterService");
    }
  }

  private static final class MeterServiceFileDescriptorSupplier
      extends MeterServiceBaseDescriptorSupplier {
    MeterServiceFileDescriptorSupplier() {}
  }

  private static final class MeterServiceMethodDescriptorSupplier
      extends MeterServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    MeterServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (MeterServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new MeterServiceFileDescriptorSupplier())
              .addMethod(getCreateMeterMethod())
              .addMethod(getGetMeterMethod())
              .addMethod(getListMetersMethod())
              .addMethod(getDeleteMeterMethod())
              .addMethod(getQueryMeterMethod())
              .addMethod(getListMeterSubjectsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
