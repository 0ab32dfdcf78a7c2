// Package w3c implements the W3C Trace Context propagator the otelkit module
// uses: the traceparent and tracestate headers of
// https://www.w3.org/TR/trace-context-1/ and the Level 2 additions of
// https://www.w3.org/TR/trace-context-2/ (the random trace-id flag).
//
// otelsetup.Setup installs [TraceContext] for the `tracecontext` entry of
// OTEL_PROPAGATORS; every instrumentation package of the module uses the
// global propagator, so this is what crosses HTTP and Kafka.
//
// # Wiring
//
// To use it without otelsetup.Setup:
//
//	otel.SetTextMapPropagator(propagation.NewCompositeTextMapPropagator(
//		w3c.TraceContext{}, propagation.Baggage{},
//	))
//
// # Processing
//
// Extract follows the processing model of the specification where the
// OpenTelemetry Go default (propagation.TraceContext) does not:
//
//   - Several traceparent values (two header fields) make the trace context
//     invalid: the receiver starts a new trace.
//   - Several tracestate values are combined, in order, into one list.
//   - Empty and whitespace-only list members are discarded; spaces and tabs
//     around members are ignored.
//   - tracestate is validated against the key and value grammar, the
//     32-member limit and key uniqueness; if any member is invalid the whole
//     tracestate is discarded and the traceparent is kept.
//   - Unknown trace-flags bits are ignored rather than rejected; the sampled
//     flag and the Level 2 random flag are kept.
//   - A traceparent of a future version (01 to fe) is parsed by the version
//     00 layout, with any further fields ignored; version ff is invalid.
//
// Keys are validated with the simple-key / multi-tenant-key grammar
// (tenant@system, at most 241 and 14 characters), the one the
// specification's test suite checks and that trace.TraceState can carry.
//
// Multiple values are seen only through carriers that implement
// [propagation.ValuesGetter], such as [propagation.HeaderCarrier]; any other
// carrier is read with Get, which returns a single value.
//
// # Errors
//
// A malformed traceparent or tracestate never fails the request: it is
// dropped as described above and reported through otel.Handle, wrapping
// [ErrTraceparent] or [ErrTracestate]. Headers come from untrusted peers, so
// reports are limited to one a minute.
//
// # Cost
//
// Extract of a traceparent alone allocates only what
// trace.ContextWithRemoteSpanContext allocates; a tracestate adds the
// allocations of trace.ParseTraceState. Inject allocates the header value.
package w3c
