package shop

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/otelsetup"
)

// Telemetry is where the services of one process send their spans and logs.
// Every service gets its own otelsetup.Setup, without globals, so that each
// span carries the service.name of the service that made it; all of them
// feed one SpanRecorder (the terminal report reads it) next to whatever
// exporter the OTEL_* environment variables select, and to the exporters of
// NewTelemetry's options (a test's tracingtest recorder).
type Telemetry struct {
	// Spans holds every ended span of the process.
	Spans *SpanRecorder
	// Logs holds every log line of the process.
	Logs *LogRecorder

	ctx  context.Context
	opts []otelsetup.Option

	mu         sync.Mutex
	shutdowns  []func(context.Context) error
	flushers   []interface{ ForceFlush(context.Context) error }
	transports transports
}

// NewTelemetry prepares the shared pipeline. echo, when not nil, also
// receives every log line (stdout when the example keeps serving). opts are
// added to every service's otelsetup.Setup.
//
// With OTEL_SDK_DISABLED=true every service gets no-op providers, which is
// what the overhead benchmark compares against. With OTEL_TRACES_EXPORTER or
// an OTEL_EXPORTER_OTLP_*ENDPOINT set, spans are exported there too; with
// OTEL_LOGS_EXPORTER or an OTLP endpoint, every service's log records too.
func NewTelemetry(ctx context.Context, echo io.Writer, opts ...otelsetup.Option) (*Telemetry, error) {
	t := &Telemetry{Spans: &SpanRecorder{}, Logs: &LogRecorder{echo: echo}, ctx: ctx}
	t.opts = append([]otelsetup.Option{
		otelsetup.WithServiceNamespace("checkout"),
		otelsetup.WithDefaultTracesExporter("none"), // the terminal shows the recorder's spans
		otelsetup.WithDefaultMetricsExporter("none"),
		// The lines go to stdout: records leave the process only when the
		// environment names a collector or a log exporter.
		otelsetup.WithDefaultLogsExporter("none"),
	}, opts...)
	// Fed as spans end: the report never waits for the OTLP exporter of a
	// collector that is down or does not answer. Fed after the synchronous
	// exporters of opts (a test's recorder): when AwaitTraces finds a trace
	// complete, they hold it too.
	t.opts = append(t.opts, otelsetup.WithSyncSpanExporter(t.Spans))
	return t, nil
}

// Exporting reports whether spans also leave the process.
func (t *Telemetry) Exporting() bool {
	return os.Getenv("OTEL_TRACES_EXPORTER") != "" && os.Getenv("OTEL_TRACES_EXPORTER") != "none" ||
		os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// service sets up the named service's providers and logger.
func (t *Telemetry) service(name string) (svc, error) {
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(t.ctx, append(t.opts, otelsetup.WithServiceName(name), otelsetup.WithoutGlobals(&p))...)
	if err != nil {
		return svc{}, fmt.Errorf("telemetry of %s: %w", name, err)
	}
	t.mu.Lock()
	t.shutdowns = append(t.shutdowns, shutdown)
	if f, ok := p.TracerProvider.(interface{ ForceFlush(context.Context) error }); ok {
		t.flushers = append(t.flushers, f)
	}
	t.mu.Unlock()
	return svc{name: name, transports: &t.transports, tp: p.TracerProvider, prop: p.Propagator, log: newLogger(t.Logs, name, p.LoggerProvider)}, nil
}

// Flush exports every ended span to every exporter. The recorder needs no
// flush: it is fed as spans end.
func (t *Telemetry) Flush(ctx context.Context) error {
	t.mu.Lock()
	fs := t.flushers
	t.mu.Unlock()
	var errs []error
	for _, f := range fs {
		errs = append(errs, f.ForceFlush(ctx))
	}
	return errors.Join(errs...)
}

// AwaitTraces waits until each of the traces is complete in the recorder,
// that is, has a root and every span's parent, or until timeout. Spans of one
// trace end in several services at their own pace: a producer's send span can
// end after the consumer has finished with the record. The recorder is fed as
// spans end: nothing here waits for an exporter.
func (t *Telemetry) AwaitTraces(timeout time.Duration, ids ...trace.TraceID) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		if !slices.ContainsFunc(ids, func(id trace.TraceID) bool { return !complete(t.Spans.Trace(id)) }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil // report what there is
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func complete(spans []sdktrace.ReadOnlySpan) bool {
	ids := make(map[trace.SpanID]bool, len(spans))
	for _, s := range spans {
		ids[s.SpanContext().SpanID()] = true
	}
	roots := 0
	for _, s := range spans {
		if !s.Parent().IsValid() {
			roots++
		} else if !ids[s.Parent().SpanID()] {
			return false
		}
	}
	return roots > 0
}

// Shutdown flushes and stops every service's providers, in parallel: each
// returns by ctx's deadline or OTEL_BSP_EXPORT_TIMEOUT, whichever is first,
// with a [*otelsetup.ExportError] for the spans it could not export.
func (t *Telemetry) Shutdown(ctx context.Context) error {
	t.mu.Lock()
	sds := t.shutdowns
	t.shutdowns, t.flushers = nil, nil
	t.mu.Unlock()
	errs := make([]error, len(sds))
	var wg sync.WaitGroup
	for i, sd := range sds {
		wg.Go(func() { errs[i] = sd(ctx) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// transports are the HTTP client transports of the services, closed with them.
type transports struct {
	mu sync.Mutex
	ts []*http.Transport
}

func (t *transports) add(tr *http.Transport) {
	t.mu.Lock()
	t.ts = append(t.ts, tr)
	t.mu.Unlock()
}

func (t *Telemetry) closeIdle() {
	t.transports.mu.Lock()
	defer t.transports.mu.Unlock()
	for _, tr := range t.transports.ts {
		tr.CloseIdleConnections()
	}
}

// Discard makes the recorders drop what they receive from now on, as a
// long-running load does not keep every span and line in memory. Spans are
// still exported and logs still echoed.
func (t *Telemetry) Discard() {
	t.Spans.discard.Store(true)
	t.Logs.discard.Store(true)
}

// SpanRecorder keeps every ended span in memory.
type SpanRecorder struct {
	discard atomic.Bool
	mu      sync.Mutex
	spans   []sdktrace.ReadOnlySpan
}

var _ sdktrace.SpanExporter = (*SpanRecorder)(nil)

// ExportSpans keeps spans.
func (r *SpanRecorder) ExportSpans(_ context.Context, spans []sdktrace.ReadOnlySpan) error {
	if r.discard.Load() {
		return nil
	}
	r.mu.Lock()
	r.spans = append(r.spans, spans...)
	r.mu.Unlock()
	return nil
}

// Shutdown does nothing: the spans stay readable.
func (r *SpanRecorder) Shutdown(context.Context) error { return nil }

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
	discard atomic.Bool
	echo    io.Writer
	mu      sync.Mutex
	lines   []string
}

// Write takes one or more complete lines (slog's JSON handler writes one
// record per call).
func (r *LogRecorder) Write(p []byte) (int, error) {
	if r.discard.Load() {
		if r.echo != nil {
			return r.echo.Write(p)
		}
		return len(p), nil
	}
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
	name       string
	transports *transports
	tp         trace.TracerProvider
	prop       propagation.TextMapPropagator
	log        *slog.Logger
}
