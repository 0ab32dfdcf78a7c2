// Package conv is the implementation of the conventions behind package
// [github.com/otelkit/otelkit/tracing]: span names, the business key
// registry, business baggage, the span helpers and redaction.
//
// Package tracing re-exports all of it and documents it for users; the
// instrumentation packages of this module (sqltrace, kafkatrace, httptrace,
// logcorr) import conv instead, because tracing also holds Setup and with it
// the OTLP exporters, gRPC and Prometheus, which a program that only wants
// the instrumentation must not have to link.
//
// conv depends only on the OpenTelemetry API and the standard library, not
// on the SDK. The process-wide state of the conventions (the key registry,
// the error classifier, the strict-name hooks, the invalid-name report
// limiter and the default redactor) lives here, once, so that tracing.X and
// conv.X are the same thing.
package tracing
