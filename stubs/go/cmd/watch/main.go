// Command watch follows a subject's entitlement values over WatchEntitlementValues through the generated Go
// stubs: it creates a meter, a feature on it and a metered entitlement (100 credits) for a subject, opens a
// watch on the subject, then ingests 110 tokens and waits for the message that says the credit is gone.
// Each value it receives is printed as one JSON line (see stubs/README.md).
//
//	watch 127.0.0.1:50051 <suffix>
//
// If METERD_API_KEY is set it is sent as `authorization: Bearer <key>`.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	meterdv1 "meterd.dev/stubs/go/meterd/v1"
)

// line is one printed value; field order matches what tests/crosslang expects.
type line struct {
	Kind      string   `json:"kind"` // "snapshot" or "update"
	Subject   string   `json:"subject"`
	Feature   string   `json:"feature"`
	HasAccess bool     `json:"has_access"`
	Balance   float64  `json:"balance"`
	Usage     float64  `json:"usage"`
	Overage   float64  `json:"overage"`
	Reasons   []string `json:"reasons"`
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: watch HOST:PORT SUFFIX")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "watch (go):", err)
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
	features := meterdv1.NewFeatureServiceClient(conn)
	entitlements := meterdv1.NewEntitlementServiceClient(conn)
	events := meterdv1.NewEventServiceClient(conn)

	slug := "watch_go_" + suffix
	subject := "watcher-" + suffix
	if _, err := meters.CreateMeter(ctx, &meterdv1.CreateMeterRequest{Meter: &meterdv1.Meter{
		Slug: slug, EventType: slug, Aggregation: meterdv1.Aggregation_AGGREGATION_SUM, ValueProperty: "$.tokens",
	}}); err != nil {
		return fmt.Errorf("CreateMeter: %w", err)
	}
	if _, err := features.CreateFeature(ctx, &meterdv1.CreateFeatureRequest{Feature: &meterdv1.Feature{
		Key: slug, Name: "watched tokens", MeterSlug: slug,
	}}); err != nil {
		return fmt.Errorf("CreateFeature: %w", err)
	}
	if _, err := entitlements.CreateEntitlement(ctx, &meterdv1.CreateEntitlementRequest{
		SubjectKey: subject,
		Entitlement: &meterdv1.Entitlement{FeatureKey: slug, Type: &meterdv1.Entitlement_Metered{
			Metered: &meterdv1.MeteredEntitlement{
				UsagePeriod:     &meterdv1.RecurringPeriod{Interval: meterdv1.PeriodInterval_PERIOD_INTERVAL_MONTH},
				IssueAfterReset: proto.Float64(100),
			},
		}},
	}); err != nil {
		return fmt.Errorf("CreateEntitlement: %w", err)
	}

	// The watch: first a snapshot of the subject's entitlements, then a message per change.
	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	stream, err := entitlements.WatchEntitlementValues(watchCtx, &meterdv1.WatchEntitlementValuesRequest{
		SubjectKeys:      []string{subject},
		CoalesceInterval: durationpb.New(50 * time.Millisecond),
	})
	if err != nil {
		return fmt.Errorf("WatchEntitlementValues: %w", err)
	}
	enc := json.NewEncoder(os.Stdout)
	emit := func(kind string, u *meterdv1.EntitlementValueUpdate) error {
		reasons := []string{}
		for _, r := range u.Reasons {
			reasons = append(reasons, r.String())
		}
		v := u.GetValue()
		return enc.Encode(line{kind, u.SubjectKey, u.FeatureKey, v.GetHasAccess(), v.GetBalance(), v.GetUsage(),
			v.GetOverage(), reasons})
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("WatchEntitlementValues recv (snapshot): %w", err)
		}
		for _, u := range msg.Updates {
			if err := emit("snapshot", u); err != nil {
				return err
			}
		}
		if msg.SnapshotComplete {
			break
		}
	}

	// Use up the credit: 110 tokens against 100.
	now := time.Now().UTC()
	var batch []*meterdv1.Event
	for i, tokens := range []int{30, 30, 50} {
		batch = append(batch, &meterdv1.Event{
			Id: fmt.Sprintf("w%d", i), Source: "watch-go-" + suffix, Specversion: "1.0", Type: slug,
			Subject: subject, Time: timestamppb.New(now), Data: fmt.Sprintf(`{"tokens":%d}`, tokens),
		})
	}
	if _, err := events.IngestEvents(ctx, &meterdv1.IngestEventsRequest{Events: batch}); err != nil {
		return fmt.Errorf("IngestEvents: %w", err)
	}
	for {
		msg, err := stream.Recv()
		if err != nil {
			return fmt.Errorf("WatchEntitlementValues recv: %w", err)
		}
		for _, u := range msg.Updates {
			if err := emit("update", u); err != nil {
				return err
			}
			if u.GetValue().GetUsage() == 110 {
				return nil // the value every later GetEntitlementValue gives
			}
		}
	}
}
