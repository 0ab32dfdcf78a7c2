// Package w3c implements W3C Trace Context propagation.
package w3c

import "go.opentelemetry.io/otel/propagation"

// TraceContext propagates trace context in the W3C traceparent and tracestate
// headers.
type TraceContext struct{ propagation.TraceContext }
