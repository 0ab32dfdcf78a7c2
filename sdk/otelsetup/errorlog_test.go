package otelsetup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel"

	"github.com/otelkit/otelkit/sdk/otelsetup"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing"
)

// logBuffer is a JSON slog handler's output, safe for the goroutines that
// report.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// records returns the records written so far, decoded.
func (b *logBuffer) records(t *testing.T) []map[string]any {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(b.buf.String()), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("record %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func newLogger() (*slog.Logger, *logBuffer) {
	b := &logBuffer{}
	return slog.New(slog.NewJSONHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug})), b
}

// find returns the one record whose message contains msg.
func find(t *testing.T, records []map[string]any, msg string) map[string]any {
	t.Helper()
	var found []map[string]any
	for _, r := range records {
		if strings.Contains(r["msg"].(string), msg) {
			found = append(found, r)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d records with %q, want 1; records: %v", len(found), msg, records)
	}
	return found[0]
}

// An invalid span name and a failed export, reported in the background, come out as WARN records of the logger with
// their fields; the SDK's complaint about jaeger_remote, which Setup
// supports, does not.
func TestWithErrorLogger_ReportsAreWarnRecordsWithFields(t *testing.T) {
	keepGlobals(t)
	noLeaks(t)
	collector := tracingtest.NewFailingCollector(t, 400)
	setenv(t, "OTEL_SERVICE_NAME", "orders", "OTEL_METRICS_EXPORTER", "none",
		"OTEL_EXPORTER_OTLP_ENDPOINT", collector.Endpoint,
		"OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote",
		"OTEL_TRACES_SAMPLER_ARG", "endpoint=http://"+freeAddr(t)+"/sampling,initialSamplingRate=1")
	logger, out := newLogger()
	shutdown, err := otelsetup.Setup(context.Background(), otelsetup.WithErrorLogger(logger))
	if err != nil {
		t.Fatal(err)
	}
	_, s := tracing.Start(context.Background(), "Orders Place TestWithErrorLogger")
	s.End()
	_ = shutdown(context.Background()) // the export failed: reported, and logged

	records := out.records(t)
	name := find(t, records, `"Orders Place TestWithErrorLogger"`)
	if name["level"] != "WARN" || !strings.HasPrefix(name["msg"].(string), "tracing: span name does not follow") {
		t.Errorf("span name record %v: want level WARN", name)
	}
	export := find(t, records, "span export(s) failed")
	want := map[string]any{"level": "WARN", "exporter": "otlp", "spans": 1.0, "endpoint": collector.Endpoint + "/v1/traces"}
	for k, v := range want {
		if export[k] != v {
			t.Errorf("export record %v: %s = %v, want %v", export, k, export[k], v)
		}
	}
	if !strings.HasSuffix(export["msg"].(string), "HTTP 400 Bad Request") {
		t.Errorf("export record %v: the message does not end with the collector's answer", export)
	}
	for _, r := range records {
		if strings.Contains(r["msg"].(string), "unsupported sampler") {
			t.Errorf("record %v: the SDK's complaint about a sampler Setup supports", r)
		}
	}
}

// Several Setups: reports go to the latest running one's logger, and once
// all have shut down, to the handler installed before.
func TestWithErrorLogger_SeveralSetupsAndRestore(t *testing.T) {
	keepGlobals(t)
	noLeaks(t)
	setenv(t, "OTEL_TRACES_EXPORTER", "none", "OTEL_METRICS_EXPORTER", "none")
	var before []error
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) { before = append(before, err) }))

	la, outA := newLogger()
	lb, outB := newLogger()
	var pa, pb otelsetup.Providers
	shutA, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("a"), otelsetup.WithoutGlobals(&pa), otelsetup.WithErrorLogger(la))
	if err != nil {
		t.Fatal(err)
	}
	shutB, err := otelsetup.Setup(context.Background(), otelsetup.WithServiceName("b"), otelsetup.WithoutGlobals(&pb), otelsetup.WithErrorLogger(lb))
	if err != nil {
		t.Fatal(err)
	}
	otel.Handle(&otelsetup.ConfigError{Variable: "X", Value: "1", Err: errors.New("one")})
	if err := shutB(context.Background()); err != nil {
		t.Fatal(err)
	}
	otel.Handle(errors.New("two"))
	if err := shutA(context.Background()); err != nil {
		t.Fatal(err)
	}
	otel.Handle(errors.New("three"))

	one := find(t, outB.records(t), "one")
	if one["level"] != "WARN" || one["variable"] != "X" || one["value"] != "1" {
		t.Errorf("record %v: want WARN with variable X, value 1", one)
	}
	if r := outA.records(t); len(r) != 1 || r[0]["msg"] != "two" || r[0]["level"] != "WARN" {
		t.Errorf("first Setup's logger: %v, want the one WARN record \"two\"", r)
	}
	if len(before) != 1 || before[0].Error() != "three" {
		t.Errorf("handler installed before: %v, want only \"three\"", before)
	}
}
