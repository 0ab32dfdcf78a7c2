package tracing

import (
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace/noop"
)

// The global propagator is read at every use, rebuilt from only when it
// changes, and replaced by W3C while it propagates nothing; a propagator
// given explicitly is kept as it is.
func TestPropagatorResolver(t *testing.T) {
	prev := otel.GetTextMapPropagator()
	defer otel.SetTextMapPropagator(prev)

	builds := 0
	r := NewPropagatorResolver(nil, func(p propagation.TextMapPropagator) propagation.TextMapPropagator {
		builds++
		return p
	})
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())
	if got := r.Get(); !same(got, FallbackPropagator) {
		t.Errorf("no-op global resolved to %T %v, want the W3C fallback", got, got.Fields())
	}
	// A composite is a slice: not comparable with ==, the same all the same.
	b3ish := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{})
	otel.SetTextMapPropagator(b3ish)
	for range 3 {
		if got := r.Get(); !same(got, b3ish) {
			t.Fatalf("resolved to %v, want the global one", got.Fields())
		}
	}
	if builds != 2 {
		t.Errorf("built %d times, want 2: once per global", builds)
	}

	none := propagation.NewCompositeTextMapPropagator()
	if got := NewPropagatorResolver(none, func(p propagation.TextMapPropagator) propagation.TextMapPropagator { return p }).Get(); len(got.Fields()) != 0 {
		t.Errorf("an explicit no-op propagator was replaced by %v", got.Fields())
	}
}

func TestTracerResolver_FollowsTheGlobal(t *testing.T) {
	prev := otel.GetTracerProvider()
	defer otel.SetTracerProvider(prev)
	r := NewTracerResolver(nil, "scope")
	a, b := noop.NewTracerProvider(), &struct{ noop.TracerProvider }{}
	otel.SetTracerProvider(a)
	if _, tp := r.Resolve(); tp != a {
		t.Fatalf("resolved %T, want the global", tp)
	}
	otel.SetTracerProvider(b)
	if _, tp := r.Resolve(); tp != b {
		t.Fatalf("resolved %T, want the new global", tp)
	}
	fixed := NewTracerResolver(a, "scope")
	if _, tp := fixed.Resolve(); tp != a {
		t.Fatalf("explicit provider not kept: %T", tp)
	}
}

func TestSame(t *testing.T) {
	type holder struct{ p any }
	c := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{})
	d := propagation.NewCompositeTextMapPropagator(propagation.TraceContext{})
	for _, tt := range []struct {
		a, b any
		want bool
	}{
		{c, c, true},
		{c, d, false},
		{propagation.TraceContext{}, propagation.TraceContext{}, true},
		{propagation.TraceContext{}, c, false},
		{nil, nil, true},
		{nil, c, false},
		{holder{c}, holder{c}, false}, // == would panic
	} {
		if got := same(tt.a, tt.b); got != tt.want {
			t.Errorf("same(%T, %T) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}
