package tracing

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/conv"
)

// ErrBaggageFull is wrapped by the error reported when a traveling business
// key does not fit in the W3C baggage limits (64 members, 8192 bytes).
var ErrBaggageFull = conv.ErrBaggageFull

// SetBusiness sets business attributes for the rest of the request: it sets
// attrs on the span in ctx and returns a context whose baggage carries the
// keys registered with [Travels], so that they reach every span started
// after it, in this service (through the processor of
// [NewBaggageSpanProcessor]) and in downstream services (through the baggage
// propagator).
//
// Attributes whose key is registered with another type are reported through
// otel.Handle and skipped. A traveling key that does not fit in the W3C
// limits of the baggage in ctx stays on the current span and is reported
// (wrapping [ErrBaggageFull]); it is never silently lost. Unregistered keys
// are set on the span only.
//
// Baggage is sent in clear with every outgoing request that propagates it,
// personal data included (it is hashed only on export): do not propagate
// baggage to third parties.
func SetBusiness(ctx context.Context, attrs ...attribute.KeyValue) context.Context {
	return conv.SetBusiness(ctx, attrs...)
}

// Business returns the business attributes carried by ctx's baggage: the
// members whose key is a registered traveling key and whose value parses as
// the key's type, sorted by key. Members that are not allowlisted, are
// malformed, too long or not valid UTF-8 are left out.
func Business(ctx context.Context) []attribute.KeyValue { return conv.Business(ctx) }

// NewBaggageSpanProcessor returns a span processor that copies the business
// attributes carried by the parent context's baggage (see [Business]) onto
// every span when it starts, so that `order.id` set once at the edge is on
// every span of every service. [Setup] registers it; add it yourself to a
// TracerProvider you build:
//
//	sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(tracing.NewBaggageSpanProcessor()), ...)
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
	if kvs := conv.AppendBusiness(ctx, (*buf)[:0]); len(kvs) > 0 {
		s.SetAttributes(kvs...)
		clear(kvs) // keep no values of a request alive in the pool
		*buf = kvs[:0]
	}
	businessBufs.Put(buf)
}

func (baggageProcessor) OnEnd(sdktrace.ReadOnlySpan)      {}
func (baggageProcessor) Shutdown(context.Context) error   { return nil }
func (baggageProcessor) ForceFlush(context.Context) error { return nil }
