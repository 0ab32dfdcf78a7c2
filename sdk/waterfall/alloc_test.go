//go:build !race

package waterfall_test

import (
	"context"
	"io"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/waterfall"
)

// ExportSpans runs on the goroutine that ends the span: a span joining a
// trace already waiting must cost no more than the amortised slice growth.
func TestExporter_ExportSpansAllocations(t *testing.T) {
	exp := waterfall.NewExporter(io.Discard, waterfall.WithTimeout(time.Hour), waterfall.WithMaxSpans(1<<20))
	defer exp.Shutdown(context.Background())
	child := tracetest.SpanStubs{stub(1, 2, 1, false, "orders", "orders.create", 0, time.Millisecond)}.Snapshots()
	_ = exp.ExportSpans(context.Background(), child)
	batch := []sdktrace.ReadOnlySpan{child[0]}
	if n := testing.AllocsPerRun(1000, func() { _ = exp.ExportSpans(context.Background(), batch) }); n > 0.1 {
		t.Errorf("ExportSpans into a waiting trace: %.2f allocs, want amortised 0", n)
	}
}
