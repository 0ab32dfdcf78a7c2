package httptrace

import (
	"context"
	"sync"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/metric/embedded"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	traceembedded "go.opentelemetry.io/otel/trace/embedded"

	"github.com/otelkit/otelkit/tracing"
)

// otelhttp creates the spans and records the metrics; this package steers it
// through the providers it hands it. The per-request state travels in the
// request context: the state value is itself the context (it embeds the
// parent), which saves a context allocation per request.

type stateKey struct{}

// stateContext is the context part of a request state: the parent context,
// and the state it returns for stateKey.
type stateContext struct {
	context.Context
	state requestState
}

func (c *stateContext) Value(key any) any {
	if key == (stateKey{}) {
		return c.state
	}
	return c.Context.Value(key)
}

// appendOption appends o to otelhttp's options without writing to the
// backing array otelhttp owns.
func appendOption(opts []trace.SpanStartOption, o trace.SpanStartOption) []trace.SpanStartOption {
	return append(opts[:len(opts):len(opts)], o)
}

// requestState is implemented by the server and client request states.
type requestState interface {
	// startOptions returns opts plus the options of this request.
	startOptions(opts []trace.SpanStartOption) []trace.SpanStartOption
	// started is called with the span otelhttp just started and returns the
	// span otelhttp will use.
	started(span trace.Span) trace.Span
}

// tracerProvider hands otelhttp a tracer of this package's scope whose
// spans consult the request state.
type tracerProvider struct {
	traceembedded.TracerProvider
	tracer tracer
}

// newTracerProvider resolves tp, or the global TracerProvider when tp is
// nil, by conv's rule: the global one is read when a span starts.
func newTracerProvider(tp trace.TracerProvider) tracerProvider {
	return tracerProvider{tracer: tracer{r: tracing.NewTracerResolver(tp, ScopeName,
		trace.WithInstrumentationVersion(Version),
		trace.WithSchemaURL(semconv.SchemaURL),
	)}}
}

func (p tracerProvider) Tracer(string, ...trace.TracerOption) trace.Tracer { return p.tracer }

type tracer struct {
	traceembedded.Tracer
	r *tracing.Resolver[trace.TracerProvider, trace.Tracer]
}

func (t tracer) Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	tr := t.r.Get()
	st, _ := ctx.Value(stateKey{}).(requestState)
	if st == nil {
		return tr.Start(ctx, name, opts...)
	}
	ctx, span := tr.Start(ctx, name, st.startOptions(opts)...)
	return ctx, st.started(span)
}

// hostFilter drops server.address and server.port, which a server derives
// from the client-controlled Host header, from the measurements of the
// histograms otelhttp records. The filtered attribute sets are cached by
// the identity of the original set (a hash), up to maxCachedSets, so that a
// request with a known set of attributes costs no allocation.
type hostFilter struct {
	mu    sync.RWMutex
	cache map[attribute.Distinct][]metric.RecordOption
}

const maxCachedSets = 1024

func hostAttr(kv attribute.KeyValue) bool {
	return kv.Key != semconv.ServerAddressKey && kv.Key != semconv.ServerPortKey
}

func (f *hostFilter) filter(opts []metric.RecordOption) []metric.RecordOption {
	set := metric.NewRecordConfig(opts).Attributes()
	id := set.Equivalent()
	f.mu.RLock()
	cached, ok := f.cache[id]
	f.mu.RUnlock()
	switch {
	case ok && cached == nil: // a set without host attributes
		return opts
	case ok:
		return cached
	}
	var out []metric.RecordOption
	if set.HasValue(semconv.ServerAddressKey) || set.HasValue(semconv.ServerPortKey) {
		filtered, _ := set.Filter(hostAttr)
		out = []metric.RecordOption{metric.WithAttributeSet(filtered)}
	}
	f.mu.Lock()
	if len(f.cache) < maxCachedSets {
		f.cache[id] = out
	}
	f.mu.Unlock()
	if out == nil {
		return opts
	}
	return out
}

type meterProvider struct {
	embedded.MeterProvider
	mp metric.MeterProvider
	f  *hostFilter
}

func newHostFilteringMeterProvider(mp metric.MeterProvider) meterProvider {
	return meterProvider{mp: mp, f: &hostFilter{cache: make(map[attribute.Distinct][]metric.RecordOption)}}
}

func (p meterProvider) Meter(name string, opts ...metric.MeterOption) metric.Meter {
	return meter{Meter: p.mp.Meter(name, opts...), f: p.f}
}

type meter struct {
	metric.Meter
	f *hostFilter
}

func (m meter) Int64Histogram(name string, opts ...metric.Int64HistogramOption) (metric.Int64Histogram, error) {
	h, err := m.Meter.Int64Histogram(name, opts...)
	if h == nil {
		return h, err
	}
	return int64Histogram{Int64Histogram: h, f: m.f}, err
}

func (m meter) Float64Histogram(name string, opts ...metric.Float64HistogramOption) (metric.Float64Histogram, error) {
	h, err := m.Meter.Float64Histogram(name, opts...)
	if h == nil {
		return h, err
	}
	return float64Histogram{Float64Histogram: h, f: m.f}, err
}

type int64Histogram struct {
	metric.Int64Histogram
	f *hostFilter
}

func (h int64Histogram) Record(ctx context.Context, v int64, opts ...metric.RecordOption) {
	h.Int64Histogram.Record(ctx, v, h.f.filter(opts)...)
}

type float64Histogram struct {
	metric.Float64Histogram
	f *hostFilter
}

func (h float64Histogram) Record(ctx context.Context, v float64, opts ...metric.RecordOption) {
	h.Float64Histogram.Record(ctx, v, h.f.filter(opts)...)
}
