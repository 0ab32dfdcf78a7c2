// Package unended is an instrumentation package that records an error on a
// span through the tracing helpers and forgets to end it: tracing.RecordError, like
// tracing.RecordError, does not end the span.
package unended

import (
	"context"
	"errors"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/trace"
)

const ScopeName = "github.com/otelkit/otelkit/instr/unended"

func send(ctx context.Context, tr trace.Tracer) {
	_, span := tr.Start(ctx, "send orders") // want `the span started here is not ended on every path`
	tracing.RecordError(span, errors.New("bad"))
} // want `this return may be reached without ending the span started on line 17`
