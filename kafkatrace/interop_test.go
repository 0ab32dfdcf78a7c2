package kafkatrace_test

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// The tests below speak the header format of franz-go's plugin/kotel, the
// instrumentation a franz-go user would otherwise pick, byte for byte: its
// carrier (first header wins on read; Set overwrites the first header of
// the key, else appends) driven by OpenTelemetry's own W3C and baggage
// propagators. The bench module checks the same against kotel itself.

// kotelCarrier is plugin/kotel's RecordCarrier.
type kotelCarrier struct{ r *kgo.Record }

func (c kotelCarrier) Get(key string) string {
	for _, h := range c.r.Headers {
		if h.Key == key {
			return string(h.Value)
		}
	}
	return ""
}

func (c kotelCarrier) Set(key, val string) {
	for i, h := range c.r.Headers {
		if h.Key == key {
			c.r.Headers[i].Value = []byte(val)
			return
		}
	}
	c.r.Headers = append(c.r.Headers, kgo.RecordHeader{Key: key, Value: []byte(val)})
}

func (c kotelCarrier) Keys() []string {
	out := make([]string, len(c.r.Headers))
	for i, h := range c.r.Headers {
		out[i] = h.Key
	}
	return out
}

// otelDefault is what an OpenTelemetry Go service installs.
var otelDefault = propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{})

// kotelProducer injects as kotel's OnProduceRecordBuffered does, from the
// record context.
type kotelProducer struct{}

func (kotelProducer) OnProduceRecordBuffered(r *kgo.Record) {
	otelDefault.Inject(r.Context, kotelCarrier{r})
}

// A record produced by another OpenTelemetry-instrumented client continues
// its trace, tracestate and baggage included, in our consumer.
func TestInterop_TheirProducerOurConsumer(t *testing.T) {
	e := newEnv(t, 1, "orders")
	ctx, theirs := e.tp.Tracer("other-service").Start(context.Background(), "send orders")
	theirs.End()
	ts, _ := trace.ParseTraceState("vendor=x1")
	ctx = trace.ContextWithSpanContext(ctx, theirs.SpanContext().WithTraceState(ts))
	m, _ := baggage.NewMember("user.id", "u-7")
	bag, _ := baggage.New(m)
	ctx = baggage.ContextWithBaggage(ctx, bag)
	produce(t, e.client(kgo.WithHooks(kotelProducer{})), &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx})

	tr := e.tracer()
	r := poll(t, e.consumer(tr, kgo.ConsumeTopics("orders")), 1)[0]
	var user string
	var inner trace.SpanContext
	err := tr.Process(context.Background(), r, func(ctx context.Context) error {
		inner = trace.SpanContextFromContext(ctx)
		user = baggage.FromContext(ctx).Member("user.id").Value()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.rec.AssertParent(t, theirs, e.rec.SpanOf(t, inner))
	if got := inner.TraceState().Get("vendor"); got != "x1" {
		t.Errorf("tracestate vendor=%q, want x1", got)
	}
	if user != "u-7" {
		t.Errorf("baggage user.id=%q, want u-7", user)
	}
}

// A record we produce continues in another OpenTelemetry-instrumented
// consumer: it reads our send span from the headers.
func TestInterop_OurProducerTheirConsumer(t *testing.T) {
	e := newEnv(t, 1, "orders")
	m, _ := baggage.NewMember("user.id", "u-7")
	bag, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	produce(t, e.client(kgo.WithHooks(e.tracer())), &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx})

	r := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders")), 1)[0]
	got := otelDefault.Extract(context.Background(), kotelCarrier{r})
	send := e.rec.Span(t, "send orders")
	if sc := trace.SpanContextFromContext(got); !sc.Equal(send.SpanContext().WithRemote(true)) {
		t.Errorf("their consumer read %v, want our send span %v", sc, send.SpanContext())
	}
	if v := baggage.FromContext(got).Member("user.id").Value(); v != "u-7" {
		t.Errorf("their consumer read baggage user.id=%q, want u-7", v)
	}
}

// With no propagator installed (the global one is OpenTelemetry's no-op
// default), records still carry W3C trace context and baggage.
func TestPropagator_FallsBackToW3CWhenGlobalIsNoop(t *testing.T) {
	if f := otel.GetTextMapPropagator().Fields(); len(f) != 0 {
		t.Fatalf("a global propagator is installed (%q); this test needs the default", f)
	}
	e := newEnv(t, 1, "orders")
	m, _ := baggage.NewMember("order.id", "o-42")
	bag, _ := baggage.New(m)
	ctx := baggage.ContextWithBaggage(context.Background(), bag)
	produce(t, e.client(kgo.WithHooks(e.tracer())), &kgo.Record{Topic: "orders", Value: []byte("v"), Context: ctx})
	r := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders")), 1)[0]
	if tp := header(r, "traceparent"); len(tp) != 1 || tp[0] != traceparent(e.rec.Span(t, "send orders").SpanContext()) {
		t.Errorf("traceparent %q, want the send span's", tp)
	}
	if b := header(r, "baggage"); len(b) != 1 || b[0] != "order.id=o-42" {
		t.Errorf("baggage %q, want [order.id=o-42]", b)
	}
}

// traceIDPropagator is a propagator of another shape: it owns one header,
// x-trace-id, holding the trace id.
type traceIDPropagator struct{}

func (traceIDPropagator) Inject(ctx context.Context, c propagation.TextMapCarrier) {
	c.Set("x-trace-id", trace.SpanContextFromContext(ctx).TraceID().String())
}

func (traceIDPropagator) Extract(ctx context.Context, _ propagation.TextMapCarrier) context.Context {
	return ctx
}

func (traceIDPropagator) Fields() []string { return []string{"x-trace-id"} }

// The global propagator, once installed, is the one used, and the headers
// it owns, not the W3C ones, are the ones replaced.
func TestPropagator_UsesGlobal(t *testing.T) {
	otel.SetTextMapPropagator(traceIDPropagator{})
	t.Cleanup(func() { otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator()) })
	e := newEnv(t, 1, "orders")
	produce(t, e.client(kgo.WithHooks(e.tracer())), &kgo.Record{Topic: "orders", Value: []byte("v"), Headers: []kgo.RecordHeader{
		{Key: "x-trace-id", Value: []byte("stale")},
		{Key: "traceparent", Value: []byte("not ours")},
	}})
	r := poll(t, e.consumer(nil, kgo.ConsumeTopics("orders")), 1)[0]
	if id := header(r, "x-trace-id"); len(id) != 1 || id[0] != e.rec.Span(t, "send orders").SpanContext().TraceID().String() {
		t.Errorf("x-trace-id %q, want one, the send span's trace id", id)
	}
	if tp := header(r, "traceparent"); len(tp) != 1 || tp[0] != "not ours" {
		t.Errorf("traceparent %q changed by a propagator that does not own it", tp)
	}
}
