package otelsetup_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
	collmetricpb "go.opentelemetry.io/proto/otlp/collector/metrics/v1"
	colltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

// badCollector is an OTLP collector that never answers (hung) or fails every
// export (503, gRPC Unavailable).
type badCollector struct {
	endpoint string // for OTEL_EXPORTER_OTLP_ENDPOINT
	traces   string // where the trace exporter sends, as errors name it
	metrics  string
}

func startBadCollector(t *testing.T, protocol string, hung bool) badCollector {
	t.Helper()
	if protocol == "http/protobuf" {
		var c *tracingtest.Collector
		if hung {
			c = tracingtest.NewHungCollector(t)
		} else {
			c = tracingtest.NewFailingCollector(t, http.StatusServiceUnavailable)
		}
		return badCollector{endpoint: c.Endpoint, traces: c.Endpoint + "/v1/traces", metrics: c.Endpoint + "/v1/metrics"}
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	answer := func(ctx context.Context) error {
		if !hung {
			return status.Error(codes.Unavailable, "collector overloaded")
		}
		select {
		case <-stop:
		case <-ctx.Done():
		}
		return ctx.Err()
	}
	srv := grpc.NewServer()
	colltracepb.RegisterTraceServiceServer(srv, failingTraces{answer: answer})
	collmetricpb.RegisterMetricsServiceServer(srv, failingMetrics{answer: answer})
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	t.Cleanup(func() { close(stop) })
	addr := lis.Addr().String()
	return badCollector{endpoint: "http://" + addr, traces: addr, metrics: addr}
}

type failingTraces struct {
	colltracepb.UnimplementedTraceServiceServer
	answer func(context.Context) error
}

func (f failingTraces) Export(ctx context.Context, _ *colltracepb.ExportTraceServiceRequest) (*colltracepb.ExportTraceServiceResponse, error) {
	return nil, f.answer(ctx)
}

type failingMetrics struct {
	collmetricpb.UnimplementedMetricsServiceServer
	answer func(context.Context) error
}

func (f failingMetrics) Export(ctx context.Context, _ *collmetricpb.ExportMetricsServiceRequest) (*collmetricpb.ExportMetricsServiceResponse, error) {
	return nil, f.answer(ctx)
}

// reports is what is reported through otel.Handle during the test.
type reports struct{ all func() []error }

func captureHandle(t *testing.T) *reports { return &reports{all: tracingtest.Reports(t)} }

// await waits up to 10 s for a report containing all of want.
func (r *reports) await(t *testing.T, want ...string) {
	t.Helper()
	if !r.wait(func(errs []error) bool {
		return slices.ContainsFunc(errs, func(err error) bool {
			for _, w := range want {
				if !strings.Contains(err.Error(), w) {
					return false
				}
			}
			return true
		})
	}) {
		t.Errorf("no report through otel.Handle containing %q; reports: %v", want, r.all())
	}
}

var droppedRE = regexp.MustCompile(`(\d+) spans dropped`)

// awaitDropped waits up to 10 s for the reports naming exporter to count n
// dropped spans in all.
func (r *reports) awaitDropped(t *testing.T, exporter string, n int) {
	t.Helper()
	sum := func(errs []error) int {
		total := 0
		for _, err := range errs {
			if m := droppedRE.FindStringSubmatch(err.Error()); m != nil && strings.Contains(err.Error(), exporter) {
				k, _ := strconv.Atoi(m[1])
				total += k
			}
		}
		return total
	}
	if !r.wait(func(errs []error) bool { return sum(errs) >= n }) || sum(r.all()) != n {
		t.Errorf("reports through otel.Handle count %d spans dropped by %s, want %d: %v", sum(r.all()), exporter, n, r.all())
	}
}

func (r *reports) wait(ok func([]error) bool) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if ok(r.all()) {
			return true
		}
	}
	return ok(r.all())
}

// shutdownWithin calls shutdown with ctx and fails the test if it has not
// returned after 20 s: far longer than any bound the test sets.
func shutdownWithin(t *testing.T, ctx context.Context, shutdown func(context.Context) error) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- shutdown(ctx) }()
	select {
	case err := <-done:
		return err
	case <-time.After(20 * time.Second):
		t.Fatal("shutdown has not returned after 20 s")
		return nil
	}
}

// setupOwn is Setup without globals for a test that calls shutdown itself,
// having ended n spans named "op".
func setupOwn(t *testing.T, n int, opts ...otelsetup.Option) (otelsetup.Providers, func(context.Context) error) {
	t.Helper()
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), append(opts, otelsetup.WithoutGlobals(&p))...)
	if err != nil {
		t.Fatal(err)
	}
	tr := p.TracerProvider.Tracer("t")
	for range n {
		_, s := tr.Start(context.Background(), "op")
		s.End()
	}
	return p, shutdown
}

// A collector that accepts connections and never answers, or answers every
// export with a failure, holds shutdown at most OTEL_BSP_EXPORT_TIMEOUT even
// without a deadline, and the error counts the spans not exported and says
// why, naming the endpoint.
func TestSetup_ShutdownWithABadCollectorIsBoundedAndCounts(t *testing.T) {
	for _, tc := range []struct {
		protocol string
		hung     bool
		why      string // in the error, after the endpoint
	}{
		{"http/protobuf", true, "no answer before the deadline"},
		{"http/protobuf", false, "HTTP 503 Service Unavailable"},
		{"grpc", true, "no answer before the deadline"},
		{"grpc", false, "rpc error: code = Unavailable desc = collector overloaded"},
	} {
		name := tc.protocol + "/503"
		if tc.hung {
			name = tc.protocol + "/hung"
		}
		t.Run(name, func(t *testing.T) {
			noLeaks(t)
			reported := captureHandle(t)
			col := startBadCollector(t, tc.protocol, tc.hung)
			setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_EXPORTER_OTLP_PROTOCOL", tc.protocol,
				"OTEL_EXPORTER_OTLP_ENDPOINT", col.endpoint, "OTEL_BSP_EXPORT_TIMEOUT", "200")
			p, shutdown := setupOwn(t, 5)
			// The metrics pipeline exports to the same collector at shutdown.
			counter, _ := p.MeterProvider.Meter("t").Int64Counter("ops")
			counter.Add(context.Background(), 5)

			err := shutdownWithin(t, context.Background(), shutdown)
			var ee *otelsetup.ExportError
			if !errors.As(err, &ee) {
				t.Fatalf("shutdown returned %v, want an *ExportError", err)
			}
			if ee.Spans != 5 || ee.Exporter != "otlp" || ee.Endpoint != col.traces {
				t.Errorf("ExportError{Exporter: %q, Endpoint: %q, Spans: %d}, want otlp, %q, 5", ee.Exporter, ee.Endpoint, ee.Spans, col.traces)
			}
			if want := "otlp export: 5 spans not exported to " + col.traces + ": " + tc.why; !strings.Contains(err.Error(), want) {
				t.Errorf("shutdown error %q does not contain %q", err, want)
			}
			if again := shutdown(context.Background()); again != err {
				t.Errorf("second shutdown: %v, want the first result", again)
			}
			// The failed exports are reported too, with the endpoint.
			reported.awaitDropped(t, "otlp export to "+col.traces, 5)
		})
	}
}

// A shutdown whose deadline passes while spans are still queued behind a
// slow collector counts the spans it dropped, in the error and through
// otel.Handle, and returns by its deadline.
func TestSetup_ShutdownDeadlineReportsDroppedSpans(t *testing.T) {
	noLeaks(t)
	reported := captureHandle(t)
	col := tracingtest.NewHungCollector(t)
	// Batches of 10: the first export hangs, the other 40 spans wait.
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_METRICS_EXPORTER", "none",
		"OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint, "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "10")
	_, shutdown := setupOwn(t, 50)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := shutdownWithin(t, ctx, shutdown)
	var ee *otelsetup.ExportError
	if !errors.As(err, &ee) || ee.Spans != 50 {
		t.Fatalf("shutdown returned %v, want an *ExportError counting 50 spans", err)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("shutdown error %v does not wrap context.DeadlineExceeded", err)
	}
	reported.awaitDropped(t, "otlp export to "+col.Endpoint+"/v1/traces", 50)
}

// An export failure says what the collector answered, for traces and
// metrics, where the exporter alone says "retry-able request failure".
func TestSetup_ExportErrorsNameTheCollectorsAnswer(t *testing.T) {
	noLeaks(t)
	reported := captureHandle(t)
	col := tracingtest.NewFailingCollector(t, http.StatusServiceUnavailable)
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint, "OTEL_BSP_EXPORT_TIMEOUT", "200",
		"OTEL_METRIC_EXPORT_INTERVAL", "50", "OTEL_METRIC_EXPORT_TIMEOUT", "100")
	p, shutdown := setupOwn(t, 1)
	defer func() { _ = shutdown(context.Background()) }()
	flusher := p.TracerProvider.(interface{ ForceFlush(context.Context) error })
	err := flusher.ForceFlush(context.Background())
	if err == nil || err.Error() != "HTTP 503 Service Unavailable" {
		t.Errorf("ForceFlush: %v, want HTTP 503 Service Unavailable", err)
	}
	reported.await(t, "tracing: otlp export to "+col.Endpoint+"/v1/traces: 1 span export(s) failed, 1 spans dropped", "HTTP 503 Service Unavailable")

	// The periodic reader reports its failed exports.
	counter, _ := p.MeterProvider.Meter("t").Int64Counter("ops")
	counter.Add(context.Background(), 1)
	reported.await(t, "otlp metric export: metrics not exported to "+col.Endpoint+"/v1/metrics: HTTP 503 Service Unavailable")
}

// An exporter given to WithSyncSpanExporter holds each span as it ends,
// redacted like the others, whatever the collector beside it does: the
// OTLP export of that span hangs, and nothing needs flushing.
func TestSetup_SyncSpanExporterNeverWaitsForTheCollector(t *testing.T) {
	noLeaks(t)
	captureHandle(t)
	col := tracingtest.NewHungCollector(t)
	setenv(t, "OTEL_SERVICE_NAME", "svc", "OTEL_METRICS_EXPORTER", "none", "OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint,
		"OTEL_BSP_EXPORT_TIMEOUT", "200", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE", "1")
	rec := tracetest.NewInMemoryExporter()
	var p otelsetup.Providers
	shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithSyncSpanExporter(rec), otelsetup.WithoutGlobals(&p))
	if err != nil {
		t.Fatal(err)
	}
	_, s := p.TracerProvider.Tracer("t").Start(context.Background(), "op", trace.WithAttributes(attribute.String("payment.api_token", rawSecret)))
	s.End()
	spans := rec.GetSpans()
	if len(spans) != 1 {
		t.Fatalf("%d spans recorded when the span ended, want 1", len(spans))
	}
	for _, kv := range spans[0].Attributes {
		if kv.Key == "payment.api_token" && kv.Value.AsString() == rawSecret {
			t.Error("secret recorded in clear: the conventions do not wrap the exporter")
		}
	}
	var ee *otelsetup.ExportError
	if err := shutdownWithin(t, context.Background(), shutdown); !errors.As(err, &ee) || ee.Spans != 1 || ee.Exporter != "otlp" {
		t.Errorf("shutdown: %v, want the OTLP exporter's span counted, not the recorder's", err)
	}
}
