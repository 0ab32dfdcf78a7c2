package logcorr_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/attribute"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"github.com/otelkit/otelkit/logcorr"
)

// memExporter keeps exported log records.
type memExporter struct {
	mu      sync.Mutex
	records []sdklog.Record
}

func (e *memExporter) Export(_ context.Context, rs []sdklog.Record) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range rs {
		e.records = append(e.records, r.Clone())
	}
	return nil
}
func (e *memExporter) Shutdown(context.Context) error   { return nil }
func (e *memExporter) ForceFlush(context.Context) error { return nil }

// TestRecipe_StdoutAndOTLP is the recipe for sending every record both to
// stdout as correlated JSON and to an OpenTelemetry log pipeline: fan out
// with slog.NewMultiHandler, wrap only the JSON handler in logcorr (the
// otelslog bridge reads the span context from ctx itself and puts it in the
// log record's TraceId/SpanId). In production the exporter is otlploghttp
// behind a batch processor.
func TestRecipe_StdoutAndOTLP(t *testing.T) {
	exp := &memExporter{}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	var stdout bytes.Buffer

	logger := slog.New(slog.NewMultiHandler(
		logcorr.NewHandler(slog.NewJSONHandler(&stdout, nil)),
		otelslog.NewHandler("checkout/orders", otelslog.WithLoggerProvider(lp)),
	))

	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(context.Background(), "orders.create")
	logger.With("svc", "orders").WithGroup("order").InfoContext(ctx, "order accepted", "items", 3)
	span.End()

	var line map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &line); err != nil {
		t.Fatalf("%q: %v", stdout.Bytes(), err)
	}
	sc := span.SpanContext()
	if line["trace_id"] != sc.TraceID().String() || line["span_id"] != sc.SpanID().String() {
		t.Errorf("stdout line %v, want ids of %v", line, sc)
	}
	if line["svc"] != "orders" || line["order"].(map[string]any)["items"] != 3.0 {
		t.Errorf("stdout line lost attributes: %v", line)
	}

	if len(exp.records) != 1 {
		t.Fatalf("OTLP pipeline got %d records, want 1", len(exp.records))
	}
	r := exp.records[0]
	if r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() || r.TraceFlags() != sc.TraceFlags() {
		t.Errorf("OTLP record ids %v/%v, want %v", r.TraceID(), r.SpanID(), sc)
	}
	if r.Body().AsString() != "order accepted" {
		t.Errorf("OTLP body %v", r.Body())
	}
	keys := map[string]string{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		keys[string(kv.Key)] = kv.Value.String()
		return true
	})
	if _, dup := keys["trace_id"]; dup || keys["svc"] != "orders" || len(keys) != 2 {
		t.Errorf("OTLP attributes %v: want svc and the order group, no duplicated ids", keys)
	}
}
