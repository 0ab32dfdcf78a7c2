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
//   - tracestate is validated against the key and value grammar and the
//     32-member limit; if any member is invalid the whole tracestate is
//     discarded and the traceparent is kept.
//   - A duplicated key does not invalidate the tracestate: its first
//     (left-most) member is kept and the later ones are discarded, as the
//     specification allows. The left-most member is the most recent one,
//     since mutated members move to the left, and a list that repeats a key
//     is not sent on.
//   - Unknown trace-flags bits are ignored rather than rejected; the sampled
//     flag and the Level 2 random flag are kept.
//   - A traceparent of a future version (01 to fe) is parsed by the version
//     00 layout, with any further fields ignored; version ff is invalid.
//
// Multiple values are seen only through carriers that implement
// [propagation.ValuesGetter], such as [propagation.HeaderCarrier]; any other
// carrier is read with Get, which returns a single value.
//
// # Tracestate keys
//
// Keys follow the grammar of the Level 2 specification, which the
// specification's test suite checks since June 2026:
//
//	key     = ( lcalpha / DIGIT ) 0*255 ( keychar )
//	keychar = lcalpha / DIGIT / "_" / "-" / "*" / "/" / "@"
//
// A key starts with a lowercase letter or a digit, may hold "@" anywhere
// after that, any number of times, and is at most 256 characters long.
// Level 1 allowed "@" only once, between a tenant of at most 241 characters
// and a system of at most 14 starting with a letter, and a key that started
// with a digit only in that form: "foo@", "foo@@bar", "1abc" and
// "t@vvvvvvvvvvvvvvv" were invalid and made the whole tracestate be
// discarded; they are now valid.
//
// trace.TraceState, which the span context carries, still validates keys by
// the Level 1 grammar. The span context's TraceState (what samplers and
// exporters see) holds the members it accepts; Extract keeps the whole list
// in the context beside it, and Inject sends it on for every span of the
// same trace whose context derives from the one Extract returned: members set or changed since Extract first, then the received
// ones in their order, without those deleted. A span that starts a new
// trace (trace.WithNewRoot) sends none of them.
//
// # Inject
//
// Inject sends the traceparent in version 00 and at most one tracestate
// field, never empty, with at most 32 members: when adding a member would
// make 33, the right-most one is dropped. Any valid list is sent whole, so
// the 512 characters the specification asks to propagate always are.
//
// # Errors
//
// A malformed traceparent or tracestate never fails the request: it is
// dropped as described above and reported through otel.Handle, wrapping
// [ErrTraceparent] or [ErrTracestate]. A duplicated tracestate key is not
// reported: the specification allows it on receipt. Headers come from untrusted peers, so
// reports are limited to one a minute.
//
// # Cost
//
// Extract of a traceparent alone allocates only what
// trace.ContextWithRemoteSpanContext allocates; a tracestate adds the
// allocations of trace.ParseTraceState, and a tracestate with a Level 2 key
// or a duplicated key the list kept in the context. Inject allocates the
// header values.
package w3c
