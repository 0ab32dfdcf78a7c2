package sqltrace_test

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace"
)

type harness struct {
	rec    *tracingtest.Recorder
	tp     *sdktrace.TracerProvider
	reader *sdkmetric.ManualReader
	tracer *sqltrace.Tracer
}

// newHarness records spans as the tracer emits them, without the
// pipeline's redaction: the tests check what sqltrace itself redacts.
func newHarness(t *testing.T, opts ...sqltrace.Option) *harness {
	t.Helper()
	h := &harness{rec: tracingtest.New(t, tracingtest.WithoutGlobals(), tracingtest.WithoutRedaction()), reader: sdkmetric.NewManualReader()}
	h.tp = h.rec.TracerProvider()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(h.reader))
	opts = append([]sqltrace.Option{sqltrace.WithTracerProvider(h.tp), sqltrace.WithMeterProvider(mp)}, opts...)
	h.tracer = sqltrace.NewTracer(opts...)
	return h
}

func (h *harness) pool(t *testing.T, configure func(*pgxpool.Config)) (*pgxpool.Pool, string) {
	t.Helper()
	return pgtest.Pool(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = h.tracer
		if configure != nil {
			configure(c)
		}
	})
}

// parent starts the span a request handler would have.
func (h *harness) parent(ctx context.Context) (context.Context, trace.Span) {
	return h.tp.Tracer("test").Start(ctx, "handler")
}

func mustExec(t *testing.T, p *pgxpool.Pool, sql string, args ...any) {
	t.Helper()
	if _, err := p.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func createInventory(t *testing.T, p *pgxpool.Pool) {
	t.Helper()
	mustExec(t, p, "CREATE TABLE inventory (sku text PRIMARY KEY, qty int NOT NULL)")
	mustExec(t, p, "INSERT INTO inventory VALUES ('a', 1), ('b', 2), ('c', 3)")
}

// inventory returns a harness and a pool on a fresh schema with an
// inventory table of three rows, and no span recorded yet.
func inventory(t *testing.T, opts ...sqltrace.Option) (*harness, *pgxpool.Pool, string) {
	t.Helper()
	h := newHarness(t, opts...)
	p, schema := h.pool(t, nil)
	createInventory(t, p)
	h.rec.Reset()
	return h, p, schema
}

func TestQuery_SpanCarriesSummaryTextNamespaceAndRows(t *testing.T) {
	h, p, schema := inventory(t)

	ctx, parent := h.parent(context.Background())
	const sql = "SELECT sku, qty FROM inventory WHERE qty > $1"
	rows, err := p.Query(ctx, sql, 0)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		n++
	}
	rows.Close()
	parent.End()
	if err := rows.Err(); err != nil || n != 3 {
		t.Fatalf("rows: %d, %v", n, err)
	}

	s := h.rec.Span(t, "SELECT inventory")
	h.rec.AssertParent(t, parent, s)
	if s.SpanKind() != trace.SpanKindClient || s.Status().Code != codes.Unset {
		t.Errorf("kind %v status %v", s.SpanKind(), s.Status())
	}
	h.rec.AssertAttrs(t, s,
		attribute.String("db.system.name", "postgresql"),
		attribute.String("db.namespace", "test|"+schema),
		attribute.String("server.address", "127.0.0.1"),
		attribute.Int("server.port", 5432),
		attribute.String("db.query.summary", "SELECT inventory"),
		attribute.String("db.query.text", sql),
		attribute.Int("db.response.returned_rows", 3),
	)
	h.rec.AssertNoAttrs(t, s, "db.query.parameter.0", "error.type", "db.response.status_code")
	a := h.rec.Span(t, "pgxpool.acquire")
	h.rec.AssertParent(t, parent, a) // the query's sibling
	if a.EndTime().After(s.StartTime()) {
		t.Errorf("acquire span should end before the query starts")
	}
}

func TestExec_InlineLiteralsAreSanitised(t *testing.T) {
	h, p, _ := inventory(t)

	// Literals no other attribute can contain by chance (the schema name is
	// random hex, the port is 5432).
	mustExec(t, p, "UPDATE inventory SET qty = 9876543 WHERE sku = 'secret-sku-77'")
	s := h.rec.Span(t, "UPDATE inventory")
	h.rec.AssertAttrs(t, s, attribute.String("db.query.text", "UPDATE inventory SET qty = ? WHERE sku = ?"))
	h.rec.AssertNoAttrs(t, s, "db.response.returned_rows") // an UPDATE returns no rows
	for _, kv := range s.Attributes() {
		if strings.Contains(kv.Value.String(), "secret-sku-77") || strings.Contains(kv.Value.String(), "9876543") {
			t.Errorf("literal leaked in %s = %q", kv.Key, kv.Value.String())
		}
	}
}

func TestWithAttributes_OnEverySpan(t *testing.T) {
	h := newHarness(t, sqltrace.WithAttributes(attribute.String("db.replica", "primary")), sqltrace.WithSummaryCacheSize(1))
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT 1")
	mustExec(t, p, "SELECT 2")
	for _, s := range h.rec.Spans() {
		h.rec.AssertAttrs(t, s, attribute.String("db.replica", "primary"))
	}
	if n := len(h.rec.Spans()); n < 4 { // acquire, connect, and two queries
		t.Errorf("%d spans, want acquire, connect, and two queries", n)
	}
}

func TestQueryRow_NoRowsIsNotAnError(t *testing.T) {
	h, p, _ := inventory(t)

	var qty int
	err := p.QueryRow(context.Background(), "SELECT qty FROM inventory WHERE sku = $1", "nope").Scan(&qty)
	if !errors.Is(err, pgx.ErrNoRows) {
		t.Fatalf("err = %v", err)
	}
	s := h.rec.Span(t, "SELECT inventory")
	if s.Status().Code != codes.Unset || len(s.Events()) != 0 {
		t.Errorf("status %v events %v", s.Status(), s.Events())
	}
	h.rec.AssertAttrs(t, s, attribute.Int("db.response.returned_rows", 0))
}

func TestQuery_ReturningCountsReturnedRows(t *testing.T) {
	h, p, _ := inventory(t)

	var sku string
	if err := p.QueryRow(context.Background(), "DELETE FROM inventory WHERE sku = $1 RETURNING sku", "a").Scan(&sku); err != nil {
		t.Fatal(err)
	}
	h.rec.AssertAttrs(t, h.rec.Span(t, "DELETE inventory"), attribute.Int("db.response.returned_rows", 1))
}

func TestBatch_SameStatementIsNamedAfterIt(t *testing.T) {
	h, p, _ := inventory(t)

	ctx, parent := h.parent(context.Background())
	b := &pgx.Batch{}
	for _, sku := range []string{"x", "y", "z"} {
		b.Queue("INSERT INTO inventory (sku, qty) VALUES ($1, 0)", sku)
	}
	if err := p.SendBatch(ctx, b).Close(); err != nil {
		t.Fatal(err)
	}
	parent.End()
	s := h.rec.Span(t, "BATCH INSERT inventory")
	h.rec.AssertParent(t, parent, s)
	h.rec.AssertAttrs(t, s,
		attribute.String("db.query.summary", "BATCH INSERT inventory"),
		attribute.String("db.query.text", "INSERT INTO inventory (sku, qty) VALUES ($1, ?)"),
		attribute.Int("db.operation.batch.size", 3),
	)
}

func TestBatch_MixedStatementsAndFailure(t *testing.T) {
	h, p, _ := inventory(t)

	b := &pgx.Batch{}
	b.Queue("SELECT qty FROM inventory WHERE sku = $1", "a")
	b.Queue("INSERT INTO inventory (sku, qty) VALUES ($1, 1)", "a") // duplicate key
	err := p.SendBatch(context.Background(), b).Close()
	if err == nil {
		t.Fatal("want a unique violation")
	}
	s := h.rec.Span(t, "BATCH")
	h.rec.AssertAttrs(t, s,
		attribute.String("db.query.summary", "BATCH"),
		attribute.String("db.query.text", "SELECT qty FROM inventory WHERE sku = $1; INSERT INTO inventory (sku, qty) VALUES ($1, ?)"),
		attribute.Int("db.operation.batch.size", 2),
		attribute.String("db.response.status_code", "23505"),
		attribute.String("error.type", "23505"),
	)
	if s.Status().Code != codes.Error {
		t.Errorf("status %v", s.Status())
	}
	h.rec.AssertEventAttrs(t, s, "exception", attribute.String("db.query.summary", "INSERT inventory")) // the failing statement
}

func TestCopyFrom(t *testing.T) {
	h, p, _ := inventory(t)

	n, err := p.CopyFrom(context.Background(), pgx.Identifier{"inventory"}, []string{"sku", "qty"},
		pgx.CopyFromRows([][]any{{"d", 4}, {"e", 5}}))
	if err != nil || n != 2 {
		t.Fatalf("copy: %d, %v", n, err)
	}
	h.rec.AssertAttrs(t, h.rec.Span(t, "COPY inventory"),
		attribute.String("db.query.summary", "COPY inventory"),
		attribute.String("db.collection.name", "inventory"),
		attribute.String("db.operation.name", "COPY"),
	)
}

func TestPrepare_StatementCacheMissNestsUnderQuery(t *testing.T) {
	h := newHarness(t)
	conn, schema := h.stockConn(t)
	ctx := context.Background()
	h.rec.Reset()
	ctx, parent := h.parent(ctx)
	const sql = "SELECT qty FROM stock WHERE sku = $1"
	for range 2 { // the second call hits pgx's statement cache: no prepare
		if _, err := conn.Exec(ctx, sql, "a"); err != nil {
			t.Fatal(err)
		}
	}
	parent.End()

	queries := h.rec.Find("SELECT stock")
	prep := h.rec.Span(t, "PREPARE SELECT stock")
	if len(queries) != 2 {
		t.Fatalf("%d queries, want 2", len(queries))
	}
	h.rec.AssertParent(t, queries[0], prep)
	h.rec.AssertAttrs(t, prep,
		attribute.String("db.query.text", sql),
		attribute.String("db.namespace", "test|"+schema),
	)
	if _, err := conn.Prepare(ctx, "explicit", sql); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Prepare(ctx, "explicit", sql); err != nil { // already prepared: no round trip
		t.Fatal(err)
	}
	if got := len(h.rec.Find("PREPARE SELECT stock")); got != 3 {
		t.Errorf("explicit Prepare twice: %d prepare spans in all, want 3", got)
	}
	if got := histogram(collect(t, h), "db.client.operation.duration"); got == nil || got.Count != 5 {
		t.Errorf("operations recorded: %+v, want 5 (CREATE TABLE, two queries, two prepares that reached the server)", got)
	}
}

func TestTransaction_BeginCommitRollback(t *testing.T) {
	h, p, _ := inventory(t)

	ctx, parent := h.parent(context.Background())
	tx, err := p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE inventory SET qty = qty - $1 WHERE sku = $2", 1, "a"); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	tx, err = p.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	parent.End()

	var got []string
	for _, s := range h.rec.Spans() {
		if s.Parent().SpanID() == parent.SpanContext().SpanID() && s.Name() != "pgxpool.acquire" {
			got = append(got, s.Name())
		}
	}
	want := "BEGIN UPDATE inventory COMMIT BEGIN ROLLBACK"
	if strings.Join(got, " ") != want {
		t.Errorf("spans under the handler: %q, want %q", strings.Join(got, " "), want)
	}
}

func TestUniqueViolation_SQLStateOnSpan(t *testing.T) {
	h, p, _ := inventory(t)

	_, err := p.Exec(context.Background(), "INSERT INTO inventory (sku, qty) VALUES ($1, $2)", "a", 1)
	if err == nil {
		t.Fatal("want a unique violation")
	}
	s := h.rec.Span(t, "INSERT inventory")
	h.rec.AssertAttrs(t, s,
		attribute.String("db.response.status_code", "23505"),
		attribute.String("error.type", "23505"),
	)
	if s.Status().Code != codes.Error || !strings.Contains(s.Status().Description, "duplicate key") {
		t.Errorf("status %v", s.Status())
	}
	if len(s.Events()) != 1 || s.Events()[0].Name != "exception" {
		t.Errorf("events %v", s.Events())
	}
}

func TestErrorClassifier_DecidesTheRest(t *testing.T) {
	h, p, _ := inventory(t, sqltrace.WithErrorClassifier(func(err error) (expected bool) {
		return strings.Contains(err.Error(), "23505")
	}))

	if _, err := p.Exec(context.Background(), "INSERT INTO inventory VALUES ($1, $2)", "a", 1); err == nil {
		t.Fatal("want a unique violation")
	}
	s := h.rec.Span(t, "INSERT inventory")
	if s.Status().Code != codes.Unset {
		t.Errorf("status %v, want unset: the classifier said it is expected", s.Status())
	}
	h.rec.AssertAttrs(t, s, attribute.String("db.response.status_code", "23505"))
	h.rec.AssertNoAttrs(t, s, "error.type")
}

func TestCancellation_CallerCancelIsNotAnErrorButTimeoutIs(t *testing.T) {
	h := newHarness(t)
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT 1") // warm the pool

	h.rec.Reset()
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(50*time.Millisecond, cancel)
	if _, err := p.Exec(ctx, "SELECT pg_sleep(5)"); err == nil {
		t.Fatal("want the cancellation")
	}
	s := h.rec.Span(t, "SELECT")
	if s.Status().Code != codes.Unset {
		t.Errorf("canceled by the caller: status %v, want unset", s.Status())
	}
	h.rec.AssertNoAttrs(t, s, "error.type")

	h.rec.Reset()
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := p.Exec(ctx, "SELECT pg_sleep(5)"); err == nil {
		t.Fatal("want the timeout")
	}
	s = h.rec.Span(t, "SELECT")
	if s.Status().Code != codes.Error {
		t.Errorf("deadline: status %v, want error", s.Status())
	}
	h.rec.AssertAttrs(t, s, attribute.String("error.type", "timeout"))
}

// exhaust holds the only connection of a one-connection pool for hold, so
// that a query started meanwhile waits for it. It returns when the
// connection is released.
func exhaust(t *testing.T, p *pgxpool.Pool, hold time.Duration) (released <-chan time.Time) {
	t.Helper()
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan time.Time, 1)
	time.AfterFunc(hold, func() {
		ch <- time.Now()
		c.Release()
	})
	return ch
}

func TestPoolExhaustion_AcquireWaitIsItsOwnSpan(t *testing.T) {
	h := newHarness(t)
	p, _ := h.pool(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	mustExec(t, p, "SELECT 1")
	h.rec.Reset()

	ctx, parent := h.parent(context.Background())
	released := exhaust(t, p, 100*time.Millisecond)
	mustExecCtx(t, ctx, p, "SELECT 2")
	parent.End()
	releasedAt := <-released

	acquire := h.rec.Span(t, "pgxpool.acquire", tracingtest.ChildOf(parent))
	query := h.rec.Span(t, "SELECT")
	h.rec.AssertParent(t, parent, query)
	if acquire.EndTime().Before(releasedAt) {
		t.Errorf("acquire span ended %v before the connection was released", releasedAt.Sub(acquire.EndTime()))
	}
	if query.StartTime().Before(acquire.EndTime()) {
		t.Errorf("query started before the acquire ended")
	}
	ns, _ := tracingtest.Attr(query.Attributes(), "db.namespace")
	h.rec.AssertAttrs(t, acquire, attribute.String("db.client.connection.pool.name", "127.0.0.1:5432/"+ns.AsString()))

	rm := collect(t, h)
	if hist := histogram(rm, "db.client.connection.wait_time"); hist == nil {
		t.Errorf("no wait_time recorded")
	} else if m, _ := hist.Max.Value(); m < 0.1 {
		t.Errorf("longest wait %.3fs, want at least the 0.1s the connection was held", m)
	}
}

func mustExecCtx(t *testing.T, ctx context.Context, p *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := p.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestPoolExhaustion_AcquireWaitAsAttribute(t *testing.T) {
	h := newHarness(t, sqltrace.WithAcquire(sqltrace.AcquireAttribute))
	p, _ := h.pool(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	mustExec(t, p, "SELECT 1")
	h.rec.Reset()

	released := exhaust(t, p, 100*time.Millisecond)
	mustExecCtx(t, context.Background(), p, "SELECT 2")
	<-released
	if n := len(h.rec.Find("pgxpool.acquire")); n != 0 {
		t.Errorf("%d acquire spans, want none", n)
	}
	wait, _ := tracingtest.Attr(h.rec.Span(t, "SELECT").Attributes(), sqltrace.AcquireDurationKey)
	if wait.AsFloat64() < 0.1 {
		t.Errorf("pgxpool.acquire.duration = %v, want at least the 0.1s the connection was held", wait.String())
	}

	// A wait that times out has no query to carry it: it gets a span.
	h.rec.Reset()
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	if _, err := p.Exec(ctx, "SELECT 3"); err == nil {
		t.Fatal("want an acquire timeout")
	}
	s := h.rec.Span(t, "pgxpool.acquire")
	if s.Status().Code != codes.Error {
		t.Errorf("status %v", s.Status())
	}
	h.rec.AssertAttrs(t, s, attribute.String("error.type", "timeout"))
	if d := s.EndTime().Sub(s.StartTime()); d < 30*time.Millisecond {
		t.Errorf("failed acquire span lasts %v, want the whole wait", d)
	}
	if got := sumInt(collect(t, h), "db.client.connection.timeouts"); got != 1 {
		t.Errorf("timeouts = %d, want 1", got)
	}
}

func TestAcquireThreshold_OnlySlowAcquiresGetASpan(t *testing.T) {
	h := newHarness(t, sqltrace.WithAcquireThreshold(50*time.Millisecond))
	p, _ := h.pool(t, func(c *pgxpool.Config) { c.MaxConns = 1 })
	mustExec(t, p, "SELECT 1") // connects
	h.rec.Reset()

	// An idle connection: no acquire span, the wait is still measured.
	ctx, parent := h.parent(context.Background())
	mustExecCtx(t, ctx, p, "SELECT 2")
	if n := len(h.rec.Find("pgxpool.acquire")); n != 0 {
		t.Errorf("%d acquire spans for an idle connection, want none", n)
	}
	h.rec.AssertParent(t, parent, h.rec.Span(t, "SELECT"))
	if hist := histogram(collect(t, h), "db.client.connection.wait_time"); hist == nil || hist.Count == 0 {
		t.Errorf("no wait_time recorded for the fast acquire")
	}

	// A wait for the only connection: a span from the start of the wait.
	h.rec.Reset()
	released := exhaust(t, p, 200*time.Millisecond)
	before := time.Now()
	mustExecCtx(t, ctx, p, "SELECT 3")
	parent.End()
	releasedAt := <-released
	acquire := h.rec.Span(t, "pgxpool.acquire")
	h.rec.AssertParent(t, parent, acquire)
	if acquire.StartTime().After(before.Add(5*time.Millisecond)) || acquire.EndTime().Before(releasedAt) {
		t.Errorf("acquire span %v..%v, want it to cover the wait from %v to the release at %v",
			acquire.StartTime(), acquire.EndTime(), before, releasedAt)
	}
	if query := h.rec.Span(t, "SELECT"); query.StartTime().Before(acquire.EndTime()) {
		t.Errorf("query started before the acquire ended")
	}

	// A failed acquire gets its span whatever it lasted.
	h.rec.Reset()
	c, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Release()
	tctx, cancel := context.WithTimeout(ctx, 5*time.Millisecond)
	defer cancel()
	if _, err := p.Exec(tctx, "SELECT 4"); err == nil {
		t.Fatal("want an acquire timeout")
	}
	failed := h.rec.Span(t, "pgxpool.acquire")
	if failed.Status().Code != codes.Error {
		t.Errorf("failed acquire: status %v", failed.Status())
	}
}

// An acquire that creates a connection is slow whatever the threshold: its
// span is started when the connection is, and parents it.
func TestAcquireThreshold_ConnectNestsUnderTheAcquire(t *testing.T) {
	h := newHarness(t, sqltrace.WithAcquireThreshold(time.Hour))
	p, _ := h.pool(t, nil)
	acquire, connect := firstConnect(t, h, p)
	if connect.StartTime().Before(acquire.StartTime()) || connect.EndTime().After(acquire.EndTime()) {
		t.Errorf("connect %v..%v outside its acquire %v..%v", connect.StartTime(), connect.EndTime(),
			acquire.StartTime(), acquire.EndTime())
	}
}

// The queries of the pool's hooks run on the new connection during the
// acquire: they are the acquire's children, threshold or not.
func TestAcquireThreshold_HookQueriesNestUnderTheAcquire(t *testing.T) {
	for _, threshold := range []time.Duration{0, time.Hour} {
		t.Run(threshold.String(), func(t *testing.T) {
			h := newHarness(t, sqltrace.WithAcquireThreshold(threshold))
			p, _ := h.pool(t, func(c *pgxpool.Config) {
				c.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
					_, err := c.Exec(ctx, "SET application_name = 'after_connect'")
					return err
				}
			})
			ctx, parent := h.parent(context.Background())
			mustExecCtx(t, ctx, p, "SELECT 1")
			parent.End()
			h.rec.AssertParent(t, h.rec.Span(t, "pgxpool.acquire"), h.rec.Span(t, "SET")) // AfterConnect's query
			h.rec.AssertParent(t, parent, h.rec.Span(t, "SELECT"))
		})
	}
}

// delayedProxy forwards connections to the test server after delay, so
// that creating a connection takes that long.
func delayedProxy(t *testing.T, target string, delay time.Duration) (host string, port uint16) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				time.Sleep(delay)
				u, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer u.Close()
				go func() { _, _ = io.Copy(u, c); u.Close() }()
				_, _ = io.Copy(c, u)
			}()
		}
	}()
	return "127.0.0.1", uint16(l.Addr().(*net.TCPAddr).Port)
}

// The caller gives up while the pool is still connecting on its own
// goroutine: one acquire span, ended once, the connection's span under it.
func TestAcquireThreshold_CallerGivesUpWhileConnecting(t *testing.T) {
	h := newHarness(t, sqltrace.WithAcquireThreshold(time.Hour))
	p, _ := h.pool(t, func(c *pgxpool.Config) {
		target := net.JoinHostPort(c.ConnConfig.Host, strconv.Itoa(int(c.ConnConfig.Port)))
		c.ConnConfig.Host, c.ConnConfig.Port = delayedProxy(t, target, 100*time.Millisecond)
		c.ConnConfig.Fallbacks = nil
	})
	ctx, parent := h.parent(context.Background())
	actx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err := p.Exec(actx, "SELECT 1")
	cancel()
	parent.End()
	if err == nil {
		t.Fatal("want the acquire to time out")
	}
	// The connection is still made, for the pool.
	connect := h.rec.WaitFor(t, "pgx.connect")
	acquire := h.rec.Span(t, "pgxpool.acquire")
	if acquire.Status().Code != codes.Error {
		t.Errorf("timed-out acquire: status %v", acquire.Status())
	}
	h.rec.AssertParent(t, acquire, connect)
	if len(h.rec.Find("pgx.connect")) != 1 {
		t.Errorf("%d connect spans, want 1", len(h.rec.Find("pgx.connect")))
	}
	h.rec.AssertAllEnded(t)
}

func TestAcquireThreshold_NoEffectWithAcquireAttribute(t *testing.T) {
	h := newHarness(t, sqltrace.WithAcquire(sqltrace.AcquireAttribute), sqltrace.WithAcquireThreshold(time.Nanosecond))
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT 1")
	h.rec.Reset()
	ctx, parent := h.parent(context.Background())
	mustExecCtx(t, ctx, p, "SELECT 2")
	parent.End()
	if n := len(h.rec.Find("pgxpool.acquire")); n != 0 {
		t.Errorf("%d acquire spans with AcquireAttribute, want none", n)
	}
	if _, ok := tracingtest.Attr(h.rec.Span(t, "SELECT").Attributes(), sqltrace.AcquireDurationKey); !ok {
		t.Errorf("no %s on the query", sqltrace.AcquireDurationKey)
	}
}

func TestRequireParent_NoRootSpans(t *testing.T) {
	h := newHarness(t, sqltrace.WithRequireParent())
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT 1")
	if n := len(h.rec.Spans()); n != 0 {
		t.Fatalf("%d spans without a parent, want none", n)
	}
	ctx, parent := h.parent(context.Background())
	mustExecCtx(t, ctx, p, "SELECT 2")
	parent.End()
	h.rec.AssertParent(t, parent, h.rec.Span(t, "SELECT"))
	if hist := histogram(collect(t, h), "db.client.operation.duration"); hist == nil || hist.Count != 2 {
		t.Errorf("operation.duration should count both queries: %+v", hist)
	}
}

// queryLogger is a pgx tracer an application already has.
type queryLogger struct {
	mu   sync.Mutex
	seen []trace.SpanContext
}

func (l *queryLogger) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, trace.SpanContextFromContext(ctx))
	return ctx
}

func (l *queryLogger) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryEndData) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, trace.SpanContextFromContext(ctx))
}

func TestWithNext_LoggerRunsInsideTheSpan(t *testing.T) {
	logger := &queryLogger{}
	h := newHarness(t, sqltrace.WithNext(logger))
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT 1")
	s := h.rec.Span(t, "SELECT")
	if len(logger.seen) != 2 {
		t.Fatalf("logger called %d times", len(logger.seen))
	}
	for _, sc := range logger.seen {
		if sc.SpanID() != s.SpanContext().SpanID() {
			t.Errorf("logger saw span %s, want the query span %s", sc.SpanID(), s.SpanContext().SpanID())
		}
	}
}

func TestQueryParameters_OptInAndRedacted(t *testing.T) {
	h := newHarness(t)
	p, _ := h.pool(t, nil)
	mustExec(t, p, "SELECT $1::text", "4111111111111111")
	h.rec.AssertNoAttrs(t, h.rec.Span(t, "SELECT"), "db.query.parameter.0")

	h = newHarness(t, sqltrace.WithQueryParameters())
	p, _ = h.pool(t, nil)
	mustExec(t, p, "SELECT $1::text, $2::int", "4111111111111111", 7)
	s := h.rec.Span(t, "SELECT")
	if v, _ := tracingtest.Attr(s.Attributes(), "db.query.parameter.0"); v.AsString() == "" || strings.Contains(v.AsString(), "4111111111111111") {
		t.Errorf("card number parameter recorded as %q, want it masked", v.AsString())
	}
	h.rec.AssertAttrs(t, s, attribute.String("db.query.parameter.1", "7"))
}

func TestNamespace_FromTheConnection(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	cfg, err := pgx.ParseConfig(pgtest.URL())
	if err != nil {
		t.Fatal(err)
	}
	pgtest.Require(t)
	cfg.Tracer = h.tracer
	ctx, parent := h.parent(ctx)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	parent.End()
	connect := h.rec.Span(t, "pgx.connect")
	h.rec.AssertParent(t, parent, connect)
	for _, s := range []sdktrace.ReadOnlySpan{connect, h.rec.Span(t, "SELECT")} {
		h.rec.AssertAttrs(t, s, attribute.String("db.namespace", cfg.Database)) // default search_path: the database alone
	}
}

func TestMetrics_OperationDurationBySummary(t *testing.T) {
	h := newHarness(t)
	p, schema := h.pool(t, nil)
	createInventory(t, p)
	if _, err := p.Exec(context.Background(), "INSERT INTO inventory VALUES ($1, 1)", "a"); err == nil {
		t.Fatal("want a unique violation")
	}
	reg, err := h.tracer.ObservePool(p)
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Unregister()

	rm := collect(t, h)
	dur := histogramData(rm, "db.client.operation.duration")
	if dur == nil {
		t.Fatal("no db.client.operation.duration")
	}
	var okInsert, failedInsert bool
	for _, dp := range dur.DataPoints {
		summary, _ := dp.Attributes.Value("db.query.summary")
		ns, _ := dp.Attributes.Value("db.namespace")
		code, hasCode := dp.Attributes.Value("db.response.status_code")
		if summary.AsString() != "INSERT inventory" || ns.AsString() != "test|"+schema {
			continue
		}
		if hasCode && code.AsString() == "23505" {
			failedInsert = true
		} else if !hasCode {
			okInsert = true
		}
		if _, ok := dp.Attributes.Value("db.query.text"); ok {
			t.Errorf("query text on a metric")
		}
	}
	if !okInsert || !failedInsert {
		t.Errorf("want a successful and a failed INSERT inventory series: %+v", dur.DataPoints)
	}
	if got := sumInt(rm, "db.client.connection.max"); got != int64(p.Config().MaxConns) {
		t.Errorf("connection.max = %d", got)
	}
	if got := sumInt(rm, "db.client.connection.count"); got != int64(p.Stat().TotalConns()) {
		t.Errorf("connection.count = %d, pool has %d", got, p.Stat().TotalConns())
	}
}

func collect(t *testing.T, h *harness) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := h.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	return rm
}

func find(rm metricdata.ResourceMetrics, name string) metricdata.Aggregation {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	return nil
}

func histogramData(rm metricdata.ResourceMetrics, name string) *metricdata.Histogram[float64] {
	h, ok := find(rm, name).(metricdata.Histogram[float64])
	if !ok {
		return nil
	}
	return &h
}

// histogram merges the points of a histogram into one.
func histogram(rm metricdata.ResourceMetrics, name string) *metricdata.HistogramDataPoint[float64] {
	h := histogramData(rm, name)
	if h == nil || len(h.DataPoints) == 0 {
		return nil
	}
	out := h.DataPoints[0]
	for _, dp := range h.DataPoints[1:] {
		out.Count += dp.Count
		if m, ok := dp.Max.Value(); ok {
			if cur, _ := out.Max.Value(); m > cur {
				out.Max = metricdata.NewExtrema(m)
			}
		}
	}
	return &out
}

func sumInt(rm metricdata.ResourceMetrics, name string) int64 {
	var n int64
	switch d := find(rm, name).(type) {
	case metricdata.Sum[int64]:
		for _, dp := range d.DataPoints {
			n += dp.Value
		}
	case metricdata.Gauge[int64]:
		for _, dp := range d.DataPoints {
			n += dp.Value
		}
	}
	return n
}

// firstConnect runs a query on the empty pool p, whose acquire therefore
// connects, and checks that the acquire's span is the handler's child and
// the connection's span the acquire's.
func firstConnect(t *testing.T, h *harness, p *pgxpool.Pool) (acquire, connect sdktrace.ReadOnlySpan) {
	t.Helper()
	ctx, parent := h.parent(context.Background())
	mustExecCtx(t, ctx, p, "SELECT 1")
	parent.End()
	acquire = h.rec.Span(t, "pgxpool.acquire")
	connect = h.rec.Span(t, "pgx.connect")
	h.rec.AssertParent(t, parent, acquire)
	h.rec.AssertParent(t, acquire, connect)
	return acquire, connect
}

func TestConnect_NewPoolConnectionNestsUnderAcquire(t *testing.T) {
	h := newHarness(t)
	p, schema := h.pool(t, nil)
	acquire, connect := firstConnect(t, h, p)
	h.rec.AssertAttrs(t, connect,
		attribute.String("db.namespace", "test|"+schema),
		attribute.String("server.address", "127.0.0.1"),
	)
	if connect.SpanKind() != trace.SpanKindClient || acquire.SpanKind() != trace.SpanKindInternal {
		t.Errorf("kinds: connect %v, acquire %v", connect.SpanKind(), acquire.SpanKind())
	}
	if hist := histogram(collect(t, h), "db.client.connection.create_time"); hist == nil || hist.Count != 1 {
		t.Errorf("create_time: %+v", hist)
	}
}

func TestError_ServerMessageQuotingAValueIsRedacted(t *testing.T) {
	h := newHarness(t)
	p, _ := h.pool(t, nil)
	_, err := p.Exec(context.Background(), "SELECT $1::text::uuid", "4111111111111111")
	if err == nil || !strings.Contains(err.Error(), "4111111111111111") {
		t.Fatalf("want the server to quote the value back: %v", err)
	}
	s := h.rec.Span(t, "SELECT")
	h.rec.AssertAttrs(t, s, attribute.String("error.type", "22P02"))
	h.rec.AssertNoSecrets(t, "4111111111111111") // not in the status, nor in the exception event
}

func TestQuery_ByPreparedStatementNameIsSummarisedAsItsSQL(t *testing.T) {
	h := newHarness(t)
	conn, _ := h.stockConn(t)
	ctx := context.Background()
	const sql = "SELECT qty FROM stock WHERE sku = $1"
	if _, err := conn.Prepare(ctx, "stock_by_sku", sql); err != nil {
		t.Fatal(err)
	}
	h.rec.Reset()
	if _, err := conn.Exec(ctx, "stock_by_sku", "a"); err != nil {
		t.Fatal(err)
	}
	h.rec.AssertAttrs(t, h.rec.Span(t, "SELECT stock"), attribute.String("db.query.text", sql))
}

// stockConn opens a single traced connection (no pool) on a fresh schema
// holding an empty stock table, closed when the test ends.
func (h *harness) stockConn(t *testing.T) (*pgx.Conn, string) {
	t.Helper()
	cfg, schema := pgtest.Schema(t)
	cfg.Tracer = h.tracer
	ctx := context.Background()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	if _, err := conn.Exec(ctx, "CREATE TABLE stock (sku text, qty int)"); err != nil {
		t.Fatal(err)
	}
	return conn, schema
}
