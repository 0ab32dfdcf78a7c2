//go:build !race

package kafkatrace

import (
	"context"
	"fmt"
	"testing"

	tracenoop "go.opentelemetry.io/otel/trace/noop"

	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// allocSDK samples every span and exports none: what is left is the cost
// of the spans themselves and of this package.
func allocSDK(t *testing.T) (*sdktrace.TracerProvider, context.Context) {
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()))
	t.Cleanup(func() { _ = tp.Shutdown(context.Background()) })
	ctx, span := tp.Tracer("t").Start(context.Background(), "orders.create")
	span.End()
	return tp, ctx
}

// The allocation budgets below hold the hot paths to what they cost when
// they were measured; the SDK's share of each is noted.
func TestAllocs_Produce(t *testing.T) {
	tp, ctx := allocSDK(t)
	tr := NewTracer(WithTracerProvider(tp), WithPropagators(propagation.TraceContext{}))
	r := &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: []byte("v")}
	got := testing.AllocsPerRun(200, func() {
		r.Context, r.Headers = ctx, nil
		tr.OnProduceRecordBuffered(r)
		tr.OnProduceRecordUnbuffered(r, nil)
	})
	t.Logf("produce: %.0f allocs per record", got)
	if got > produceBudget {
		t.Errorf("produce hooks: %.0f allocs per record, budget %d", got, produceBudget)
	}
}

// The same budget holds with the global providers, which the Tracer reads
// for every record.
func TestAllocs_ProduceWithGlobals(t *testing.T) {
	tp, ctx := allocSDK(t)
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	// Setting otel's own stand-ins back would do nothing (they delegate to
	// what is set): restore what behaves like them, for the tests that need
	// the defaults.
	if fmt.Sprintf("%T", prevTP) == "*global.tracerProvider" {
		prevTP = tracenoop.NewTracerProvider()
	}
	if len(prevProp.Fields()) == 0 {
		prevProp = propagation.NewCompositeTextMapPropagator()
	}
	t.Cleanup(func() {
		otel.SetTracerProvider(prevTP)
		otel.SetTextMapPropagator(prevProp)
	})
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tr := NewTracer()
	r := &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: []byte("v")}
	got := testing.AllocsPerRun(200, func() {
		r.Context, r.Headers = ctx, nil
		tr.OnProduceRecordBuffered(r)
		tr.OnProduceRecordUnbuffered(r, nil)
	})
	t.Logf("produce with globals: %.0f allocs per record", got)
	if got > produceBudget {
		t.Errorf("produce hooks: %.0f allocs per record, budget %d", got, produceBudget)
	}
}

func TestAllocs_Process(t *testing.T) {
	tp, ctx := allocSDK(t)
	tr := NewTracer(WithTracerProvider(tp), WithPropagators(propagation.TraceContext{}))
	r := &kgo.Record{Topic: "orders", Key: []byte("o-42"), Value: []byte("v"), Context: ctx}
	tr.OnProduceRecordBuffered(r)
	tr.OnProduceRecordUnbuffered(r, nil)
	r.Context = nil
	work := func(context.Context) error { return nil }
	got := testing.AllocsPerRun(200, func() {
		_ = tr.Process(context.Background(), r, work)
	})
	t.Logf("process: %.0f allocs per record", got)
	if got > processBudget {
		t.Errorf("Process: %.0f allocs per record, budget %d", got, processBudget)
	}
}

// Budgets, as measured with the pinned SDK, which spends 2 allocations on
// a bare span (TestAllocs_SDKBaseline) and about 4 more on the start
// attributes and context of ours. The rest is ours: per produced record the
// in-flight context with its inline buffers, the key attribute and the
// traceparent string; per processed record the start buffer, the key, and
// the header value and remote span context of extraction.
const (
	produceBudget = 9
	processBudget = 10
)

// sdkBaseline is what a bare span costs, to read the budgets against.
func TestAllocs_SDKBaseline(t *testing.T) {
	tp, ctx := allocSDK(t)
	tracer := tp.Tracer("t")
	got := testing.AllocsPerRun(200, func() {
		_, span := tracer.Start(ctx, "x")
		span.End()
	})
	t.Logf("bare SDK span: %.0f allocs", got)
}
