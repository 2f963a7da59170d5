// Exercises a live meterd through the generated TypeScript stubs (ts-proto + @grpc/grpc-js): creates a meter,
// ingests the smoke data set through IngestEvents and through the StreamEvents bidi stream, queries the meter
// and prints the rows as JSON lines. The data set is the same in every language; see stubs/README.md.
//
//   node dist/smoke.js 127.0.0.1:50051 <suffix>
//
// If METERD_API_KEY is set it is sent as `authorization: Bearer <key>`.
import { credentials, Metadata, type ServiceError } from "@grpc/grpc-js";

import { WindowSize } from "./gen/meterd/v1/common";
import {
  Event,
  EventServiceClient,
  IngestEventsRequest,
  type IngestEventsResponse,
  StreamEventsRequest,
  type StreamEventsResponse,
} from "./gen/meterd/v1/events";
import {
  Aggregation,
  CreateMeterRequest,
  type CreateMeterResponse,
  MeterServiceClient,
  QueryMeterRequest,
  type QueryMeterResponse,
} from "./gen/meterd/v1/meters";

const LANG = "ts";
const BASE_MS = Date.UTC(2024, 0, 1, 10, 0, 0);

type SmokeEvent = [id: string, minute: number, subject: string, tokens: string, model: string];

const UNARY_EVENTS: SmokeEvent[] = [
  ["u1", 5, "customer-1", "10", "gpt-4"],
  ["u2", 20, "customer-1", "5", "gpt-3"],
  ["u3", 40, "customer-2", "7", "gpt-4"],
  ["u4", 70, "customer-1", "3", "gpt-4"],
];
const STREAM_BATCHES: SmokeEvent[][] = [
  [["s1", 75, "customer-2", "2.5", "gpt-3"], ["s2", 90, "customer-1", "1", "gpt-4"]],
  // u1 again: the server must answer DUPLICATE for it.
  [["s3", 165, "customer-2", "4", "gpt-4"], ["u1", 5, "customer-1", "10", "gpt-4"]],
];
const WANT_ACKS = [
  { accepted: 2, duplicate: 0 },
  { accepted: 1, duplicate: 1 },
];

function rfc3339(d: Date | undefined): string {
  if (!d) throw new Error("missing timestamp");
  return d.toISOString().replace(/\.000Z$/, "Z");
}

/** Runs one unary call and turns its callback into a promise; errors name the RPC. */
function call<Res>(what: string, start: (cb: (err: ServiceError | null, res: Res) => void) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((err, res) => (err ? reject(new Error(`${what}: ${err.message}`)) : resolve(res)));
  });
}

async function main(): Promise<void> {
  const [addr, suffix] = process.argv.slice(2);
  if (!addr || !suffix || process.argv.length !== 4) {
    process.stderr.write("usage: node dist/smoke.js HOST:PORT SUFFIX\n");
    process.exit(2);
  }
  const deadline = new Date(Date.now() + 60_000);
  const md = new Metadata();
  if (process.env.METERD_API_KEY) md.set("authorization", `Bearer ${process.env.METERD_API_KEY}`);
  const creds = credentials.createInsecure();
  const meters = new MeterServiceClient(addr, creds);
  const events = new EventServiceClient(addr, creds);

  const slug = `smoke_${LANG}_${suffix}`;
  const source = `smoke-${LANG}-${suffix}`;
  const toProto = (evs: SmokeEvent[]): Event[] =>
    evs.map(([id, minute, subject, tokens, model]) =>
      Event.fromPartial({
        id,
        source,
        specversion: "1.0",
        type: slug,
        subject,
        time: new Date(BASE_MS + minute * 60_000),
        datacontenttype: "application/json",
        data: `{"tokens":${tokens},"model":${JSON.stringify(model)}}`,
      }),
    );

  try {
    const req = CreateMeterRequest.fromPartial({
      meter: {
        slug,
        description: `cross-language smoke test (${LANG})`,
        eventType: slug,
        aggregation: Aggregation.AGGREGATION_SUM,
        valueProperty: "$.tokens",
        groupBy: { model: "$.model" },
      },
    });
    await call<CreateMeterResponse>("CreateMeter", (cb) => meters.createMeter(req, md, { deadline }, cb));

    const ing = await call<IngestEventsResponse>("IngestEvents", (cb) =>
      events.ingestEvents(IngestEventsRequest.fromPartial({ events: toProto(UNARY_EVENTS) }), md, { deadline }, cb),
    );
    if (ing.acceptedCount !== UNARY_EVENTS.length || ing.duplicateCount !== 0) {
      throw new Error(`IngestEvents: accepted ${ing.acceptedCount} duplicate ${ing.duplicateCount}`);
    }

    // Streaming ingest: every batch in flight at once, then wait for each acknowledgement.
    const acks = await new Promise<StreamEventsResponse[]>((resolve, reject) => {
      const got: StreamEventsResponse[] = [];
      const call = events.streamEvents(md, { deadline });
      call.on("data", (ack: StreamEventsResponse) => got.push(ack));
      call.on("error", (e: Error) => reject(new Error(`StreamEvents: ${e.message}`)));
      call.on("end", () => resolve(got));
      STREAM_BATCHES.forEach((batch, i) =>
        call.write(StreamEventsRequest.fromPartial({ sequence: i + 1, events: toProto(batch) })),
      );
      call.end();
    });
    if (acks.length !== WANT_ACKS.length) throw new Error(`StreamEvents: got ${acks.length} acks, want ${WANT_ACKS.length}`);
    acks.forEach((ack, i) => {
      const w = WANT_ACKS[i];
      if (
        ack.sequence !== i + 1 ||
        ack.acceptedCount !== w.accepted ||
        ack.duplicateCount !== w.duplicate ||
        ack.rejectedCount !== 0 ||
        ack.results.length !== STREAM_BATCHES[i].length
      ) {
        throw new Error(`StreamEvents ack ${i + 1}: ${JSON.stringify(ack)}`);
      }
    });
    process.stderr.write(`smoke (ts): meter ${slug}, ingested ${UNARY_EVENTS.length} unary + ${acks.length} stream batches\n`);

    const query = QueryMeterRequest.fromPartial({
      meter: slug,
      fromTime: new Date(BASE_MS),
      toTime: new Date(BASE_MS + 3 * 3600_000),
      windowSize: WindowSize.WINDOW_SIZE_HOUR,
      groupBy: ["subject", "model"],
    });
    const res = await call<QueryMeterResponse>("QueryMeter", (cb) => meters.queryMeter(query, md, { deadline }, cb));
    for (const r of res.rows) {
      const groupBy: Record<string, string> = {};
      for (const k of Object.keys(r.groupBy).sort()) groupBy[k] = r.groupBy[k];
      process.stdout.write(
        JSON.stringify({
          window_start: rfc3339(r.windowStart),
          window_end: rfc3339(r.windowEnd),
          subject: r.subject ?? null,
          group_by: groupBy,
          value: r.value,
        }) + "\n",
      );
    }
  } finally {
    meters.close();
    events.close();
  }
}

main().catch((e: Error) => {
  process.stderr.write(`smoke (ts): ${e.message}\n`);
  process.exit(1);
});
