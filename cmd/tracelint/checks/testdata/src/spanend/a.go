package spanend

import (
	"context"
	"errors"
	"log"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/trace"
)

var errBad = errors.New("bad")

// Must not report.

func deferredEnd(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create")
	defer span.End()
}

func deferredHelper(ctx context.Context) (err error) {
	_, span := tracing.Start(ctx, "orders.create")
	defer tracing.End(span, &err)
	if ctx == nil {
		return errBad
	}
	return nil
}

func deferredClosure(ctx context.Context, tr trace.Tracer) {
	_, span := tr.Start(ctx, "orders.create")
	defer func() {
		span.SetAttributes()
		span.End()
	}()
}

func endedOnEveryPath(ctx context.Context, fail bool) error {
	_, span := tracing.Start(ctx, "orders.create")
	if fail {
		tracing.RecordError(span, errBad)
		span.End()
		return errBad
	}
	span.AddEvent("ok")
	span.End()
	return nil
}

func run(ctx context.Context) error {
	return tracing.Run(ctx, "orders.create", func(ctx context.Context) error { return nil })
}

func returned(ctx context.Context, tr trace.Tracer) (context.Context, trace.Span) {
	ctx, span := tr.Start(ctx, "orders.create")
	return ctx, span
}

func namedResult(ctx context.Context, tr trace.Tracer) (span trace.Span) {
	_, span = tr.Start(ctx, "orders.create")
	return
}

func handedOver(ctx context.Context, spans chan<- trace.Span) {
	_, span := tracing.Start(ctx, "orders.create")
	spans <- span
}

func goroutineEnds(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create")
	go func() {
		defer span.End()
	}()
}

func panics(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create")
	if ctx == nil {
		panic("no context")
	}
	span.End()
}

func fatal(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create")
	if ctx == nil {
		log.Fatal("no context")
	}
	span.End()
}

func loopEnds(ctx context.Context, items []string) {
	for range items {
		_, span := tracing.Start(ctx, "orders.item")
		if ctx == nil {
			span.End()
			continue
		}
		span.End()
	}
}

func closureItself(ctx context.Context) func() {
	return func() {
		_, span := tracing.Start(ctx, "orders.create")
		defer span.End()
	}
}

type record struct{ ctx context.Context }

// Hook-style instrumentation: a later hook ends the span through the stored
// context.
func ctxStored(r *record, tr trace.Tracer) {
	ctx, span := tr.Start(r.ctx, "orders.send")
	span.AddEvent("buffered")
	r.ctx = ctx
}

func ctxFieldDiscarded(r *record, tr trace.Tracer) {
	r.ctx, _ = tr.Start(r.ctx, "orders.send")
}

func ctxReturned(ctx context.Context, tr trace.Tracer) context.Context {
	ctx, span := tr.Start(ctx, "orders.send")
	span.AddEvent("buffered")
	return ctx
}

func ignoredLeak(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create") //tracelint:ignore
	span.AddEvent("x")
	return nil
}

// Must report.

func ctxOnlyPassedOn(ctx context.Context, tr trace.Tracer) error {
	ctx, span := tr.Start(ctx, "orders.create") // want `the span started here is not ended on every path`
	span.AddEvent("x")
	return work(ctx) // want `this return may be reached`
}

func work(context.Context) error { return nil }

func neverEnded(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create") // want `the span started here is not ended on every path`
	span.AddEvent("started")
} // want `this return may be reached without ending the span started on line \d+`

func earlyReturn(ctx context.Context, tr trace.Tracer, fail bool) error {
	_, span := tr.Start(ctx, "orders.create") // want `the span started here is not ended on every path`
	if fail {
		return errBad // want `this return may be reached without ending the span`
	}
	span.End()
	return nil
}

func recordedNotEnded(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create") // want `the span started here is not ended on every path`
	tracing.RecordError(span, errBad)
	return errBad // want `this return may be reached`
}

func discarded(ctx context.Context, tr trace.Tracer) context.Context {
	ctx, _ = tr.Start(ctx, "orders.create") // want `span discarded`
	return ctx
}

func loopContinue(ctx context.Context, items []string) {
	for _, it := range items {
		_, span := tracing.Start(ctx, "orders.item") // want `the span started here is not ended on every path` `the loop may start the span`
		if it == "" {
			continue
		}
		span.End()
	}
}

func inClosure(ctx context.Context) func() error {
	return func() error {
		_, span := tracing.Start(ctx, "orders.create") // want `the span started here is not ended on every path`
		if ctx == nil {
			return errBad // want `this return may be reached`
		}
		defer span.End()
		return nil
	}
}

func restartedInLoop(ctx context.Context, tr trace.Tracer) {
	for {
		_, span := tr.Start(ctx, "orders.poll") // want `the span started here is not ended on every path` `the loop may start the span of line \d+ again`
		span.AddEvent("tick")
	}
}
