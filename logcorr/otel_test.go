package logcorr

import (
	"context"
	"log/slog"
	"reflect"
	"strings"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/baggage"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"

	"github.com/otelkit/otelkit/tracing"
)

// memLogs is an in-memory log exporter behind a simple processor.
type memLogs struct {
	mu   sync.Mutex
	recs []sdklog.Record
}

func (m *memLogs) Export(_ context.Context, rs []sdklog.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, r := range rs {
		m.recs = append(m.recs, r.Clone())
	}
	return nil
}
func (m *memLogs) Shutdown(context.Context) error   { return nil }
func (m *memLogs) ForceFlush(context.Context) error { return nil }

func (m *memLogs) provider() *sdklog.LoggerProvider {
	return sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(m)))
}

func (m *memLogs) one(t *testing.T) sdklog.Record {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.recs) != 1 {
		t.Fatalf("got %d log records, want 1", len(m.recs))
	}
	return m.recs[0]
}

// attrs returns the record's attributes as Go values, groups as maps.
func attrs(r sdklog.Record) map[string]any {
	out := map[string]any{}
	r.WalkAttributes(func(kv attribute.KeyValue) bool {
		out[string(kv.Key)] = goValue(kv.Value)
		return true
	})
	return out
}

func goValue(v attribute.Value) any {
	switch v.Type() {
	case attribute.MAP:
		m := map[string]any{}
		for _, kv := range v.AsMap() {
			m[string(kv.Key)] = goValue(kv.Value)
		}
		return m
	case attribute.INT64:
		return v.AsInt64()
	}
	return v.String()
}

// The record sent to the provider carries the span context in its own
// fields, the level as severity, the message as body, and the line's
// attributes (groups nested, business context at the root) without the
// correlation fields, redacted as the line is.
func TestWithLoggerProvider_RecordIsTheRedactedLine(t *testing.T) {
	bag, err := baggage.New(mustMember(t, "tenant.id", "acme"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := baggage.ContextWithBaggage(spanCtx(true), bag)
	var mem memLogs
	var s jsonSink
	const token = "Bearer abcdefghijklmnopqrstuvwxyz0123456789"
	l := slog.New(NewHandler(s.handler(), WithLoggerProvider(mem.provider()), WithBusiness(), WithTraceURL("", "http://j/{trace_id}")))
	l.With("svc", "orders").WithGroup("req").ErrorContext(ctx, "charge failed", "user.id", "u-42", "authorization", token, "items", 3)

	r := mem.one(t)
	sc := spanContext(true)
	if r.TraceID() != sc.TraceID() || r.SpanID() != sc.SpanID() || r.TraceFlags() != sc.TraceFlags() {
		t.Errorf("record ids %s/%s/%s, want %s/%s/%s", r.TraceID(), r.SpanID(), r.TraceFlags(), sc.TraceID(), sc.SpanID(), sc.TraceFlags())
	}
	if r.Severity() != otellog.SeverityError || r.SeverityText() != "ERROR" || r.Body().AsString() != "charge failed" {
		t.Errorf("severity %v %q body %v", r.Severity(), r.SeverityText(), r.Body())
	}
	line := s.one(t)
	hashed := tracing.RedactAttr(attribute.String("user.id", "u-42")).Value.AsString()
	req := line["req"].(map[string]any)
	if req["user.id"] != hashed || strings.Contains(req["authorization"].(string), "abcdefghij") {
		t.Fatalf("line %v: want user.id %s and the token masked", line, hashed)
	}
	want := map[string]any{
		"svc":       "orders",
		"tenant.id": "acme",
		"trace_url": "http://j/" + testTraceHex,
		"req":       map[string]any{"user.id": hashed, "authorization": req["authorization"], "items": int64(3)},
	}
	if got := attrs(r); !reflect.DeepEqual(got, want) {
		t.Errorf("record attributes %v\nwant %v", got, want)
	}
}

// Without a span, or with an unsampled one, the record carries what the line
// carries: no business context; the unsampled span's ids are the record's
// own (the log data model keeps them whatever the flags say).
func TestWithLoggerProvider_Uncorrelated(t *testing.T) {
	bag, _ := baggage.New(mustMember(t, "tenant.id", "acme"))
	for _, tc := range []struct {
		name string
		ctx  context.Context
	}{
		{"no span", baggage.ContextWithBaggage(context.Background(), bag)},
		{"nil context", nil},
		{"unsampled", baggage.ContextWithBaggage(spanCtx(false), bag)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mem memLogs
			l := slog.New(NewHandler(slog.DiscardHandler, WithLoggerProvider(mem.provider()), WithBusiness()))
			//nolint:staticcheck // a nil context is what some callers pass
			l.Log(tc.ctx, slog.LevelWarn, "m", "k", "v")
			r := mem.one(t)
			if got := attrs(r); !reflect.DeepEqual(got, map[string]any{"k": "v"}) {
				t.Errorf("attributes %v, want k only", got)
			}
			if r.TraceID().IsValid() != (tc.name == "unsampled") || r.Severity() != otellog.SeverityWarn {
				t.Errorf("trace id %s severity %v", r.TraceID(), r.Severity())
			}
		})
	}
}

// NewLogger's level applies to the records sent to the provider too.
func TestWithLoggerProvider_NewLoggerLevel(t *testing.T) {
	var mem memLogs
	var s jsonSink
	l := NewLogger(&s.buf, WithLoggerProvider(mem.provider()), WithLevel(slog.LevelWarn))
	l.InfoContext(spanCtx(true), "dropped")
	l.WarnContext(spanCtx(true), "kept")
	if r := mem.one(t); r.Body().AsString() != "kept" {
		t.Errorf("record %q, want only the warning", r.Body().AsString())
	}
	if got := s.one(t); got["msg"] != "kept" {
		t.Errorf("line %v", got)
	}
}
