package w3c_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing/w3c"
)

// FuzzExtract feeds arbitrary traceparent and tracestate values (two of
// each, the second optional) to Extract: it must never panic, an invalid
// traceparent must leave the context unchanged (a new trace), and whatever
// is accepted must survive Inject and Extract unchanged. The tracestate
// Inject sends must match the grammar, hold at most 32 members and no
// duplicated key, and be sent again unchanged by the next hop.
func FuzzExtract(f *testing.F) {
	f.Add(valid00, "", "", "")
	f.Add(valid00, valid00, "", "")
	f.Add("cc-"+traceID+"-"+spanID+"-01-future", "", "foo=1", "bar=2")
	f.Add(" "+valid00+"\t", "", "foo=1 \t , \t bar=2", "")
	f.Add(valid00, "", "foo=1,foo=2", "")
	f.Add(valid00, "", "foo@=1,bar=2", "1a=2,foo@=3")
	f.Add(valid00, "", "foo@@bar=1", "t@vvvvvvvvvvvvvvv=1")
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
		ts := out.Values("tracestate")
		if len(ts) > 1 || len(ts) == 1 && ts[0] == "" {
			t.Fatalf("tracestate fields sent: %q", ts)
		}
		if len(ts) == 1 {
			members := strings.Split(ts[0], ",")
			seen := map[string]bool{}
			for _, m := range members {
				kv := harnessMember.FindStringSubmatch(m)
				if kv == nil || seen[kv[1]] {
					t.Fatalf("invalid or duplicated member %q sent in %q", m, ts[0])
				}
				seen[kv[1]] = true
			}
			if len(members) > 32 {
				t.Fatalf("%d members sent", len(members))
			}
		}
		next := http.Header{}
		p.Inject(p.Extract(context.Background(), propagation.HeaderCarrier(out)), propagation.HeaderCarrier(next))
		if a, b := out.Values("tracestate"), next.Values("tracestate"); strings.Join(a, "|") != strings.Join(b, "|") {
			t.Fatalf("tracestate %q sent on as %q", a, b)
		}
	})
}
