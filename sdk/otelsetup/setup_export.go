package otelsetup

import (
	"context"
	"fmt"
	"io"
	"os"
	"reflect"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/internal/report"
	"github.com/otelkit/otelkit/sdk/internal/batch"
	"github.com/otelkit/otelkit/sdk/waterfall"
)

// ExportError is the error a shutdown returns for spans or log records it
// could not export: those queued or being exported when it was called that
// were not exported by the time it returned, because the collector failed or
// the shutdown's deadline passed first. A log exporter's error counts
// LogRecords and leaves Spans at zero.
type ExportError struct {
	Exporter   string // "otlp", or the type of an exporter given to [WithSpanExporter]
	Endpoint   string // where the OTLP exporter sends, without credentials; empty otherwise
	Spans      int    // spans not exported
	LogRecords int    // log records not exported
	Err        error  // why: the last export error, or else the context's
}

func (e *ExportError) Error() string {
	name, to := e.Exporter, ""
	if name == "" {
		name = "span"
	}
	if e.Endpoint != "" {
		to = " to " + e.Endpoint
	}
	if e.LogRecords > 0 && e.Spans == 0 {
		return fmt.Sprintf("%s log export: %d log records not exported%s: %v", name, e.LogRecords, to, e.Err)
	}
	return fmt.Sprintf("%s export: %d spans not exported%s: %v", name, e.Spans, to, e.Err)
}

func (e *ExportError) Unwrap() error { return e.Err }

// reportingExporter turns export failures into at most one otel.Handle report
// per interval, counting the failures and lost spans in between. The batch
// span processor would otherwise report every failed batch: with a collector
// down, a log line every few milliseconds under load.
//
// It also bounds shutdown: the batch processor keeps exporting its queue in
// the background after the shutdown deadline passed, each export allowed
// OTEL_BSP_EXPORT_TIMEOUT (30s) of retries against a collector that is down.
// Once abort is called, in-flight exports are cancelled and later ones drop
// their spans at once.
type reportingExporter struct {
	sdktrace.SpanExporter
	every time.Duration
	name  string // the exporter and where it sends, for the reports

	exporter, endpoint string // for the ExportError the reports carry

	aborted context.Context
	abort   context.CancelCauseFunc // with the shutdown context's error

	reports  *report.Limiter
	mu       sync.Mutex
	failures int
	lost     int
	lastErr  error
}

func newReportingExporter(e sdktrace.SpanExporter, every time.Duration, name string) *reportingExporter {
	ctx, cancel := context.WithCancelCause(context.Background())
	return &reportingExporter{SpanExporter: e, every: every, name: name, aborted: ctx, abort: cancel, reports: report.New(every)}
}

// ExportSpans exports spans. A failure is counted and reported later; the
// error returned is a batch.Reported, for the batch processor to count the
// spans lost without reporting them again.
func (r *reportingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := unlessAborted(ctx, r.aborted, func(ctx context.Context) error { return r.SpanExporter.ExportSpans(ctx, spans) })
	if err == nil {
		return nil
	}
	r.mu.Lock()
	r.failures++
	r.lost += len(spans)
	r.lastErr = err
	if ok, _ := r.reports.Allow(); !ok {
		r.mu.Unlock()
		return batch.Reported{Err: err}
	}
	failures, lost := r.failures, r.lost
	r.failures, r.lost = 0, 0
	r.mu.Unlock()
	otel.Handle(r.report(lost, err, fmt.Sprintf("tracing: %s: %d span export(s) failed, %d spans dropped (next report in %v at the earliest): %v", r.name, failures, lost, r.every, err)))
	return batch.Reported{Err: err}
}

// unlessAborted runs export with ctx, cancelled once aborted is (past
// shutdown's deadline), and does not start it if aborted already is. An
// export cut short or never started says so with the deadline's error (the
// cause of aborted), not the cancellation it caused.
func unlessAborted(ctx, aborted context.Context, export func(context.Context) error) error {
	err := aborted.Err()
	if err == nil {
		ctx, cancel := context.WithCancel(ctx)
		stop := context.AfterFunc(aborted, cancel)
		err = export(ctx)
		stop()
		cancel()
	}
	if err != nil && aborted.Err() != nil {
		err = fmt.Errorf("shutdown deadline passed: %w", context.Cause(aborted))
	}
	return err
}

// Shutdown shuts the exporter down, reporting failures not yet reported.
func (r *reportingExporter) Shutdown(ctx context.Context) error {
	err := r.SpanExporter.Shutdown(ctx)
	r.mu.Lock()
	failures, lost, lastErr := r.failures, r.lost, r.lastErr
	r.failures, r.lost = 0, 0
	r.mu.Unlock()
	if failures > 0 {
		otel.Handle(r.report(lost, lastErr, fmt.Sprintf("tracing: %s: %d span export(s) failed, %d spans dropped since the last report: %v", r.name, failures, lost, lastErr)))
	}
	return err
}

// report is the report of failed exports: msg counts the failures since
// the last report; the [*ExportError] it wraps carries the exporter, its
// endpoint and the spans lost, for an error handler that logs fields
// ([WithErrorLogger]).
func (r *reportingExporter) report(lost int, err error, msg string) error {
	return &exportReport{msg: msg, err: &ExportError{Exporter: r.exporter, Endpoint: r.endpoint, Spans: lost, Err: err}}
}

type exportReport struct {
	msg string
	err *ExportError
}

func (e *exportReport) Error() string { return e.msg }
func (e *exportReport) Unwrap() error { return e.err }

// waterfalls holds the waterfall exporters shared by the Setups of a process,
// by writer.
var waterfalls struct {
	sync.Mutex
	m map[any]*shared
}

type shared struct {
	exp  *waterfall.Exporter
	refs int
}

// waterfallRef is one provider's handle on a shared waterfall exporter; the
// last handle shut down shuts the exporter down.
type waterfallRef struct {
	key  any
	s    *shared
	once sync.Once
}

var _ sdktrace.SpanExporter = (*waterfallRef)(nil)

// sharedWaterfall returns a handle on the waterfall exporter writing to w
// (standard error if nil), creating it with opts if it does not exist.
// Writers that cannot be map keys get an exporter of their own.
func sharedWaterfall(w io.Writer, opts []waterfall.Option) sdktrace.SpanExporter {
	if w == nil {
		w = os.Stderr
	}
	if !reflect.TypeOf(w).Comparable() {
		return waterfall.NewExporter(w, opts...)
	}
	waterfalls.Lock()
	defer waterfalls.Unlock()
	if waterfalls.m == nil {
		waterfalls.m = make(map[any]*shared)
	}
	s := waterfalls.m[w]
	if s == nil {
		s = &shared{exp: waterfall.NewExporter(w, opts...)}
		waterfalls.m[w] = s
	}
	s.refs++
	return &waterfallRef{key: w, s: s}
}

func (r *waterfallRef) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	return r.s.exp.ExportSpans(ctx, spans)
}

// Shutdown releases the handle. Traces buffered for other providers keep
// waiting for their roots; the last handle prints what is left.
func (r *waterfallRef) Shutdown(ctx context.Context) error {
	var err error
	r.once.Do(func() {
		waterfalls.Lock()
		r.s.refs--
		last := r.s.refs == 0
		if last {
			delete(waterfalls.m, r.key)
		}
		waterfalls.Unlock()
		if last {
			err = r.s.exp.Shutdown(ctx)
		}
	})
	return err
}
