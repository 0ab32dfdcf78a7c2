// Package batch is the batch span processor that otelsetup.Setup puts in
// front of each span exporter, and that pipeline.KeepErrorsProcessor puts in
// front of the exporters given to its AddExporter. It stands in for the SDK's [sdktrace.NewBatchSpanProcessor] and
// behaves as it does, configured by the same OTEL_BSP_* variables:
//
//	cfg, err := batch.ConfigFromEnv() // a *VarError names a malformed variable
//	p := batch.New(exporter, cfg)
//	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(p))
//
// A conformance suite (conformance_test.go) runs the same table against
// this processor and the SDK's, configured identically, through a
// TracerProvider: only sampled spans are exported, each exactly once, in
// batches of at most OTEL_BSP_MAX_EXPORT_BATCH_SIZE; a full batch leaves at
// once and a partial one after OTEL_BSP_SCHEDULE_DELAY; each export's
// context carries OTEL_BSP_EXPORT_TIMEOUT (none for 0); ForceFlush exports
// what was ended before it and returns the errors of the exports it made;
// Shutdown exports what is queued and shuts the exporter down once, and a
// second Shutdown does no harm (here it returns the first one's result);
// spans ended after
// Shutdown, and spans beyond a full queue, are dropped rather than block.
//
// # What differs from the SDK's processor
//
// Each difference is a row of the conformance suite.
//
//   - Ending a span appends it to the queue under a mutex: the exporting
//     goroutine wakes only for a full batch, the timer and flushes. The
//     SDK's processor sends every span over a channel to its goroutine,
//     a goroutine switch on the path of every request that ends a span
//     (the bench module's BenchmarkRequestSpans measures it). While a
//     queue is being exported, ended spans fill the next one: up to twice
//     OTEL_BSP_MAX_QUEUE_SIZE spans can be held (the SDK's holds the queue
//     and one batch).
//   - Spans dropped from a full queue are counted and reported through
//     [otel.Handle], at once, then at most once per Config.ReportEvery (a
//     minute by default); the SDK's processor drops them silently.
//   - Shutdown's context bounds everything after it: the final export runs
//     with it, an export in flight is cancelled when it ends, and a Shutdown
//     cut short returns an error counting the spans queued or in flight that
//     were not exported, with the collector's last answer (see
//     Processor.Loss and Explain). The SDK's returns ctx.Err() alone and
//     lets its exports run on to their export timeout.
//
// # Metrics
//
// When the SDK's experimental switch OTEL_GO_X_OBSERVABILITY is "true" (in
// any case; OTEL_GO_X_SELF_OBSERVABILITY is read when it is unset, as the
// SDK reads them) at [New], the processor records the instruments the SDK's
// processor records, with the same names, units and attributes, through the
// global MeterProvider, under the instrumentation scope [ScopeName]:
//
//	otel.sdk.processor.span.processed       counter, {span}: spans handed to the exporter, and,
//	                                        with error.type=queue_full, spans dropped from a full queue
//	otel.sdk.processor.span.queue.size      observed up-down counter, {span}: spans waiting, not those being exported
//	otel.sdk.processor.span.queue.capacity  observed up-down counter, {span}: OTEL_BSP_MAX_QUEUE_SIZE
//
// Every point carries otel.component.type=batching_span_processor and
// otel.component.name=batching_span_processor/<n>, n numbering this
// package's processors from 0 in the order they are made. The SDK numbers
// its own processors apart: a program running both kinds can see a name
// twice. The queue is observed until Shutdown. Spans ended after Shutdown
// are not counted, as in the SDK (the convention asks for
// error.type=already_shutdown there, which the SDK does not record).
//
// With the switch off (the default) no instrument exists and the processor
// pays one nil check per export and per dropped span. Ending a span
// allocates nothing with the switch on or off, queued or dropped
// (alloc_test.go).
//
// # Concurrency
//
// OnEnd may be called from any goroutine and never blocks on the exporter:
// it holds the queue's mutex only to append. One goroutine per processor
// calls the exporter, one export at a time; [Serial] serialises an exporter
// shared by two processors.
package batch
