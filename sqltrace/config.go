package sqltrace

import (
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"
)

// config is the configuration of a [Tracer], built by [NewTracer].
type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	next           []pgx.QueryTracer
	acquire        AcquireMode
	acquireMin     time.Duration
	requireParent  bool
	parameters     bool
	expected       func(error) bool
	cacheSize      int
	attrs          []attribute.KeyValue
	spanName       func(sql string) string
}

func newConfig(opts []Option) config {
	c := config{
		acquire:   AcquireSpan,
		cacheSize: 2048,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	return c
}

// Option configures a [Tracer].
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithTracerProvider sets the provider of the tracer that creates the spans.
// By default the global provider (otel.GetTracerProvider) is used, read
// when an operation starts, so that a Tracer created before the providers
// are installed uses them. A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithMeterProvider sets the provider of the meter that records
// db.client.operation.duration and the db.client.connection.* metrics.
// By default the global provider (otel.GetMeterProvider) is used, read
// when a measurement is taken (a pool's connection gauges use the one in
// force when the Tracer first sees the pool). A nil provider is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithNext composes the Tracer with pgx tracers the application already has:
// a query logger, a statement counter. Each may implement any of the pgx and
// pgxpool tracer interfaces; it is called for those it implements (see
// github.com/jackc/pgx/v5/multitracer). Their start hooks run after the DB
// span has started and their end hooks before it ends, so a logger sees the
// span in its context and its lines carry the span's trace and span id.
// By default there are none. Nil tracers are ignored.
func WithNext(tracers ...pgx.QueryTracer) Option {
	return optionFunc(func(c *config) {
		for _, t := range tracers {
			if t != nil {
				c.next = append(c.next, t)
			}
		}
	})
}

// AcquireMode says how the time spent waiting for a pool connection shows
// in a trace. See [WithAcquire].
type AcquireMode uint8

const (
	// AcquireSpan records every pgxpool Acquire as its own "pgxpool.acquire"
	// span, a sibling before the query span.
	AcquireSpan AcquireMode = iota
	// AcquireAttribute records the wait as the attribute
	// pgxpool.acquire.duration (seconds) on the first span that uses the
	// connection, usually the query that needed it. A failed acquire (pool
	// exhausted until the deadline) still gets its own span: there is no
	// query to carry it.
	AcquireAttribute
	// AcquireNone does not trace acquires. The db.client.connection.*
	// metrics are still recorded.
	AcquireNone
)

// WithAcquire sets how pool acquires are traced. By default each is its own
// span ([AcquireSpan]); [AcquireAttribute] halves the span count of a pool
// user and still shows the wait on the query.
func WithAcquire(mode AcquireMode) Option {
	return optionFunc(func(c *config) { c.acquire = mode })
}

// WithAcquireThreshold gives a pgxpool Acquire its span ([AcquireSpan])
// only when it took at least d: when the pool had no idle connection and
// the caller waited for one to be released or created. An acquire that
// creates a connection always gets its span, started when the connection
// starts, so that "pgx.connect" and the queries of the pool's AfterConnect
// hook are its children, as without the threshold; so does one that fails
// (not one the caller cancelled). Queries that a PrepareConn or
// BeforeAcquire hook runs on an idle connection are children of the
// caller's span. The wait of every acquire
// is still recorded in db.client.connection.wait_time. A late span starts
// when the acquire started.
//
// An acquire that finds an idle connection takes microseconds; without a
// threshold it adds a span of that length before every query. By default d
// is 0: every acquire gets its span. The threshold has no effect with
// [AcquireAttribute] or [AcquireNone].
func WithAcquireThreshold(d time.Duration) Option {
	return optionFunc(func(c *config) { c.acquireMin = d })
}

// WithRequireParent creates DB spans only under a recording parent span, so
// that background jobs, health checks and migrations that run outside any
// trace produce no root spans of their own. Metrics are recorded either way.
// By default a DB call without a parent starts a new trace (subject to the
// sampler).
func WithRequireParent() Option {
	return optionFunc(func(c *config) { c.requireParent = true })
}

// WithQueryParameters records the arguments of each query as
// db.query.parameter.<index> attributes (index from 0), every one passed
// through the tracing package's redaction (tracing.RedactAttr) first, so that
// card numbers, tokens and keys are masked. Parameters are personal data more
// often than not: turn this on for a service whose arguments are ids and
// enums, not for one that stores user input.
// By default parameters are never recorded.
func WithQueryParameters() Option {
	return optionFunc(func(c *config) { c.parameters = true })
}

// WithErrorClassifier adds a classifier of this Tracer's own, asked before
// the one the tracing package holds (tracing.SetErrorClassifier, or
// tracing.WithErrorClassifier for the spans of a Setup's provider), which
// every Tracer consults: use it for outcomes that are expected from this
// database only, such as a unique_violation a caller handles. Expected
// outcomes leave the span status unset and do not count as failed in the
// metric; they still record their SQLSTATE in db.response.status_code.
// Neither classifier is asked about sql.ErrNoRows (pgx.ErrNoRows) nor about
// the caller's own cancellation, which are always expected.
// By default only the tracing package's classifier is asked. A nil function
// is ignored.
func WithErrorClassifier(classify func(err error) (expected bool)) Option {
	return optionFunc(func(c *config) {
		if classify != nil {
			c.expected = classify
		}
	})
}

// WithSummaryCacheSize bounds the number of SQL texts whose summary and
// sanitised text are kept, so that a query is parsed once, not once per
// call. A size below 1 disables nothing: it is taken as 1.
// By default 2048 texts are kept; texts longer than 16 KiB are never kept.
func WithSummaryCacheSize(n int) Option {
	return optionFunc(func(c *config) { c.cacheSize = max(n, 1) })
}

// WithAttributes adds attributes to every span (not to metrics), such as a
// shard or replica name. By default there are none.
func WithAttributes(attrs ...attribute.KeyValue) Option {
	return optionFunc(func(c *config) { c.attrs = append(c.attrs, attrs...) })
}

// WithSpanNameFunc names the span of a statement (Query, QueryRow, Exec; a
// batch of it "BATCH <name>") with what fn returns for its SQL text, such
// as the name a query builder or the application's own table of statements
// gives it. An empty result leaves the default name. db.query.summary is
// not changed: it stays the summary the conventions define, the grouping
// key of the db.client.operation.duration metric, whatever the span name.
//
// fn is called once per SQL text while the text stays in the summary cache
// ([WithSummaryCacheSize]), on the goroutine of the first statement that
// uses it, so it may be called concurrently for different texts. Its result
// is a span name: it must be of low cardinality and must not hold data
// from the text (values, identifiers of users).
//
// [SQLCName] is such a function, for the queries sqlc generates:
// WithSpanNameFunc(sqltrace.SQLCName) names the span of "-- name: GetOrder
// :one" followed by its SQL "GetOrder".
//
// By default a statement's span is named by its db.query.summary, as the
// conventions say. Naming by the query's name is not the default, so that
// span names that dashboards and alerts use do not change under them. A nil
// function is ignored.
func WithSpanNameFunc(fn func(sql string) string) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.spanName = fn
		}
	})
}
