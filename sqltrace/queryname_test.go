package sqltrace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace"
)

// namedPool returns a pool traced by a Tracer with opts into rec, on a fresh
// schema with an orders table.
func namedPool(t *testing.T, rec *tracingtest.Recorder, opts ...sqltrace.Option) *pgxpool.Pool {
	t.Helper()
	tracer := sqltrace.NewTracer(append([]sqltrace.Option{sqltrace.WithTracerProvider(rec.TracerProvider()), sqltrace.WithAcquire(sqltrace.AcquireNone)}, opts...)...)
	pool, _ := pgtest.Pool(t, func(c *pgxpool.Config) { c.ConnConfig.Tracer = tracer })
	if _, err := pool.Exec(context.Background(), "CREATE TABLE orders (id int PRIMARY KEY, total int)"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(context.Background(), "INSERT INTO orders VALUES (1, 10), (2, 20)"); err != nil {
		t.Fatal(err)
	}
	rec.Reset()
	return pool
}

const (
	getOrder = "-- name: GetOrder :one\nSELECT id, total FROM orders WHERE id = $1"
	// A comment before the name comment, as sqlc users sometimes add.
	listOrders = "-- List the orders of a page.\n-- name: ListOrders :many\nSELECT id, total FROM orders ORDER BY id LIMIT $1"
	// "-- name:" after the statement began is not the query's name.
	lateComment = "SELECT id FROM orders WHERE id = $1 -- name: NotAName :one\n"
)

func TestWithSpanNameFunc_SQLCNamesAgainstPostgres(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	pool := namedPool(t, rec, sqltrace.WithSpanNameFunc(sqltrace.SQLCName))
	ctx, parent := rec.TracerProvider().Tracer("test").Start(context.Background(), "orders.show")

	var id, total int
	if err := pool.QueryRow(ctx, getOrder, 1).Scan(&id, &total); err != nil {
		t.Fatal(err)
	}
	rows, err := pool.Query(ctx, listOrders, 10)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	if err := pool.QueryRow(ctx, lateComment, 2).Scan(&id); err != nil {
		t.Fatal(err)
	}
	b := &pgx.Batch{}
	b.Queue(getOrder, 1)
	b.Queue(getOrder, 2)
	if err := pool.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	mixed := &pgx.Batch{}
	mixed.Queue(getOrder, 1)
	mixed.Queue("SELECT id, total FROM orders WHERE total > $1", 5)
	if err := pool.SendBatch(ctx, mixed).Close(); err != nil {
		t.Fatal(err)
	}
	parent.End()

	for _, tc := range []struct{ span, summary, text string }{
		{"GetOrder", "SELECT orders", getOrder},
		{"ListOrders", "SELECT orders", listOrders},
	} {
		s := rec.Span(t, tc.span)
		rec.AssertParent(t, parent, s)
		rec.AssertAttrs(t, s, semconv.DBQuerySummary(tc.summary), semconv.DBQueryText(tc.text))
	}
	late := rec.Span(t, "SELECT orders", tracingtest.WithAttr(semconv.DBQueryText(lateComment)))
	rec.AssertParent(t, parent, late)
	rec.AssertNoSpan(t, "NotAName")
	// A batch of one named query is named by it; the summary stays the
	// conventions' "BATCH <summary>".
	batch := rec.Span(t, "BATCH GetOrder")
	rec.AssertAttrs(t, batch, semconv.DBQuerySummary("BATCH SELECT orders"), semconv.DBOperationBatchSize(2))
	// Statements of different names with one summary: the summary names it.
	rec.AssertAttrs(t, rec.Span(t, "BATCH SELECT orders"), semconv.DBQuerySummary("BATCH SELECT orders"))
}

// The service's own function names the spans; where it returns "" the
// summary does. Without the option, a sqlc comment changes nothing.
func TestWithSpanNameFunc_CustomFunctionAgainstPostgres(t *testing.T) {
	rec := tracingtest.New(t, tracingtest.WithoutGlobals())
	calls := map[string]int{}
	pool := namedPool(t, rec, sqltrace.WithSpanNameFunc(func(sql string) string {
		calls[sql]++ // one connection: no concurrent calls
		if strings.Contains(sql, "total > $1") {
			return "orders.big"
		}
		return ""
	}))
	ctx := context.Background()
	for range 2 {
		rows, err := pool.Query(ctx, "SELECT id FROM orders WHERE total > $1", 15)
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
	}
	if _, err := pool.Exec(ctx, getOrder, 1); err != nil {
		t.Fatal(err)
	}
	if got := rec.Find("orders.big"); len(got) != 2 {
		t.Errorf("%d spans orders.big, want 2", len(got))
	}
	rec.AssertAttrs(t, rec.Find("orders.big")[0], semconv.DBQuerySummary("SELECT orders"))
	rec.Span(t, "SELECT orders", tracingtest.WithAttr(semconv.DBQueryText(getOrder)))
	if n := calls["SELECT id FROM orders WHERE total > $1"]; n != 1 {
		t.Errorf("function called %d times for one text, want once (cached)", n)
	}

	plain := tracingtest.New(t, tracingtest.WithoutGlobals())
	pool = namedPool(t, plain)
	if _, err := pool.Exec(ctx, getOrder, 1); err != nil {
		t.Fatal(err)
	}
	plain.Span(t, "SELECT orders", tracingtest.WithAttr(semconv.DBQueryText(getOrder)))
}
