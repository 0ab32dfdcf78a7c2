package sqltrace

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace/noop"
)

const benchSQL = "-- name: StockLevels :many\nSELECT sku, qty FROM inventory i JOIN warehouses w ON w.id = i.warehouse_id WHERE sku = ANY($1) AND qty < 5"

// BenchmarkQueryHooks is the cost of the query hooks around one statement
// (no connection, so no metrics: see the bench module for the full cost).
func BenchmarkQueryHooks(b *testing.B) {
	start := pgx.TraceQueryStartData{SQL: benchSQL}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 3")}
	for _, c := range []struct {
		name string
		t    *Tracer
	}{
		{"noop", NewTracer(WithTracerProvider(noop.NewTracerProvider()))},
		{"sampled", NewTracer(WithTracerProvider(sdktrace.NewTracerProvider(
			sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())))))},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				c.t.TraceQueryEnd(c.t.TraceQueryStart(ctx, nil, start), nil, end)
			}
		})
	}
}

// BenchmarkSummary compares a cache hit with parsing the text.
func BenchmarkSummary(b *testing.B) {
	b.Run("cache_hit", func(b *testing.B) {
		c := newQueryCache(64)
		c.get(benchSQL)
		b.ReportAllocs()
		for b.Loop() {
			c.get(benchSQL)
		}
	})
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			analyze(benchSQL)
		}
	})
}
