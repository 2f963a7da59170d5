package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Subjects: the customers usage belongs to.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class SubjectServiceGrpc {

  private SubjectServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.SubjectService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.UpsertSubjectsRequest,
      dev.meterd.v1.UpsertSubjectsResponse> getUpsertSubjectsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpsertSubjects",
      requestType = dev.meterd.v1.UpsertSubjectsRequest.class,
      responseType = dev.meterd.v1.UpsertSubjectsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.UpsertSubjectsRequest,
      dev.meterd.v1.UpsertSubjectsResponse> getUpsertSubjectsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.UpsertSubjectsRequest, dev.meterd.v1.UpsertSubjectsResponse> getUpsertSubjectsMethod;
    if ((getUpsertSubjectsMethod = SubjectServiceGrpc.getUpsertSubjectsMethod) == null) {
      synchronized (SubjectServiceGrpc.class) {
        if ((getUpsertSubjectsMethod = SubjectServiceGrpc.getUpsertSubjectsMethod) == null) {
          SubjectServiceGrpc.getUpsertSubjectsMethod = getUpsertSubjectsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.UpsertSubjectsRequest, dev.meterd.v1.UpsertSubjectsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpsertSubjects"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpsertSubjectsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpsertSubjectsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SubjectServiceMethodDescriptorSupplier("UpsertSubjects"))
              .build();
        }
      }
    }
    return getUpsertSubjectsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetSubjectRequest,
      dev.meterd.v1.GetSubjectResponse> getGetSubjectMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetSubject",
      requestType = dev.meterd.v1.GetSubjectRequest.class,
      responseType = dev.meterd.v1.GetSubjectResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetSubjectRequest,
      dev.meterd.v1.GetSubjectResponse> getGetSubjectMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetSubjectRequest, dev.meterd.v1.GetSubjectResponse> getGetSubjectMethod;
    if ((getGetSubjectMethod = SubjectServiceGrpc.getGetSubjectMethod) == null) {
      synchronized (SubjectServiceGrpc.class) {
        if ((getGetSubjectMethod = SubjectServiceGrpc.getGetSubjectMethod) == null) {
          SubjectServiceGrpc.getGetSubjectMethod = getGetSubjectMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetSubjectRequest, dev.meterd.v1.GetSubjectResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetSubject"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetSubjectRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetSubjectResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SubjectServiceMethodDescriptorSupplier("GetSubject"))
              .build();
        }
      }
    }
    return getGetSubjectMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectsRequest,
      dev.meterd.v1.ListSubjectsResponse> getListSubjectsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListSubjects",
      requestType = dev.meterd.v1.ListSubjectsRequest.class,
      responseType = dev.meterd.v1.ListSubjectsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectsRequest,
      dev.meterd.v1.ListSubjectsResponse> getListSubjectsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListSubjectsRequest, dev.meterd.v1.ListSubjectsResponse> getListSubjectsMethod;
    if ((getListSubjectsMethod = SubjectServiceGrpc.getListSubjectsMethod) == null) {
      synchronized (SubjectServiceGrpc.class) {
        if ((getListSubjectsMethod = SubjectServiceGrpc.getListSubjectsMethod) == null) {
          SubjectServiceGrpc.getListSubjectsMethod = getListSubjectsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListSubjectsRequest, dev.meterd.v1.ListSubjectsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListSubjects"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListSubjectsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListSubjectsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SubjectServiceMethodDescriptorSupplier("ListSubjects"))
              .build();
        }
      }
    }
    return getListSubjectsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteSubjectRequest,
      dev.meterd.v1.DeleteSubjectResponse> getDeleteSubjectMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteSubject",
      requestType = dev.meterd.v1.DeleteSubjectRequest.class,
      responseType = dev.meterd.v1.DeleteSubjectResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteSubjectRequest,
      dev.meterd.v1.DeleteSubjectResponse> getDeleteSubjectMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteSubjectRequest, dev.meterd.v1.DeleteSubjectResponse> getDeleteSubjectMethod;
    if ((getDeleteSubjectMethod = SubjectServiceGrpc.getDeleteSubjectMethod) == null) {
      synchronized (SubjectServiceGrpc.class) {
        if ((getDeleteSubjectMethod = SubjectServiceGrpc.getDeleteSubjectMethod) == null) {
          SubjectServiceGrpc.getDeleteSubjectMethod = getDeleteSubjectMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteSubjectRequest, dev.meterd.v1.DeleteSubjectResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteSubject"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteSubjectRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteSubjectResponse.getDefaultInstance()))
              .setSchemaDescriptor(new SubjectServiceMethodDescriptorSupplier("DeleteSubject"))
              .build();
        }
      }
    }
    return getDeleteSubjectMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static SubjectServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SubjectServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SubjectServiceStub>() {
        @java.lang.Override
        public SubjectServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SubjectServiceStub(channel, callOptions);
        }
      };
    return SubjectServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static SubjectServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SubjectServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SubjectServiceBlockingV2Stub>() {
        @java.lang.Override
        public SubjectServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SubjectServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return SubjectServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static SubjectServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SubjectServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SubjectServiceBlockingStub>() {
        @java.lang.Override
        public SubjectServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SubjectServiceBlockingStub(channel, callOptions);
        }
      };
    return SubjectServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static SubjectServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<SubjectServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<SubjectServiceFutureStub>() {
        @java.lang.Override
        public SubjectServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new SubjectServiceFutureStub(channel, callOptions);
        }
      };
    return SubjectServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates or updates subjects by key.
     * </pre>
     */
    default void upsertSubjects(dev.meterd.v1.UpsertSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpsertSubjectsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpsertSubjectsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a subject by key.
     * </pre>
     */
    default void getSubject(dev.meterd.v1.GetSubjectRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetSubjectResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetSubjectMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists subjects ordered by key.
     * </pre>
     */
    default void listSubjects(dev.meterd.v1.ListSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListSubjectsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a subject; its events and usage stay.
     * </pre>
     */
    default void deleteSubject(dev.meterd.v1.DeleteSubjectRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteSubjectResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteSubjectMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service SubjectService.
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public static abstract class SubjectServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return SubjectServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service SubjectService.
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public static final class SubjectServiceStub
      extends io.grpc.stub.AbstractAsyncStub<SubjectServiceStub> {
    private SubjectServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SubjectServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SubjectServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates or updates subjects by key.
     * </pre>
     */
    public void upsertSubjects(dev.meterd.v1.UpsertSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpsertSubjectsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpsertSubjectsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a subject by key.
     * </pre>
     */
    public void getSubject(dev.meterd.v1.GetSubjectRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetSubjectResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetSubjectMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists subjects ordered by key.
     * </pre>
     */
    public void listSubjects(dev.meterd.v1.ListSubjectsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListSubjectsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a subject; its events and usage stay.
     * </pre>
     */
    public void deleteSubject(dev.meterd.v1.DeleteSubjectRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteSubjectResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteSubjectMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service SubjectService.
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public static final class SubjectServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<SubjectServiceBlockingV2Stub> {
    private SubjectServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SubjectServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SubjectServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates or updates subjects by key.
     * </pre>
     */
    public dev.meterd.v1.UpsertSubjectsResponse upsertSubjects(dev.meterd.v1.UpsertSubjectsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpsertSubjectsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a subject by key.
     * </pre>
     */
    public dev.meterd.v1.GetSubjectResponse getSubject(dev.meterd.v1.GetSubjectRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetSubjectMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists subjects ordered by key.
     * </pre>
     */
    public dev.meterd.v1.ListSubjectsResponse listSubjects(dev.meterd.v1.ListSubjectsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListSubjectsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a subject; its events and usage stay.
     * </pre>
     */
    public dev.meterd.v1.DeleteSubjectResponse deleteSubject(dev.meterd.v1.DeleteSubjectRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteSubjectMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service SubjectService.
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public static final class SubjectServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<SubjectServiceBlockingStub> {
    private SubjectServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SubjectServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SubjectServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates or updates subjects by key.
     * </pre>
     */
    public dev.meterd.v1.UpsertSubjectsResponse upsertSubjects(dev.meterd.v1.UpsertSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpsertSubjectsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a subject by key.
     * </pre>
     */
    public dev.meterd.v1.GetSubjectResponse getSubject(dev.meterd.v1.GetSubjectRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetSubjectMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists subjects ordered by key.
     * </pre>
     */
    public dev.meterd.v1.ListSubjectsResponse listSubjects(dev.meterd.v1.ListSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListSubjectsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a subject; its events and usage stay.
     * </pre>
     */
    public dev.meterd.v1.DeleteSubjectResponse deleteSubject(dev.meterd.v1.DeleteSubjectRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteSubjectMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service SubjectService.
   * <pre>
   * Subjects: the customers usage belongs to.
   * </pre>
   */
  public static final class SubjectServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<SubjectServiceFutureStub> {
    private SubjectServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected SubjectServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new SubjectServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates or updates subjects by key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.UpsertSubjectsResponse> upsertSubjects(
        dev.meterd.v1.UpsertSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpsertSubjectsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a subject by key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetSubjectResponse> getSubject(
        dev.meterd.v1.GetSubjectRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetSubjectMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists subjects ordered by key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListSubjectsResponse> listSubjects(
        dev.meterd.v1.ListSubjectsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListSubjectsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a subject; its events and usage stay.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteSubjectResponse> deleteSubject(
        dev.meterd.v1.DeleteSubjectRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteSubjectMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_UPSERT_SUBJECTS = 0;
  private static final int METHODID_GET_SUBJECT = 1;
  private static final int METHODID_LIST_SUBJECTS = 2;
  private static final int METHODID_DELETE_SUBJECT = 3;

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
        case METHODID_UPSERT_SUBJECTS:
          serviceImpl.upsertSubjects((dev.meterd.v1.UpsertSubjectsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.UpsertSubjectsResponse>) responseObserver);
          break;
        case METHODID_GET_SUBJECT:
          serviceImpl.getSubject((dev.meterd.v1.GetSubjectRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetSubjectResponse>) responseObserver);
          break;
        case METHODID_LIST_SUBJECTS:
          serviceImpl.listSubjects((dev.meterd.v1.ListSubjectsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListSubjectsResponse>) responseObserver);
          break;
        case METHODID_DELETE_SUBJECT:
          serviceImpl.deleteSubject((dev.meterd.v1.DeleteSubjectRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteSubjectResponse>) responseObserver);
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
          getUpsertSubjectsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.UpsertSubjectsRequest,
              dev.meterd.v1.UpsertSubjectsResponse>(
                service, METHODID_UPSERT_SUBJECTS)))
        .addMethod(
          getGetSubjectMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetSubjectRequest,
              dev.meterd.v1.GetSubjectResponse>(
                service, METHODID_GET_SUBJECT)))
        .addMethod(
          getListSubjectsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListSubjectsRequest,
              dev.meterd.v1.ListSubjectsResponse>(
                service, METHODID_LIST_SUBJECTS)))
        .addMethod(
          getDeleteSubjectMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteSubjectRequest,
              dev.meterd.v1.DeleteSubjectResponse>(
                service, METHODID_DELETE_SUBJECT)))
        .build();
  }

  private static abstract class SubjectServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    SubjectServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.SubjectsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("SubjectService");
    }
  }

  private static final class SubjectServiceFileDescriptorSupplier
      extends SubjectServiceBaseDescriptorSupplier {
    SubjectServiceFileDescriptorSupplier() {}
  }

  private static final class SubjectServiceMethodDescriptorSupplier
      extends SubjectServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    SubjectServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (SubjectServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new SubjectServiceFileDescriptorSupplier())
              .addMethod(getUpsertSubjectsMethod())
              .addMethod(getGetSubjectMethod())
              .addMethod(getListSubjectsMethod())
              .addMethod(getDeleteSubjectMethod())
              .build();
        }
      }
    }
    return result;
  }
}
