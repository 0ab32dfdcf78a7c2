package outbox

import (
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

// Option configures a [Writer] or a [Relay]. A Writer only uses
// [WithPropagators]; the other options are ignored there.
type Option interface {
	apply(*config)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

type config struct {
	tracerProvider trace.TracerProvider
	meterProvider  metric.MeterProvider
	propagator     propagation.TextMapPropagator

	batchSize    int
	workers      int
	pollInterval time.Duration
	maxAttempts  int
	backoffMin   time.Duration
	backoffMax   time.Duration

	// Resolved by conv's rule: the option's provider, or the global one
	// at the time of use.
	tracers *tracing.Resolver[trace.TracerProvider, trace.Tracer]
	meters  *tracing.Resolver[metric.MeterProvider, metric.Meter]
	props   *tracing.Resolver[propagation.TextMapPropagator, propagation.TextMapPropagator]
}

func newConfig(opts []Option) config {
	c := config{
		batchSize:    500,
		workers:      2,
		pollInterval: time.Second,
		maxAttempts:  10,
		backoffMin:   100 * time.Millisecond,
		backoffMax:   time.Minute,
	}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	c.tracers = tracing.NewTracerResolver(c.tracerProvider, ScopeName, trace.WithInstrumentationVersion(Version))
	c.meters = tracing.NewMeterResolver(c.meterProvider, func(mp metric.MeterProvider) metric.Meter {
		return mp.Meter(ScopeName, metric.WithInstrumentationVersion(Version))
	})
	c.props = tracing.Propagators(c.propagator)
	return c
}

// tracer returns the tracer of the TracerProvider in force.
func (c *config) tracer() trace.Tracer { return c.tracers.Get() }

// meter returns the meter of the MeterProvider in force.
func (c *config) meter() metric.Meter { return c.meters.Get() }

// textMapPropagator returns the propagator in force: W3C trace context plus
// baggage while the global one propagates nothing, since an outbox row
// without its trace context defeats the purpose.
func (c *config) textMapPropagator() propagation.TextMapPropagator { return c.props.Get() }

// WithTracerProvider sets the provider of the relay's tracer.
// By default the global provider (otel.GetTracerProvider) is used, read
// for every row the relay publishes. A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.tracerProvider = tp
		}
	})
}

// WithMeterProvider sets the provider of the relay's outbox.pending,
// outbox.lag and outbox.set_aside gauges.
// By default the global provider (otel.GetMeterProvider) is used, the one
// in force when [Relay.Run] starts. A nil provider is ignored.
func WithMeterProvider(mp metric.MeterProvider) Option {
	return optionFunc(func(c *config) {
		if mp != nil {
			c.meterProvider = mp
		}
	})
}

// WithPropagators sets the propagator that writes the trace context into the
// row ([Writer]) and reads it back ([Relay]). Writer and Relay must agree.
// By default the global propagator is used, read at every Enqueue and for
// every row the relay publishes, or W3C trace context plus baggage while the
// global one propagates nothing (the OTel default). A nil propagator is
// ignored.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
		}
	})
}

// WithBatchSize sets how many rows the relay claims per transaction. Larger
// batches amortise the Postgres round trips; the rows of a batch that is
// interrupted are published again on restart, so the batch size bounds the
// duplicates a crash can cause.
// By default 500 rows are claimed. Values below 1 are ignored.
func WithBatchSize(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.batchSize = n
		}
	})
}

// WithConcurrency sets how many batches one relay keeps in flight. While
// one batch waits for Postgres or Kafka another is prepared, so the relay's
// round trips overlap; beyond a few the database is the limit. Each batch in
// flight holds a pool connection, and the batches coordinate through row
// locks exactly like separate relays: per-key order and
// at-most-one-publish-per-claim still hold.
// By default 2 batches are in flight. Values below 1 are ignored.
func WithConcurrency(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.workers = n
		}
	})
}

// WithPollInterval sets how often the relay looks for rows when no
// notification arrives. Notifications (LISTEN/NOTIFY) wake it at once; the
// poll catches rows whose retry backoff expired and notifications lost while
// the listening connection was down.
// By default the relay polls every second. Values <= 0 are ignored.
func WithPollInterval(d time.Duration) Option {
	return optionFunc(func(c *config) {
		if d > 0 {
			c.pollInterval = d
		}
	})
}

// WithMaxAttempts sets after how many failed publish attempts a row is set
// aside (dead_at stamped, last_error kept) so that the relay carries on.
// By default a row is set aside after 10 attempts. Values below 1 are
// ignored.
func WithMaxAttempts(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.maxAttempts = n
		}
	})
}

// WithRetryBackoff sets the delay before a failed row is tried again: initial
// after the first failure, doubling per attempt up to limit, with jitter.
// By default the delay grows from 100ms to one minute. Values <= 0 are
// ignored.
func WithRetryBackoff(initial, limit time.Duration) Option {
	return optionFunc(func(c *config) {
		if initial > 0 {
			c.backoffMin = initial
		}
		if limit > 0 {
			c.backoffMax = limit
		}
		if c.backoffMax < c.backoffMin {
			c.backoffMax = c.backoffMin
		}
	})
}
