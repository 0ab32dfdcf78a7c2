//go:build !race

package tracing

import (
	"testing"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Resolving the globals at every use costs no allocation, a composite
// propagator (a slice) included.
func TestResolvers_NoAllocation(t *testing.T) {
	prevTP, prevProp := otel.GetTracerProvider(), otel.GetTextMapPropagator()
	defer func() { otel.SetTracerProvider(prevTP); otel.SetTextMapPropagator(prevProp) }()
	tp := sdktrace.NewTracerProvider()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(propagation.TraceContext{}, propagation.Baggage{}))
	tr := NewTracerResolver(nil, "scope")
	props := Propagators(nil)
	tr.Get()
	props.Get()
	if n := testing.AllocsPerRun(1000, func() { tr.Get(); props.Get() }); n != 0 {
		t.Errorf("resolving allocates %.0f times, want 0", n)
	}
}
