package spanerror

import (
	"context"
	"errors"

	"github.com/otelkit/otelkit/tracing"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

var errBad = errors.New("bad")

// Must not report.

func helperEnd(ctx context.Context) (err error) {
	_, span := tracing.Start(ctx, "orders.create")
	defer tracing.End(span, &err)
	return errBad
}

func helperRecord(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create")
	defer span.End()
	if err := work(ctx); err != nil {
		tracing.RecordError(span, err)
		return err
	}
	return nil
}

func status(ctx context.Context, tr trace.Tracer) error {
	_, span := tr.Start(ctx, "orders.create")
	defer span.End()
	if err := work(ctx); err != nil {
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	return nil
}

func inDeferredClosure(ctx context.Context) (err error) {
	_, span := tracing.Start(ctx, "orders.create")
	defer func() {
		if err != nil {
			tracing.RecordError(span, err)
		}
		span.End()
	}()
	return work(ctx)
}

func noErrorResult(ctx context.Context) {
	_, span := tracing.Start(ctx, "orders.create")
	defer span.End()
}

func handedOver(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create")
	defer finish(span)
	return work(ctx)
}

func run(ctx context.Context) error {
	return tracing.Run(ctx, "orders.create", func(ctx context.Context) error { return work(ctx) })
}

// The only error is returned before the span starts.
func errorBeforeSpan(ctx context.Context) error {
	if ctx == nil {
		return errBad
	}
	_, span := tracing.Start(ctx, "orders.create")
	defer span.End()
	span.AddEvent("done")
	return nil
}

// A helper of the caller's own that names spans after its constant argument.
func startOp(ctx context.Context, name string) (context.Context, trace.Span) {
	return tracing.Start(ctx, name) //tracelint:ignore spanname -- callers pass constants
}

func ignored(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create") //tracelint:ignore spanerror
	defer span.End()
	return work(ctx)
}

// Must report.

func plainEnd(ctx context.Context) (err error) {
	_, span := tracing.Start(ctx, "orders.create") // want `function returns an error but does not record it on the span started here`
	defer span.End()
	return work(ctx)
}

func unnamed(ctx context.Context, tr trace.Tracer) error {
	_, span := tr.Start(ctx, "orders.create") // want `function returns an error but does not record it on the span started here`
	defer span.End()
	return work(ctx)
}

func nilErrp(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create") // want `function returns an error but does not record it`
	defer tracing.End(span, nil)
	return work(ctx)
}

func eventOnly(ctx context.Context) error {
	_, span := tracing.Start(ctx, "orders.create") // want `span.RecordError adds an event but leaves the span's status Unset`
	defer span.End()
	if err := work(ctx); err != nil {
		span.RecordError(err)
		return err
	}
	return nil
}

func closure(ctx context.Context) func() (int, error) {
	return func() (n int, err error) {
		_, span := tracing.Start(ctx, "orders.create") // want `function returns an error but does not record it`
		defer span.End()
		return 0, work(ctx)
	}
}

func work(context.Context) error { return nil }

func finish(trace.Span) {}
