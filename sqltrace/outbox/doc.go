// Package outbox is a transactional outbox for pgx and franz-go that keeps
// the trace: an event written in the same Postgres transaction as the
// business rows is published to Kafka later, by a relay, as part of the
// trace of the request that wrote it.
//
// Without an outbox a service that writes an order and then produces
// "order created" can lose the event (crash between the two) or publish an
// event for an order that was rolled back. With a plain outbox the event
// survives but the trace ends at the INSERT: the consumers start unrelated
// traces and "did the message get lost?" has no answer in the tracing
// backend. This package stores the trace context in the outbox row and
// restores it when publishing, so one trace runs from the HTTP request
// through the row and Kafka to every consumer.
//
// # Wiring
//
// Once, at start-up (idempotent, safe from several processes):
//
//	err := outbox.Apply(ctx, pool)
//
// In the request, inside the transaction that writes the order:
//
//	err := outbox.Enqueue(ctx, tx, outbox.Message{Topic: "orders", Key: []byte(id), Value: event})
//
// In the relay process (or a goroutine of the service), with a client that
// has the kafkatrace hooks:
//
//	client, _ := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.WithHooks(kafkatrace.NewTracer()))
//	relay := outbox.NewRelay(pool, client)
//	err := relay.Run(ctx) // until ctx ends; relay.Shutdown(ctx) stops it gracefully
//
// # The table
//
// [Schema] (applied by [Apply]) creates the table outbox in the first schema
// of the connection's search_path: id, topic, key, payload, user headers
// (header_keys, header_values), the trace context carrier (traceparent,
// tracestate, baggage, and trace_extra for any other field the propagator
// injects, such as b3), created_at, attempts, last_error, retry_at and
// dead_at, with partial indexes for the pending rows, and an AFTER INSERT
// trigger that sends NOTIFY outbox at commit. It needs PostgreSQL 14 or
// later.
//
// [Enqueue] inserts with the caller's [pgx.Tx] and nothing else: the rows
// commit or roll back with the business rows. The trace context stored is
// the one of ctx, written by the configured propagator (by default the
// global one, or W3C trace context plus baggage when the global propagator
// is the no-op default).
//
// # Relaying
//
// A [Relay] loops: in one transaction it claims a batch of ready rows with
// SELECT ... FOR UPDATE SKIP LOCKED, produces them all, waits for Kafka's
// answers, deletes the acknowledged rows, reschedules the failed ones and
// commits. It keeps two such batches in flight ([WithConcurrency]). It is woken by LISTEN/NOTIFY when rows commit and polls as a
// fallback (see [WithPollInterval]). Any number of relays can share a table.
//
// Delivery is at least once. A row is deleted only after Kafka acknowledged
// it, in the transaction that holds its lock, so a relay that dies at any
// moment loses nothing: its transactions roll back and the rows of the
// batches in flight (two by default, see [WithConcurrency]) are published
// again: none of them when it died right after the claim, all of them when
// Kafka had acknowledged the batch but the commit had not happened, each
// key's rows still in order. Those batches are the only source of duplicates; consumers that must not see one deduplicate on the event's own
// id. Relays running side by side never publish the same row twice, since a
// row is locked by one claim until it is gone.
//
// Rows with the same non-nil key are published in id order, across topics:
// a row is claimed only when no earlier row of its key is pending, so at
// most one row per key is in flight over all relays, and a later row waits
// while an earlier one is retried. The cost is that a single key advances
// one row per batch round trip; rows of different keys (and rows with a nil
// key, which are not ordered) fill the batch. Rows of different
// transactions are ordered by id, which is the order of their INSERTs, not
// of their commits.
//
// A failed row is retried after an exponential backoff with jitter
// ([WithRetryBackoff]). After [WithMaxAttempts] failures it is set aside:
// dead_at is stamped, last_error keeps the reason, the relay reports it
// through otel.Handle and carries on; later rows of its key are then
// published. To retry a set-aside row, clear its dead_at and attempts.
//
// [Relay.Shutdown] stops claiming, lets the batches in flight finish and
// returns; cancelling Run's context instead abandons them (their rows are
// released for the next run).
//
// # Spans
//
// For every row and attempt the relay starts an INTERNAL span named
// outbox.relay ([SpanName]), child of the span that enqueued the row and
// backdated to the row's created_at, so the time spent in the outbox shows
// in the waterfall as the gap between the request and the send span. It
// ends when Kafka answered. The producer hooks of kafkatrace make the
// "send {topic}" span its child and inject its context into the record:
//
//	POST /orders                  (request, writes order + outbox row)
//	└─ outbox.relay               starts at INSERT, ends at Kafka's ack
//	   └─ send orders             PRODUCER, kafkatrace
//	      └─ process orders       CONSUMER, in the consuming service
//
// Attributes: messaging.destination.name, outbox.id (the row id),
// outbox.attempt (1 for the first), outbox.wait.duration (seconds between
// created_at and the claim). A failed attempt has Error status, the
// exception event and error.type, the value the send span of kafkatrace
// records for the same failure, by the one rule of the tracing package
// ("timeout" for a deadline, the Kafka error code name such as
// MESSAGE_TOO_LARGE, the Go error type otherwise); the attempt after which
// the row is set aside also has outbox.set_aside=true.
//
// A row whose stored context is NULL, empty or unparsable is published all
// the same, under a new trace: its outbox.relay span is a root with
// outbox.id and outbox.trace_context set to "missing" or "invalid"; an
// invalid one is also reported through otel.Handle with the row id.
//
// A row whose user headers cannot be paired (header_keys and header_values
// of different lengths, or a NULL key; rows written by something other than
// [Enqueue]) is published too, with its trace context but without any of
// its user headers: once the arrays disagree the positions cannot be
// trusted, and a value under the wrong key is worse than a missing header.
// Its span has outbox.headers_dropped=true and the relay reports it through
// otel.Handle with the row id and both lengths. Never does a bad row block
// the relay.
//
// The relay's own queries (claim, delete, commit) run under a valid but
// unsampled span context, so a query tracer on the pool (with the default
// parent-based sampler) does not emit a root trace for every poll.
//
// # Metrics
//
// While Run runs, the relay reports three gauges through the meter provider
// ([WithMeterProvider], by default the global one), read from Postgres at
// each collection: outbox.pending ({row}, rows waiting, set-aside rows
// excluded), outbox.lag (s, age of the oldest waiting row, 0 when none) and
// outbox.set_aside ({row}). Alert on outbox.lag: it grows when the relay is
// down, Kafka refuses records or one key is stuck retrying.
//
// # Cost
//
// Enqueue adds one INSERT (one round trip for any number of messages) and a
// propagator Inject to the caller's transaction. The relay spends four
// round trips to Postgres per batch (begin, claim, settle, commit) plus
// Kafka's answer; per row it restores the context and starts one span. It
// holds one pool connection for LISTEN and one per batch in flight (so a
// pool of at least 3), and
// the gauges cost a count over the pending rows per collection. In the
// bench module (BenchmarkOutboxRelay: Postgres and an in-process Kafka on
// one 2-core machine, batches of 1,000) the relay moves about 150,000
// messages a second untraced, 81,000 with every row traced (two spans per
// row: outbox.relay and the producer's send span) and 115,000 with one row
// in ten sampled. Through the pipeline otelsetup.Setup builds (the business
// attributes of the row's baggage copied onto both spans, redaction) every
// row traced gives about 75,000. The commands, the machine and the latest
// numbers are in the repository's bench/README.md.
//
// A traced batch ends two spans per row within milliseconds. A batch
// processor's queue must hold them: with batches of 1,000 rows the default
// OTEL_BSP_MAX_QUEUE_SIZE of 2048 drops some spans of every batch (the SDK's
// processor silently, otelsetup.Setup's with a report). Give the queue room
// for a few batches: OTEL_BSP_MAX_QUEUE_SIZE=8192 for batches of 1,000.
package outbox
