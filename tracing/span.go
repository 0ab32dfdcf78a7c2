package tracing

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/otelkit/otelkit/internal/conv"
)

// Start starts a business span named name (see [ValidName]) as a child of the
// span in ctx. The tracer comes from the TracerProvider of the recording span
// in ctx, otherwise from the global provider. An invalid name is reported
// once per name through otel.Handle (or fails the test in strict mode, see
// [StrictNames]) and the span is started all the same: a convention never
// breaks the caller.
//
// Pair every Start with [End] in a defer on the next line:
//
//	ctx, span := tracing.Start(ctx, "checkout.charge_payment")
//	defer tracing.End(span, &err)
//
// Start costs what tracer.Start costs plus a name check (a byte loop) and a
// tracer lookup (a pointer comparison); it allocates nothing more.
func Start(ctx context.Context, name string, opts ...trace.SpanStartOption) (context.Context, trace.Span) {
	return conv.Start(ctx, name, opts...)
}

// End ends span, recording the outcome the caller left in *errp and any
// panic in flight. It must be called directly by defer, as
// `defer tracing.End(span, &err)` with a named error result, for the panic to
// be seen.
//
// A non-nil error that is a failure sets status Error with the error's
// message, the `error.type` attribute and an exception event.
// context.Canceled (the caller giving up) and sql.ErrNoRows are never
// failures; [SetErrorClassifier]'s classifier decides the rest. error.type
// is "timeout" for an expired deadline, the error's Go type otherwise: the
// value every package of this module records for the same failure. A panic is recorded as an exception event with its
// stack, sets status Error and `error.type` to the panic value's type, ends
// the span and is re-raised, unchanged, to the caller. errp may be nil.
func End(span trace.Span, errp *error) {
	// recover stops the panic only when called by the deferred function
	// itself.
	conv.Finish(span, errp, recover())
}

// Run runs fn in a span named name, ending it on every path: fn's error is
// recorded as [End] records it, and is returned; a panic in fn is recorded
// and re-raised.
func Run(ctx context.Context, name string, fn func(context.Context) error, opts ...trace.SpanStartOption) (err error) {
	return conv.Run(ctx, name, fn, opts...)
}

// RecordError records err on span as [End] does: status Error, `error.type`
// and an exception event, unless err is nil or an expected outcome.
func RecordError(span trace.Span, err error) { conv.RecordError(span, err) }

// SetAttributesFunc sets the attributes fn returns on span, calling fn only
// if span is recording: use it for attributes that cost something to build
// (formatting, serialising, walking a slice) so that unsampled spans cost
// nothing.
func SetAttributesFunc(span trace.Span, fn func() []attribute.KeyValue) {
	conv.SetAttributesFunc(span, fn)
}

// ErrorClassifier reports whether err is an expected outcome (a cache miss,
// a not-found that the caller handles, a client going away) rather than a
// failure of the operation. Expected outcomes leave the span status unset.
// It is a func(err error) (expected bool).
type ErrorClassifier = conv.ErrorClassifier

// SetErrorClassifier sets the process-wide classifier the helpers and every
// instrumentation package of this module (httptrace's client, sqltrace,
// kafkatrace, the outbox relay) consult before recording an error; nil
// restores the default. By default only the caller's context.Canceled (the
// caller gave up, the operation did not fail) and sql.ErrNoRows are
// expected; context.DeadlineExceeded is a timeout and stays an error. The
// classifier is called in addition to that rule, on the goroutine that ends
// the span, and must be safe for concurrent use. The classifier
// [WithErrorClassifier] gives the spans of a Setup's provider takes
// precedence.
func SetErrorClassifier(c ErrorClassifier) { conv.SetErrorClassifier(c) }
