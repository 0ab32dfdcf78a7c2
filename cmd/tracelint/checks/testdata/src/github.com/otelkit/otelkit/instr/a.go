// Package instr is an instrumentation package of the module: it ends and
// records its spans through internal/conv, which the checks take for the
// tracing helpers.
package instr

import (
	"context"
	"errors"

	"github.com/otelkit/otelkit/internal/conv"
	"go.opentelemetry.io/otel/trace"
)

const ScopeName = "github.com/otelkit/otelkit/instr"

var errBad = errors.New("bad")

// Must not report.

func process(ctx context.Context, tr trace.Tracer) (err error) {
	_, span := tr.Start(ctx, "process orders")
	defer conv.End(span, &err)
	return errBad
}

func record(ctx context.Context, tr trace.Tracer) error {
	_, span := tr.Start(ctx, "send orders")
	defer span.End()
	conv.RecordError(span, errBad)
	return errBad
}
