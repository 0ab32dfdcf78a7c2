// Package policytest checks, across the packages of the module, that one
// failure is recorded the same way everywhere: the same span status and the
// same error.type, so that "all failed requests of every service" is one
// query. Each package is driven for real: httptest, PostgreSQL (through
// internal/pgtest) and kfake.
package policytest

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/otelkit/otelkit/httptrace"
	"github.com/otelkit/otelkit/internal/kafkatest"
	"github.com/otelkit/otelkit/internal/pgtest"
	"github.com/otelkit/otelkit/kafkatrace"
	"github.com/otelkit/otelkit/sdk/tracingtest"
	"github.com/otelkit/otelkit/sqltrace"
	"github.com/otelkit/otelkit/sqltrace/outbox"
	"github.com/otelkit/otelkit/tracing"
)

// failure is how an operation ends.
type failure int

const (
	// callerCancel: the caller cancels the operation's context while it
	// is in flight.
	callerCancel failure = iota
	// deadline: the operation's context deadline expires while it is in
	// flight.
	deadline
	// driverError: the server or broker refuses the operation (connection
	// refused, a SQL syntax error, a produce to a topic that does not
	// exist).
	driverError
)

func (f failure) String() string {
	return [...]string{"caller cancel", "deadline", "driver error"}[f]
}

// outcome is what a span says about the failure.
type outcome struct {
	status    codes.Code
	errorType string // "" when the span has none
}

func outcomeOf(s sdktrace.ReadOnlySpan) outcome {
	o := outcome{status: s.Status().Code}
	for _, kv := range s.Attributes() {
		if kv.Key == semconv.ErrorTypeKey {
			o.errorType = kv.Value.AsString()
		}
	}
	return o
}

// The same failure in every package: a caller's cancel is never an error;
// an expired deadline is an error of type "timeout"; an error of the client
// library has its domain code (the SQLSTATE, the Kafka error code name) or
// its Go type, on the package's span and on an application span that ends
// with it (tracing.Run) alike.
func TestOneFailureOneOutcomeInEveryPackage(t *testing.T) {
	rec := tracingtest.New(t)
	env := newEnv(t, rec)

	want := map[failure]map[string]outcome{
		callerCancel: {"http": {codes.Unset, ""}, "sql": {codes.Unset, ""}, "kafka": {codes.Unset, ""}},
		deadline:     {"http": {codes.Error, "timeout"}, "sql": {codes.Error, "timeout"}, "kafka": {codes.Error, "timeout"}},
		driverError:  {"http": {codes.Error, "*net.OpError"}, "sql": {codes.Error, "42601"}, "kafka": {codes.Error, "UNKNOWN_TOPIC_OR_PARTITION"}},
	}
	drivers := env.drivers()
	for _, f := range []failure{callerCancel, deadline, driverError} {
		for _, d := range drivers {
			if d.skip[f] {
				continue
			}
			t.Run(f.String()+"/"+d.name, func(t *testing.T) {
				got, name := d.meet(t, rec, f)
				if w := want[f][d.surface]; got != w {
					t.Errorf("%s: status %v, error.type %q; want status %v, error.type %q, as every package records a %s",
						name, got.status, got.errorType, w.status, w.errorType, f)
				}
			})
		}
	}
}

// driver runs one package's operation so that it meets a failure.
type driver struct {
	name    string
	surface string // http, sql or kafka: which failure the driver causes
	span    string
	errSpan string // the span's name for a driver error, when it differs
	run     func(t *testing.T, ctx context.Context, f failure) error
	skip    map[failure]bool // failures the package cannot meet
}

// meet runs d's operation meeting f and returns what its span says, and
// the span's name.
func (d driver) meet(t *testing.T, rec *tracingtest.Recorder, f failure) (outcome, string) {
	t.Helper()
	rec.Reset()
	ctx, cancel := failingContext(f)
	defer cancel()
	if err := d.run(t, ctx, f); err == nil {
		t.Fatalf("the operation did not fail")
	}
	name := d.span
	if f == driverError && d.errSpan != "" {
		name = d.errSpan
	}
	return outcomeOf(rec.Span(t, name)), name
}

// One classifier decides in every package: an error the tracing package's
// classifier calls expected leaves every package's span without status
// Error and error.type.
func TestOneClassifierInEveryPackage(t *testing.T) {
	rec := tracingtest.New(t)
	env := newEnv(t, rec)
	tracing.SetErrorClassifier(func(error) bool { return true })
	defer tracing.SetErrorClassifier(nil)
	for _, d := range env.drivers() {
		t.Run(d.name, func(t *testing.T) {
			if got, name := d.meet(t, rec, driverError); got != (outcome{codes.Unset, ""}) {
				t.Errorf("%s: status %v, error.type %q for an error the classifier calls expected; want neither",
					name, got.status, got.errorType)
			}
		})
	}
}

// drivers are the packages under test, each driven for real.
func (env *env) drivers() []driver {
	return []driver{
		{name: "httptrace client", surface: "http", span: "GET", run: env.httpTraced},
		{name: "span helpers around net/http", surface: "http", span: "policy.call", run: helper(env.httpPlain)},
		{name: "sqltrace", surface: "sql", span: "SELECT", errSpan: "postgresql", run: env.sqlTraced},
		{name: "span helpers around pgx", surface: "sql", span: "policy.call", run: helper(env.sqlPlain)},
		{name: "kafkatrace producer", surface: "kafka", span: "send " + missingTopic, run: env.produceTraced},
		{name: "kafkatrace consumer", surface: "kafka", span: "process orders", run: env.process},
		{name: "span helpers around kgo", surface: "kafka", span: "policy.call", run: helper(env.producePlain)},
		// The relay produces under a context of its own, which nothing
		// cancels and no deadline bounds: only a broker error can fail it.
		{name: "outbox relay", surface: "kafka", span: outbox.SpanName, run: env.relay,
			skip: map[failure]bool{callerCancel: true, deadline: true}},
	}
}

// failingContext returns the context an operation meeting f runs under:
// for a cancel or a deadline, one that ends while the operation waits for a
// server that does not answer.
func failingContext(f failure) (context.Context, context.CancelFunc) {
	switch f {
	case callerCancel:
		ctx, cancel := context.WithCancel(context.Background())
		stop := time.AfterFunc(100*time.Millisecond, cancel)
		return ctx, func() { stop.Stop(); cancel() }
	case deadline:
		return context.WithTimeout(context.Background(), 100*time.Millisecond)
	}
	return context.WithCancel(context.Background())
}

// helper runs op inside an application span ended by the tracing helpers.
func helper(op func(t *testing.T, ctx context.Context, f failure) error) func(t *testing.T, ctx context.Context, f failure) error {
	return func(t *testing.T, ctx context.Context, f failure) error {
		return tracing.Run(ctx, "policy.call", func(ctx context.Context) error { return op(t, ctx, f) })
	}
}

const missingTopic = "missing"

// env holds the servers and clients the drivers use.
type env struct {
	rec *tracingtest.Recorder

	hang    *httptest.Server // answers when the request's context ends
	refused string           // a URL on which nothing listens
	traced  *http.Client
	plain   *http.Client

	pool      *pgxpool.Pool // traced by sqltrace
	plainPool *pgxpool.Pool

	seeds []string
	tr    *kafkatrace.Tracer
}

func newEnv(t *testing.T, rec *tracingtest.Recorder) *env {
	e := &env{rec: rec}
	tp := rec.TracerProvider()

	e.hang = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(e.hang.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	e.refused = "http://" + ln.Addr().String() + "/"
	ln.Close()
	e.traced = &http.Client{Transport: httptrace.NewTransport(nil, httptrace.WithTracerProvider(tp))}
	e.plain = &http.Client{Transport: &http.Transport{}}

	e.pool, _ = pgtest.Pool(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = sqltrace.NewTracer(sqltrace.WithTracerProvider(tp), sqltrace.WithAcquire(sqltrace.AcquireNone))
	})
	e.plainPool, _ = pgtest.Pool(t, nil)

	// No automatic topic creation: a produce to a topic that does not
	// exist fails with UNKNOWN_TOPIC_OR_PARTITION, or waits for the topic
	// until its context ends.
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "orders"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	e.seeds = c.ListenAddrs()
	e.tr = kafkatrace.NewTracer(kafkatrace.WithTracerProvider(tp))
	return e
}

func (e *env) httpGet(c *http.Client, ctx context.Context, f failure) error {
	url := e.hang.URL
	if f == driverError {
		url = e.refused
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := c.Do(req)
	if err == nil {
		resp.Body.Close()
	}
	return err
}

func (e *env) httpTraced(_ *testing.T, ctx context.Context, f failure) error {
	return e.httpGet(e.traced, ctx, f)
}

func (e *env) httpPlain(_ *testing.T, ctx context.Context, f failure) error {
	return e.httpGet(e.plain, ctx, f)
}

func query(f failure) string {
	if f == driverError {
		return "SELEC 1"
	}
	return "SELECT pg_sleep(30)"
}

func (e *env) sqlTraced(_ *testing.T, ctx context.Context, f failure) error {
	_, err := e.pool.Exec(ctx, query(f))
	return err
}

func (e *env) sqlPlain(_ *testing.T, ctx context.Context, f failure) error {
	_, err := e.plainPool.Exec(ctx, query(f))
	return err
}

// producer returns a client that waits for a missing topic until the
// record's context ends, or, for a driver error, gives up at once.
func (e *env) producer(t *testing.T, f failure, opts ...kgo.Opt) *kgo.Client {
	retries := -1
	if f == driverError {
		retries = 0
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.seeds...), kgo.UnknownTopicRetries(retries)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func (e *env) produceTraced(t *testing.T, ctx context.Context, f failure) error {
	cl := e.producer(t, f, kgo.WithHooks(e.tr))
	return cl.ProduceSync(ctx, &kgo.Record{Topic: missingTopic, Value: []byte("v")}).FirstErr()
}

func (e *env) producePlain(t *testing.T, ctx context.Context, f failure) error {
	return e.producer(t, f).ProduceSync(ctx, &kgo.Record{Topic: missingTopic, Value: []byte("v")}).FirstErr()
}

// process handles a consumed record whose processing forwards it to the
// missing topic, and fails as the forward does.
func (e *env) process(t *testing.T, ctx context.Context, f failure) error {
	cl := e.producer(t, f)
	r := &kgo.Record{Topic: "orders", Partition: 0, Offset: 7, Value: []byte("v")}
	return e.tr.Process(ctx, r, func(ctx context.Context) error {
		return cl.ProduceSync(ctx, e.tr.Forward(ctx, r, missingTopic)).FirstErr()
	})
}

// relay enqueues a row for the missing topic and runs a relay until its
// first attempt has failed. It returns the error the relay recorded.
func (e *env) relay(t *testing.T, _ context.Context, f failure) error {
	ctx := context.Background()
	pool, _ := pgtest.Pool(t, nil)
	if err := outbox.Apply(ctx, pool); err != nil {
		t.Fatal(err)
	}
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := outbox.Enqueue(ctx, tx, outbox.Message{Topic: missingTopic, Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(pool, e.producer(t, f, kgo.WithHooks(e.tr)),
		outbox.WithTracerProvider(e.rec.TracerProvider()), outbox.WithPollInterval(50*time.Millisecond),
		outbox.WithRetryBackoff(time.Hour, time.Hour))
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- relay.Run(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("relay: %v", err)
		}
	}()
	var lastErr string
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(20 * time.Millisecond) {
		if err := pool.QueryRow(ctx, `SELECT coalesce(last_error, '') FROM outbox`).Scan(&lastErr); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			t.Fatal(err)
		}
		if lastErr != "" && len(e.rec.Find(outbox.SpanName)) > 0 {
			return errors.New(lastErr)
		}
	}
	t.Fatal("the relay did not attempt the row")
	return nil
}

// Every package resolves the global providers by one rule: when it is used,
// not when it is built. Instrumentation built while an earlier provider is
// installed (before tracing.Setup, or in a previous test) records into the
// provider in force when it runs; and while the global propagator is the
// no-op default, every package propagates W3C trace context.
func TestGlobalsResolvedWhenUsed(t *testing.T) {
	early := tracingtest.New(t, tracingtest.WithService("early"))

	var gotTraceparent string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotTraceparent = r.Header.Get("Traceparent")
	}))
	defer srv.Close()
	client := &http.Client{Transport: httptrace.NewTransport(nil)}
	pool, _ := pgtest.Pool(t, func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = sqltrace.NewTracer(sqltrace.WithAcquire(sqltrace.AcquireNone))
	})
	kt := kafkatrace.NewTracer()
	seeds := kafkatest.Cluster(t, 1, "orders")
	prod, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.WithHooks(kt))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()

	rec := tracingtest.New(t)
	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator())

	ctx, span := tracing.Start(context.Background(), "policy.request")
	resp, err := client.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if _, err := pool.Exec(ctx, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
	r := &kgo.Record{Topic: "orders", Value: []byte("v")}
	if err := prod.ProduceSync(ctx, r).FirstErr(); err != nil {
		t.Fatal(err)
	}
	span.End()

	for _, name := range []string{"GET", "SELECT", "send orders"} {
		if n := len(early.Find(name)); n != 0 {
			t.Errorf("%d %q spans went to the provider installed when the instrumentation was built", n, name)
		}
		if n := len(rec.Find(name)); n != 1 {
			t.Errorf("%d %q spans in the provider in force when it ran, want 1", n, name)
		}
	}
	if gotTraceparent == "" {
		t.Error("httptrace sent no traceparent while the global propagator is the no-op default")
	}
	// Built while the global propagator is the no-op default, too.
	gotTraceparent = ""
	late := &http.Client{Transport: httptrace.NewTransport(nil)}
	if resp, err = late.Get(srv.URL); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if gotTraceparent == "" {
		t.Error("httptrace built with the no-op global propagator sent no traceparent")
	}
	var kafkaTraceparent bool
	for _, h := range r.Headers {
		kafkaTraceparent = kafkaTraceparent || h.Key == "traceparent"
	}
	if !kafkaTraceparent {
		t.Error("kafkatrace wrote no traceparent while the global propagator is the no-op default")
	}
}
