// Package kafkatrace traces Kafka producers and consumers built on
// franz-go's kgo client, and carries the trace from one to the other in
// record headers, so that one order is one trace: from the HTTP request,
// through the outbox relay and Kafka, to every service that consumes it.
//
// # Wiring
//
// The producer side is a set of kgo hooks; the consumer side wraps the
// application's work for a record:
//
//	tr := kafkatrace.NewTracer()
//	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumerGroup("payments"), kgo.WithHooks(tr))
//	// produce: every record gets a send span and trace headers
//	cl.Produce(ctx, &kgo.Record{Topic: "orders", Value: v}, nil)
//	// consume: the work for each polled record runs in a process span
//	cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { _ = tr.Process(ctx, r, handle) })
//
// Use one Tracer per client: it learns the client id, consumer group and
// brokers from the client it is attached to.
//
// # Producer spans
//
// Each produced record gets a "send {topic}" span of kind PRODUCER,
// started when the record is buffered (in Produce) and ended when the
// broker acknowledges it or the client gives up. Its parent is the
// record's Context, or the context given to Produce when that is nil: an
// outbox relay sets Record.Context to the context restored from the outbox
// row, and the send span joins the original request's trace. While the
// record is in flight, and in its promise, Record.Context holds the send
// span.
//
// Before the trace context is written into the headers, every header the
// propagator owns (traceparent, tracestate, baggage with the default
// propagators) is removed, so a record produced again, or forwarded from
// a consumed one with [Tracer.Forward], never carries duplicate or stale
// trace context. Headers are written into a new slice; the application's
// slice, payload and other headers are never modified. [WithInjectFilter]
// switches injection off per topic.
//
// # Consumer spans
//
// [Tracer.Process] runs the work for one record in a "process {topic}"
// span of kind CONSUMER that continues the producer's trace: the
// checkout debugging workflow needs the consumer's failure inside the
// trace of the request that caused it. [WithNewRoot] starts a new trace
// per record with a link to the producer instead, which the messaging
// conventions recommend when one message starts long-lived work.
// [Tracer.ProcessBatch] runs the work for records handled together in one
// span, a child of the caller's span, linked to each record's producer
// span (at most 128 links by default) with the record's partition and
// offset on the link.
//
// Spans exist only for records the application processes. The client's
// fetch hooks are not used: a prefetched record, or one the client drops
// in a rebalance, costs nothing and leaves no span, and a process span's
// duration is the work's, not the time the record sat in the client's
// buffer. That time, from the record timestamp to processing, can be
// recorded with [WithTimeInQueue].
//
// # Attributes
//
// Following the OpenTelemetry messaging conventions (semconv v1.43.0):
// messaging.system "kafka", messaging.operation.name and .type ("send",
// "process"), messaging.destination.name, messaging.destination.partition.id,
// messaging.kafka.offset, messaging.consumer.group.name (consumer spans),
// messaging.client.id, server.address and server.port (the first seed
// broker), messaging.kafka.message.key (only when valid UTF-8),
// messaging.kafka.message.tombstone, messaging.batch.message_count
// (batches) and, with [WithBodySize], messaging.message.body.size.
// Everything known before the span starts is passed to the sampler.
//
// # Errors
//
// A failed send or process sets status Error, error.type and an exception
// event, by the one rule of the tracing package, so that the same failure
// has the same error.type in every package: "timeout" when a deadline
// expired, the Kafka error code name (such as NOT_LEADER_FOR_PARTITION) for
// broker errors, the sentinel's name for the client's own
// (kgo.ErrRecordRetries, kgo.ErrClientClosed), the Go error type otherwise.
// A record whose produce context the caller cancelled, and a process
// function that returns the caller's context.Canceled, are not errors; the
// tracing package's classifier (tracing.SetErrorClassifier) decides about
// the rest.
//
// # Propagation
//
// By default the global propagator is used, read when a record is produced
// or processed (the global TracerProvider too); while it is the no-op
// default, W3C trace context and baggage are used, so records never
// silently lose their trace. These are
// the headers other OpenTelemetry Kafka instrumentations (franz-go's
// plugin/kotel, the OpenTelemetry Java agent) read and write: a record from
// another instrumented client continues its trace in [Tracer.Process], and
// ours continue in theirs. When a header appears more than once, the last
// one counts, as in Kafka's Java client.
//
// # Bad input
//
// Propagation headers are untrusted: values over 8 KiB are ignored,
// unparseable trace context starts a new trace, and both are reported
// through otel.Handle as [ErrBadHeaders] (at most once a minute per
// Tracer). The record is always processed.
//
// # Cost
//
// Producing costs the span and one allocation of this package per record
// (the in-flight context, with room for the attributes, the new header
// slice and the traceparent); the hooks start no goroutine and take no
// lock, and span names and per-topic attributes are built once per topic.
// Process costs the span, the header parse and one allocation of its own;
// records never processed cost nothing. In the bench module, on an
// in-process broker with every span sampled, a synchronous produce takes
// 1.15 times as long as with an uninstrumented client (plugin/kotel: 1.16),
// with 78 allocations to kotel's 81, and processing a consumed record takes
// 3.4 µs to kotel's 3.7 µs. The commands, the machine and the latest
// numbers are in the repository's bench/README.md.
package kafkatrace
