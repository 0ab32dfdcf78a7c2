// Package conv is the implementation of the conventions behind package
// [github.com/otelkit/otelkit/tracing]: span names, the business key
// registry, business baggage, the span helpers, redaction, the one policy
// for errors every package follows ([Failed], [ErrorType]) and the one rule
// by which every package resolves its providers ([Resolver]).
//
// Package tracing re-exports all of it and documents it for users; the
// instrumentation packages of this module (sqltrace, kafkatrace, httptrace,
// logcorr) import conv instead, because tracing also holds Setup and with it
// the OTLP exporters, gRPC and Prometheus, which a program that only wants
// the instrumentation must not have to link.
//
// conv depends only on the OpenTelemetry API, the standard library and
// tracing/w3c (itself API-only), not on the SDK. The process-wide state of
// the conventions (the key registry, the error classifier and error typers,
// the strict-name hooks, the invalid-name report limiter and the default
// redactor) lives here, once, so that tracing.X and conv.X are the same
// thing.
package conv
