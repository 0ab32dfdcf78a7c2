//go:build !race

package batch

import (
	"context"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// Ending a span costs no allocation, with the self-observability switch
// off or on, whether the span is queued or dropped from a full queue.
func TestBatcher_OnEndAllocatesNothing(t *testing.T) {
	for _, on := range []string{"false", "true"} {
		t.Run("OTEL_GO_X_OBSERVABILITY="+on, func(t *testing.T) {
			t.Setenv("OTEL_GO_X_OBSERVABILITY", on)
			useMeterProvider(t)
			captureReports(t) // the drops
			noBatcherLeaks(t)
			tp := sdktrace.NewTracerProvider()
			_, s := tp.Tracer("t").Start(context.Background(), "op")
			s.End()
			span := s.(sdktrace.ReadOnlySpan)

			const runs = 1000
			// Room for every span: queued, never exported.
			queued := New(&batchExporter{}, bspConfig(4096, 4096, time.Hour, 0))
			defer queued.Shutdown(context.Background())
			if (queued.inst != nil) != (on == "true") {
				t.Fatalf("metrics recorded: %v, want %s", queued.inst != nil, on)
			}
			if n := testing.AllocsPerRun(runs, func() { queued.OnEnd(span) }); n != 0 {
				t.Errorf("OnEnd of a queued span: %v allocations", n)
			}

			// A queue of one, full: every span is dropped.
			e := &batchExporter{gate: make(chan struct{}), entered: make(chan struct{}, 1)}
			full := New(e, bspConfig(1, 1, time.Hour, 0))
			defer full.Shutdown(context.Background())
			defer e.release() // first
			full.OnEnd(span)  // taken for export, held at the gate
			<-e.entered
			full.OnEnd(span) // queued
			if n := testing.AllocsPerRun(runs, func() { full.OnEnd(span) }); n != 0 {
				t.Errorf("OnEnd of a dropped span: %v allocations", n)
			}
		})
	}
}
