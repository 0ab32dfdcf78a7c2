// Package tracingtest lets a service's tests prove that the service follows
// the tracing conventions of package tracing: it records spans in memory and
// checks names, parents, links, business attributes, errors and redaction.
// A failing test prints the recorded trace once, as a waterfall, so the
// reader sees what happened instead of a list of ids.
//
// # Wiring
//
// One line at the top of a test:
//
//	rec := tracingtest.New(t)
//
// New installs, for the test's duration, a global TracerProvider that
// samples everything, copies business baggage onto spans
// ([pipeline.NewBaggageSpanProcessor]), redacts as [otelsetup.Setup] does by
// default and records synchronously, plus the W3C trace-context and baggage
// propagators. Span names given to the tracing helpers are checked strictly
// (a bad name fails the test, where production only reports it), and a span
// still open when the test ends fails it. Code that takes a TracerProvider
// gets [Recorder.TracerProvider]; tests that run in parallel use
// [WithoutGlobals] and pass it explicitly.
//
// # Several services in one process
//
// [Recorder.Service] returns a provider with its own service.name; every
// service records into the same Recorder, so a test that runs the gateway
// and the orders service on httptest servers checks that the orders span is
// the child of the gateway's client span, across the wire:
//
//	gw, orders := rec.Service("gateway"), rec.Service("orders")
//	// ... run both, each with its provider ...
//	rec.AssertParent(t, rec.Span(t, "checkout.create_order"), rec.Span(t, "POST /orders", tracingtest.InService("orders")))
//
// # Waiting for asynchronous spans
//
// Many spans end after the call under test returns: a Kafka consumer's
// span ends on the client's goroutine, an outbox relay's in its loop, a
// server span after the client has read the response, and spans of a batch
// processor are exported on its own goroutine. [Recorder.Span] only sees
// ended spans; [Recorder.WaitFor] and [Recorder.WaitForN] wait for them:
//
//	process := rec.WaitFor(t, "process orders", tracingtest.OfKind(trace.SpanKindConsumer))
//	sends := rec.WaitForN(t, 3, "send orders")
//
// Spans of the providers of [New] and [Recorder.Service] are recorded on the
// goroutine that ends them, before End returns; spans a pipeline of the
// code under test exports through [Recorder.Exporter] are recorded on that
// pipeline's exporting goroutine. Each recorded batch wakes the waiters,
// which check and sleep again: waiting does not poll and costs nothing
// while no span ends. A wait fails the test with Fatalf after
// [DefaultWaitTimeout], or the time given with [WithWaitTimeout], naming
// what was recorded instead.
//
// # Assertions
//
//   - [Recorder.Span] and [Recorder.Find]: ended spans by name, narrowed by
//     [InService], [OfKind], [WithAttr], [InTrace], [InTraceID],
//     [ChildOf], [WithSpanContext]; [Recorder.Trace]: every ended span of
//     one trace.
//   - [Recorder.WaitFor], [Recorder.WaitForN]: the same, for spans that are
//     still to end.
//   - [Recorder.SpanOf]: the span of a span context found in a link, a
//     message header or a response.
//   - [Recorder.AssertParent], [Recorder.AssertLinked],
//     [Recorder.AssertSameTrace]: the shape of the trace; the parent or the
//     link target may be a live span the test started.
//   - [Recorder.AssertNoSpan]: a span that must not be there.
//   - [Recorder.AssertAllEnded]: every started span ended (run at cleanup).
//   - [Recorder.AssertNames]: internal spans are `<domain>.<operation>`,
//     protocol spans are not built from ids or URLs.
//   - [Recorder.AssertBusiness], [Recorder.AssertAttrs],
//     [Recorder.AssertNoAttrs]: attributes present with their values, or
//     absent; [Recorder.AssertLinkAttrs], [Recorder.AssertEventAttrs]: the
//     attributes of a link or an event.
//   - [Recorder.AssertError], [Recorder.AssertOK]: the outcome as the
//     conventions record it, status Error with `error.type`, or neither.
//   - [Recorder.AssertNoSecrets]: nothing the redaction rules would still
//     change, and none of the given values, was exported in clear.
//     [Leaks] makes the same check on spans exported elsewhere: a test that
//     runs otelsetup.Setup itself hands it an [Exporter], which keeps its
//     spans after the shutdown that flushes them.
//   - [Recorder.Diagnose], [Recorder.AssertFinding],
//     [Recorder.AssertNoFinding]: what [diagnose.Diagnose] finds in the
//     recorded traces (where an error started, a retry storm, a lost
//     message...), on a span selected by [Named] and the other filters; or
//     that a healthy request raises no false alarm.
//   - [Attr], [Event]: read an attribute or an event for checks of your own.
//   - [Reports], [CaptureReports]: what instrumentation reported through
//     otel.Handle; [ReportLog.WaitFor] waits for a report made in the
//     background, as [Recorder.WaitFor] waits for a span.
//
// Assertions report with Errorf and return whether they held; Span and the
// waits report with Fatalf. All take the test's TB so they work in
// subtests.
//
// # Failure output
//
// Each failed assertion prints one line: what was expected and what was
// found, with spans named as "name" (service, kind). A span looked for by a
// name that was not recorded lists the closest names recorded; spans of
// that name that the filters reject, or that are still open, are listed as
// such:
//
//	tracingtest: want one ended span "orders.persit", found none: closest names "orders.persist", "send orders", "POST /orders"
//	tracingtest: "payments.charge" (orders, internal): want status Error and error.type "timeout", found status Unset and no error.type
//
// The recorded trace is printed once per failing test, when the test ends:
// first its diagnosis (one ⚑ line per finding of each trace), then the
// trace as a waterfall. It is printed with Logf, or Errorf for a TB
// without Logf, after the test's own work, so it shows every span that
// ended, and those still open. The test given to [New] prints it whatever made it fail, its own
// checks included; a subtest that fails an assertion of the kit prints it
// when the subtest ends; a test that passes prints nothing.
//
// # A collector that is down
//
// [NewHungCollector] and [NewFailingCollector] start an OTLP/HTTP endpoint
// that never answers, or answers every export with a status such as 503;
// point the program's OTEL_EXPORTER_OTLP_ENDPOINT at [Collector.Endpoint] to
// prove that the business operation still succeeds, that shutdown returns
// in time and that the loss is reported:
//
//	col := tracingtest.NewHungCollector(t)
//	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", col.Endpoint)
//	t.Setenv("OTEL_BSP_EXPORT_TIMEOUT", "200") // bounds otelsetup.Setup's shutdown
//
// # Cost
//
// Spans are exported synchronously on the goroutine that ends them and kept
// until the test ends: the kit is for tests, not for load.
package tracingtest
