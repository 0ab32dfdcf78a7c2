package sqltrace_test

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace"
)

// Name the spans of sqlc's queries by their names; db.query.summary stays
// the summary.
func ExampleSQLCName() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := sqltrace.NewTracer(sqltrace.WithTracerProvider(tp),
		sqltrace.WithSpanNameFunc(sqltrace.SQLCName))

	for _, sql := range []string{
		"-- name: StockLevels :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1)",
		"SELECT sku FROM inventory WHERE qty = 0",
	} {
		ctx := tracer.TraceQueryStart(context.Background(), nil, pgx.TraceQueryStartData{SQL: sql})
		tracer.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{})
	}
	for _, s := range rec.Ended() {
		summary, _ := tracingtest.Attr(s.Attributes(), "db.query.summary")
		fmt.Printf("%s (db.query.summary=%q)\n", s.Name(), summary.AsString())
	}
	// Output:
	// StockLevels (db.query.summary="SELECT inventory")
	// SELECT inventory (db.query.summary="SELECT inventory")
}
