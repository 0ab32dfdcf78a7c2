package kafkatrace_test

import (
	"context"
	"fmt"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/kafkatrace"
)

// An order travels from a producer to a consumer group: the consumer's
// process span continues the trace of the request that produced it.
func Example() {
	cluster, _ := kfake.NewCluster(kfake.SeedTopics(6, "orders"))
	defer cluster.Close()
	spans := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))

	// Producer: the hooks are all it needs.
	ptr := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp))
	prod, _ := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.WithHooks(ptr))
	defer prod.Close()
	ctx, req := tp.Tracer("orders").Start(context.Background(), "orders.create")
	_ = prod.ProduceSync(ctx, &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: []byte(`{"total":12}`)}).FirstErr()
	req.End()

	// Consumer: the work for each polled record runs in a process span.
	ctr := kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp))
	cons, _ := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.WithHooks(ctr),
		kgo.ConsumerGroup("payments"), kgo.ConsumeTopics("orders"))
	defer cons.Close()
	cons.PollRecords(context.Background(), 1).EachRecord(func(r *kgo.Record) {
		_ = ctr.Process(context.Background(), r, func(ctx context.Context) error {
			return nil // charge the order
		})
	})

	byID := map[string]string{}
	for _, s := range spans.GetSpans() {
		byID[s.SpanContext.SpanID().String()] = s.Name
	}
	for _, s := range spans.GetSpans() {
		parent := byID[s.Parent.SpanID().String()]
		if parent == "" {
			parent = "(root)"
		}
		fmt.Printf("%-14s <- %s, same trace: %t\n", s.Name, parent, s.SpanContext.TraceID() == req.SpanContext().TraceID())
	}
	// Output:
	// send orders    <- orders.create, same trace: true
	// orders.create  <- (root), same trace: true
	// process orders <- send orders, same trace: true
}
