package tracingtest

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/pipeline"
	"github.com/otelkit/otelkit/sdk/waterfall"
	"github.com/otelkit/otelkit/tracing"
	"github.com/otelkit/otelkit/tracing/w3c"
)

// TB is the part of testing.TB the kit uses; *testing.T and *testing.B
// satisfy it.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// DefaultService is the service.name of the provider [New] creates.
const DefaultService = "test"

// Option configures [New].
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	service  string
	global   bool
	endCheck bool
	redact   bool
	rules    tracing.RedactionRules
	wait     time.Duration
}

// DefaultWaitTimeout is how long [Recorder.WaitFor] waits by default.
const DefaultWaitTimeout = 10 * time.Second

// WithService sets the service.name of the default provider. By default it
// is [DefaultService].
func WithService(name string) Option {
	return optionFunc(func(c *config) {
		if name != "" {
			c.service = name
		}
	})
}

// WithoutGlobals leaves the global TracerProvider and propagator alone, for
// tests that run in parallel and pass [Recorder.TracerProvider] to the code
// under test. By default New installs both for the test's duration.
func WithoutGlobals() Option { return optionFunc(func(c *config) { c.global = false }) }

// WithoutEndCheck skips the check, when the test ends, that every started
// span was ended. By default a span left open fails the test.
func WithoutEndCheck() Option { return optionFunc(func(c *config) { c.endCheck = false }) }

// WithRedaction sets the redaction rules applied before spans are recorded,
// to match the service's [otelsetup.WithRedaction]. By default the default
// rules apply, as in [otelsetup.Setup].
func WithRedaction(rules tracing.RedactionRules) Option {
	return optionFunc(func(c *config) { c.redact, c.rules = true, rules })
}

// WithWaitTimeout sets how long [Recorder.WaitFor] and [Recorder.WaitForN]
// wait for spans to end before failing the test; d <= 0 is ignored. By
// default they wait [DefaultWaitTimeout], long enough for a loaded CI
// machine: a wait only lasts that long when the test is failing anyway.
func WithWaitTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.wait = d
		}
	})
}

// WithoutRedaction records spans as the SDK ends them, to match a service
// using [otelsetup.WithoutRedaction]. By default spans are redacted.
func WithoutRedaction() Option { return optionFunc(func(c *config) { c.redact = false }) }

// Recorder records the spans of one test in memory, from one or more
// services in the same process, and checks them. Its methods are safe for
// concurrent use.
type Recorder struct {
	cfg config
	tb  TB

	mu        sync.Mutex
	spans     []sdktrace.ReadOnlySpan // ended, as exported
	changed   chan struct{}           // closed, and replaced, when spans grows
	open      map[spanKey]sdktrace.ReadWriteSpan
	providers map[string]*sdktrace.TracerProvider
	stops     []func()
	shown     map[TB]bool // tests whose failures print the waterfall at cleanup

	// onWait, set by the package's own tests, runs when a wait blocks.
	onWait func()
}

type spanKey struct {
	trace trace.TraceID
	span  trace.SpanID
}

// New returns a Recorder wired for the test: a TracerProvider for
// [DefaultService] that samples everything, copies business baggage onto
// spans, redacts as [otelsetup.Setup] does and records in memory; installed as
// the global TracerProvider, with the W3C trace-context and baggage
// propagators, until the test ends. Span names given to the tracing helpers
// are checked strictly: a bad name fails the test. When the test ends, spans
// left open fail it, a failed test prints the recorded spans as a waterfall
// and the globals are restored.
//
//	rec := tracingtest.New(t)
func New(tb TB, opts ...Option) *Recorder {
	tb.Helper()
	r := &Recorder{
		cfg:       config{service: DefaultService, global: true, endCheck: true, redact: true, wait: DefaultWaitTimeout},
		tb:        tb,
		changed:   make(chan struct{}),
		open:      make(map[spanKey]sdktrace.ReadWriteSpan),
		providers: make(map[string]*sdktrace.TracerProvider),
		shown:     make(map[TB]bool),
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&r.cfg)
		}
	}
	tp := r.Service(r.cfg.service)
	if r.cfg.global {
		prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
		otel.SetTracerProvider(tp)
		otel.SetTextMapPropagator(Propagator())
		tb.Cleanup(func() {
			otel.SetTracerProvider(prevTP)
			otel.SetTextMapPropagator(prevProp)
		})
	}
	tb.Cleanup(func() {
		tb.Helper()
		if r.cfg.endCheck {
			r.AssertAllEnded(tb)
		}
		r.mu.Lock()
		stops, tps, failed := r.stops, r.providers, rememberable(tb) && r.shown[tb]
		r.mu.Unlock()
		if f, ok := tb.(interface{ Failed() bool }); failed || ok && f.Failed() {
			r.show(tb)
		}
		for _, stop := range stops {
			stop()
		}
		for _, p := range tps {
			_ = p.Shutdown(context.Background())
		}
	})
	return r
}

// Propagator returns the propagator New installs: W3C trace context and
// baggage, as otelsetup.Setup installs by default.
func Propagator() propagation.TextMapPropagator {
	return propagation.NewCompositeTextMapPropagator(w3c.TraceContext{}, propagation.Baggage{})
}

// TracerProvider returns the provider of the default service.
func (r *Recorder) TracerProvider() *sdktrace.TracerProvider { return r.Service(r.cfg.service) }

// Service returns the provider of service name (its service.name), creating
// it on first use. Give each service of a multi-service test its own
// provider: the spans of all of them are recorded together, so parents and
// links can be checked across services.
func (r *Recorder) Service(name string) *sdktrace.TracerProvider {
	r.mu.Lock()
	defer r.mu.Unlock()
	if tp, ok := r.providers[name]; ok {
		return tp
	}
	var exp sdktrace.SpanExporter = recorderExporter{r}
	if r.cfg.redact {
		exp = pipeline.NewRedactingExporter(exp, tracing.NewRedactor(r.cfg.rules))
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithResource(resource.NewSchemaless(semconv.ServiceName(name))),
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(pipeline.NewBaggageSpanProcessor()),
		sdktrace.WithSpanProcessor(openTracker{r}),
		sdktrace.WithSyncer(exp),
	)
	r.providers[name] = tp
	r.stops = append(r.stops, tracing.StrictNames(tp, func(span string, err error) {
		r.fail(r.tb, false, "%s: %v", name, err)
	}))
	return tp
}

// Exporter returns an exporter that records into r, for code under test that
// builds its own pipeline ([otelsetup.WithSpanExporter], a batch processor):
// the spans it exports are found, waited for and checked like those of
// r's own providers. It records spans as it receives them, without
// redaction, and on the goroutine its pipeline exports on, so wait for them
// with [Recorder.WaitFor]. Spans started by other providers are not tracked
// while open: [Recorder.AssertAllEnded] does not see them. Its Shutdown does
// nothing and r keeps what it recorded.
func (r *Recorder) Exporter() sdktrace.SpanExporter { return recorderExporter{r} }

// Spans returns the ended spans, as exported, in the order they ended.
func (r *Recorder) Spans() []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), r.spans...)
}

// Reset forgets the spans recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	r.spans = nil
	r.mu.Unlock()
}

// Waterfall renders the recorded spans, and those still open, as a failing
// test prints them when it ends: first the findings of each trace's
// diagnosis, then the waterfalls.
func (r *Recorder) Waterfall() string {
	var b bytes.Buffer
	spans := r.Spans()
	spans = append(spans, r.openSpans()...)
	if len(spans) == 0 {
		return "(no spans recorded)\n"
	}
	if d := diagnosisText(spans); d != "" {
		b.WriteString("diagnosis:\n")
		b.WriteString(d)
		b.WriteString("waterfall:\n")
	}
	if err := waterfall.Render(&b, spans, waterfall.WithWidth(120), waterfall.WithColor(false), waterfall.WithDiagnosis(false)); err != nil {
		fmt.Fprintf(&b, "(waterfall: %v)\n", err)
	}
	return b.String()
}

func (r *Recorder) openSpans() []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]sdktrace.ReadOnlySpan, 0, len(r.open))
	for _, s := range r.open {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartTime().Before(out[j].StartTime()) })
	return out
}

// recorderExporter appends exported spans to the recorder and wakes the
// waiters. For the providers of New it runs synchronously on the goroutine
// that ends the span, before End returns.
type recorderExporter struct{ r *Recorder }

var _ sdktrace.SpanExporter = recorderExporter{}

func (e recorderExporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if len(spans) == 0 {
		return nil
	}
	e.r.mu.Lock()
	e.r.spans = append(e.r.spans, spans...)
	close(e.r.changed) // wakes every waiter
	e.r.changed = make(chan struct{})
	e.r.mu.Unlock()
	return nil
}

func (recorderExporter) Shutdown(context.Context) error { return nil }

// openTracker remembers the spans started and not yet ended.
type openTracker struct{ r *Recorder }

var _ sdktrace.SpanProcessor = openTracker{}

func (o openTracker) OnStart(_ context.Context, s sdktrace.ReadWriteSpan) {
	sc := s.SpanContext()
	o.r.mu.Lock()
	o.r.open[spanKey{sc.TraceID(), sc.SpanID()}] = s
	o.r.mu.Unlock()
}

func (o openTracker) OnEnd(s sdktrace.ReadOnlySpan) {
	sc := s.SpanContext()
	o.r.mu.Lock()
	delete(o.r.open, spanKey{sc.TraceID(), sc.SpanID()})
	o.r.mu.Unlock()
}

func (openTracker) Shutdown(context.Context) error   { return nil }
func (openTracker) ForceFlush(context.Context) error { return nil }

// Exporter is an in-memory span exporter for tests that hand it to
// otelsetup.Setup (otelsetup.WithSpanExporter): unlike the SDK's
// tracetest.InMemoryExporter it keeps its spans after Shutdown, so a test
// shuts Setup's pipeline down (which flushes it) and then reads what was
// exported, after redaction. The zero value is ready to use; it is safe for
// concurrent use.
type Exporter struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

var _ sdktrace.SpanExporter = (*Exporter)(nil)

// ExportSpans records spans.
func (e *Exporter) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.spans = append(e.spans, spans...)
	return nil
}

// Shutdown does nothing: the spans stay readable.
func (e *Exporter) Shutdown(context.Context) error { return nil }

// Spans returns the exported spans in the order they were exported.
func (e *Exporter) Spans() []sdktrace.ReadOnlySpan {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), e.spans...)
}
