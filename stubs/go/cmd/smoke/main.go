// Command smoke exercises a live meterd through the generated Go stubs: it creates a meter, ingests the
// smoke data set through IngestEvents and through the StreamEvents bidi stream, queries the meter and prints
// the rows as JSON lines. The data set is the same in every language; see stubs/README.md.
//
//	smoke 127.0.0.1:50051 <suffix>
//
// If METERD_API_KEY is set it is sent as `authorization: Bearer <key>`.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/types/known/timestamppb"

	meterdv1 "meterd.dev/stubs/go/meterd/v1"
)

const lang = "go"

// base is the start of the smoke data: every event time is base plus some minutes.
var base = time.Date(2024, 1, 1, 10, 0, 0, 0, time.UTC)

type smokeEvent struct {
	id      string
	minute  int
	subject string
	tokens  string // JSON number text
	model   string
}

var (
	unaryEvents = []smokeEvent{
		{"u1", 5, "customer-1", "10", "gpt-4"},
		{"u2", 20, "customer-1", "5", "gpt-3"},
		{"u3", 40, "customer-2", "7", "gpt-4"},
		{"u4", 70, "customer-1", "3", "gpt-4"},
	}
	streamBatches = [][]smokeEvent{
		{{"s1", 75, "customer-2", "2.5", "gpt-3"}, {"s2", 90, "customer-1", "1", "gpt-4"}},
		// u1 again: the server must answer DUPLICATE for it.
		{{"s3", 165, "customer-2", "4", "gpt-4"}, {"u1", 5, "customer-1", "10", "gpt-4"}},
	}
)

// row is one printed line; field order matches the other languages.
type row struct {
	WindowStart string            `json:"window_start"`
	WindowEnd   string            `json:"window_end"`
	Subject     *string           `json:"subject"`
	GroupBy     map[string]string `json:"group_by"`
	Value       float64           `json:"value"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: smoke HOST:PORT SUFFIX")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "smoke (go):", err)
		os.Exit(1)
	}
}

func run(addr, suffix string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if key := os.Getenv("METERD_API_KEY"); key != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+key)
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	meters := meterdv1.NewMeterServiceClient(conn)
	events := meterdv1.NewEventServiceClient(conn)

	slug := fmt.Sprintf("smoke_%s_%s", lang, suffix)
	source := "smoke-" + lang + "-" + suffix
	if _, err := meters.CreateMeter(ctx, &meterdv1.CreateMeterRequest{Meter: &meterdv1.Meter{
		Slug:          slug,
		Description:   "cross-language smoke test (" + lang + ")",
		EventType:     slug,
		Aggregation:   meterdv1.Aggregation_AGGREGATION_SUM,
		ValueProperty: "$.tokens",
		GroupBy:       map[string]string{"model": "$.model"},
	}}); err != nil {
		return fmt.Errorf("CreateMeter: %w", err)
	}

	toProto := func(evs []smokeEvent) []*meterdv1.Event {
		out := make([]*meterdv1.Event, 0, len(evs))
		for _, e := range evs {
			out = append(out, &meterdv1.Event{
				Id:              e.id,
				Source:          source,
				Specversion:     "1.0",
				Type:            slug,
				Subject:         e.subject,
				Time:            timestamppb.New(base.Add(time.Duration(e.minute) * time.Minute)),
				Datacontenttype: "application/json",
				Data:            fmt.Sprintf(`{"tokens":%s,"model":%q}`, e.tokens, e.model),
			})
		}
		return out
	}

	// Unary ingest.
	ing, err := events.IngestEvents(ctx, &meterdv1.IngestEventsRequest{Events: toProto(unaryEvents)})
	if err != nil {
		return fmt.Errorf("IngestEvents: %w", err)
	}
	if ing.AcceptedCount != int32(len(unaryEvents)) || ing.DuplicateCount != 0 {
		return fmt.Errorf("IngestEvents: accepted %d duplicate %d, want %d and 0", ing.AcceptedCount, ing.DuplicateCount, len(unaryEvents))
	}

	// Streaming ingest: every batch in flight at once, then wait for each acknowledgement.
	stream, err := events.StreamEvents(ctx)
	if err != nil {
		return fmt.Errorf("StreamEvents: %w", err)
	}
	for i, batch := range streamBatches {
		if err := stream.Send(&meterdv1.StreamEventsRequest{Sequence: int64(i + 1), Events: toProto(batch)}); err != nil {
			return fmt.Errorf("StreamEvents send %d: %w", i+1, err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		return fmt.Errorf("StreamEvents close: %w", err)
	}
	type want struct{ accepted, duplicate int32 }
	wants := []want{{2, 0}, {1, 1}}
	acks := 0
	for {
		ack, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("StreamEvents recv: %w", err)
		}
		if acks >= len(wants) || ack.Sequence != int64(acks+1) {
			return fmt.Errorf("StreamEvents: unexpected ack for sequence %d after %d acks", ack.Sequence, acks)
		}
		w := wants[acks]
		if ack.AcceptedCount != w.accepted || ack.DuplicateCount != w.duplicate || ack.RejectedCount != 0 ||
			len(ack.Results) != len(streamBatches[acks]) {
			return fmt.Errorf("StreamEvents ack %d: accepted %d duplicate %d rejected %d results %d, want %d %d 0 %d",
				ack.Sequence, ack.AcceptedCount, ack.DuplicateCount, ack.RejectedCount, len(ack.Results),
				w.accepted, w.duplicate, len(streamBatches[acks]))
		}
		acks++
	}
	if acks != len(wants) {
		return fmt.Errorf("StreamEvents: got %d acks, want %d", acks, len(wants))
	}
	fmt.Fprintf(os.Stderr, "smoke (go): meter %s, ingested %d unary + %d stream batches\n", slug, len(unaryEvents), acks)

	// Query.
	res, err := meters.QueryMeter(ctx, &meterdv1.QueryMeterRequest{
		Meter:      slug,
		FromTime:   timestamppb.New(base),
		ToTime:     timestamppb.New(base.Add(3 * time.Hour)),
		WindowSize: meterdv1.WindowSize_WINDOW_SIZE_HOUR,
		GroupBy:    []string{"subject", "model"},
	})
	if err != nil {
		return fmt.Errorf("QueryMeter: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, r := range res.Rows {
		gb := map[string]string{}
		keys := make([]string, 0, len(r.GroupBy))
		for k := range r.GroupBy {
			keys = append(keys, k)
		}
		sort.Strings(keys) // encoding/json sorts map keys anyway
		for _, k := range keys {
			gb[k] = r.GroupBy[k]
		}
		if err := enc.Encode(row{
			WindowStart: rfc3339(r.WindowStart),
			WindowEnd:   rfc3339(r.WindowEnd),
			Subject:     r.Subject,
			GroupBy:     gb,
			Value:       r.Value,
		}); err != nil {
			return err
		}
	}
	return nil
}

func rfc3339(ts *timestamppb.Timestamp) string {
	return ts.AsTime().UTC().Format(time.RFC3339Nano)
}
