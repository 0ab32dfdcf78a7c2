// Package instr is an instrumentation package: it declares ScopeName and
// names its protocol spans after the semantic conventions.
package instr

import (
	"context"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/trace"
)

const ScopeName = "example.com/instr"

func send(ctx context.Context, tr trace.Tracer, topic string) {
	_, span := tr.Start(ctx, "send "+topic)
	defer span.End()
	_, s2 := tracing.Start(ctx, topic) // want `span name is not a constant`
	defer s2.End()
}
