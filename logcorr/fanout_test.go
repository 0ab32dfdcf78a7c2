package logcorr

import (
	"context"
	"log/slog"
	"reflect"
	"testing"

	"go.opentelemetry.io/otel/baggage"

	"github.com/otelkit/otelkit/tracing"
)

// orderID is a business key of the tests' own, declared as a company
// declares its keys; tenant.id is one of tracing's generic keys.
var orderID = tracing.NewStringKey("order.id", tracing.Travels())

func TestHandler_MultiHandlerFanOut(t *testing.T) {
	var otel, ecs, plain jsonSink
	l := slog.New(slog.NewMultiHandler(
		NewHandler(otel.handler()),
		NewHandler(ecs.handler(), WithSchema(ECS())),
		plain.handler(),
	)).With("svc", "orders").WithGroup("req")
	l.InfoContext(spanCtx(true), "m", "a1", 1, "a2", 2, "a3", 3, "a4", 4, "a5", 5, "a6", 6)

	req := map[string]any{"a1": 1.0, "a2": 2.0, "a3": 3.0, "a4": 4.0, "a5": 5.0, "a6": 6.0}
	base := map[string]any{"level": "INFO", "msg": "m", "svc": "orders", "req": req}
	with := func(kv ...string) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		name string
		s    *jsonSink
		want map[string]any
	}{
		{"otel", &otel, with("trace_id", testTraceHex, "span_id", testSpanHex, "trace_flags", "01")},
		{"ecs", &ecs, with("trace.id", testTraceHex, "span.id", testSpanHex)},
		{"plain", &plain, base},
	} {
		if got := c.s.one(t); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %v\nwant %v", c.name, got, c.want)
		}
	}
}

// TestHandler_DoesNotModifyCallersRecord hands one record with attributes
// beyond the inline ones (so with a spare-capacity slice behind it) to two
// handlers in turn without cloning, as a careless fan-out would: neither
// sees the other's fields and the caller's record is unchanged.
func TestHandler_DoesNotModifyCallersRecord(t *testing.T) {
	var a, b jsonSink
	ha := NewHandler(a.handler())
	hb := NewHandler(b.handler(), WithSchema(Datadog()))
	r := slog.NewRecord(testTime, slog.LevelInfo, "m", 0)
	for _, k := range []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7"} {
		r.AddAttrs(slog.String(k, "v"))
	}
	for _, h := range []slog.Handler{ha, hb, ha.WithGroup("g"), hb.WithGroup("g")} {
		if err := h.Handle(spanCtx(true), r); err != nil {
			t.Fatal(err)
		}
	}
	if r.NumAttrs() != 7 {
		t.Errorf("caller's record has %d attrs, want 7", r.NumAttrs())
	}
	for i, line := range append(a.lines(t), b.lines(t)...) {
		_, otel := line["trace_id"]
		_, dd := line["dd.trace_id"]
		if otel == dd {
			t.Errorf("line %d mixes or lacks schemas: %v", i, line)
		}
	}
}

func TestHandler_WrapsMultiHandler(t *testing.T) {
	var a, b jsonSink
	l := slog.New(NewHandler(slog.NewMultiHandler(a.handler(), b.handler()))).WithGroup("g")
	l.InfoContext(spanCtx(true), "m", "k", "v")
	for _, s := range []*jsonSink{&a, &b} {
		got := s.one(t)
		if got["trace_id"] != testTraceHex || !reflect.DeepEqual(got["g"], map[string]any{"k": "v"}) {
			t.Errorf("got %v", got)
		}
	}
}

func TestHandler_TraceURL(t *testing.T) {
	tests := []struct{ key, template, wantKey, want string }{
		{"", "http://localhost:16686/trace/{trace_id}", "trace_url", "http://localhost:16686/trace/" + testTraceHex},
		{"jaeger", "http://j/trace/{trace_id}?uiFind={span_id}", "jaeger", "http://j/trace/" + testTraceHex + "?uiFind=" + testSpanHex},
		{"tempo", `https://g/explore?left={"queries":[{"query":"{trace_id}"}]}{`, "tempo",
			`https://g/explore?left={"queries":[{"query":"` + testTraceHex + `"}]}{`},
	}
	for _, tt := range tests {
		var s jsonSink
		slog.New(NewHandler(s.handler(), WithTraceURL(tt.key, tt.template), WithSchema(Datadog()))).InfoContext(spanCtx(true), "m")
		if got := s.one(t)[tt.wantKey]; got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.template, got, tt.want)
		}
	}
}

func TestHandler_Business(t *testing.T) {
	bag, err := baggage.New(
		mustMember(t, string(orderID.Key()), "ord-1042"),
		mustMember(t, "tenant.id", "acme"),
		mustMember(t, "session.secret", "s3cr3t"),
	)
	if err != nil {
		t.Fatal(err)
	}
	ctx := baggage.ContextWithBaggage(spanCtx(true), bag)
	tests := []struct {
		name string
		opts []Option
		want map[string]any
	}{
		{"off by default", nil, map[string]any{}},
		{"all registry keys", []Option{WithBusiness()}, map[string]any{"order.id": "ord-1042", "tenant.id": "acme"}},
		{"allowlist", []Option{WithBusiness(orderID.Key())}, map[string]any{"order.id": "ord-1042"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s jsonSink
			slog.New(NewHandler(s.handler(), tt.opts...)).WithGroup("g").InfoContext(ctx, "m")
			got := s.one(t)
			for _, k := range []string{"level", "msg", "trace_id", "span_id", "trace_flags"} {
				delete(got, k)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	var s jsonSink
	slog.New(NewHandler(s.handler(), WithBusiness())).InfoContext(baggage.ContextWithBaggage(context.Background(), bag), "m")
	if got := s.one(t); len(got) != 2 {
		t.Errorf("business context without a span: got %v, want the record unchanged", got)
	}
}

func mustMember(t *testing.T, k, v string) baggage.Member {
	t.Helper()
	m, err := baggage.NewMember(k, v)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
