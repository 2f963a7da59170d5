package dev.meterd.smoke;

import com.google.protobuf.Timestamp;
import dev.meterd.v1.Aggregation;
import dev.meterd.v1.CreateMeterRequest;
import dev.meterd.v1.Event;
import dev.meterd.v1.EventServiceGrpc;
import dev.meterd.v1.IngestEventsRequest;
import dev.meterd.v1.IngestEventsResponse;
import dev.meterd.v1.Meter;
import dev.meterd.v1.MeterQueryRow;
import dev.meterd.v1.MeterServiceGrpc;
import dev.meterd.v1.QueryMeterRequest;
import dev.meterd.v1.QueryMeterResponse;
import dev.meterd.v1.StreamEventsRequest;
import dev.meterd.v1.StreamEventsResponse;
import dev.meterd.v1.WindowSize;
import io.grpc.ClientInterceptor;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Exercises a live meterd through the generated Java stubs: creates a meter, ingests the smoke data set
 * through IngestEvents and through the StreamEvents bidi stream, queries the meter and prints the rows as
 * JSON lines. The data set is the same in every language; see stubs/README.md.
 *
 * <pre>java -cp 'target/classes:target/lib/*' dev.meterd.smoke.Smoke 127.0.0.1:50051 SUFFIX</pre>
 *
 * <p>If METERD_API_KEY is set it is sent as {@code authorization: Bearer <key>}.
 */
public final class Smoke {
  private static final String LANG = "java";
  private static final Instant BASE = Instant.parse("2024-01-01T10:00:00Z");

  /** One event of the data set: id, minutes after BASE, subject, tokens (JSON number text), model. */
  private record SmokeEvent(String id, int minute, String subject, String tokens, String model) {}

  private static final List<SmokeEvent> UNARY_EVENTS = List.of(
      new SmokeEvent("u1", 5, "customer-1", "10", "gpt-4"),
      new SmokeEvent("u2", 20, "customer-1", "5", "gpt-3"),
      new SmokeEvent("u3", 40, "customer-2", "7", "gpt-4"),
      new SmokeEvent("u4", 70, "customer-1", "3", "gpt-4"));
  private static final List<List<SmokeEvent>> STREAM_BATCHES = List.of(
      List.of(new SmokeEvent("s1", 75, "customer-2", "2.5", "gpt-3"),
          new SmokeEvent("s2", 90, "customer-1", "1", "gpt-4")),
      // u1 again: the server must answer DUPLICATE for it.
      List.of(new SmokeEvent("s3", 165, "customer-2", "4", "gpt-4"),
          new SmokeEvent("u1", 5, "customer-1", "10", "gpt-4")));
  private static final int[][] WANT_ACKS = {{2, 0}, {1, 1}}; // accepted, duplicate

  private Smoke() {}

  public static void main(String[] args) throws Exception {
    if (args.length != 2) {
      System.err.println("usage: Smoke HOST:PORT SUFFIX");
      System.exit(2);
    }
    ManagedChannel channel =
        Grpc.newChannelBuilder(args[0], InsecureChannelCredentials.create()).build();
    int code = 0;
    try {
      run(channel, args[1]);
    } catch (IllegalStateException e) {
      System.err.println("smoke (java): " + e.getMessage());
      code = 1;
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
    System.exit(code);
  }

  /** Runs one unary call; a failure names the RPC. */
  private static <T> T rpc(String name, java.util.function.Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      throw new IllegalStateException(name + ": " + e.getStatus().getCode() + ": "
          + e.getStatus().getDescription(), e);
    }
  }

  private static Timestamp ts(Instant t) {
    return Timestamp.newBuilder().setSeconds(t.getEpochSecond()).setNanos(t.getNano()).build();
  }

  private static String rfc3339(Timestamp t) {
    return DateTimeFormatter.ISO_INSTANT.format(Instant.ofEpochSecond(t.getSeconds(), t.getNanos()));
  }

  private static void run(ManagedChannel channel, String suffix) throws Exception {
    List<ClientInterceptor> interceptors = new ArrayList<>();
    String key = System.getenv("METERD_API_KEY");
    if (key != null && !key.isEmpty()) {
      Metadata md = new Metadata();
      md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + key);
      interceptors.add(MetadataUtils.newAttachHeadersInterceptor(md));
    }
    MeterServiceGrpc.MeterServiceBlockingStub meters = MeterServiceGrpc.newBlockingStub(channel)
        .withInterceptors(interceptors.toArray(ClientInterceptor[]::new))
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    EventServiceGrpc.EventServiceBlockingStub events = EventServiceGrpc.newBlockingStub(channel)
        .withInterceptors(interceptors.toArray(ClientInterceptor[]::new))
        .withDeadlineAfter(60, TimeUnit.SECONDS);
    EventServiceGrpc.EventServiceStub asyncEvents = EventServiceGrpc.newStub(channel)
        .withInterceptors(interceptors.toArray(ClientInterceptor[]::new))
        .withDeadlineAfter(60, TimeUnit.SECONDS);

    String slug = "smoke_" + LANG + "_" + suffix;
    String source = "smoke-" + LANG + "-" + suffix;

    rpc("CreateMeter", () -> meters.createMeter(CreateMeterRequest.newBuilder()
        .setMeter(Meter.newBuilder()
            .setSlug(slug)
            .setDescription("cross-language smoke test (" + LANG + ")")
            .setEventType(slug)
            .setAggregation(Aggregation.AGGREGATION_SUM)
            .setValueProperty("$.tokens")
            .putGroupBy("model", "$.model"))
        .build()));

    IngestEventsResponse ing = rpc("IngestEvents", () -> events.ingestEvents(
        IngestEventsRequest.newBuilder().addAllEvents(toProto(UNARY_EVENTS, slug, source)).build()));
    if (ing.getAcceptedCount() != UNARY_EVENTS.size() || ing.getDuplicateCount() != 0) {
      throw new IllegalStateException("IngestEvents: accepted " + ing.getAcceptedCount()
          + " duplicate " + ing.getDuplicateCount());
    }

    // Streaming ingest: every batch in flight at once, then wait for each acknowledgement.
    List<StreamEventsResponse> acks = new ArrayList<>();
    CompletableFuture<Void> done = new CompletableFuture<>();
    StreamObserver<StreamEventsRequest> requests = asyncEvents.streamEvents(
        new StreamObserver<StreamEventsResponse>() {
          @Override
          public void onNext(StreamEventsResponse ack) {
            synchronized (acks) {
              acks.add(ack);
            }
          }

          @Override
          public void onError(Throwable t) {
            done.completeExceptionally(t);
          }

          @Override
          public void onCompleted() {
            done.complete(null);
          }
        });
    for (int i = 0; i < STREAM_BATCHES.size(); i++) {
      requests.onNext(StreamEventsRequest.newBuilder()
          .setSequence(i + 1)
          .addAllEvents(toProto(STREAM_BATCHES.get(i), slug, source))
          .build());
    }
    requests.onCompleted();
    try {
      done.get(60, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("StreamEvents: " + e.getCause().getMessage(), e.getCause());
    }
    synchronized (acks) {
      if (acks.size() != WANT_ACKS.length) {
        throw new IllegalStateException("StreamEvents: got " + acks.size() + " acks, want " + WANT_ACKS.length);
      }
      for (int i = 0; i < acks.size(); i++) {
        StreamEventsResponse ack = acks.get(i);
        if (ack.getSequence() != i + 1
            || ack.getAcceptedCount() != WANT_ACKS[i][0]
            || ack.getDuplicateCount() != WANT_ACKS[i][1]
            || ack.getRejectedCount() != 0
            || ack.getResultsCount() != STREAM_BATCHES.get(i).size()) {
          throw new IllegalStateException("StreamEvents ack " + (i + 1) + ": " + ack);
        }
      }
    }
    System.err.printf("smoke (java): meter %s, ingested %d unary + %d stream batches%n",
        slug, UNARY_EVENTS.size(), acks.size());

    QueryMeterResponse res = rpc("QueryMeter", () -> meters.queryMeter(QueryMeterRequest.newBuilder()
        .setMeter(slug)
        .setFromTime(ts(BASE))
        .setToTime(ts(BASE.plusSeconds(3 * 3600)))
        .setWindowSize(WindowSize.WINDOW_SIZE_HOUR)
        .addGroupBy("subject")
        .addGroupBy("model")
        .build()));
    StringBuilder out = new StringBuilder();
    for (MeterQueryRow r : res.getRowsList()) {
      out.append("{\"window_start\":").append(json(rfc3339(r.getWindowStart())))
          .append(",\"window_end\":").append(json(rfc3339(r.getWindowEnd())))
          .append(",\"subject\":").append(r.hasSubject() ? json(r.getSubject()) : "null")
          .append(",\"group_by\":{");
      String sep = "";
      for (Map.Entry<String, String> e : new TreeMap<>(r.getGroupByMap()).entrySet()) {
        out.append(sep).append(json(e.getKey())).append(':').append(json(e.getValue()));
        sep = ",";
      }
      out.append("},\"value\":").append(number(r.getValue())).append("}\n");
    }
    System.out.print(out);
    System.out.flush();
  }

  private static List<Event> toProto(List<SmokeEvent> evs, String slug, String source) {
    List<Event> out = new ArrayList<>();
    for (SmokeEvent e : evs) {
      out.add(Event.newBuilder()
          .setId(e.id())
          .setSource(source)
          .setSpecversion("1.0")
          .setType(slug)
          .setSubject(e.subject())
          .setTime(ts(BASE.plusSeconds(60L * e.minute())))
          .setDatacontenttype("application/json")
          .setData("{\"tokens\":" + e.tokens() + ",\"model\":" + json(e.model()) + "}")
          .build());
    }
    return out;
  }

  /** A JSON number for a double (JSON has no NaN or infinities: those print as strings). */
  private static String number(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return json(Double.toString(v));
    }
    return Double.toString(v);
  }

  /** A JSON string literal. */
  private static String json(String s) {
    StringBuilder b = new StringBuilder("\"");
    for (char c : s.toCharArray()) {
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        default -> {
          if (c < 0x20) {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }
}
