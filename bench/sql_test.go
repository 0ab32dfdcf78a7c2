package bench

import (
	"context"
	"testing"

	"github.com/exaring/otelpgx"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/metric"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sqltrace"
)

// sqlTracer is what both libraries give pgx.
type sqlTracer interface {
	pgx.QueryTracer
}

// sqlProviders are an SDK pipeline both tracers share: every span sampled
// and handed synchronously to a discarding exporter (no batching goroutine
// to add noise), metrics kept by a manual reader.
func sqlProviders(b *testing.B) (trace.TracerProvider, metric.MeterProvider) {
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithSampler(sdktrace.AlwaysSample()),
		sdktrace.WithSpanProcessor(sdktrace.NewSimpleSpanProcessor(tracetest.NewNoopExporter())),
	)
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
	b.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	return tp, mp
}

// sqlTracers returns the contenders, configured alike: default options,
// the same providers.
func sqlTracers(b *testing.B) []struct {
	name   string
	tracer sqlTracer
	tp     trace.TracerProvider
} {
	tp, mp := sqlProviders(b)
	return []struct {
		name   string
		tracer sqlTracer
		tp     trace.TracerProvider
	}{
		{"lib=otelpgx", otelpgx.NewTracer(otelpgx.WithTracerProvider(tp), otelpgx.WithMeterProvider(mp)), tp},
		{"lib=sqltrace", sqltrace.NewTracer(sqltrace.WithTracerProvider(tp), sqltrace.WithMeterProvider(mp)), tp},
	}
}

const benchSQL = "-- name: StockLevel :one\nSELECT qty FROM inventory WHERE sku = $1"

// BenchmarkSQLHooks is the tracer's own cost per query: the start and end
// hooks pgx calls around a query, called directly on a real connection,
// under a sampled parent span, so that both libraries create and end a span
// and record the duration metric.
func BenchmarkSQLHooks(b *testing.B) {
	cfg, _ := pgtest.Schema(b)
	conn, err := pgx.ConnectConfig(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(context.Background()) })
	start := pgx.TraceQueryStartData{SQL: benchSQL, Args: []any{"sku-1"}}
	end := pgx.TraceQueryEndData{CommandTag: pgconn.NewCommandTag("SELECT 1")}
	for _, c := range sqlTracers(b) {
		b.Run(c.name, func(b *testing.B) {
			ctx, parent := c.tp.Tracer("bench").Start(context.Background(), "handler")
			defer parent.End()
			b.ReportAllocs()
			for b.Loop() {
				c.tracer.TraceQueryEnd(c.tracer.TraceQueryStart(ctx, conn, start), conn, end)
			}
		})
	}
}

// BenchmarkSQLRoundTrip is a QueryRow through a pool against the real
// server, untraced and with each tracer: acquire, query, scan, release.
func BenchmarkSQLRoundTrip(b *testing.B) {
	run := func(b *testing.B, tracer pgx.QueryTracer, tp trace.TracerProvider) {
		p, _ := pgtest.Pool(b, func(c *pgxpool.Config) { c.ConnConfig.Tracer = tracer })
		ctx := context.Background()
		for _, sql := range []string{
			"CREATE TABLE inventory (sku text PRIMARY KEY, qty int NOT NULL)",
			"INSERT INTO inventory VALUES ('sku-1', 7)",
		} {
			if _, err := p.Exec(ctx, sql); err != nil {
				b.Fatal(err)
			}
		}
		if tp != nil {
			var parent trace.Span
			ctx, parent = tp.Tracer("bench").Start(ctx, "handler")
			defer parent.End()
		}
		var qty int
		b.ReportAllocs()
		for b.Loop() {
			if err := p.QueryRow(ctx, benchSQL, "sku-1").Scan(&qty); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("lib=untraced", func(b *testing.B) { run(b, nil, nil) })
	for _, c := range sqlTracers(b) {
		b.Run(c.name, func(b *testing.B) { run(b, c.tracer, c.tp) })
	}
}

// BenchmarkSQLSummary parses a statement the tracer has not seen: the cost
// of a summary-cache miss, paid once per SQL text (a hit costs a map
// lookup and allocates nothing; see sqltrace's allocation tests).
func BenchmarkSQLSummary(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = sqltrace.QuerySummary(benchSQL)
	}
}
