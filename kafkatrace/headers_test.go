package kafkatrace_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// The client retries a produce the broker refused: the record is written
// once, with one traceparent, that of its one send span.
func TestProducer_RetryDoesNotDuplicateHeaders(t *testing.T) {
	c := kafkatest.Start(t, 1, "orders")
	var refused atomic.Int32
	c.ControlKey(int16(kmsg.Produce), func(kreq kmsg.Request) (kmsg.Response, error, bool) {
		req := kreq.(*kmsg.ProduceRequest)
		resp := req.ResponseKind().(*kmsg.ProduceResponse)
		for _, rt := range req.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic, st.TopicID = rt.Topic, rt.TopicID
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.NotLeaderForPartition.Code
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		refused.Add(1)
		return resp, nil, true
	})
	e := newEnv(t, 1)
	e.brokers = c.ListenAddrs()

	prod := e.client(kgo.WithHooks(e.tracer()), kgo.MetadataMinAge(10*time.Millisecond),
		kgo.RetryBackoffFn(func(int) time.Duration { return time.Millisecond }))
	produce(t, prod, &kgo.Record{Topic: "orders", Value: []byte("v")})
	if refused.Load() != 1 {
		t.Fatalf("broker refused %d produce requests, want 1 (no retry happened)", refused.Load())
	}
	got := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders")), 1)[0]
	send := e.rec.Span(t, "send orders")
	if tp := header(got, "traceparent"); len(tp) != 1 || tp[0] != traceparent(send.SpanContext()) {
		t.Errorf("traceparent headers %q, want one, the send span's %s", tp, traceparent(send.SpanContext()))
	}
}

// A record produced again (by the application, after its promise) and a
// record arriving with stale propagation headers leave with exactly one
// fresh traceparent; every other header and the payload are untouched,
// and the application's header slice is never written to.
func TestProducer_ReproduceReplacesStaleHeaders(t *testing.T) {
	e := newEnv(t, 1, "orders")
	prod := e.client(kgo.WithHooks(e.tracer()))
	ctx, parent := e.tp.Tracer("test").Start(context.Background(), "orders.create")
	parent.End()

	stale := "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	headers := make([]kgo.RecordHeader, 0, 8) // spare capacity an append would write into
	headers = append(headers,
		kgo.RecordHeader{Key: "traceparent", Value: []byte(stale)},
		kgo.RecordHeader{Key: "tenant", Value: []byte("acme")},
		kgo.RecordHeader{Key: "traceparent", Value: []byte(stale)},
		kgo.RecordHeader{Key: "tracestate", Value: []byte("old=1")},
	)
	orig := slices.Clone(headers)
	r := &kgo.Record{Topic: "orders", Key: []byte("k"), Value: []byte("payload"), Headers: headers, Context: ctx}
	produce(t, prod, r)
	produce(t, prod, r) // the application produces the same record again

	full := headers[:cap(headers)]
	if !slices.EqualFunc(full[:len(orig)], orig, headerEqual) || slices.ContainsFunc(full[len(orig):], func(h kgo.RecordHeader) bool { return h.Key != "" }) {
		t.Errorf("application's header array written to: %q", full)
	}
	send := e.rec.Find("send orders")
	if len(send) != 2 {
		t.Fatalf("%d send spans, want 2", len(send))
	}
	for _, s := range send {
		e.rec.AssertParent(t, parent, s) // the record's context: attempts are siblings
	}
	got := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders")), 2)
	for i, rec := range got {
		if tp := header(rec, "traceparent"); len(tp) != 1 || tp[0] != traceparent(send[i].SpanContext()) {
			t.Errorf("record %d: traceparent %q, want one, the send span's %s", i, tp, traceparent(send[i].SpanContext()))
		}
		if ts := header(rec, "tracestate"); len(ts) != 0 {
			t.Errorf("record %d: stale tracestate %q kept", i, ts)
		}
		if tn := header(rec, "tenant"); len(tn) != 1 || tn[0] != "acme" {
			t.Errorf("record %d: tenant header %q, want [acme]", i, tn)
		}
		if string(rec.Value) != "payload" || string(rec.Key) != "k" {
			t.Errorf("record %d: key/value %q/%q changed", i, rec.Key, rec.Value)
		}
	}
}

func headerEqual(a, b kgo.RecordHeader) bool {
	return a.Key == b.Key && string(a.Value) == string(b.Value)
}

// Forward re-produces a consumed record under the processing context:
// request -> send -> process -> send (forwarded) -> process, one trace.
func TestForward_ContinuesFromProcessSpan(t *testing.T) {
	e := newEnv(t, 3, "orders", "orders.retry")
	tr := e.tracer()
	prod := e.client(kgo.WithHooks(tr))
	ctx, req := e.tp.Tracer("test").Start(context.Background(), "orders.create")
	req.End()
	produce(t, prod, &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx,
		Headers: []kgo.RecordHeader{{Key: "tenant", Value: []byte("acme")}}})

	cons := e.consumer(tr, kgo.ConsumeTopics("orders"))
	in := poll(t, cons, 1)[0]
	var proc trace.SpanContext
	err := tr.Process(context.Background(), in, func(ctx context.Context) error {
		proc = trace.SpanContextFromContext(ctx)
		fwd := tr.Forward(ctx, in, "orders.retry")
		return prod.ProduceSync(context.Background(), fwd).FirstErr()
	})
	if err != nil {
		t.Fatal(err)
	}
	if tp := header(in, "traceparent"); len(tp) != 1 {
		t.Errorf("consumed record's headers changed by forwarding: %q", tp)
	}
	out := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders.retry")), 1)[0]
	fwdSend := e.rec.Span(t, "send orders.retry", tracingtest.InTrace(e.rec.Span(t, "orders.create")))
	e.rec.AssertParent(t, e.rec.SpanOf(t, proc), fwdSend)
	if tp := header(out, "traceparent"); len(tp) != 1 || tp[0] != traceparent(fwdSend.SpanContext()) {
		t.Errorf("forwarded traceparent %q, want one, the forwarded send span's", tp)
	}
	if tn := header(out, "tenant"); len(tn) != 1 || tn[0] != "acme" || string(out.Value) != "v" {
		t.Errorf("forwarded record lost its payload or headers: %q %q", out.Value, tn)
	}
}

// Injection off for a topic: the send span exists, headers are untouched.
func TestProducer_InjectFilter(t *testing.T) {
	e := newEnv(t, 1, "orders", "legacy")
	tr := e.tracer(kafkatrace.WithInjectFilter(func(topic string) bool { return topic != "legacy" }))
	prod := e.client(kgo.WithHooks(tr))
	produce(t, prod,
		&kgo.Record{Topic: "legacy", Value: []byte("v"), Headers: []kgo.RecordHeader{{Key: "traceparent", Value: []byte("theirs")}}},
		&kgo.Record{Topic: "orders", Value: []byte("v")})
	e.rec.Span(t, "send legacy")
	sendOrders := e.rec.Span(t, "send orders")
	got := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders", "legacy")), 2)
	for _, r := range got {
		tp := header(r, "traceparent")
		switch r.Topic {
		case "legacy":
			if len(tp) != 1 || tp[0] != "theirs" {
				t.Errorf("legacy record headers changed: %q", tp)
			}
		case "orders":
			if len(tp) != 1 || tp[0] != traceparent(sendOrders.SpanContext()) {
				t.Errorf("orders record traceparent %q", tp)
			}
		}
	}
}
