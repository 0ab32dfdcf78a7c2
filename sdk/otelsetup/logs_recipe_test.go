package otelsetup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/contrib/bridges/otelslog"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	collogs "go.opentelemetry.io/proto/otlp/collector/logs/v1"
	logspb "go.opentelemetry.io/proto/otlp/logs/v1"
	"google.golang.org/protobuf/proto"

	"github.com/otelkit/otelkit/logcorr"
)

// otlpCollector is an OTLP/HTTP logs endpoint that keeps what it receives.
type otlpCollector struct {
	mu      sync.Mutex
	records []*logspb.LogRecord
}

func (c *otlpCollector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var req collogs.ExportLogsServiceRequest
	if err == nil {
		err = proto.Unmarshal(body, &req)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	for _, rl := range req.ResourceLogs {
		for _, sl := range rl.ScopeLogs {
			c.records = append(c.records, sl.LogRecords...)
		}
	}
	c.mu.Unlock()
	resp, _ := proto.Marshal(&collogs.ExportLogsServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// TestRecipe_StdoutAndOTLP is the recipe for sending every record both to
// stdout as correlated JSON and to an OpenTelemetry log pipeline: fan out
// with slog.NewMultiHandler and wrap only the JSON handler in logcorr. The
// otelslog bridge reads the span context from ctx itself and sends it as the
// OTLP record's trace_id and span_id. In production the processor is a
// batch processor.
func TestRecipe_StdoutAndOTLP(t *testing.T) {
	collector := &otlpCollector{}
	srv := httptest.NewServer(collector)
	defer srv.Close()
	ctx := context.Background()
	exp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(srv.URL+"/v1/logs"))
	if err != nil {
		t.Fatal(err)
	}
	lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	defer func() { _ = lp.Shutdown(ctx) }()
	var stdout bytes.Buffer

	logger := slog.New(slog.NewMultiHandler(
		logcorr.NewHandler(slog.NewJSONHandler(&stdout, nil)),
		otelslog.NewHandler("checkout/orders", otelslog.WithLoggerProvider(lp)),
	))

	tp := sdktrace.NewTracerProvider()
	ctx, span := tp.Tracer("test").Start(ctx, "orders.create")
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

	collector.mu.Lock()
	defer collector.mu.Unlock()
	if len(collector.records) != 1 {
		t.Fatalf("collector got %d records, want 1", len(collector.records))
	}
	r := collector.records[0]
	tid, sid := sc.TraceID(), sc.SpanID()
	if !bytes.Equal(r.TraceId, tid[:]) || !bytes.Equal(r.SpanId, sid[:]) || r.Flags&0xff != uint32(sc.TraceFlags()) {
		t.Errorf("OTLP record ids %x/%x flags %x, want %v", r.TraceId, r.SpanId, r.Flags, sc)
	}
	if r.Body.GetStringValue() != "order accepted" {
		t.Errorf("OTLP body %v", r.Body)
	}
	keys := map[string]bool{}
	for _, kv := range r.Attributes {
		keys[kv.Key] = true
	}
	if keys["trace_id"] || !keys["svc"] || !keys["order"] || len(keys) != 2 {
		t.Errorf("OTLP attributes %v: want svc and the order group, no duplicated ids", keys)
	}
}
