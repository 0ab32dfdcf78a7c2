package kafkatrace_test

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// One order = one trace: the request span, the send span of the record on
// whichever partition it lands, and the process span of the consumer
// group member that handles it, with the conventions' attributes.
func TestProduceConsume_OneTraceAcrossPartitions(t *testing.T) {
	e := newEnv(t, 6, "orders")
	ptr := e.tracer()
	prod := e.client(kgo.WithHooks(ptr), kgo.ClientID("relay"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))

	const n = 6
	roots := make(map[string]trace.Span) // key -> request span
	var recs []*kgo.Record
	for i := range n {
		key := fmt.Sprintf("order-%d", i)
		ctx, root := e.tp.Tracer("test").Start(context.Background(), "checkout.place_order")
		roots[key] = root
		recs = append(recs, &kgo.Record{Topic: "orders", Key: []byte(key), Value: []byte("{}"), Context: ctx})
		root.End()
	}
	produce(t, prod, recs...)

	ctr := e.tracer()
	cons := e.consumer(ctr, kgo.ConsumerGroup("payments"), kgo.ConsumeTopics("orders"), kgo.ClientID("payments-1"))
	got := poll(t, cons, n)
	partitions := make(map[int32]bool)
	for _, r := range got {
		var inner trace.SpanContext
		err := ctr.Process(context.Background(), r, func(ctx context.Context) error {
			inner = trace.SpanContextFromContext(ctx)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		partitions[r.Partition] = true

		send := e.rec.Span(t, "send orders", tracingtest.OfKind(trace.SpanKindProducer), tracingtest.ChildOf(roots[string(r.Key)]))
		proc := e.rec.Span(t, "process orders", tracingtest.OfKind(trace.SpanKindConsumer), tracingtest.WithSpanContext(inner), tracingtest.ChildOf(send))
		if !proc.Parent().IsRemote() {
			t.Errorf("%s: process span's parent is not remote", r.Key)
		}
		if got := header(r, "traceparent"); len(got) != 1 || got[0] != traceparent(send.SpanContext()) {
			t.Errorf("%s: traceparent headers %q, want the send span's", r.Key, got)
		}

		host, port, _ := net.SplitHostPort(e.brokers[0])
		portN, _ := strconv.Atoi(port)
		partition := strconv.Itoa(int(r.Partition))
		both := []attribute.KeyValue{
			semconv.MessagingSystemKey.String("kafka"),
			semconv.MessagingDestinationNameKey.String("orders"),
			semconv.MessagingDestinationPartitionIDKey.String(partition),
			semconv.MessagingKafkaOffsetKey.Int64(r.Offset),
			semconv.MessagingKafkaMessageKeyKey.String(string(r.Key)),
			semconv.ServerAddressKey.String(host),
			semconv.ServerPortKey.Int(portN),
		}
		e.rec.AssertAttrs(t, send, slices.Concat(both, []attribute.KeyValue{
			semconv.MessagingOperationNameKey.String("send"),
			semconv.MessagingOperationTypeKey.String("send"),
			semconv.MessagingClientIDKey.String("relay"),
		})...)
		e.rec.AssertAttrs(t, proc, slices.Concat(both, []attribute.KeyValue{
			semconv.MessagingOperationNameKey.String("process"),
			semconv.MessagingOperationTypeKey.String("process"),
			semconv.MessagingConsumerGroupNameKey.String("payments"),
			semconv.MessagingClientIDKey.String("payments-1"),
		})...)
		for _, s := range []sdktrace.ReadOnlySpan{send, proc} { // opt-in attributes are off by default
			e.rec.AssertNoAttrs(t, s, semconv.MessagingKafkaMessageTombstoneKey, semconv.MessagingMessageBodySizeKey, kafkatrace.TimeInQueueKey)
		}
	}
	if len(partitions) != 6 {
		t.Errorf("records landed on partitions %v, want all 6", partitions)
	}
	if got := len(e.rec.Find("send orders")); got != n {
		t.Errorf("%d send spans, want %d", got, n)
	}
}

// The outbox relay restores the request's context on the record and
// produces with another context: the send span belongs to the record's.
func TestProducer_ParentsOnRecordContext(t *testing.T) {
	e := newEnv(t, 1, "orders")
	prod := e.client(kgo.WithHooks(e.tracer()))
	ctx, req := e.tp.Tracer("test").Start(context.Background(), "orders.create")
	req.End()
	_, relay := e.tp.Tracer("test").Start(context.Background(), "outbox.relay")
	defer relay.End()
	r := &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx}
	if err := prod.ProduceSync(trace.ContextWithSpan(context.Background(), relay), r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	send := e.rec.Span(t, "send orders")
	e.rec.AssertParent(t, req, send)
	if got := trace.SpanContextFromContext(r.Context); got.SpanID() != send.SpanContext().SpanID() {
		t.Errorf("record context after produce holds span %s, want the send span", got.SpanID())
	}
}

// A record the broker refuses ends its send span with the Kafka error.
func TestProducer_ErrorTypeIsKafkaCode(t *testing.T) {
	e := newEnv(t, 1, "orders")
	prod := e.client(kgo.WithHooks(e.tracer()), kgo.ProducerBatchMaxBytes(1024))
	err := prod.ProduceSync(context.Background(), &kgo.Record{Topic: "orders", Value: make([]byte, 4096)}).FirstErr()
	if err == nil {
		t.Fatal("oversized record produced")
	}
	send := e.rec.Span(t, "send orders")
	e.rec.AssertError(t, send, "MESSAGE_TOO_LARGE")
	e.rec.AssertNoAttrs(t, send, semconv.MessagingDestinationPartitionIDKey) // never written to one
}

// Records still buffered when the client closes end their send spans with
// the client's error, named.
func TestProducer_CloseEndsBufferedSpans(t *testing.T) {
	e := newEnv(t, 1, "orders")
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.WithHooks(e.tracer()), kgo.ManualFlushing())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	cl.Produce(context.Background(), &kgo.Record{Topic: "orders", Value: []byte("v")}, func(_ *kgo.Record, err error) { done <- err })
	cl.Close()
	if err := <-done; err == nil {
		t.Fatal("buffered record produced despite manual flushing")
	}
	e.rec.AssertError(t, e.rec.Span(t, "send orders"), "kgo.ErrClientClosed")
}
