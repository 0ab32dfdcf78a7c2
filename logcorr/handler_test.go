package logcorr

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"maps"
	"reflect"
	"strings"
	"testing"
	"testing/slogtest"
	"time"

	"go.opentelemetry.io/otel/trace"
)

var (
	testTraceID = trace.TraceID{0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36}
	testSpanID  = trace.SpanID{0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7}
)

var testTime = time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC)

const (
	testTraceHex = "4bf92f3577b34da6a3ce929d0e0e4736"
	testSpanHex  = "00f067aa0ba902b7"
)

func spanContext(sampled bool) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: testTraceID, SpanID: testSpanID}
	if sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	return trace.NewSpanContext(cfg)
}

func spanCtx(sampled bool) context.Context {
	return trace.ContextWithSpanContext(context.Background(), spanContext(sampled))
}

// jsonSink is a JSON handler without the time field, and its parsed lines.
type jsonSink struct{ buf bytes.Buffer }

func (s *jsonSink) handler() slog.Handler {
	return slog.NewJSONHandler(&s.buf, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	})
}

func (s *jsonSink) lines(t testing.TB) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range bytes.Split(s.buf.Bytes(), []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

func (s *jsonSink) one(t testing.TB) map[string]any {
	t.Helper()
	ls := s.lines(t)
	if len(ls) != 1 {
		t.Fatalf("got %d lines, want 1:\n%s", len(ls), s.buf.String())
	}
	return ls[0]
}

// ctxHandler hands every record to h with a fixed context, so that
// slogtest's context-free cases run with a live span.
type ctxHandler struct {
	ctx context.Context
	h   slog.Handler
}

func (c ctxHandler) Enabled(_ context.Context, l slog.Level) bool  { return c.h.Enabled(c.ctx, l) }
func (c ctxHandler) Handle(_ context.Context, r slog.Record) error { return c.h.Handle(c.ctx, r) }
func (c ctxHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return ctxHandler{c.ctx, c.h.WithAttrs(as)}
}
func (c ctxHandler) WithGroup(name string) slog.Handler {
	return ctxHandler{c.ctx, c.h.WithGroup(name)}
}

func TestSlogtest_WithoutSpan(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return NewHandler(slog.NewJSONHandler(&buf, nil))
	}, func(t *testing.T) map[string]any {
		m := decodeOne(t, buf.Bytes())
		for _, k := range []string{"trace_id", "span_id", "trace_flags"} {
			if _, ok := m[k]; ok {
				t.Errorf("%s present without a span: %v", k, m)
			}
		}
		return m
	})
}

func TestSlogtest_WithLiveSpan(t *testing.T) {
	var buf bytes.Buffer
	slogtest.Run(t, func(*testing.T) slog.Handler {
		buf.Reset()
		return ctxHandler{spanCtx(true), NewHandler(slog.NewJSONHandler(&buf, nil))}
	}, func(t *testing.T) map[string]any {
		m := decodeOne(t, buf.Bytes())
		want := map[string]any{"trace_id": testTraceHex, "span_id": testSpanHex, "trace_flags": "01"}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("root %s = %v, want %v; line %v", k, m[k], v, m)
			}
			delete(m, k)
		}
		return m
	})
}

func decodeOne(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return m
}

func TestHandler_Schemas(t *testing.T) {
	tests := []struct {
		name    string
		schema  Schema
		sampled bool
		want    map[string]any
	}{
		{"opentelemetry", OpenTelemetry(), true, map[string]any{
			"trace_id": testTraceHex, "span_id": testSpanHex, "trace_flags": "01"}},
		{"zero schema is opentelemetry", Schema{}, true, map[string]any{
			"trace_id": testTraceHex, "span_id": testSpanHex, "trace_flags": "01"}},
		{"opentelemetry unsampled", OpenTelemetry(), false, map[string]any{
			"trace_id": testTraceHex, "span_id": testSpanHex, "trace_flags": "00"}},
		{"ecs", ECS(), true, map[string]any{
			"trace.id": testTraceHex, "span.id": testSpanHex}},
		// low 64 bits 0xa3ce929d0e0e4736, span 0x00f067aa0ba902b7
		{"datadog", Datadog(), true, map[string]any{
			"dd.trace_id": "11803532876627986230", "dd.span_id": "67667974448284343"}},
		{"datadog 128", Datadog128(), true, map[string]any{
			"dd.trace_id": testTraceHex, "dd.span_id": "67667974448284343"}},
		{"google cloud", GoogleCloud("shop-prod"), true, map[string]any{
			"logging.googleapis.com/trace":         "projects/shop-prod/traces/" + testTraceHex,
			"logging.googleapis.com/spanId":        testSpanHex,
			"logging.googleapis.com/trace_sampled": true}},
		{"google cloud unsampled", GoogleCloud("shop-prod"), false, map[string]any{
			"logging.googleapis.com/trace":         "projects/shop-prod/traces/" + testTraceHex,
			"logging.googleapis.com/spanId":        testSpanHex,
			"logging.googleapis.com/trace_sampled": false}},
		{"custom", CustomSchema("traceId", "spanId", ""), true, map[string]any{
			"traceId": testTraceHex, "spanId": testSpanHex}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s jsonSink
			l := slog.New(NewHandler(s.handler(), WithSchema(tt.schema), WithUnsampled()))
			l.InfoContext(spanCtx(tt.sampled), "charged", "amount", 42)
			want := map[string]any{"level": "INFO", "msg": "charged", "amount": float64(42)}
			maps.Copy(want, tt.want)
			if got := s.one(t); !reflect.DeepEqual(got, want) {
				t.Errorf("got  %v\nwant %v", got, want)
			}
		})
	}
}

func TestHandler_UnsampledPassesThroughByDefault(t *testing.T) {
	var s jsonSink
	l := slog.New(NewHandler(s.handler()))
	l.InfoContext(spanCtx(false), "m")
	if got := s.one(t); !reflect.DeepEqual(got, map[string]any{"level": "INFO", "msg": "m"}) {
		t.Errorf("got %v", got)
	}
}

// TestHandler_NoSpanPassesThroughUnchanged compares the bytes written with
// those of the bare handler for every context without a usable span.
func TestHandler_NoSpanPassesThroughUnchanged(t *testing.T) {
	ctxs := map[string]context.Context{
		"nil context":         nil,
		"background":          context.Background(),
		"nil span":            trace.ContextWithSpan(context.Background(), nil),
		"zero span context":   trace.ContextWithSpanContext(context.Background(), trace.SpanContext{}),
		"trace id no span id": trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: testTraceID, TraceFlags: trace.FlagsSampled})),
		"noop span":           trace.ContextWithSpan(context.Background(), trace.SpanFromContext(context.Background())),
	}
	for name, ctx := range ctxs {
		t.Run(name, func(t *testing.T) {
			var got, want jsonSink
			for _, x := range []struct {
				s *jsonSink
				h slog.Handler
			}{{&got, NewHandler(got.handler(), WithBusiness(), WithTraceURL("", "http://j/{trace_id}"), WithSpanEvents(slog.LevelInfo))}, {&want, want.handler()}} {
				h := x.h.WithAttrs([]slog.Attr{slog.String("svc", "orders")}).WithGroup("req").WithAttrs([]slog.Attr{slog.Int("n", 1)})
				r := slog.NewRecord(testTime, slog.LevelWarn, "slow", 0)
				r.AddAttrs(slog.String("path", "/checkout"))
				if err := h.Handle(ctx, r); err != nil {
					t.Fatal(err)
				}
			}
			if got.buf.String() != want.buf.String() {
				t.Errorf("got  %s\nwant %s", got.buf.String(), want.buf.String())
			}
		})
	}
}

// build applies a sequence of With/WithGroup steps written as "a:k=v" and
// "g:name" to h.
func build(h slog.Handler, steps string) slog.Handler {
	for _, st := range strings.Fields(steps) {
		kind, arg, _ := strings.Cut(st, ":")
		switch kind {
		case "a":
			k, v, _ := strings.Cut(arg, "=")
			h = h.WithAttrs([]slog.Attr{slog.String(k, v)})
		case "g":
			h = h.WithGroup(arg)
		}
	}
	return h
}

// TestHandler_GroupInterleavings checks that, whatever the order of
// WithAttrs and WithGroup, a correlated line is the bare handler's line with
// the ids added at the root.
func TestHandler_GroupInterleavings(t *testing.T) {
	seqs := []string{
		"",
		"a:svc=orders",
		"g:req",
		"g:req a:id=7",
		"a:svc=orders g:req a:id=7",
		"a:svc=orders g:req a:id=7 g:db a:table=orders",
		"g:req g:db",
		"g:req g:db a:table=orders",
		"g:req a:x=1 a:y=2 g:db",
		"g:req a:x=1 g:inner a:y=2 g:deep",
		"a:trace=shadow g:req a:trace_id=inner",
	}
	recAttrs := [][]slog.Attr{
		nil,
		{slog.String("path", "/checkout"), slog.Int("status", 502)},
		{slog.Group("resp", slog.Int("bytes", 10)), slog.Group("empty")},
		{slog.Attr{}, slog.String("k", "v")},
	}
	for _, seq := range seqs {
		for i, attrs := range recAttrs {
			t.Run(seq+"/"+string(rune('0'+i)), func(t *testing.T) {
				var got, want jsonSink
				r := slog.NewRecord(testTime, slog.LevelInfo, "m", 0)
				r.AddAttrs(attrs...)
				if err := build(NewHandler(got.handler()), seq).Handle(spanCtx(true), r); err != nil {
					t.Fatal(err)
				}
				if err := build(want.handler(), seq).Handle(context.Background(), r); err != nil {
					t.Fatal(err)
				}
				w := want.one(t)
				w["trace_id"], w["span_id"], w["trace_flags"] = testTraceHex, testSpanHex, "01"
				if g := got.one(t); !reflect.DeepEqual(g, w) {
					t.Errorf("got  %s\nwant %v", got.buf.String(), w)
				}
			})
		}
	}
}
