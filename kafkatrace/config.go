package kafkatrace

import (
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// defaultBatchLinks bounds the links of a batch span. It matches the
// SDK's default link limit, so no link is silently dropped downstream.
const defaultBatchLinks = 128

// config is the configuration of a [Tracer].
type config struct {
	provider   trace.TracerProvider
	propagator propagation.TextMapPropagator
	inject     func(topic string) bool
	newRoot    bool
	queueTime  bool
	bodySize   bool
	batchLinks int
}

func newConfig(opts []Option) config {
	c := config{batchLinks: defaultBatchLinks}
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

// WithTracerProvider sets the provider of the tracer that creates the
// spans.
//
// By default, the global provider (otel.GetTracerProvider) is used, read
// when a span starts, so that a Tracer created before the providers are
// installed uses them. A nil provider is ignored.
func WithTracerProvider(tp trace.TracerProvider) Option {
	return optionFunc(func(c *config) {
		if tp != nil {
			c.provider = tp
		}
	})
}

// WithPropagators sets the propagator that writes the trace context into
// record headers and reads it back. The headers it names in Fields are
// the ones the Tracer owns: it removes them before every injection.
//
// By default, the global propagator (otel.GetTextMapPropagator) is used,
// read when a record is produced or processed; while it is the no-op
// default, W3C trace context and baggage are used instead, so that records
// never silently lose their trace. A nil propagator is ignored.
func WithPropagators(p propagation.TextMapPropagator) Option {
	return optionFunc(func(c *config) {
		if p != nil {
			c.propagator = p
		}
	})
}

// WithInjectFilter decides per topic whether produced records carry the
// trace context in their headers: fn reports true for topics that get
// headers. Producer spans are created either way. fn is called once per
// topic (the answer is cached), so it must be deterministic.
//
// Switch injection off for topics read by consumers that reject unknown
// headers, or written in a message format without headers.
//
// By default, every record gets headers. A nil fn is ignored.
func WithInjectFilter(fn func(topic string) bool) Option {
	return optionFunc(func(c *config) {
		if fn != nil {
			c.inject = fn
		}
	})
}

// WithNewRoot makes [Tracer.Process] start a new trace for every record,
// linked to the producer's span, instead of continuing the producer's
// trace.
//
// By default, Process continues the producer's trace: one order, one trace,
// from the HTTP request through the outbox and Kafka to every consumer.
// That is what lets an on-call engineer see a consumer's failure in the
// trace of the request that caused it. The messaging conventions allow
// either; choose a new root when one record fans out into long-lived work
// whose traces would otherwise grow without bound.
func WithNewRoot() Option {
	return optionFunc(func(c *config) { c.newRoot = true })
}

// WithTimeInQueue records on consumer spans how long the record waited
// between its timestamp and the start of processing, as [TimeInQueueKey]
// in seconds. A record timestamped in the future (clock skew between the
// producer and the consumer) records zero.
//
// By default, time in queue is not recorded.
func WithTimeInQueue() Option {
	return optionFunc(func(c *config) { c.queueTime = true })
}

// WithBodySize records messaging.message.body.size (the length of the
// record value in bytes) on producer and single-record consumer spans.
//
// By default, the body size is not recorded.
func WithBodySize() Option {
	return optionFunc(func(c *config) { c.bodySize = true })
}

// WithBatchLinkLimit bounds how many records of a batch [Tracer.ProcessBatch]
// links to; the records after the first n are counted in
// messaging.batch.message_count but not linked.
//
// By default, a batch span links to at most 128 records. Values below 1 are
// ignored.
func WithBatchLinkLimit(n int) Option {
	return optionFunc(func(c *config) {
		if n > 0 {
			c.batchLinks = n
		}
	})
}
