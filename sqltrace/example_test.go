package sqltrace_test

import (
	"context"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/otelkit/otelkit/sqltrace"
)

// Wire the tracer into a pool: every query, batch, copy, prepare, connect
// and acquire of the pool is traced.
func ExampleNewTracer() {
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(os.Getenv("DATABASE_URL"))
	if err != nil {
		panic(err)
	}
	tracer := sqltrace.NewTracer()
	cfg.ConnConfig.Tracer = tracer
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		panic(err)
	}
	defer pool.Close()
	if reg, err := tracer.ObservePool(pool); err == nil { // connection count gauges
		defer reg.Unregister()
	}
}

// The spans of a query as pgx reports it to the tracer. pgx calls these
// hooks itself; calling them here shows what a trace holds.
func ExampleTracer() {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	tracer := sqltrace.NewTracer(sqltrace.WithTracerProvider(tp))

	ctx := tracer.TraceQueryStart(context.Background(), nil, pgx.TraceQueryStartData{
		SQL: "-- name: StockLevels :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1) AND qty < 5",
	})
	tracer.TraceQueryEnd(ctx, nil, pgx.TraceQueryEndData{})

	for _, s := range rec.Ended() {
		fmt.Println(s.Name())
		for _, kv := range s.Attributes() {
			fmt.Printf("  %s=%q\n", kv.Key, kv.Value.String())
		}
	}
	// Output:
	// SELECT inventory
	//   db.system.name="postgresql"
	//   db.query.summary="SELECT inventory"
	//   db.query.text="-- name: StockLevels :many\nSELECT sku, qty FROM inventory WHERE sku = ANY($1) AND qty < ?"
}

func ExampleQuerySummary() {
	fmt.Println(sqltrace.QuerySummary("INSERT INTO shipping_details (id) SELECT id FROM orders"))
	fmt.Println(sqltrace.QuerySummary(`WITH r AS (SELECT * FROM orders) SELECT * FROM r JOIN "Users" u ON u.id = r.user_id`))
	fmt.Println(sqltrace.QuerySummary("begin"))
	// Output:
	// INSERT shipping_details SELECT orders
	// SELECT orders SELECT "Users"
	// BEGIN
}

func ExampleSanitizeQuery() {
	fmt.Println(sqltrace.SanitizeQuery("SELECT * FROM users WHERE email = 'alice@example.com' AND id > 42 AND tenant = $1"))
	// Output:
	// SELECT * FROM users WHERE email = ? AND id > ? AND tenant = $1
}
