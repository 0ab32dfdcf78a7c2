package w3c_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/w3c"
)

// FuzzExtract feeds arbitrary traceparent and tracestate values (two of
// each, the second optional) to Extract: it must never panic, an invalid
// traceparent must leave the context unchanged (a new trace), and whatever
// is accepted must survive Inject and Extract unchanged.
func FuzzExtract(f *testing.F) {
	f.Add(valid00, "", "", "")
	f.Add(valid00, valid00, "", "")
	f.Add("cc-"+traceID+"-"+spanID+"-01-future", "", "foo=1", "bar=2")
	f.Add(" "+valid00+"\t", "", "foo=1 \t , \t bar=2", "")
	f.Add(valid00, "", "foo=1,foo=2", "")
	f.Add(valid00, "", "a@b=1,,  ,c=d e", "")
	f.Add("00-"+traceID+"-"+spanID+"-ff", "", "1a@z= x", "")
	f.Add("ff-"+traceID+"-"+spanID+"-01", "", "", "")
	f.Add("00-00000000000000000000000000000000-"+spanID+"-01", "", "", "")
	f.Fuzz(func(t *testing.T, tp1, tp2, ts1, ts2 string) {
		h := http.Header{}
		h.Add("traceparent", tp1)
		if tp2 != "" {
			h.Add("traceparent", tp2)
		}
		h.Add("tracestate", ts1)
		if ts2 != "" {
			h.Add("tracestate", ts2)
		}
		p := w3c.TraceContext{}
		parent := context.Background()
		ctx := p.Extract(parent, propagation.HeaderCarrier(h))
		sc := trace.SpanContextFromContext(ctx)
		if !sc.IsValid() {
			if ctx != parent {
				t.Fatal("invalid trace context changed the context")
			}
			return
		}
		if tp2 != "" {
			t.Fatalf("two traceparent values accepted: %q %q", tp1, tp2)
		}
		if sc.TraceFlags()&^(trace.FlagsSampled|trace.FlagsRandom) != 0 {
			t.Fatalf("unknown flags kept: %02x", sc.TraceFlags())
		}
		if sc.TraceState().Len() > 32 {
			t.Fatalf("%d tracestate members", sc.TraceState().Len())
		}

		out := http.Header{}
		p.Inject(ctx, propagation.HeaderCarrier(out))
		again := trace.SpanContextFromContext(p.Extract(context.Background(), propagation.HeaderCarrier(out)))
		if !again.Equal(sc) {
			t.Fatalf("round trip changed %v into %v", sc, again)
		}
	})
}
