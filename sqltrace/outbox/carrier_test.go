package outbox

import (
	"context"
	"testing"

	"go.opentelemetry.io/contrib/propagators/b3"
	"go.opentelemetry.io/otel/baggage"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

func TestCarrier_KeepsFieldsBeyondW3C(t *testing.T) {
	sc := trace.NewSpanContext(trace.SpanContextConfig{
		TraceID:    trace.TraceID{1, 2, 3},
		SpanID:     trace.SpanID{4, 5, 6},
		TraceFlags: trace.FlagsSampled,
	})
	p := propagation.NewCompositeTextMapPropagator(b3.New(b3.WithInjectEncoding(b3.B3MultipleHeader)), propagation.Baggage{})
	member, _ := baggage.NewMember("user.id", "u-1")
	bag, _ := baggage.New(member)
	var c carrier
	p.Inject(baggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), sc), bag), &c)
	if c.traceparent != "" || c.baggage != "user.id=u-1" || c.extra["x-b3-traceid"] == "" {
		t.Fatalf("carrier %+v: want baggage in its column and b3 fields in extra", c)
	}

	ctx, ok, err := restore(context.Background(), p, &carrier{traceparent: c.traceparent, tracestate: c.tracestate, baggage: c.baggage}, c.extraJSON())
	if !ok || err != nil {
		t.Fatalf("restore: ok=%v err=%v", ok, err)
	}
	if got := trace.SpanContextFromContext(ctx); got.TraceID() != sc.TraceID() || got.SpanID() != sc.SpanID() || !got.IsRemote() {
		t.Errorf("restored %v, want remote %v", got, sc)
	}
	if got := baggage.FromContext(ctx).Member("user.id").Value(); got != "u-1" {
		t.Errorf("baggage user.id = %q, want u-1", got)
	}
}

func TestRestore_NeverInheritsTheRelaysContext(t *testing.T) {
	running := trace.NewSpanContext(trace.SpanContextConfig{TraceID: trace.TraceID{9}, SpanID: trace.SpanID{9}})
	member, _ := baggage.NewMember("tenant.id", "relay")
	bag, _ := baggage.New(member)
	base := baggage.ContextWithBaggage(trace.ContextWithSpanContext(context.Background(), running), bag)

	ctx, ok, err := restore(cleanBase(base), tracing.FallbackPropagator, &carrier{}, nil)
	if ok || err != nil {
		t.Fatalf("empty row: ok=%v err=%v, want not restored and no error", ok, err)
	}
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		t.Errorf("empty row carries span context %v of the relay", sc)
	}
	if b := baggage.FromContext(ctx); b.Len() != 0 {
		t.Errorf("empty row carries the relay's baggage %v", b)
	}
}

func FuzzRestore(f *testing.F) {
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "congo=t61rcWkgMzE", "user.id=u-1", []byte(nil))
	f.Add("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00", "", "", []byte(`{"x-b3-traceid":"1"}`))
	f.Add("", "", "", []byte(nil))
	f.Add("garbage", "%%%", ";;;=", []byte(`[1,2]`))
	f.Add("00-00000000000000000000000000000000-0000000000000000-01", "a=b,a=c", "k=%zz", []byte(`{"a":1}`))
	f.Add("ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "", "", []byte("null"))
	f.Add("01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09-extra", "k=v", "a=1;p", []byte(`{}`))
	f.Fuzz(func(t *testing.T, traceparent, tracestate, bag string, extra []byte) {
		ctx, ok, err := restore(context.Background(), tracing.FallbackPropagator, &carrier{traceparent: traceparent, tracestate: tracestate, baggage: bag}, extra)
		sc := trace.SpanContextFromContext(ctx)
		if ok != sc.IsValid() {
			t.Fatalf("ok=%v but span context valid=%v", ok, sc.IsValid())
		}
		if !ok && traceparent != "" && err == nil {
			t.Fatalf("unusable traceparent %q not reported", traceparent)
		}
		if !ok {
			return
		}
		// What the relay restored survives another trip through a row.
		var c carrier
		tracing.FallbackPropagator.Inject(ctx, &c)
		ctx2, ok2, err2 := restore(context.Background(), tracing.FallbackPropagator, &carrier{traceparent: c.traceparent, tracestate: c.tracestate, baggage: c.baggage}, c.extraJSON())
		if !ok2 || err2 != nil {
			t.Fatalf("re-injected context %+v not restored: %v", c, err2)
		}
		if sc2 := trace.SpanContextFromContext(ctx2); !sc2.Equal(sc) {
			t.Fatalf("round trip changed span context: %v -> %v", sc, sc2)
		}
		if b1, b2 := baggage.FromContext(ctx), baggage.FromContext(ctx2); b1.String() != b2.String() {
			t.Fatalf("round trip changed baggage: %q -> %q", b1, b2)
		}
	})
}
