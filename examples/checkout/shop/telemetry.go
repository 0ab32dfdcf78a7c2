package shop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"sync"

	"go.opentelemetry.io/contrib/exporters/autoexport"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// Telemetry is where the services of one process send their spans and logs.
// Every service gets its own TracerProvider, so that each span carries the
// service.name of the service that made it, while all of them share one
// export pipeline: the spans kept in memory for the terminal waterfall and
// the tests, plus the exporter the OTEL_* environment variables select.
type Telemetry struct {
	// Spans holds every ended span of the process.
	Spans *SpanRecorder
	// Logs holds every log line of the process.
	Logs *LogRecorder

	disabled bool
	export   sdktrace.SpanProcessor // from OTEL_TRACES_EXPORTER; nil without one
	prop     propagation.TextMapPropagator

	mu        sync.Mutex
	providers []*sdktrace.TracerProvider
}

// NewTelemetry builds the shared pipeline. echo, when not nil, also receives
// every log line (stdout when the example keeps serving).
//
// With OTEL_SDK_DISABLED=true every service gets a no-op provider, which is
// what the overhead benchmark compares against. With OTEL_TRACES_EXPORTER set
// (otlp, console) the spans are exported there too.
func NewTelemetry(ctx context.Context, echo io.Writer) (*Telemetry, error) {
	t := &Telemetry{
		Spans:    &SpanRecorder{},
		Logs:     &LogRecorder{echo: echo},
		disabled: strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true"),
		prop:     propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}),
	}
	if t.disabled {
		return t, nil
	}
	if v := os.Getenv("OTEL_TRACES_EXPORTER"); v != "" && v != "none" {
		exp, err := autoexport.NewSpanExporter(ctx)
		if err != nil {
			return nil, err
		}
		t.export = sdktrace.NewBatchSpanProcessor(exp)
	}
	return t, nil
}

// Exporting reports whether spans also leave the process (OTEL_TRACES_EXPORTER).
func (t *Telemetry) Exporting() bool { return t.export != nil }

// provider returns a new TracerProvider for the named service.
func (t *Telemetry) provider(service string) trace.TracerProvider {
	if t.disabled {
		return noop.NewTracerProvider()
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		semconv.ServiceName(service), semconv.ServiceNamespace("checkout")))
	if err != nil {
		res = resource.Default()
	}
	opts := []sdktrace.TracerProviderOption{
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(businessProcessor{}),
		sdktrace.WithSpanProcessor(t.Spans),
	}
	if t.export != nil {
		opts = append(opts, sdktrace.WithSpanProcessor(sharedProcessor{t.export}))
	}
	tp := sdktrace.NewTracerProvider(opts...)
	t.mu.Lock()
	t.providers = append(t.providers, tp)
	t.mu.Unlock()
	return tp
}

// Shutdown flushes and stops every provider, then the shared exporter.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	tps := t.providers
	t.providers = nil
	t.mu.Unlock()
	var errs []error
	for _, tp := range tps {
		errs = append(errs, tp.Shutdown(ctx))
	}
	if t.export != nil {
		errs = append(errs, t.export.Shutdown(ctx))
	}
	return errors.Join(errs...)
}

// sharedProcessor lets one export processor serve many providers: a provider
// shutting down flushes it but does not stop it; Telemetry.Shutdown does.
type sharedProcessor struct{ sdktrace.SpanProcessor }

func (p sharedProcessor) Shutdown(ctx context.Context) error { return p.ForceFlush(ctx) }

// SpanRecorder keeps every ended span in memory.
type SpanRecorder struct {
	mu    sync.Mutex
	spans []sdktrace.ReadOnlySpan
}

var _ sdktrace.SpanProcessor = (*SpanRecorder)(nil)

func (r *SpanRecorder) OnStart(context.Context, sdktrace.ReadWriteSpan) {}
func (r *SpanRecorder) Shutdown(context.Context) error                  { return nil }
func (r *SpanRecorder) ForceFlush(context.Context) error                { return nil }
func (r *SpanRecorder) OnEnd(s sdktrace.ReadOnlySpan) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}

// All returns every span recorded so far.
func (r *SpanRecorder) All() []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]sdktrace.ReadOnlySpan(nil), r.spans...)
}

// Trace returns the spans of one trace.
func (r *SpanRecorder) Trace(id trace.TraceID) []sdktrace.ReadOnlySpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []sdktrace.ReadOnlySpan
	for _, s := range r.spans {
		if s.SpanContext().TraceID() == id {
			out = append(out, s)
		}
	}
	return out
}

// LogRecorder keeps every JSON log line written by the services.
type LogRecorder struct {
	echo  io.Writer
	mu    sync.Mutex
	lines []string
}

// Write takes one or more complete lines (slog's JSON handler writes one
// record per call).
func (r *LogRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(p))
	sc.Buffer(nil, len(p)+1)
	for sc.Scan() {
		r.lines = append(r.lines, sc.Text())
	}
	if r.echo != nil {
		_, _ = r.echo.Write(p)
	}
	return len(p), nil
}

// All returns every line.
func (r *LogRecorder) All() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.lines...)
}

// Trace returns the lines that carry the trace id, in the order written.
func (r *LogRecorder) Trace(id trace.TraceID) []string {
	want := `"` + id.String() + `"`
	var out []string
	for _, l := range r.All() {
		if strings.Contains(l, want) {
			out = append(out, l)
		}
	}
	return out
}

// svc is what one service is built from: its name, tracer provider,
// propagator and logger.
type svc struct {
	name string
	tp   trace.TracerProvider
	prop propagation.TextMapPropagator
	log  *slog.Logger
}

func (t *Telemetry) service(name string) svc {
	return svc{name: name, tp: t.provider(name), prop: t.prop, log: newLogger(t.Logs, name)}
}

func (s svc) tracer() trace.Tracer {
	return s.tp.Tracer("github.com/otelkit/otelkit/examples/checkout/" + s.name)
}
