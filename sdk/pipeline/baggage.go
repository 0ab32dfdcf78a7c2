package pipeline

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/tracing"
)

// NewBaggageSpanProcessor returns a span processor that copies the business
// attributes carried by the parent context's baggage (see [tracing.Business]) onto
// every span when it starts, so that `order.id` set once at the edge is on
// every span of every service. otelsetup.Setup registers it; add it yourself to a
// TracerProvider you build:
//
//	sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()), ...)
//
// Only registered traveling keys are copied; other members (a client's, a
// third party's) never reach a span. It reads the registry at every span
// start, so keys registered later are copied too. OnStart runs on the
// goroutine that starts the span; with baggage it costs one map lookup per
// traveling key and one SetAttributes call, without baggage nothing. A value
// passed at Start for the same key is replaced by the baggage value.
func NewBaggageSpanProcessor() sdktrace.SpanProcessor { return baggageProcessor{} }

type baggageProcessor struct{}

var _ sdktrace.SpanProcessor = baggageProcessor{}

// businessBufs holds the slices OnStart collects attributes in: the span
// copies them, so one slice serves every span.
var businessBufs = sync.Pool{New: func() any { return new([]attribute.KeyValue) }}

func (baggageProcessor) OnStart(ctx context.Context, s sdktrace.ReadWriteSpan) {
	buf := businessBufs.Get().(*[]attribute.KeyValue)
	if kvs := tracing.AppendBusiness(ctx, (*buf)[:0]); len(kvs) > 0 {
		s.SetAttributes(kvs...)
		clear(kvs) // keep no values of a request alive in the pool
		*buf = kvs[:0]
	}
	businessBufs.Put(buf)
}

func (baggageProcessor) OnEnd(sdktrace.ReadOnlySpan)      {}
func (baggageProcessor) Shutdown(context.Context) error   { return nil }
func (baggageProcessor) ForceFlush(context.Context) error { return nil }
