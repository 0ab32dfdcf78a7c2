//go:build !race

package w3c_test

import (
	"context"
	"net/http"
	"testing"

	"go.opentelemetry.io/otel/propagation"

	"github.com/otelkit/otelkit/tracing/w3c"
)

func TestAllocs(t *testing.T) {
	p := w3c.TraceContext{}
	ctx := context.Background()
	tp := propagation.HeaderCarrier(http.Header{"Traceparent": {valid00}})
	tpts := propagation.HeaderCarrier(http.Header{"Traceparent": {valid00}, "Tracestate": {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}})
	level2 := propagation.HeaderCarrier(http.Header{"Traceparent": {valid00}, "Tracestate": {"rojo@=00f067aa0ba902b7,congo=t61rcWkgMzE"}})
	none := propagation.HeaderCarrier(http.Header{})
	tests := []struct {
		name   string
		fn     func()
		budget float64
	}{
		// ContextWithRemoteSpanContext: the context and the boxed SpanContext.
		{"extract traceparent", func() { p.Extract(ctx, tp) }, 2},
		// plus trace.ParseTraceState: its key map and member slice.
		{"extract with tracestate", func() { p.Extract(ctx, tpts) }, 5},
		{"extract nothing", func() { p.Extract(ctx, none) }, 0},
		// plus the list kept in the context: the members, the string of
		// those trace.TraceState holds, the *inbound and its context.
		{"extract with a Level 2 key", func() { p.Extract(ctx, level2) }, 7},
	}
	for _, tt := range tests {
		if got := testing.AllocsPerRun(100, tt.fn); got > tt.budget {
			t.Errorf("%s: %v allocs, budget %v", tt.name, got, tt.budget)
		}
	}
}

func BenchmarkExtract(b *testing.B) {
	carrier := propagation.HeaderCarrier(http.Header{"Traceparent": {valid00}, "Tracestate": {"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"}})
	level2 := propagation.HeaderCarrier(http.Header{"Traceparent": {valid00}, "Tracestate": {"rojo@=00f067aa0ba902b7,congo=t61rcWkgMzE"}})
	b.Run("w3c level 2 key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			w3c.TraceContext{}.Extract(context.Background(), level2)
		}
	})
	for _, bc := range []struct {
		name string
		p    propagation.TextMapPropagator
	}{{"w3c", w3c.TraceContext{}}, {"otel", propagation.TraceContext{}}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.p.Extract(context.Background(), carrier)
			}
		})
	}
}
