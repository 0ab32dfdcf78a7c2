package diagnose_test

import (
	"fmt"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/diagnose"
)

// Three orders are published to Kafka; the one sent to partition 5 is never
// processed, and one charge fails with a new provider API version.
func Example() {
	at := time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
	var spans []diagnose.Span
	for i, part := range []string{"2", "5", "1", "2"} {
		tid := trace.TraceID{1, byte(i)}
		id := func(n byte) trace.SpanID { return trace.SpanID{byte(i), n} }
		ms := func(n int) time.Time { return at.Add(time.Duration(n) * time.Millisecond) }
		spans = append(spans,
			diagnose.Span{TraceID: tid, SpanID: id(1), Name: "POST /orders", Kind: trace.SpanKindServer, Service: "orders", Start: ms(0), End: ms(10)},
			diagnose.Span{TraceID: tid, SpanID: id(2), ParentID: id(1), Name: "orders publish", Kind: trace.SpanKindProducer, Service: "orders",
				Start: ms(5), End: ms(6), Attributes: []attribute.KeyValue{semconv.MessagingDestinationName("orders"), semconv.MessagingDestinationPartitionID(part)}})
		if part == "5" {
			continue
		}
		version, status := "2024-06-20", codes.Unset
		if i == 2 {
			version, status = "2025-01-15", codes.Error
		}
		spans = append(spans,
			diagnose.Span{TraceID: tid, SpanID: id(3), ParentID: id(2), Name: "orders process", Kind: trace.SpanKindConsumer, Service: "payments", Start: ms(20), End: ms(30)},
			diagnose.Span{TraceID: tid, SpanID: id(4), ParentID: id(3), Name: "payments.charge", Kind: trace.SpanKindInternal, Service: "payments",
				Start: ms(21), End: ms(29), Status: status, StatusMessage: "provider answered 401",
				Attributes: []attribute.KeyValue{attribute.String("payment.provider.api_version", version)}})
	}
	ds := diagnose.Diagnose(spans)
	for _, d := range ds {
		fmt.Println(d.TraceID, d.Duration)
		for _, f := range d.Findings {
			fmt.Println(" ", f)
		}
	}
	for _, diff := range diagnose.Compare(ds) {
		fmt.Println(diff)
	}
	// Output:
	// 01000000000000000000000000000000 30ms
	// 01010000000000000000000000000000 10ms
	//   lost-message: orders orders publish: the message sent to orders partition 5 was never processed: no consumer span in the trace
	// 01020000000000000000000000000000 30ms
	//   error-absorbed: payments payments.charge: failed: provider answered 401; it failed asynchronously, under payments orders process, which did not fail: the request that started the trace did not see it
	// 01030000000000000000000000000000 30ms
	// payments payments.charge: payment.provider.api_version=2025-01-15 in 100% of failed (1/1), 0% of the others (0/2)
	// orders orders publish: messaging.destination.partition.id=5 in 100% of lost (1/1), 0% of the others (0/3)
}
