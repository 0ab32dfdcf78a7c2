//go:build !race

package outbox

import (
	"context"
	"testing"
	"time"

	"go.opentelemetry.io/otel/trace/noop"

	"github.com/otelkit/otelkit/tracing"
)

// The relay's per-row tracing work (restoring the stored context, starting
// and ending the outbox.relay span) with tracing disabled: what every row
// pays for the trace to continue.
func TestStartSpan_AllocationBudget(t *testing.T) {
	w := &worker{r: &Relay{cfg: newConfig([]Option{
		WithTracerProvider(noop.NewTracerProvider()), WithPropagators(tracing.FallbackPropagator),
	})}}
	o := &row{
		id: 1, topic: "orders", createdAt: time.Now(),
		traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		baggage:     "user.id=u-1,order.id=o-1",
	}
	base := cleanBase(context.Background())
	now := time.Now()
	allocs := testing.AllocsPerRun(1000, func() {
		w.startSpan(base, o, now)
		o.span.End()
	})
	// The propagators: 3 for the remote span context (parse, context), 6
	// for parsing and storing two baggage members. The span: 1 for its
	// context, 2 for the per-row start options (timestamp, attributes).
	if allocs > 12 {
		t.Errorf("startSpan allocates %.0f times per row, budget 12", allocs)
	}
	t.Logf("%.0f allocs per row", allocs)
}
