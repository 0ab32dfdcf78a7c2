package kafkatrace

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// parseHeaders turns fuzz input into headers: one per line, key=value.
func parseHeaders(data string) []kgo.RecordHeader {
	if data == "" {
		return nil
	}
	var hs []kgo.RecordHeader
	for line := range strings.SplitSeq(data, "\n") {
		k, v, _ := strings.Cut(line, "=")
		hs = append(hs, kgo.RecordHeader{Key: k, Value: []byte(v)})
	}
	return hs
}

func cloneHeaders(hs []kgo.RecordHeader) []kgo.RecordHeader {
	out := make([]kgo.RecordHeader, len(hs))
	for i, h := range hs {
		out[i] = kgo.RecordHeader{Key: h.Key, Value: bytes.Clone(h.Value)}
	}
	return out
}

func sameHeaders(a, b []kgo.RecordHeader) bool {
	return slices.EqualFunc(a, b, func(x, y kgo.RecordHeader) bool {
		return x.Key == y.Key && bytes.Equal(x.Value, y.Value)
	})
}

// FuzzHeaders drives the consume path (carrier, extraction, Process,
// ProcessBatch) and the produce path (strip and inject) with arbitrary
// headers: nothing panics, the work runs exactly once, the consumed record
// is never changed, and a produced record leaves with its other headers
// intact, in order, and exactly one traceparent, its send span's.
func FuzzHeaders(f *testing.F) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	for _, s := range []string{
		"",
		"traceparent=" + tp,
		"traceparent=" + tp + "\ntracestate=a=1,b=2\nbaggage=user.id=u-7",
		"traceparent=garbage\ntraceparent=" + tp,
		"traceparent=" + tp + "\ntraceparent=" + tp,
		"traceparent=\ntracestate=\nbaggage=",
		"traceparent=\x00\xff" + tp[2:],
		"\xff\xfe=\xff\ntraceparent=" + tp,
		"baggage=" + strings.Repeat("k=v,", 3000),
		"tenant=acme\ntraceparent=" + tp + "\nx-request-id=1",
		"traceparent=ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"traceparent=01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
		"tracestate=" + strings.Repeat("a=b,", 40),
	} {
		f.Add(s, []byte("key"))
	}
	tp0 := sdktrace.NewTracerProvider()
	tr := NewTracer(WithTracerProvider(tp0))
	parent, span := tp0.Tracer("fuzz").Start(context.Background(), "parent")
	span.End()
	f.Fuzz(func(t *testing.T, data string, key []byte) {
		hs := parseHeaders(data)

		// Consume.
		r := &kgo.Record{Topic: "orders", Key: key, Value: []byte("v"), Headers: cloneHeaders(hs)}
		calls := 0
		err := tr.Process(context.Background(), r, func(ctx context.Context) error {
			calls++
			if !trace.SpanContextFromContext(ctx).IsValid() {
				t.Error("work ran without a span")
			}
			return nil
		})
		if err != nil || calls != 1 {
			t.Fatalf("Process: %v, %d calls", err, calls)
		}
		if !sameHeaders(r.Headers, hs) || string(r.Value) != "v" {
			t.Fatalf("Process changed the record: %q", r.Headers)
		}
		calls = 0
		err = tr.ProcessBatch(context.Background(), []*kgo.Record{r, r}, func(context.Context) error {
			calls++
			return nil
		})
		if err != nil || calls != 1 || !sameHeaders(r.Headers, hs) {
			t.Fatalf("ProcessBatch: %v, %d calls, headers %q", err, calls, r.Headers)
		}

		// Produce.
		orig := cloneHeaders(hs)
		w := &kgo.Record{Topic: "orders", Value: []byte("v"), Headers: hs, Context: parent}
		tr.OnProduceRecordBuffered(w)
		send := trace.SpanContextFromContext(w.Context)
		tr.OnProduceRecordUnbuffered(w, nil)
		if !sameHeaders(hs, orig) {
			t.Fatal("produce wrote to the application's header slice")
		}
		var kept []kgo.RecordHeader
		for _, h := range orig {
			if h.Key != "traceparent" && h.Key != "tracestate" && h.Key != "baggage" {
				kept = append(kept, h)
			}
		}
		var others []kgo.RecordHeader
		var tps []string
		for _, h := range w.Headers {
			switch h.Key {
			case "traceparent":
				tps = append(tps, string(h.Value))
			case "tracestate", "baggage":
			default:
				others = append(others, h)
			}
		}
		if !sameHeaders(others, kept) {
			t.Fatalf("other headers changed: %q, want %q", others, kept)
		}
		want := "00-" + send.TraceID().String() + "-" + send.SpanID().String() + "-01"
		if len(tps) != 1 || tps[0] != want {
			t.Fatalf("traceparent headers %q, want [%s]", tps, want)
		}
	})
}

// The carrier reads the last header of a key, refuses oversized values,
// and never exposes a value it would not hand over whole.
func TestCarrier_Get(t *testing.T) {
	r := &kgo.Record{Headers: []kgo.RecordHeader{
		{Key: "traceparent", Value: []byte("first")},
		{Key: "traceparent", Value: []byte("last")},
		{Key: "baggage", Value: bytes.Repeat([]byte("a"), maxHeaderValue+1)},
		{Key: "tracestate", Value: bytes.Repeat([]byte("a"), maxHeaderValue)},
	}}
	c := carrier{r}
	if got := c.Get("traceparent"); got != "last" {
		t.Errorf("Get(traceparent) = %q, want the last value", got)
	}
	if got := c.Get("baggage"); got != "" {
		t.Errorf("oversized baggage returned (%d bytes)", len(got))
	}
	if got := c.Get("tracestate"); len(got) != maxHeaderValue {
		t.Errorf("tracestate at the limit returned %d bytes", len(got))
	}
	if got := c.Get("Traceparent"); got != "" {
		t.Errorf("Get is case-insensitive: %q", got)
	}
	if got := c.Keys(); !slices.Equal(got, []string{"traceparent", "traceparent", "baggage", "tracestate"}) {
		t.Errorf("Keys() = %q", got)
	}
}
