package kafkatrace_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/kafkatrace"
)

// One order = one trace: the request span, the send span of the record on
// whichever partition it lands, and the process span of the consumer
// group member that handles it, with the conventions' attributes.
func TestProduceConsume_OneTraceAcrossPartitions(t *testing.T) {
	e := newEnv(t, 6, "orders")
	ptr := e.tracer()
	prod := e.client(kgo.WithHooks(ptr), kgo.ClientID("relay"), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))

	const n = 6
	roots := make(map[string]trace.SpanContext) // key -> request span
	var recs []*kgo.Record
	for i := range n {
		key := fmt.Sprintf("order-%d", i)
		ctx, root := e.tp.Tracer("test").Start(context.Background(), "checkout.place_order")
		roots[key] = root.SpanContext()
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

		root := roots[string(r.Key)]
		proc := e.spanOf(inner)
		send := e.spanOf(proc.Parent())
		if proc.SpanContext().TraceID() != root.TraceID() {
			t.Errorf("%s: process span in trace %s, request in %s", r.Key, proc.SpanContext().TraceID(), root.TraceID())
		}
		if send.Name() != "send orders" || send.SpanKind() != trace.SpanKindProducer || send.Parent().SpanID() != root.SpanID() {
			t.Errorf("%s: process parent is %q (%s) with parent %s, want send orders (producer) under the request",
				r.Key, send.Name(), send.SpanKind(), send.Parent().SpanID())
		}
		if proc.Name() != "process orders" || proc.SpanKind() != trace.SpanKindConsumer || !proc.Parent().IsRemote() {
			t.Errorf("%s: process span %q kind %s remote parent %t", r.Key, proc.Name(), proc.SpanKind(), proc.Parent().IsRemote())
		}
		if got := header(r, "traceparent"); len(got) != 1 || got[0] != traceparent(send.SpanContext()) {
			t.Errorf("%s: traceparent headers %q, want the send span's", r.Key, got)
		}

		host, port, _ := net.SplitHostPort(e.brokers[0])
		portN, _ := strconv.Atoi(port)
		partition := strconv.Itoa(int(r.Partition))
		wantAttrs(t, send.Attributes(), map[attribute.Key]attribute.Value{
			semconv.MessagingSystemKey:                 attribute.StringValue("kafka"),
			semconv.MessagingOperationNameKey:          attribute.StringValue("send"),
			semconv.MessagingOperationTypeKey:          attribute.StringValue("send"),
			semconv.MessagingDestinationNameKey:        attribute.StringValue("orders"),
			semconv.MessagingDestinationPartitionIDKey: attribute.StringValue(partition),
			semconv.MessagingKafkaOffsetKey:            attribute.Int64Value(r.Offset),
			semconv.MessagingKafkaMessageKeyKey:        attribute.StringValue(string(r.Key)),
			semconv.MessagingClientIDKey:               attribute.StringValue("relay"),
			semconv.ServerAddressKey:                   attribute.StringValue(host),
			semconv.ServerPortKey:                      attribute.IntValue(portN),
		})
		wantAttrs(t, proc.Attributes(), map[attribute.Key]attribute.Value{
			semconv.MessagingSystemKey:                 attribute.StringValue("kafka"),
			semconv.MessagingOperationNameKey:          attribute.StringValue("process"),
			semconv.MessagingOperationTypeKey:          attribute.StringValue("process"),
			semconv.MessagingDestinationNameKey:        attribute.StringValue("orders"),
			semconv.MessagingDestinationPartitionIDKey: attribute.StringValue(partition),
			semconv.MessagingKafkaOffsetKey:            attribute.Int64Value(r.Offset),
			semconv.MessagingKafkaMessageKeyKey:        attribute.StringValue(string(r.Key)),
			semconv.MessagingConsumerGroupNameKey:      attribute.StringValue("payments"),
			semconv.MessagingClientIDKey:               attribute.StringValue("payments-1"),
			semconv.ServerAddressKey:                   attribute.StringValue(host),
			semconv.ServerPortKey:                      attribute.IntValue(portN),
		})
		for _, s := range []interface{ Attributes() []attribute.KeyValue }{send, proc} {
			a := attrs(s.Attributes())
			for _, k := range []attribute.Key{semconv.MessagingKafkaMessageTombstoneKey, semconv.MessagingMessageBodySizeKey, kafkatrace.TimeInQueueKey} {
				if v, ok := a[k]; ok {
					t.Errorf("%s: unexpected %s=%s by default", r.Key, k, v.String())
				}
			}
		}
	}
	if len(partitions) != 6 {
		t.Errorf("records landed on partitions %v, want all 6", partitions)
	}
	if got := len(e.spans("send orders")); got != n {
		t.Errorf("%d send spans, want %d", got, n)
	}
}

// wantAttrs checks that got holds every attribute of want, with its value.
func wantAttrs(t *testing.T, got []attribute.KeyValue, want map[attribute.Key]attribute.Value) {
	t.Helper()
	m := attrs(got)
	for k, v := range want {
		if g, ok := m[k]; !ok || g != v {
			t.Errorf("attribute %s = %q, want %q", k, g.String(), v.String())
		}
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
	send := e.spans("send orders")[0]
	if send.Parent().SpanID() != req.SpanContext().SpanID() {
		t.Errorf("send span parent %s, want the record context's span %s", send.Parent().SpanID(), req.SpanContext().SpanID())
	}
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
	send := e.spans("send orders")
	if len(send) != 1 {
		t.Fatalf("%d send spans, want 1", len(send))
	}
	if send[0].Status().Code != codes.Error {
		t.Errorf("status %v, want Error", send[0].Status())
	}
	wantAttrs(t, send[0].Attributes(), map[attribute.Key]attribute.Value{
		semconv.ErrorTypeKey: attribute.StringValue("MESSAGE_TOO_LARGE"),
	})
	if _, ok := attrs(send[0].Attributes())[semconv.MessagingDestinationPartitionIDKey]; ok {
		t.Error("failed send span names a partition it was never written to")
	}
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
	send := e.spans("send orders")
	if len(send) != 1 || send[0].Status().Code != codes.Error {
		t.Fatalf("send spans %d, want 1 in Error", len(send))
	}
	wantAttrs(t, send[0].Attributes(), map[attribute.Key]attribute.Value{
		semconv.ErrorTypeKey: attribute.StringValue("kgo.ErrClientClosed"),
	})
}
