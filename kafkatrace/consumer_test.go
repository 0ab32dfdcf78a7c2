package kafkatrace_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// Only records the application polls and processes get spans: the ones
// the client prefetched and then discards on close cost nothing.
func TestConsumer_SpansOnlyForPolledRecords(t *testing.T) {
	e := newEnv(t, 1, "orders")
	var recs []*kgo.Record
	for i := range 10 {
		recs = append(recs, &kgo.Record{Topic: "orders", Value: fmt.Appendf(nil, "%d", i)})
	}
	produce(t, e.client(), recs...)

	tr := e.tracer()
	cl, err := kgo.NewClient(kgo.SeedBrokers(e.brokers...), kgo.WithHooks(tr), kgo.ConsumeTopics("orders"),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	got := poll(t, cl, 3)
	if b := cl.BufferedFetchRecords(); b == 0 {
		t.Fatalf("no records prefetched beyond the 3 polled; the test proves nothing")
	}
	for _, r := range got {
		if err := tr.Process(context.Background(), r, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	cl.Close()
	if n := len(e.rec.Spans()); n != 3 {
		t.Errorf("%d spans, want 3: one per processed record", n)
	}
	e.rec.AssertAllEnded(t) // and none started for the others
}

// WithNewRoot: each record starts a trace of its own, linked to the send
// span.
func TestProcess_NewRootLinksToProducer(t *testing.T) {
	e := newEnv(t, 1, "orders")
	prod := e.client(kgo.WithHooks(e.tracer()))
	produce(t, prod, &kgo.Record{Topic: "orders", Value: []byte("v")})
	send := e.rec.Span(t, "send orders")

	tr := e.tracer(kafkatrace.WithNewRoot())
	r := poll(t, e.consumer(tr, kgo.ConsumeTopics("orders")), 1)[0]
	if err := tr.Process(context.Background(), r, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	proc := e.rec.Span(t, "process orders")
	if proc.Parent().IsValid() || proc.SpanContext().TraceID() == send.SpanContext().TraceID() {
		t.Errorf("process span parent %v trace %s: want a new root", proc.Parent(), proc.SpanContext().TraceID())
	}
	if l := proc.Links(); len(l) != 1 || !l[0].SpanContext.Equal(send.SpanContext().WithRemote(true)) {
		t.Errorf("links %v, want one to the send span %v", l, send.SpanContext())
	}
}

// Bad propagation headers never stop a record: it is processed, in a new
// trace when the context is unusable, the fault is reported, and neither
// the payload nor any header changes.
func TestProcess_BadHeaders(t *testing.T) {
	const valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	validTrace, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	huge := strings.Repeat("a", 256<<10)
	h := func(kv ...string) []kgo.RecordHeader {
		var hs []kgo.RecordHeader
		for i := 0; i < len(kv); i += 2 {
			hs = append(hs, kgo.RecordHeader{Key: kv[i], Value: []byte(kv[i+1])})
		}
		return hs
	}
	cases := []struct {
		name      string
		headers   []kgo.RecordHeader
		key       []byte
		continue_ bool // the record's trace is continued
		report    bool // ErrBadHeaders is reported
	}{
		{name: "no headers"},
		{name: "valid", headers: h("traceparent", valid), continue_: true},
		{name: "empty traceparent", headers: h("traceparent", ""), report: true},
		{name: "binary traceparent", headers: h("traceparent", "\x00\xff\xfe"+valid[3:]), report: true},
		{name: "huge traceparent", headers: h("traceparent", huge), report: true},
		{name: "huge baggage", headers: h("traceparent", valid, "baggage", huge), continue_: true, report: true},
		{name: "duplicate traceparent, last wins", headers: h("traceparent", "garbage", "traceparent", valid), continue_: true},
		{name: "invalid utf-8 keys", headers: h("\xff\xfe", "x", "traceparent", valid, "\xc3", "\xc3"), key: []byte("\xff"), continue_: true},
		{name: "traceparent with wrong case is not ours", headers: h("TRACEPARENT", valid)},
	}
	e := newEnv(t, 1, "orders")
	prod := e.client()
	for _, c := range cases {
		produce(t, prod, &kgo.Record{Topic: "orders", Key: c.key, Value: []byte(c.name), Headers: c.headers})
	}
	got := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders"), kgo.FetchMaxBytes(8<<20)), len(cases))
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := got[i]
			before := cloneRecord(r)
			tr := e.tracer() // a Tracer of its own: reports are rate limited per Tracer
			reports := tracingtest.Reports(t)
			calls := 0
			var inner trace.SpanContext
			err := tr.Process(context.Background(), r, func(ctx context.Context) error {
				calls++
				inner = trace.SpanContextFromContext(ctx)
				return nil
			})
			if err != nil || calls != 1 {
				t.Fatalf("Process: err %v, fn called %d times", err, calls)
			}
			if cont := inner.TraceID() == validTrace; cont != c.continue_ {
				t.Errorf("continued the record's trace: %t, want %t", cont, c.continue_)
			}
			if !inner.IsValid() {
				t.Error("no span around the work")
			}
			reported := slices.ContainsFunc(reports(), func(err error) bool { return errors.Is(err, kafkatrace.ErrBadHeaders) })
			if reported != c.report {
				t.Errorf("ErrBadHeaders reported: %t, want %t", reported, c.report)
			}
			if !recordEqual(before, r) {
				t.Error("record changed by Process")
			}
			if proc := e.rec.SpanOf(t, inner); !utf8.Valid(c.key) {
				e.rec.AssertNoAttrs(t, proc, semconv.MessagingKafkaMessageKeyKey) // an invalid UTF-8 key is not recorded
			}
		})
	}
}

func cloneRecord(r *kgo.Record) *kgo.Record {
	c := *r
	c.Key, c.Value = bytes.Clone(r.Key), bytes.Clone(r.Value)
	c.Headers = nil
	for _, h := range r.Headers {
		c.Headers = append(c.Headers, kgo.RecordHeader{Key: h.Key, Value: bytes.Clone(h.Value)})
	}
	return &c
}

func recordEqual(a, b *kgo.Record) bool {
	return bytes.Equal(a.Key, b.Key) && bytes.Equal(a.Value, b.Value) && slices.EqualFunc(a.Headers, b.Headers, headerEqual) &&
		a.Topic == b.Topic && a.Partition == b.Partition && a.Offset == b.Offset
}

// One span for a batch, linked to each record's send span with the
// record's partition and offset; records without context get no link.
func TestProcessBatch_LinksEachRecord(t *testing.T) {
	e := newEnv(t, 3, "orders")
	prod := e.client(kgo.WithHooks(e.tracer()), kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	for i := range 5 {
		ctx, req := e.tp.Tracer("test").Start(context.Background(), "orders.create")
		req.End()
		produce(t, prod, &kgo.Record{Topic: "orders", Value: fmt.Appendf(nil, "%d", i), Context: ctx})
	}
	produce(t, e.client(), &kgo.Record{Topic: "orders", Value: []byte("no context")})

	tr := e.tracer()
	recs := poll(t, e.consumer(tr, kgo.ConsumeTopics("orders")), 6)
	ctx, loop := e.tp.Tracer("test").Start(context.Background(), "payments.poll_loop")
	var inner trace.SpanContext
	err := tr.ProcessBatch(ctx, recs, func(ctx context.Context) error {
		inner = trace.SpanContextFromContext(ctx)
		return nil
	})
	loop.End()
	if err != nil {
		t.Fatal(err)
	}
	batch := e.rec.Span(t, "process orders", tracingtest.OfKind(trace.SpanKindConsumer), tracingtest.WithSpanContext(inner), tracingtest.ChildOf(loop))
	e.rec.AssertAttrs(t, batch,
		semconv.MessagingBatchMessageCountKey.Int(6),
		semconv.MessagingDestinationNameKey.String("orders"),
		semconv.MessagingOperationTypeKey.String("process"),
	)
	e.rec.AssertNoAttrs(t, batch, semconv.MessagingDestinationPartitionIDKey) // the batch spans 3 partitions
	// 5 links, each to the send span of one of the 5 records with context:
	// the one without gets none.
	if len(batch.Links()) != 5 {
		t.Fatalf("%d links, want 5", len(batch.Links()))
	}
	for _, r := range recs {
		if tp := header(r, "traceparent"); len(tp) == 1 {
			e.rec.AssertLinkAttrs(t, batch, e.rec.SpanOf(t, spanContextOf(t, tp[0])),
				semconv.MessagingDestinationPartitionIDKey.String(fmt.Sprint(r.Partition)),
				semconv.MessagingKafkaOffsetKey.Int64(r.Offset),
			)
		}
	}

	limited := e.tracer(kafkatrace.WithBatchLinkLimit(2))
	err = limited.ProcessBatch(context.Background(), recs, func(ctx context.Context) error {
		inner = trace.SpanContextFromContext(ctx)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if l := e.rec.SpanOf(t, inner).Links(); len(l) != 2 {
		t.Errorf("%d links with a limit of 2", len(l))
	}
}

func spanContextOf(t *testing.T, tp string) trace.SpanContext {
	t.Helper()
	parts := strings.Split(tp, "-")
	tid, err1 := trace.TraceIDFromHex(parts[1])
	sid, err2 := trace.SpanIDFromHex(parts[2])
	if err := errors.Join(err1, err2); err != nil {
		t.Fatal(err)
	}
	return trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid})
}

// A batch from several topics names none; its links say which topic.
func TestProcessBatch_MixedTopics(t *testing.T) {
	e := newEnv(t, 1, "orders", "refunds")
	produce(t, e.client(kgo.WithHooks(e.tracer())),
		&kgo.Record{Topic: "orders", Value: []byte("v")}, &kgo.Record{Topic: "refunds", Value: []byte("v")})
	tr := e.tracer()
	recs := poll(t, e.consumer(tr, kgo.ConsumeTopics("orders", "refunds")), 2)
	if err := tr.ProcessBatch(context.Background(), recs, func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	batch := e.rec.Span(t, "process")
	e.rec.AssertNoAttrs(t, batch, semconv.MessagingDestinationNameKey) // a mixed batch names none
	topics := map[string]bool{}
	for _, l := range batch.Links() {
		topic, _ := tracingtest.Attr(l.Attributes, semconv.MessagingDestinationNameKey)
		topics[topic.AsString()] = true
	}
	if !topics["orders"] || !topics["refunds"] {
		t.Errorf("link topics %v, want orders and refunds", topics)
	}
}

// The work's error and panics end up on the span; the record's baggage
// reaches the work.
func TestProcess_ErrorsPanicsAndBaggage(t *testing.T) {
	e := newEnv(t, 1, "orders")
	m, _ := baggage.NewMember("order.id", "o-42")
	bag, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	produce(t, e.client(kgo.WithHooks(e.tracer())), &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx})
	tr := e.tracer()
	r := poll(t, e.consumer(tr, kgo.ConsumeTopics("orders")), 1)[0]

	boom := errors.New("smtp down")
	var got string
	err := tr.Process(context.Background(), r, func(ctx context.Context) error {
		got = baggage.FromContext(ctx).Member("order.id").Value()
		return fmt.Errorf("notify: %w", boom)
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Process returned %v, want fn's error", err)
	}
	if got != "o-42" {
		t.Errorf("baggage order.id = %q in the work, want o-42", got)
	}
	proc := e.rec.Span(t, "process orders")
	e.rec.AssertError(t, proc, "")
	if proc.Status().Description != err.Error() {
		t.Errorf("status %v, want the work's error", proc.Status())
	}

	func() {
		defer func() {
			if v := recover(); v != "boom" {
				t.Errorf("recovered %v, want the work's panic", v)
			}
		}()
		_ = tr.Process(context.Background(), r, func(context.Context) error { panic("boom") })
	}()
	if spans := e.rec.Find("process orders"); len(spans) != 2 || spans[1].Status().Code != codes.Error {
		t.Errorf("panicking work: %d spans ended, want 2 with the second in Error", len(spans))
	}
}

// Time in queue runs from the record timestamp to processing; a timestamp
// ahead of the consumer's clock counts as zero.
func TestProcess_TimeInQueue(t *testing.T) {
	e := newEnv(t, 1, "orders")
	now := time.Now()
	produce(t, e.client(),
		&kgo.Record{Topic: "orders", Value: []byte("old"), Timestamp: now.Add(-2 * time.Second)},
		&kgo.Record{Topic: "orders", Value: []byte("future"), Timestamp: now.Add(time.Hour)})
	tr := e.tracer(kafkatrace.WithTimeInQueue(), kafkatrace.WithBodySize())
	for _, r := range poll(t, e.consumer(tr, kgo.ConsumeTopics("orders")), 2) {
		if err := tr.Process(context.Background(), r, func(context.Context) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	spans := e.rec.Find("process orders")
	if len(spans) != 2 {
		t.Fatalf("%d process spans, want 2", len(spans))
	}
	if q, _ := tracingtest.Attr(spans[0].Attributes(), kafkatrace.TimeInQueueKey); q.AsFloat64() < 2 || q.AsFloat64() > 60 {
		t.Errorf("time in queue %v s, want about 2", q.AsFloat64())
	}
	e.rec.AssertAttrs(t, spans[0], semconv.MessagingMessageBodySizeKey.Int64(3))
	e.rec.AssertAttrs(t, spans[1], kafkatrace.TimeInQueueKey.Float64(0))
}

// A tombstone is marked as such.
func TestProducer_Tombstone(t *testing.T) {
	e := newEnv(t, 1, "orders")
	produce(t, e.client(kgo.WithHooks(e.tracer())), &kgo.Record{Topic: "orders", Key: []byte("o-1")})
	e.rec.AssertAttrs(t, e.rec.Span(t, "send orders"), semconv.MessagingKafkaMessageTombstoneKey.Bool(true))
}

// One Tracer describes one client; attaching it to a second open client is
// reported, attaching it again after the first closed is fine.
func TestTracer_OneClientAtATime(t *testing.T) {
	e := newEnv(t, 1, "orders")
	tr := e.tracer()
	reports := tracingtest.Reports(t)
	first := e.client(kgo.WithHooks(tr))
	second := e.client(kgo.WithHooks(tr))
	second.Close()
	shared := reports()
	if !slices.ContainsFunc(shared, func(err error) bool { return errors.Is(err, kafkatrace.ErrSharedTracer) }) {
		t.Error("sharing a Tracer between open clients not reported")
	}
	first.Close()
	e.client(kgo.WithHooks(tr), kgo.ClientID("third"))
	if errs := reports()[len(shared):]; len(errs) != 0 {
		t.Errorf("attaching to a client after the first closed reported %v", errs)
	}
}
