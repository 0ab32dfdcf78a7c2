// Package tracingtest lets a service's tests prove that the service follows
// the tracing conventions of package tracing: it records spans in memory and
// checks names, parents, links, business attributes and redaction, and its
// failure messages draw the recorded trace as a waterfall, so the reader
// sees what happened instead of a list of ids.
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
// # Assertions
//
//   - [Recorder.Span] and [Recorder.Find]: spans by name, narrowed by
//     [InService], [OfKind], [WithAttr], [InTrace].
//   - [Recorder.AssertParent], [Recorder.AssertLinked],
//     [Recorder.AssertSameTrace]: the shape of the trace.
//   - [Recorder.AssertAllEnded]: every started span ended (run at cleanup).
//   - [Recorder.AssertNames]: internal spans are `<domain>.<operation>`,
//     protocol spans are not built from ids or URLs.
//   - [Recorder.AssertBusiness], [Recorder.AssertAttrs]: required business
//     attributes are present.
//   - [Recorder.AssertNoSecrets]: nothing the redaction rules would still
//     change, and none of the given values, was exported in clear.
//     [Leaks] makes the same check on spans exported elsewhere: a test that
//     runs otelsetup.Setup itself hands it an [Exporter], which keeps its
//     spans after the shutdown that flushes them.
//
// Assertions report with Errorf and return whether they held; Span reports
// with Fatalf. All take the test's TB so they work in subtests.
//
// # Cost
//
// Spans are exported synchronously on the goroutine that ends them and kept
// until the test ends: the kit is for tests, not for load.
package tracingtest
