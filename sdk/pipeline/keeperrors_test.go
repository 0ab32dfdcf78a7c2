package pipeline

import (
	"context"
	"errors"
	"testing"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/tracing"
)

func TestKeepErrors_MarkedTracesAreBounded(t *testing.T) {
	p := NewKeepErrorsProcessor(0)
	tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(KeepErrorsSampler(sdktrace.NeverSample())), sdktrace.WithSpanProcessor(p))
	defer tp.Shutdown(context.Background())
	ctx, root := tp.Tracer("t").Start(context.Background(), "bounded.root")
	for range maxKeptTraces + 10 {
		_ = tracing.Run(ctx, "bounded.fail", func(context.Context) error { return errors.New("x") }, trace.WithNewRoot())
	}
	root.End()
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.marked) != maxKeptTraces {
		t.Errorf("%d traces remembered, want at most %d", len(p.marked), maxKeptTraces)
	}
}
