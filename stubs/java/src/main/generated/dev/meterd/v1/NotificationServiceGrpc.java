package dev.meterd.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
 * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
 * (signed with Standard Webhooks, retried for about 24 hours).
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class NotificationServiceGrpc {

  private NotificationServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "meterd.v1.NotificationService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationChannelRequest,
      dev.meterd.v1.CreateNotificationChannelResponse> getCreateNotificationChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateNotificationChannel",
      requestType = dev.meterd.v1.CreateNotificationChannelRequest.class,
      responseType = dev.meterd.v1.CreateNotificationChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationChannelRequest,
      dev.meterd.v1.CreateNotificationChannelResponse> getCreateNotificationChannelMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationChannelRequest, dev.meterd.v1.CreateNotificationChannelResponse> getCreateNotificationChannelMethod;
    if ((getCreateNotificationChannelMethod = NotificationServiceGrpc.getCreateNotificationChannelMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getCreateNotificationChannelMethod = NotificationServiceGrpc.getCreateNotificationChannelMethod) == null) {
          NotificationServiceGrpc.getCreateNotificationChannelMethod = getCreateNotificationChannelMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateNotificationChannelRequest, dev.meterd.v1.CreateNotificationChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateNotificationChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateNotificationChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateNotificationChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("CreateNotificationChannel"))
              .build();
        }
      }
    }
    return getCreateNotificationChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationChannelRequest,
      dev.meterd.v1.GetNotificationChannelResponse> getGetNotificationChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetNotificationChannel",
      requestType = dev.meterd.v1.GetNotificationChannelRequest.class,
      responseType = dev.meterd.v1.GetNotificationChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationChannelRequest,
      dev.meterd.v1.GetNotificationChannelResponse> getGetNotificationChannelMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationChannelRequest, dev.meterd.v1.GetNotificationChannelResponse> getGetNotificationChannelMethod;
    if ((getGetNotificationChannelMethod = NotificationServiceGrpc.getGetNotificationChannelMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getGetNotificationChannelMethod = NotificationServiceGrpc.getGetNotificationChannelMethod) == null) {
          NotificationServiceGrpc.getGetNotificationChannelMethod = getGetNotificationChannelMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetNotificationChannelRequest, dev.meterd.v1.GetNotificationChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetNotificationChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("GetNotificationChannel"))
              .build();
        }
      }
    }
    return getGetNotificationChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationChannelsRequest,
      dev.meterd.v1.ListNotificationChannelsResponse> getListNotificationChannelsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListNotificationChannels",
      requestType = dev.meterd.v1.ListNotificationChannelsRequest.class,
      responseType = dev.meterd.v1.ListNotificationChannelsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationChannelsRequest,
      dev.meterd.v1.ListNotificationChannelsResponse> getListNotificationChannelsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationChannelsRequest, dev.meterd.v1.ListNotificationChannelsResponse> getListNotificationChannelsMethod;
    if ((getListNotificationChannelsMethod = NotificationServiceGrpc.getListNotificationChannelsMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getListNotificationChannelsMethod = NotificationServiceGrpc.getListNotificationChannelsMethod) == null) {
          NotificationServiceGrpc.getListNotificationChannelsMethod = getListNotificationChannelsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListNotificationChannelsRequest, dev.meterd.v1.ListNotificationChannelsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListNotificationChannels"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationChannelsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationChannelsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("ListNotificationChannels"))
              .build();
        }
      }
    }
    return getListNotificationChannelsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationChannelRequest,
      dev.meterd.v1.UpdateNotificationChannelResponse> getUpdateNotificationChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateNotificationChannel",
      requestType = dev.meterd.v1.UpdateNotificationChannelRequest.class,
      responseType = dev.meterd.v1.UpdateNotificationChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationChannelRequest,
      dev.meterd.v1.UpdateNotificationChannelResponse> getUpdateNotificationChannelMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationChannelRequest, dev.meterd.v1.UpdateNotificationChannelResponse> getUpdateNotificationChannelMethod;
    if ((getUpdateNotificationChannelMethod = NotificationServiceGrpc.getUpdateNotificationChannelMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getUpdateNotificationChannelMethod = NotificationServiceGrpc.getUpdateNotificationChannelMethod) == null) {
          NotificationServiceGrpc.getUpdateNotificationChannelMethod = getUpdateNotificationChannelMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.UpdateNotificationChannelRequest, dev.meterd.v1.UpdateNotificationChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateNotificationChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpdateNotificationChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpdateNotificationChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("UpdateNotificationChannel"))
              .build();
        }
      }
    }
    return getUpdateNotificationChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationChannelRequest,
      dev.meterd.v1.DeleteNotificationChannelResponse> getDeleteNotificationChannelMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteNotificationChannel",
      requestType = dev.meterd.v1.DeleteNotificationChannelRequest.class,
      responseType = dev.meterd.v1.DeleteNotificationChannelResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationChannelRequest,
      dev.meterd.v1.DeleteNotificationChannelResponse> getDeleteNotificationChannelMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationChannelRequest, dev.meterd.v1.DeleteNotificationChannelResponse> getDeleteNotificationChannelMethod;
    if ((getDeleteNotificationChannelMethod = NotificationServiceGrpc.getDeleteNotificationChannelMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getDeleteNotificationChannelMethod = NotificationServiceGrpc.getDeleteNotificationChannelMethod) == null) {
          NotificationServiceGrpc.getDeleteNotificationChannelMethod = getDeleteNotificationChannelMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteNotificationChannelRequest, dev.meterd.v1.DeleteNotificationChannelResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteNotificationChannel"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteNotificationChannelRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteNotificationChannelResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("DeleteNotificationChannel"))
              .build();
        }
      }
    }
    return getDeleteNotificationChannelMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationRuleRequest,
      dev.meterd.v1.CreateNotificationRuleResponse> getCreateNotificationRuleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "CreateNotificationRule",
      requestType = dev.meterd.v1.CreateNotificationRuleRequest.class,
      responseType = dev.meterd.v1.CreateNotificationRuleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationRuleRequest,
      dev.meterd.v1.CreateNotificationRuleResponse> getCreateNotificationRuleMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.CreateNotificationRuleRequest, dev.meterd.v1.CreateNotificationRuleResponse> getCreateNotificationRuleMethod;
    if ((getCreateNotificationRuleMethod = NotificationServiceGrpc.getCreateNotificationRuleMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getCreateNotificationRuleMethod = NotificationServiceGrpc.getCreateNotificationRuleMethod) == null) {
          NotificationServiceGrpc.getCreateNotificationRuleMethod = getCreateNotificationRuleMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.CreateNotificationRuleRequest, dev.meterd.v1.CreateNotificationRuleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "CreateNotificationRule"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateNotificationRuleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.CreateNotificationRuleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("CreateNotificationRule"))
              .build();
        }
      }
    }
    return getCreateNotificationRuleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationRuleRequest,
      dev.meterd.v1.GetNotificationRuleResponse> getGetNotificationRuleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetNotificationRule",
      requestType = dev.meterd.v1.GetNotificationRuleRequest.class,
      responseType = dev.meterd.v1.GetNotificationRuleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationRuleRequest,
      dev.meterd.v1.GetNotificationRuleResponse> getGetNotificationRuleMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationRuleRequest, dev.meterd.v1.GetNotificationRuleResponse> getGetNotificationRuleMethod;
    if ((getGetNotificationRuleMethod = NotificationServiceGrpc.getGetNotificationRuleMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getGetNotificationRuleMethod = NotificationServiceGrpc.getGetNotificationRuleMethod) == null) {
          NotificationServiceGrpc.getGetNotificationRuleMethod = getGetNotificationRuleMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetNotificationRuleRequest, dev.meterd.v1.GetNotificationRuleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetNotificationRule"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationRuleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationRuleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("GetNotificationRule"))
              .build();
        }
      }
    }
    return getGetNotificationRuleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationRulesRequest,
      dev.meterd.v1.ListNotificationRulesResponse> getListNotificationRulesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListNotificationRules",
      requestType = dev.meterd.v1.ListNotificationRulesRequest.class,
      responseType = dev.meterd.v1.ListNotificationRulesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationRulesRequest,
      dev.meterd.v1.ListNotificationRulesResponse> getListNotificationRulesMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationRulesRequest, dev.meterd.v1.ListNotificationRulesResponse> getListNotificationRulesMethod;
    if ((getListNotificationRulesMethod = NotificationServiceGrpc.getListNotificationRulesMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getListNotificationRulesMethod = NotificationServiceGrpc.getListNotificationRulesMethod) == null) {
          NotificationServiceGrpc.getListNotificationRulesMethod = getListNotificationRulesMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListNotificationRulesRequest, dev.meterd.v1.ListNotificationRulesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListNotificationRules"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationRulesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationRulesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("ListNotificationRules"))
              .build();
        }
      }
    }
    return getListNotificationRulesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationRuleRequest,
      dev.meterd.v1.UpdateNotificationRuleResponse> getUpdateNotificationRuleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdateNotificationRule",
      requestType = dev.meterd.v1.UpdateNotificationRuleRequest.class,
      responseType = dev.meterd.v1.UpdateNotificationRuleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationRuleRequest,
      dev.meterd.v1.UpdateNotificationRuleResponse> getUpdateNotificationRuleMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.UpdateNotificationRuleRequest, dev.meterd.v1.UpdateNotificationRuleResponse> getUpdateNotificationRuleMethod;
    if ((getUpdateNotificationRuleMethod = NotificationServiceGrpc.getUpdateNotificationRuleMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getUpdateNotificationRuleMethod = NotificationServiceGrpc.getUpdateNotificationRuleMethod) == null) {
          NotificationServiceGrpc.getUpdateNotificationRuleMethod = getUpdateNotificationRuleMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.UpdateNotificationRuleRequest, dev.meterd.v1.UpdateNotificationRuleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdateNotificationRule"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpdateNotificationRuleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.UpdateNotificationRuleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("UpdateNotificationRule"))
              .build();
        }
      }
    }
    return getUpdateNotificationRuleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationRuleRequest,
      dev.meterd.v1.DeleteNotificationRuleResponse> getDeleteNotificationRuleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "DeleteNotificationRule",
      requestType = dev.meterd.v1.DeleteNotificationRuleRequest.class,
      responseType = dev.meterd.v1.DeleteNotificationRuleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationRuleRequest,
      dev.meterd.v1.DeleteNotificationRuleResponse> getDeleteNotificationRuleMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.DeleteNotificationRuleRequest, dev.meterd.v1.DeleteNotificationRuleResponse> getDeleteNotificationRuleMethod;
    if ((getDeleteNotificationRuleMethod = NotificationServiceGrpc.getDeleteNotificationRuleMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getDeleteNotificationRuleMethod = NotificationServiceGrpc.getDeleteNotificationRuleMethod) == null) {
          NotificationServiceGrpc.getDeleteNotificationRuleMethod = getDeleteNotificationRuleMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.DeleteNotificationRuleRequest, dev.meterd.v1.DeleteNotificationRuleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "DeleteNotificationRule"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteNotificationRuleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.DeleteNotificationRuleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("DeleteNotificationRule"))
              .build();
        }
      }
    }
    return getDeleteNotificationRuleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.TestNotificationRuleRequest,
      dev.meterd.v1.TestNotificationRuleResponse> getTestNotificationRuleMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "TestNotificationRule",
      requestType = dev.meterd.v1.TestNotificationRuleRequest.class,
      responseType = dev.meterd.v1.TestNotificationRuleResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.TestNotificationRuleRequest,
      dev.meterd.v1.TestNotificationRuleResponse> getTestNotificationRuleMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.TestNotificationRuleRequest, dev.meterd.v1.TestNotificationRuleResponse> getTestNotificationRuleMethod;
    if ((getTestNotificationRuleMethod = NotificationServiceGrpc.getTestNotificationRuleMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getTestNotificationRuleMethod = NotificationServiceGrpc.getTestNotificationRuleMethod) == null) {
          NotificationServiceGrpc.getTestNotificationRuleMethod = getTestNotificationRuleMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.TestNotificationRuleRequest, dev.meterd.v1.TestNotificationRuleResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "TestNotificationRule"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.TestNotificationRuleRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.TestNotificationRuleResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("TestNotificationRule"))
              .build();
        }
      }
    }
    return getTestNotificationRuleMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationEventRequest,
      dev.meterd.v1.GetNotificationEventResponse> getGetNotificationEventMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetNotificationEvent",
      requestType = dev.meterd.v1.GetNotificationEventRequest.class,
      responseType = dev.meterd.v1.GetNotificationEventResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationEventRequest,
      dev.meterd.v1.GetNotificationEventResponse> getGetNotificationEventMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.GetNotificationEventRequest, dev.meterd.v1.GetNotificationEventResponse> getGetNotificationEventMethod;
    if ((getGetNotificationEventMethod = NotificationServiceGrpc.getGetNotificationEventMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getGetNotificationEventMethod = NotificationServiceGrpc.getGetNotificationEventMethod) == null) {
          NotificationServiceGrpc.getGetNotificationEventMethod = getGetNotificationEventMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.GetNotificationEventRequest, dev.meterd.v1.GetNotificationEventResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetNotificationEvent"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationEventRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.GetNotificationEventResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("GetNotificationEvent"))
              .build();
        }
      }
    }
    return getGetNotificationEventMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationEventsRequest,
      dev.meterd.v1.ListNotificationEventsResponse> getListNotificationEventsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListNotificationEvents",
      requestType = dev.meterd.v1.ListNotificationEventsRequest.class,
      responseType = dev.meterd.v1.ListNotificationEventsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationEventsRequest,
      dev.meterd.v1.ListNotificationEventsResponse> getListNotificationEventsMethod() {
    io.grpc.MethodDescriptor<dev.meterd.v1.ListNotificationEventsRequest, dev.meterd.v1.ListNotificationEventsResponse> getListNotificationEventsMethod;
    if ((getListNotificationEventsMethod = NotificationServiceGrpc.getListNotificationEventsMethod) == null) {
      synchronized (NotificationServiceGrpc.class) {
        if ((getListNotificationEventsMethod = NotificationServiceGrpc.getListNotificationEventsMethod) == null) {
          NotificationServiceGrpc.getListNotificationEventsMethod = getListNotificationEventsMethod =
              io.grpc.MethodDescriptor.<dev.meterd.v1.ListNotificationEventsRequest, dev.meterd.v1.ListNotificationEventsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListNotificationEvents"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationEventsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.meterd.v1.ListNotificationEventsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new NotificationServiceMethodDescriptorSupplier("ListNotificationEvents"))
              .build();
        }
      }
    }
    return getListNotificationEventsMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static NotificationServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NotificationServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NotificationServiceStub>() {
        @java.lang.Override
        public NotificationServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NotificationServiceStub(channel, callOptions);
        }
      };
    return NotificationServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static NotificationServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NotificationServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NotificationServiceBlockingV2Stub>() {
        @java.lang.Override
        public NotificationServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NotificationServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return NotificationServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static NotificationServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NotificationServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NotificationServiceBlockingStub>() {
        @java.lang.Override
        public NotificationServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NotificationServiceBlockingStub(channel, callOptions);
        }
      };
    return NotificationServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static NotificationServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<NotificationServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<NotificationServiceFutureStub>() {
        @java.lang.Override
        public NotificationServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new NotificationServiceFutureStub(channel, callOptions);
        }
      };
    return NotificationServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Creates a channel. Its signing secret is generated when not given; this response and
     * GetNotificationChannel are the only ones that carry it.
     * </pre>
     */
    default void createNotificationChannel(dev.meterd.v1.CreateNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateNotificationChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a channel by id, with its signing secret.
     * </pre>
     */
    default void getNotificationChannel(dev.meterd.v1.GetNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetNotificationChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists channels (without their signing secrets).
     * </pre>
     */
    default void listNotificationChannels(dev.meterd.v1.ListNotificationChannelsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationChannelsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListNotificationChannelsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replaces a channel's settings (its secret is kept unless a new one is given).
     * </pre>
     */
    default void updateNotificationChannel(dev.meterd.v1.UpdateNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateNotificationChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a channel; rules that use it are kept, and deliveries not yet made to it fail.
     * </pre>
     */
    default void deleteNotificationChannel(dev.meterd.v1.DeleteNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteNotificationChannelMethod(), responseObserver);
    }

    /**
     * <pre>
     * Creates a rule.
     * </pre>
     */
    default void createNotificationRule(dev.meterd.v1.CreateNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getCreateNotificationRuleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets a rule by id.
     * </pre>
     */
    default void getNotificationRule(dev.meterd.v1.GetNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetNotificationRuleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists rules.
     * </pre>
     */
    default void listNotificationRules(dev.meterd.v1.ListNotificationRulesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationRulesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListNotificationRulesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replaces a rule's settings.
     * </pre>
     */
    default void updateNotificationRule(dev.meterd.v1.UpdateNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdateNotificationRuleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Deletes a rule: it produces no more events (events it produced stay, and are still delivered).
     * </pre>
     */
    default void deleteNotificationRule(dev.meterd.v1.DeleteNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getDeleteNotificationRuleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sends a test event with example data to the rule's enabled channels.
     * </pre>
     */
    default void testNotificationRule(dev.meterd.v1.TestNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.TestNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getTestNotificationRuleMethod(), responseObserver);
    }

    /**
     * <pre>
     * Gets an event by id, with each channel's delivery status and attempts.
     * </pre>
     */
    default void getNotificationEvent(dev.meterd.v1.GetNotificationEventRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationEventResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetNotificationEventMethod(), responseObserver);
    }

    /**
     * <pre>
     * Lists events.
     * </pre>
     */
    default void listNotificationEvents(dev.meterd.v1.ListNotificationEventsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationEventsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListNotificationEventsMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service NotificationService.
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public static abstract class NotificationServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return NotificationServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service NotificationService.
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public static final class NotificationServiceStub
      extends io.grpc.stub.AbstractAsyncStub<NotificationServiceStub> {
    private NotificationServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NotificationServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NotificationServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a channel. Its signing secret is generated when not given; this response and
     * GetNotificationChannel are the only ones that carry it.
     * </pre>
     */
    public void createNotificationChannel(dev.meterd.v1.CreateNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateNotificationChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a channel by id, with its signing secret.
     * </pre>
     */
    public void getNotificationChannel(dev.meterd.v1.GetNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetNotificationChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists channels (without their signing secrets).
     * </pre>
     */
    public void listNotificationChannels(dev.meterd.v1.ListNotificationChannelsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationChannelsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListNotificationChannelsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replaces a channel's settings (its secret is kept unless a new one is given).
     * </pre>
     */
    public void updateNotificationChannel(dev.meterd.v1.UpdateNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateNotificationChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a channel; rules that use it are kept, and deliveries not yet made to it fail.
     * </pre>
     */
    public void deleteNotificationChannel(dev.meterd.v1.DeleteNotificationChannelRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationChannelResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteNotificationChannelMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Creates a rule.
     * </pre>
     */
    public void createNotificationRule(dev.meterd.v1.CreateNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getCreateNotificationRuleMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets a rule by id.
     * </pre>
     */
    public void getNotificationRule(dev.meterd.v1.GetNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetNotificationRuleMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists rules.
     * </pre>
     */
    public void listNotificationRules(dev.meterd.v1.ListNotificationRulesRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationRulesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListNotificationRulesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replaces a rule's settings.
     * </pre>
     */
    public void updateNotificationRule(dev.meterd.v1.UpdateNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdateNotificationRuleMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Deletes a rule: it produces no more events (events it produced stay, and are still delivered).
     * </pre>
     */
    public void deleteNotificationRule(dev.meterd.v1.DeleteNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getDeleteNotificationRuleMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sends a test event with example data to the rule's enabled channels.
     * </pre>
     */
    public void testNotificationRule(dev.meterd.v1.TestNotificationRuleRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.TestNotificationRuleResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getTestNotificationRuleMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Gets an event by id, with each channel's delivery status and attempts.
     * </pre>
     */
    public void getNotificationEvent(dev.meterd.v1.GetNotificationEventRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationEventResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetNotificationEventMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Lists events.
     * </pre>
     */
    public void listNotificationEvents(dev.meterd.v1.ListNotificationEventsRequest request,
        io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationEventsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListNotificationEventsMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service NotificationService.
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public static final class NotificationServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<NotificationServiceBlockingV2Stub> {
    private NotificationServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NotificationServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NotificationServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a channel. Its signing secret is generated when not given; this response and
     * GetNotificationChannel are the only ones that carry it.
     * </pre>
     */
    public dev.meterd.v1.CreateNotificationChannelResponse createNotificationChannel(dev.meterd.v1.CreateNotificationChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a channel by id, with its signing secret.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationChannelResponse getNotificationChannel(dev.meterd.v1.GetNotificationChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists channels (without their signing secrets).
     * </pre>
     */
    public dev.meterd.v1.ListNotificationChannelsResponse listNotificationChannels(dev.meterd.v1.ListNotificationChannelsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListNotificationChannelsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a channel's settings (its secret is kept unless a new one is given).
     * </pre>
     */
    public dev.meterd.v1.UpdateNotificationChannelResponse updateNotificationChannel(dev.meterd.v1.UpdateNotificationChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a channel; rules that use it are kept, and deliveries not yet made to it fail.
     * </pre>
     */
    public dev.meterd.v1.DeleteNotificationChannelResponse deleteNotificationChannel(dev.meterd.v1.DeleteNotificationChannelRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a rule.
     * </pre>
     */
    public dev.meterd.v1.CreateNotificationRuleResponse createNotificationRule(dev.meterd.v1.CreateNotificationRuleRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getCreateNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a rule by id.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationRuleResponse getNotificationRule(dev.meterd.v1.GetNotificationRuleRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists rules.
     * </pre>
     */
    public dev.meterd.v1.ListNotificationRulesResponse listNotificationRules(dev.meterd.v1.ListNotificationRulesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListNotificationRulesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a rule's settings.
     * </pre>
     */
    public dev.meterd.v1.UpdateNotificationRuleResponse updateNotificationRule(dev.meterd.v1.UpdateNotificationRuleRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdateNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a rule: it produces no more events (events it produced stay, and are still delivered).
     * </pre>
     */
    public dev.meterd.v1.DeleteNotificationRuleResponse deleteNotificationRule(dev.meterd.v1.DeleteNotificationRuleRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getDeleteNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sends a test event with example data to the rule's enabled channels.
     * </pre>
     */
    public dev.meterd.v1.TestNotificationRuleResponse testNotificationRule(dev.meterd.v1.TestNotificationRuleRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getTestNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets an event by id, with each channel's delivery status and attempts.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationEventResponse getNotificationEvent(dev.meterd.v1.GetNotificationEventRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetNotificationEventMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists events.
     * </pre>
     */
    public dev.meterd.v1.ListNotificationEventsResponse listNotificationEvents(dev.meterd.v1.ListNotificationEventsRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListNotificationEventsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service NotificationService.
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public static final class NotificationServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<NotificationServiceBlockingStub> {
    private NotificationServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NotificationServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NotificationServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a channel. Its signing secret is generated when not given; this response and
     * GetNotificationChannel are the only ones that carry it.
     * </pre>
     */
    public dev.meterd.v1.CreateNotificationChannelResponse createNotificationChannel(dev.meterd.v1.CreateNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a channel by id, with its signing secret.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationChannelResponse getNotificationChannel(dev.meterd.v1.GetNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists channels (without their signing secrets).
     * </pre>
     */
    public dev.meterd.v1.ListNotificationChannelsResponse listNotificationChannels(dev.meterd.v1.ListNotificationChannelsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListNotificationChannelsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a channel's settings (its secret is kept unless a new one is given).
     * </pre>
     */
    public dev.meterd.v1.UpdateNotificationChannelResponse updateNotificationChannel(dev.meterd.v1.UpdateNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a channel; rules that use it are kept, and deliveries not yet made to it fail.
     * </pre>
     */
    public dev.meterd.v1.DeleteNotificationChannelResponse deleteNotificationChannel(dev.meterd.v1.DeleteNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteNotificationChannelMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Creates a rule.
     * </pre>
     */
    public dev.meterd.v1.CreateNotificationRuleResponse createNotificationRule(dev.meterd.v1.CreateNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getCreateNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets a rule by id.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationRuleResponse getNotificationRule(dev.meterd.v1.GetNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists rules.
     * </pre>
     */
    public dev.meterd.v1.ListNotificationRulesResponse listNotificationRules(dev.meterd.v1.ListNotificationRulesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListNotificationRulesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces a rule's settings.
     * </pre>
     */
    public dev.meterd.v1.UpdateNotificationRuleResponse updateNotificationRule(dev.meterd.v1.UpdateNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdateNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Deletes a rule: it produces no more events (events it produced stay, and are still delivered).
     * </pre>
     */
    public dev.meterd.v1.DeleteNotificationRuleResponse deleteNotificationRule(dev.meterd.v1.DeleteNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getDeleteNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sends a test event with example data to the rule's enabled channels.
     * </pre>
     */
    public dev.meterd.v1.TestNotificationRuleResponse testNotificationRule(dev.meterd.v1.TestNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getTestNotificationRuleMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Gets an event by id, with each channel's delivery status and attempts.
     * </pre>
     */
    public dev.meterd.v1.GetNotificationEventResponse getNotificationEvent(dev.meterd.v1.GetNotificationEventRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetNotificationEventMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Lists events.
     * </pre>
     */
    public dev.meterd.v1.ListNotificationEventsResponse listNotificationEvents(dev.meterd.v1.ListNotificationEventsRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListNotificationEventsMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service NotificationService.
   * <pre>
   * Notifications (OpenMeter's notification API): webhook channels, balance-threshold rules, and the events
   * rules produce when an entitlement crosses one of their thresholds, with their delivery to each channel
   * (signed with Standard Webhooks, retried for about 24 hours).
   * </pre>
   */
  public static final class NotificationServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<NotificationServiceFutureStub> {
    private NotificationServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected NotificationServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new NotificationServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Creates a channel. Its signing secret is generated when not given; this response and
     * GetNotificationChannel are the only ones that carry it.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateNotificationChannelResponse> createNotificationChannel(
        dev.meterd.v1.CreateNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateNotificationChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a channel by id, with its signing secret.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetNotificationChannelResponse> getNotificationChannel(
        dev.meterd.v1.GetNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetNotificationChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists channels (without their signing secrets).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListNotificationChannelsResponse> listNotificationChannels(
        dev.meterd.v1.ListNotificationChannelsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListNotificationChannelsMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Replaces a channel's settings (its secret is kept unless a new one is given).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.UpdateNotificationChannelResponse> updateNotificationChannel(
        dev.meterd.v1.UpdateNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateNotificationChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a channel; rules that use it are kept, and deliveries not yet made to it fail.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteNotificationChannelResponse> deleteNotificationChannel(
        dev.meterd.v1.DeleteNotificationChannelRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteNotificationChannelMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Creates a rule.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.CreateNotificationRuleResponse> createNotificationRule(
        dev.meterd.v1.CreateNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getCreateNotificationRuleMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets a rule by id.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetNotificationRuleResponse> getNotificationRule(
        dev.meterd.v1.GetNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetNotificationRuleMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists rules.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListNotificationRulesResponse> listNotificationRules(
        dev.meterd.v1.ListNotificationRulesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListNotificationRulesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Replaces a rule's settings.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.UpdateNotificationRuleResponse> updateNotificationRule(
        dev.meterd.v1.UpdateNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdateNotificationRuleMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Deletes a rule: it produces no more events (events it produced stay, and are still delivered).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.DeleteNotificationRuleResponse> deleteNotificationRule(
        dev.meterd.v1.DeleteNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getDeleteNotificationRuleMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sends a test event with example data to the rule's enabled channels.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.TestNotificationRuleResponse> testNotificationRule(
        dev.meterd.v1.TestNotificationRuleRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getTestNotificationRuleMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Gets an event by id, with each channel's delivery status and attempts.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.GetNotificationEventResponse> getNotificationEvent(
        dev.meterd.v1.GetNotificationEventRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetNotificationEventMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Lists events.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.meterd.v1.ListNotificationEventsResponse> listNotificationEvents(
        dev.meterd.v1.ListNotificationEventsRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListNotificationEventsMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_CREATE_NOTIFICATION_CHANNEL = 0;
  private static final int METHODID_GET_NOTIFICATION_CHANNEL = 1;
  private static final int METHODID_LIST_NOTIFICATION_CHANNELS = 2;
  private static final int METHODID_UPDATE_NOTIFICATION_CHANNEL = 3;
  private static final int METHODID_DELETE_NOTIFICATION_CHANNEL = 4;
  private static final int METHODID_CREATE_NOTIFICATION_RULE = 5;
  private static final int METHODID_GET_NOTIFICATION_RULE = 6;
  private static final int METHODID_LIST_NOTIFICATION_RULES = 7;
  private static final int METHODID_UPDATE_NOTIFICATION_RULE = 8;
  private static final int METHODID_DELETE_NOTIFICATION_RULE = 9;
  private static final int METHODID_TEST_NOTIFICATION_RULE = 10;
  private static final int METHODID_GET_NOTIFICATION_EVENT = 11;
  private static final int METHODID_LIST_NOTIFICATION_EVENTS = 12;

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
        case METHODID_CREATE_NOTIFICATION_CHANNEL:
          serviceImpl.createNotificationChannel((dev.meterd.v1.CreateNotificationChannelRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationChannelResponse>) responseObserver);
          break;
        case METHODID_GET_NOTIFICATION_CHANNEL:
          serviceImpl.getNotificationChannel((dev.meterd.v1.GetNotificationChannelRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationChannelResponse>) responseObserver);
          break;
        case METHODID_LIST_NOTIFICATION_CHANNELS:
          serviceImpl.listNotificationChannels((dev.meterd.v1.ListNotificationChannelsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationChannelsResponse>) responseObserver);
          break;
        case METHODID_UPDATE_NOTIFICATION_CHANNEL:
          serviceImpl.updateNotificationChannel((dev.meterd.v1.UpdateNotificationChannelRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationChannelResponse>) responseObserver);
          break;
        case METHODID_DELETE_NOTIFICATION_CHANNEL:
          serviceImpl.deleteNotificationChannel((dev.meterd.v1.DeleteNotificationChannelRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationChannelResponse>) responseObserver);
          break;
        case METHODID_CREATE_NOTIFICATION_RULE:
          serviceImpl.createNotificationRule((dev.meterd.v1.CreateNotificationRuleRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.CreateNotificationRuleResponse>) responseObserver);
          break;
        case METHODID_GET_NOTIFICATION_RULE:
          serviceImpl.getNotificationRule((dev.meterd.v1.GetNotificationRuleRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationRuleResponse>) responseObserver);
          break;
        case METHODID_LIST_NOTIFICATION_RULES:
          serviceImpl.listNotificationRules((dev.meterd.v1.ListNotificationRulesRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationRulesResponse>) responseObserver);
          break;
        case METHODID_UPDATE_NOTIFICATION_RULE:
          serviceImpl.updateNotificationRule((dev.meterd.v1.UpdateNotificationRuleRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.UpdateNotificationRuleResponse>) responseObserver);
          break;
        case METHODID_DELETE_NOTIFICATION_RULE:
          serviceImpl.deleteNotificationRule((dev.meterd.v1.DeleteNotificationRuleRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.DeleteNotificationRuleResponse>) responseObserver);
          break;
        case METHODID_TEST_NOTIFICATION_RULE:
          serviceImpl.testNotificationRule((dev.meterd.v1.TestNotificationRuleRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.TestNotificationRuleResponse>) responseObserver);
          break;
        case METHODID_GET_NOTIFICATION_EVENT:
          serviceImpl.getNotificationEvent((dev.meterd.v1.GetNotificationEventRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.GetNotificationEventResponse>) responseObserver);
          break;
        case METHODID_LIST_NOTIFICATION_EVENTS:
          serviceImpl.listNotificationEvents((dev.meterd.v1.ListNotificationEventsRequest) request,
              (io.grpc.stub.StreamObserver<dev.meterd.v1.ListNotificationEventsResponse>) responseObserver);
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
          getCreateNotificationChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateNotificationChannelRequest,
              dev.meterd.v1.CreateNotificationChannelResponse>(
                service, METHODID_CREATE_NOTIFICATION_CHANNEL)))
        .addMethod(
          getGetNotificationChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetNotificationChannelRequest,
              dev.meterd.v1.GetNotificationChannelResponse>(
                service, METHODID_GET_NOTIFICATION_CHANNEL)))
        .addMethod(
          getListNotificationChannelsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListNotificationChannelsRequest,
              dev.meterd.v1.ListNotificationChannelsResponse>(
                service, METHODID_LIST_NOTIFICATION_CHANNELS)))
        .addMethod(
          getUpdateNotificationChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.UpdateNotificationChannelRequest,
              dev.meterd.v1.UpdateNotificationChannelResponse>(
                service, METHODID_UPDATE_NOTIFICATION_CHANNEL)))
        .addMethod(
          getDeleteNotificationChannelMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteNotificationChannelRequest,
              dev.meterd.v1.DeleteNotificationChannelResponse>(
                service, METHODID_DELETE_NOTIFICATION_CHANNEL)))
        .addMethod(
          getCreateNotificationRuleMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.CreateNotificationRuleRequest,
              dev.meterd.v1.CreateNotificationRuleResponse>(
                service, METHODID_CREATE_NOTIFICATION_RULE)))
        .addMethod(
          getGetNotificationRuleMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetNotificationRuleRequest,
              dev.meterd.v1.GetNotificationRuleResponse>(
                service, METHODID_GET_NOTIFICATION_RULE)))
        .addMethod(
          getListNotificationRulesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListNotificationRulesRequest,
              dev.meterd.v1.ListNotificationRulesResponse>(
                service, METHODID_LIST_NOTIFICATION_RULES)))
        .addMethod(
          getUpdateNotificationRuleMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.UpdateNotificationRuleRequest,
              dev.meterd.v1.UpdateNotificationRuleResponse>(
                service, METHODID_UPDATE_NOTIFICATION_RULE)))
        .addMethod(
          getDeleteNotificationRuleMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.DeleteNotificationRuleRequest,
              dev.meterd.v1.DeleteNotificationRuleResponse>(
                service, METHODID_DELETE_NOTIFICATION_RULE)))
        .addMethod(
          getTestNotificationRuleMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.TestNotificationRuleRequest,
              dev.meterd.v1.TestNotificationRuleResponse>(
                service, METHODID_TEST_NOTIFICATION_RULE)))
        .addMethod(
          getGetNotificationEventMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.GetNotificationEventRequest,
              dev.meterd.v1.GetNotificationEventResponse>(
                service, METHODID_GET_NOTIFICATION_EVENT)))
        .addMethod(
          getListNotificationEventsMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.meterd.v1.ListNotificationEventsRequest,
              dev.meterd.v1.ListNotificationEventsResponse>(
                service, METHODID_LIST_NOTIFICATION_EVENTS)))
        .build();
  }

  private static abstract class NotificationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    NotificationServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.meterd.v1.NotificationsProto.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("NotificationService");
    }
  }

  private static final class NotificationServiceFileDescriptorSupplier
      extends NotificationServiceBaseDescriptorSupplier {
    NotificationServiceFileDescriptorSupplier() {}
  }

  private static final class NotificationServiceMethodDescriptorSupplier
      extends NotificationServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    NotificationServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (NotificationServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new NotificationServiceFileDescriptorSupplier())
              .addMethod(getCreateNotificationChannelMethod())
              .addMethod(getGetNotificationChannelMethod())
              .addMethod(getListNotificationChannelsMethod())
              .addMethod(getUpdateNotificationChannelMethod())
              .addMethod(getDeleteNotificationChannelMethod())
              .addMethod(getCreateNotificationRuleMethod())
              .addMethod(getGetNotificationRuleMethod())
              .addMethod(getListNotificationRulesMethod())
              .addMethod(getUpdateNotificationRuleMethod())
              .addMethod(getDeleteNotificationRuleMethod())
              .addMethod(getTestNotificationRuleMethod())
              .addMethod(getGetNotificationEventMethod())
              .addMethod(getListNotificationEventsMethod())
              .build();
        }
      }
    }
    return result;
  }
}
