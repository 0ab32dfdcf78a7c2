package w3c_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/tracing/w3c"
)

const (
	traceID = "12345678901234567890123456789012"
	spanID  = "1234567890123456"
	valid00 = "00-" + traceID + "-" + spanID + "-01"
)

// header is an ordered list of header fields, as a client sends them.
type header [][2]string

func (h header) http() http.Header {
	out := http.Header{}
	for _, f := range h {
		out.Add(f[0], f[1])
	}
	return out
}

func extract(t *testing.T, h header) trace.SpanContext {
	t.Helper()
	ctx := w3c.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h.http()))
	return trace.SpanContextFromContext(ctx)
}

// Cases from the traceparent tests of the W3C trace-context test suite
// (test/test.py, STRICT_LEVEL 2).
func TestExtract_Traceparent(t *testing.T) {
	tests := []struct {
		name  string
		h     header
		valid bool
		flags trace.TraceFlags
	}{
		{"missing", header{}, false, 0},
		{"valid sampled", header{{"traceparent", valid00}}, true, trace.FlagsSampled},
		{"valid not sampled", header{{"traceparent", "00-" + traceID + "-" + spanID + "-00"}}, true, 0},
		{"duplicated", header{{"traceparent", "00-12345678901234567890123456789011-" + spanID + "-01"}, {"traceparent", valid00}}, false, 0},
		{"duplicated identical", header{{"traceparent", valid00}, {"traceparent", valid00}}, false, 0},
		{"wrong name trace-parent", header{{"trace-parent", valid00}}, false, 0},
		{"wrong name trace.parent", header{{"trace.parent", valid00}}, false, 0},
		{"name casing TraceParent", header{{"TraceParent", valid00}}, true, trace.FlagsSampled},
		{"name casing TRACEPARENT", header{{"TRACEPARENT", valid00}}, true, trace.FlagsSampled},
		{"v00 trailing dot", header{{"traceparent", valid00 + "."}}, false, 0},
		{"v00 extra field", header{{"traceparent", valid00 + "-what-the-future-will-be-like"}}, false, 0},
		{"vcc", header{{"traceparent", "cc-" + traceID + "-" + spanID + "-01"}}, true, trace.FlagsSampled},
		{"vcc extra field", header{{"traceparent", "cc-" + traceID + "-" + spanID + "-01-what-the-future-will-be-like"}}, true, trace.FlagsSampled},
		{"vcc extra without dash", header{{"traceparent", "cc-" + traceID + "-" + spanID + "-01.what-the-future-will-be-like"}}, false, 0},
		{"vff", header{{"traceparent", "ff-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version illegal .0", header{{"traceparent", ".0-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version illegal 0.", header{{"traceparent", "0.-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version upper case", header{{"traceparent", "CC-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version too long 3", header{{"traceparent", "000-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version too long 4", header{{"traceparent", "0000-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"version too short", header{{"traceparent", "0-" + traceID + "-" + spanID + "-01"}}, false, 0},
		{"trace-id zero", header{{"traceparent", "00-00000000000000000000000000000000-" + spanID + "-01"}}, false, 0},
		{"trace-id illegal first", header{{"traceparent", "00-.2345678901234567890123456789012-" + spanID + "-01"}}, false, 0},
		{"trace-id illegal last", header{{"traceparent", "00-1234567890123456789012345678901.-" + spanID + "-01"}}, false, 0},
		{"trace-id upper case", header{{"traceparent", "00-ABCDEF78901234567890123456789012-" + spanID + "-01"}}, false, 0},
		{"trace-id too long", header{{"traceparent", "00-123456789012345678901234567890123-" + spanID + "-01"}}, false, 0},
		{"trace-id too short", header{{"traceparent", "00-1234567890123456789012345678901-" + spanID + "-01"}}, false, 0},
		{"parent-id zero", header{{"traceparent", "00-" + traceID + "-0000000000000000-01"}}, false, 0},
		{"parent-id illegal first", header{{"traceparent", "00-" + traceID + "-.234567890123456-01"}}, false, 0},
		{"parent-id illegal last", header{{"traceparent", "00-" + traceID + "-123456789012345.-01"}}, false, 0},
		{"parent-id too long", header{{"traceparent", "00-" + traceID + "-12345678901234567-01"}}, false, 0},
		{"parent-id too short", header{{"traceparent", "00-" + traceID + "-123456789012345-01"}}, false, 0},
		{"flags illegal first", header{{"traceparent", "00-" + traceID + "-" + spanID + "-.0"}}, false, 0},
		{"flags illegal last", header{{"traceparent", "00-" + traceID + "-" + spanID + "-0."}}, false, 0},
		{"flags too long", header{{"traceparent", "00-" + traceID + "-" + spanID + "-001"}}, false, 0},
		{"flags too short", header{{"traceparent", "00-" + traceID + "-" + spanID + "-1"}}, false, 0},
		{"OWS leading space", header{{"traceparent", " " + valid00}}, true, trace.FlagsSampled},
		{"OWS leading tab", header{{"traceparent", "\t" + valid00}}, true, trace.FlagsSampled},
		{"OWS trailing space", header{{"traceparent", valid00 + " "}}, true, trace.FlagsSampled},
		{"OWS trailing tab", header{{"traceparent", valid00 + "\t"}}, true, trace.FlagsSampled},
		{"OWS both", header{{"traceparent", "\t " + valid00 + " \t"}}, true, trace.FlagsSampled},
		// Level 2: the random flag is kept; reserved bits are ignored.
		{"random flag", header{{"traceparent", "00-" + traceID + "-" + spanID + "-02"}}, true, trace.FlagsRandom},
		{"sampled and random", header{{"traceparent", "00-" + traceID + "-" + spanID + "-03"}}, true, trace.FlagsSampled | trace.FlagsRandom},
		{"reserved flags ignored", header{{"traceparent", "00-" + traceID + "-" + spanID + "-ff"}}, true, trace.FlagsSampled | trace.FlagsRandom},
		{"future version reserved flags", header{{"traceparent", "01-" + traceID + "-" + spanID + "-09-xyz"}}, true, trace.FlagsSampled},
		{"spec example", header{{"traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"}}, true, trace.FlagsSampled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := extract(t, tt.h)
			if sc.IsValid() != tt.valid {
				t.Fatalf("valid = %v, want %v (%v)", sc.IsValid(), tt.valid, sc)
			}
			if !tt.valid {
				return
			}
			if !sc.IsRemote() {
				t.Error("extracted span context is not remote")
			}
			if sc.TraceFlags() != tt.flags {
				t.Errorf("flags = %02x, want %02x", sc.TraceFlags(), tt.flags)
			}
			if tt.name != "spec example" && (sc.TraceID().String() != traceID || sc.SpanID().String() != spanID) {
				t.Errorf("ids = %s-%s", sc.TraceID(), sc.SpanID())
			}
		})
	}
}

// Cases from the tracestate tests of the W3C trace-context test suite
// (test/test.py, STRICT_LEVEL 2) and the list grammar of the specification.
func TestExtract_Tracestate(t *testing.T) {
	var members32, members33 []string
	for i := 1; i <= 33; i++ {
		m := "bar" + string(rune('a'+i/26)) + string(rune('a'+i%26)) + "=1"
		if i <= 32 {
			members32 = append(members32, m)
		}
		members33 = append(members33, m)
	}

	tests := []struct {
		name string
		ts   []string
		held string // the span context's tracestate; "" if discarded or empty
		sent string // what Inject sends for the extracted context
	}{
		{"single", []string{"foo=1,bar=2"}, "foo=1,bar=2", "foo=1,bar=2"},
		{"empty header", []string{""}, "", ""},
		{"empty then value", []string{"", "foo=1"}, "foo=1", "foo=1"},
		{"value then empty", []string{"foo=1", ""}, "foo=1", "foo=1"},
		{"multiple headers combined in order", []string{"foo=1,bar=2", "rojo=1,congo=2", "baz=3"}, "foo=1,bar=2,rojo=1,congo=2,baz=3", "foo=1,bar=2,rojo=1,congo=2,baz=3"},
		{"empty members discarded", []string{"foo=1,,bar=2,", ",baz=3"}, "foo=1,bar=2,baz=3", "foo=1,bar=2,baz=3"},
		{"whitespace-only members discarded", []string{"foo=1, ,\t,bar=2", " "}, "foo=1,bar=2", "foo=1,bar=2"},
		{"duplicated keys", []string{"foo=1,foo=1"}, "foo=1", "foo=1"},
		{"duplicated keys different values: the first kept", []string{"foo=1,foo=2"}, "foo=1", "foo=1"},
		{"duplicated keys across headers", []string{"foo=1", "foo=2"}, "foo=1", "foo=1"},
		{"all allowed characters", []string{allKeyChars + "=" + allValueChars}, allKeyChars + "=" + allValueChars, allKeyChars + "=" + allValueChars},
		{"all allowed characters with vendor", []string{allKeyChars + "@a-z0-9_-*/=" + allValueChars}, allKeyChars + "@a-z0-9_-*/=" + allValueChars, allKeyChars + "@a-z0-9_-*/=" + allValueChars},
		{"OWS around members", []string{"foo=1 \t , \t bar=2, \t baz=3"}, "foo=1,bar=2,baz=3", "foo=1,bar=2,baz=3"},
		{"OWS tabs", []string{"foo=1\t \t,\t \tbar=2,\t \tbaz=3"}, "foo=1,bar=2,baz=3", "foo=1,bar=2,baz=3"},
		{"OWS leading", []string{" foo=1"}, "foo=1", "foo=1"},
		{"OWS trailing", []string{"foo=1\t"}, "foo=1", "foo=1"},
		{"leading space of value kept", []string{"foo= 1"}, "foo= 1", "foo= 1"},
		{"key with space", []string{"foo =1"}, "", ""},
		{"key upper case", []string{"FOO=1"}, "", ""},
		{"key with dot", []string{"foo.bar=1"}, "", ""},
		{"key starting with digit", []string{"1foo=1,bar=2"}, "bar=2", "1foo=1,bar=2"},
		{"tenant starting with digit", []string{"1foo@bar=1"}, "1foo@bar=1", "1foo@bar=1"},
		{"key ending with @", []string{"foo@=1,bar=2"}, "bar=2", "foo@=1,bar=2"},
		{"key starting with @", []string{"@foo=1,bar=2"}, "", ""},
		{"key with @@", []string{"foo@@bar=1,bar=2"}, "bar=2", "foo@@bar=1,bar=2"},
		{"key with two @", []string{"foo@bar@baz=1,bar=2"}, "bar=2", "foo@bar@baz=1,bar=2"},
		{"key of digits", []string{"123=1"}, "", "123=1"},
		{"key of 256 with @", []string{"a" + strings.Repeat("@", 255) + "=1"}, "", "a" + strings.Repeat("@", 255) + "=1"},
		{"key of 257 with @", []string{"foo=1,a" + strings.Repeat("@", 256) + "=1"}, "", ""},
		{"duplicated Level 2 keys", []string{"foo@=1,foo@=2"}, "", "foo@=1"},
		{"duplicated keys among Level 2 keys", []string{"bar=1,foo@=2", "bar=3"}, "bar=1", "bar=1,foo@=2"},
		{"32 members", []string{strings.Join(members32[:10], ","), strings.Join(members32[10:], ",")}, strings.Join(members32, ","), strings.Join(members32, ",")},
		{"33 members", []string{strings.Join(members33[:10], ","), strings.Join(members33[10:], ",")}, "", ""},
		{"key 256", []string{"foo=1", strings.Repeat("z", 256) + "=1"}, "foo=1," + strings.Repeat("z", 256) + "=1", "foo=1," + strings.Repeat("z", 256) + "=1"},
		{"key 257", []string{"foo=1", strings.Repeat("z", 257) + "=1"}, "", ""},
		{"tenant 241 system 14", []string{"foo=1", strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1"}, "foo=1," + strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1", "foo=1," + strings.Repeat("t", 241) + "@" + strings.Repeat("v", 14) + "=1"},
		{"242 characters before @", []string{"foo=1", strings.Repeat("t", 242) + "@v=1"}, "foo=1", "foo=1," + strings.Repeat("t", 242) + "@v=1"},
		{"15 characters after @", []string{"foo=1", "t@" + strings.Repeat("v", 15) + "=1"}, "foo=1", "foo=1,t@" + strings.Repeat("v", 15) + "=1"},
		{"value with =", []string{"foo=bar=baz"}, "", ""},
		{"empty value", []string{"foo=,bar=3"}, "", ""},
		{"value 256", []string{"foo=" + strings.Repeat("v", 256)}, "foo=" + strings.Repeat("v", 256), "foo=" + strings.Repeat("v", 256)},
		{"value 257", []string{"foo=" + strings.Repeat("v", 257)}, "", ""},
		{"value with tab", []string{"foo=a\tb"}, "", ""},
		{"value not ASCII", []string{"foo=caf\u00e9"}, "", ""},
		{"member without =", []string{"foo,bar=1"}, "", ""},
		{"spec example", []string{"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}, "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := header{{"traceparent", valid00}}
			for _, v := range tt.ts {
				h = append(h, [2]string{"tracestate", v})
			}
			ctx := w3c.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(h.http()))
			sc := trace.SpanContextFromContext(ctx)
			if !sc.IsValid() {
				t.Fatal("an invalid tracestate invalidated the traceparent")
			}
			if got := sc.TraceState().String(); got != tt.held {
				t.Errorf("span context tracestate = %q, want %q", got, tt.held)
			}
			out := http.Header{}
			w3c.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(out))
			if got := strings.Join(out.Values("tracestate"), "|"); got != tt.sent {
				t.Errorf("tracestate sent = %q, want %q", got, tt.sent)
			}
		})
	}
}

func TestExtract_TracestateCasingAndNames(t *testing.T) {
	for _, name := range []string{"TraceState", "TrAcEsTaTe", "TRACESTATE"} {
		sc := extract(t, header{{"traceparent", valid00}, {name, "foo=1"}})
		if got := sc.TraceState().String(); got != "foo=1" {
			t.Errorf("%s: tracestate = %q", name, got)
		}
	}
	for _, name := range []string{"trace-state", "trace.state"} {
		sc := extract(t, header{{"traceparent", valid00}, {name, "foo=1"}})
		if got := sc.TraceState().String(); got != "" {
			t.Errorf("%s: tracestate = %q, want none", name, got)
		}
	}
}

func TestExtract_TracestateWithoutTraceparentIgnored(t *testing.T) {
	ctx := context.Background()
	got := w3c.TraceContext{}.Extract(ctx, propagation.HeaderCarrier(header{{"tracestate", "foo=1"}}.http()))
	if got != ctx {
		t.Error("Extract without traceparent changed the context")
	}
}

func TestExtract_InvalidKeepsParentContext(t *testing.T) {
	parent := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1},
	}))
	got := w3c.TraceContext{}.Extract(parent, propagation.HeaderCarrier(header{{"traceparent", "garbage"}}.http()))
	if got != parent {
		t.Error("Extract of an invalid traceparent changed the context")
	}
}

// mapCarrier has no Values method: only the first value can be read.
type mapCarrier map[string]string

func (m mapCarrier) Get(k string) string { return m[k] }
func (m mapCarrier) Set(k, v string)     { m[k] = v }
func (m mapCarrier) Keys() []string {
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// multiCarrier is a non-HTTP carrier (Kafka headers, say) that may repeat
// a key.
type multiCarrier [][2]string

func (m multiCarrier) Get(k string) string {
	for _, kv := range m {
		if kv[0] == k {
			return kv[1]
		}
	}
	return ""
}
func (m multiCarrier) Set(string, string) {}
func (m multiCarrier) Keys() []string     { return nil }
func (m multiCarrier) Values(k string) []string {
	var out []string
	for _, kv := range m {
		if kv[0] == k {
			out = append(out, kv[1])
		}
	}
	return out
}

func TestExtract_Carriers(t *testing.T) {
	p := w3c.TraceContext{}
	sc := trace.SpanContextFromContext(p.Extract(context.Background(), mapCarrier{"traceparent": valid00, "tracestate": "a=1, ,b=2"}))
	if !sc.IsValid() || sc.TraceState().String() != "a=1,b=2" {
		t.Errorf("map carrier: %v %q", sc.IsValid(), sc.TraceState())
	}
	sc = trace.SpanContextFromContext(p.Extract(context.Background(), multiCarrier{{"traceparent", valid00}, {"traceparent", valid00}}))
	if sc.IsValid() {
		t.Error("values getter: two traceparent values accepted")
	}
	sc = trace.SpanContextFromContext(p.Extract(context.Background(), multiCarrier{{"traceparent", valid00}, {"tracestate", "a=1"}, {"tracestate", "b=2"}}))
	if got := sc.TraceState().String(); got != "a=1,b=2" {
		t.Errorf("values getter: tracestate = %q", got)
	}
	// A header map whose keys were not canonicalized is read as
	// http.Header.Get reads it: not at all.
	sc = trace.SpanContextFromContext(p.Extract(context.Background(), propagation.HeaderCarrier(http.Header{"traceparent": {valid00}})))
	if sc.IsValid() {
		t.Error("non-canonical key read, unlike http.Header.Get")
	}
}

func TestInject(t *testing.T) {
	ts, err := trace.ParseTraceState("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
	if err != nil {
		t.Fatal(err)
	}
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	tests := []struct {
		name      string
		flags     trace.TraceFlags
		state     trace.TraceState
		wantTP    string
		wantState string
	}{
		{"sampled", trace.FlagsSampled, trace.TraceState{}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", ""},
		{"not sampled", 0, trace.TraceState{}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", ""},
		{"random kept", trace.FlagsSampled | trace.FlagsRandom, ts, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"},
		{"reserved bits cleared", 0xff, trace.TraceState{}, "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: tt.flags, TraceState: tt.state})
			h := http.Header{}
			w3c.TraceContext{}.Inject(trace.ContextWithSpanContext(context.Background(), sc), propagation.HeaderCarrier(h))
			if got := h.Get("traceparent"); got != tt.wantTP {
				t.Errorf("traceparent = %q, want %q", got, tt.wantTP)
			}
			if got := h.Values("tracestate"); tt.wantState == "" && got != nil || tt.wantState != "" && (len(got) != 1 || got[0] != tt.wantState) {
				t.Errorf("tracestate = %q, want %q", got, tt.wantState)
			}
		})
	}
	h := http.Header{}
	w3c.TraceContext{}.Inject(context.Background(), propagation.HeaderCarrier(h))
	if len(h) != 0 {
		t.Errorf("Inject without span context set %v", h)
	}
}

func TestRoundTrip_FutureVersionDowngraded(t *testing.T) {
	in := header{{"traceparent", "cc-" + traceID + "-" + spanID + "-03-future"}, {"tracestate", "foo=1"}}
	ctx := w3c.TraceContext{}.Extract(context.Background(), propagation.HeaderCarrier(in.http()))
	out := http.Header{}
	w3c.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(out))
	if got, want := out.Get("traceparent"), "00-"+traceID+"-"+spanID+"-03"; got != want {
		t.Errorf("traceparent = %q, want %q", got, want)
	}
	if got := out.Get("tracestate"); got != "foo=1" {
		t.Errorf("tracestate = %q", got)
	}
}

func TestFields(t *testing.T) {
	got := w3c.TraceContext{}.Fields()
	if len(got) != 2 || got[0] != "traceparent" || got[1] != "tracestate" {
		t.Errorf("Fields() = %v", got)
	}
}

func TestExtract_ReportsMalformedHeaders(t *testing.T) {
	defer w3c.SetReportEvery(0)()
	reports := tracingtest.Reports(t)

	extract(t, header{{"traceparent", "00-" + traceID + "-" + spanID + "-0"}})
	extract(t, header{{"traceparent", valid00}, {"traceparent", valid00}})
	extract(t, header{{"traceparent", valid00}, {"tracestate", "foo=,bar=2"}})
	extract(t, header{{"traceparent", valid00}, {"tracestate", ""}})
	extract(t, header{})

	got := reports()
	if len(got) != 3 {
		t.Fatalf("reports = %v, want 3", got)
	}
	if !errors.Is(got[0], w3c.ErrTraceparent) || !errors.Is(got[1], w3c.ErrTraceparent) || !errors.Is(got[2], w3c.ErrTracestate) {
		t.Errorf("reports = %v", got)
	}
}

func TestExtract_ReportsAreRateLimited(t *testing.T) {
	defer w3c.SetReportEvery(1 << 62)()
	reports := tracingtest.Reports(t)
	for range 100 {
		extract(t, header{{"traceparent", "garbage"}})
	}
	if n := len(reports()); n != 1 {
		t.Errorf("reports = %d, want 1", n)
	}
}
