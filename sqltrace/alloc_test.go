//go:build !race

package sqltrace

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace/noop"
)

func TestAllocs_SummaryCacheHitAllocatesNothing(t *testing.T) {
	c := newQueryCache(16)
	const sql = "-- name: GetStock :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1) AND qty < 5"
	c.get(sql)
	if n := testing.AllocsPerRun(1000, func() { c.get(sql) }); n != 0 {
		t.Errorf("cache hit: %v allocs, want 0", n)
	}
}

func TestAllocs_QueryHooksWithoutRecordingSpan(t *testing.T) {
	tr := NewTracer(WithTracerProvider(noop.NewTracerProvider()))
	start := pgx.TraceQueryStartData{SQL: "SELECT sku FROM inventory WHERE sku = $1"}
	ctx := context.Background()
	n := testing.AllocsPerRun(1000, func() {
		tr.TraceQueryEnd(tr.TraceQueryStart(ctx, nil, start), nil, pgx.TraceQueryEndData{})
	})
	// One for the operation, one for the context the no-op tracer returns.
	if n > 2 {
		t.Errorf("query hooks under a no-op provider: %v allocs, want at most 2", n)
	}
}
