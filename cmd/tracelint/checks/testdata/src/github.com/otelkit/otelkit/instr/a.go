// Package instr is an instrumentation package of the module: it ends and
// records its spans through the tracing helpers.
package instr

import (
	"context"
	"errors"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/trace"
)

const ScopeName = "github.com/otelkit/otelkit/instr"

var errBad = errors.New("bad")

// Must not report.

func process(ctx context.Context, tr trace.Tracer) (err error) {
	_, span := tr.Start(ctx, "process orders")
	defer tracing.End(span, &err)
	return errBad
}

func record(ctx context.Context, tr trace.Tracer) error {
	_, span := tr.Start(ctx, "send orders")
	defer span.End()
	tracing.RecordError(span, errBad)
	return errBad
}
