package otelsetup

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/internal/batch"
	"github.com/otelkit/otelkit/sdk/tracingtest"
)

type failingExporter struct{ shutdowns int }

func (*failingExporter) ExportSpans(context.Context, []sdktrace.ReadOnlySpan) error {
	return errors.New("connection refused")
}

func (f *failingExporter) Shutdown(context.Context) error { f.shutdowns++; return nil }

func TestReportingExporter_ReportsFailuresAtMostOncePerInterval(t *testing.T) {
	reported := tracingtest.Reports(t)
	inner := &failingExporter{}
	e := newReportingExporter(inner, time.Hour, "test export")
	spans := tracetest.SpanStubs{{Name: "a"}, {Name: "b"}}.Snapshots()

	for range 5 {
		// Returned for the batch processor to count, marked as reported
		// so that it does not report it again.
		err := e.ExportSpans(context.Background(), spans)
		if !errors.As(err, new(batch.Reported)) || !strings.Contains(err.Error(), "connection refused") {
			t.Fatalf("ExportSpans returned %v, want the failure marked as reported", err)
		}
	}
	got := reported()
	if len(got) != 1 {
		t.Fatalf("want 1 report within the interval, got %d: %v", len(got), got)
	}
	if msg := got[0].Error(); !strings.Contains(msg, "1 span export(s) failed, 2 spans dropped") || !strings.Contains(msg, "connection refused") {
		t.Errorf("first report: %q", msg)
	}

	if err := e.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	got = reported()
	if len(got) != 2 || !strings.Contains(got[1].Error(), "test export: 4 span export(s) failed, 8 spans dropped since the last report: connection refused") {
		t.Errorf("Shutdown must report what the interval held back, got %v", got)
	}
	if inner.shutdowns != 1 {
		t.Errorf("inner exporter shut down %d times, want 1", inner.shutdowns)
	}
}

func TestReportingExporter_ReportsAgainAfterInterval(t *testing.T) {
	reported := tracingtest.Reports(t)
	e := newReportingExporter(&failingExporter{}, time.Nanosecond, "test export")
	spans := tracetest.SpanStubs{{Name: "a"}}.Snapshots()
	for range 3 {
		_ = e.ExportSpans(context.Background(), spans)
		time.Sleep(time.Microsecond)
	}
	if n := len(reported()); n != 3 {
		t.Errorf("want a report per failure once the interval passed, got %d", n)
	}
}

func TestPlan_Precedence(t *testing.T) {
	for _, tc := range []struct {
		name     string
		env      map[string]string
		defaults []string
		want     string
	}{
		{"spec default", nil, nil, "[otlp]"},
		{"option default", nil, []string{"waterfall"}, "[waterfall]"},
		{"endpoint beats option", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, []string{"waterfall"}, "[otlp]"},
		{"signal endpoint beats option", map[string]string{"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, []string{"waterfall"}, "[otlp]"},
		{"other signal's endpoint does not count", map[string]string{"OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://collector:4318"}, []string{"waterfall"}, "[waterfall]"},
		{"variable beats all", map[string]string{"OTEL_TRACES_EXPORTER": " console , waterfall ", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}, []string{"none"}, "[console waterfall]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, k := range []string{"OTEL_TRACES_EXPORTER", "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"} {
				t.Setenv(k, tc.env[k])
			}
			p := plan(envTracesExporter, "TRACES", "WithDefaultTracesExporter", tc.defaults)
			if got := fmtNames(p.names); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func fmtNames(names []string) string { return "[" + strings.Join(names, " ") + "]" }
