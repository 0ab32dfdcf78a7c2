package tracing

import (
	"context"
	"fmt"
	"reflect"
	"runtime/debug"
	"sync"
	"sync/atomic"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// helperScope is the instrumentation scope of the spans the helpers start.
const helperScope = "github.com/otelkit/otelkit/tracing"

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
	tp := providerFor(ctx)
	if !knownValid(name) {
		if checkName(name) != "" {
			reportName(tp, name, ValidName(name))
		} else {
			rememberValid(name)
		}
	}
	return tracerOf(tp).Start(ctx, name, opts...)
}

// End ends span, recording the outcome the caller left in *errp and any
// panic in flight. It must be called directly by defer, as
// `defer tracing.End(span, &err)` with a named error result, for the panic to
// be seen.
//
// A non-nil error that [Failed] calls a failure sets status Error with the
// error's message, the `error.type` attribute ([ErrorType]) and an
// exception event. context.Canceled, the caller giving up, and
// sql.ErrNoRows are never failures; [SetErrorClassifier]'s classifier
// decides the rest. A panic is recorded as an exception event with its
// stack, sets status Error and `error.type` to the panic value's type, ends
// the span and is re-raised, unchanged, to the caller. errp may be nil.
func End(span trace.Span, errp *error) { Finish(span, errp, recover()) }

// Finish does what [End] does with the panic value r that the caller, a
// function called directly by defer, recovered (nil if none): recover only
// stops a panic when the deferred function calls it itself, so a wrapper of
// End calls Finish(span, errp, recover()). A non-nil r is re-raised.
func Finish(span trace.Span, errp *error, r any) { FinishOutcome(context.Background(), span, errp, r) }

// FinishOutcome is [Finish] for an instrumentation that knows the context
// ctx the operation ran under: its cancellation and deadline decide too
// (see [Failed] and [ErrorType]).
func FinishOutcome(ctx context.Context, span trace.Span, errp *error, r any) {
	if r != nil {
		RecordPanic(span, r)
		span.End()
		panic(r)
	}
	if errp != nil && *errp != nil {
		RecordOutcome(ctx, span, *errp)
	}
	span.End()
}

// Run runs fn in a span named name, ending it on every path: fn's error is
// recorded as [End] records it, and is returned; a panic in fn is recorded
// and re-raised.
func Run(ctx context.Context, name string, fn func(context.Context) error, opts ...trace.SpanStartOption) (err error) {
	ctx, span := Start(ctx, name, opts...)
	defer End(span, &err)
	return fn(ctx)
}

// RecordError records err on span as [End] does: status Error, `error.type`
// and an exception event, unless err is nil or an expected outcome. It is
// [RecordOutcome] without a context.
func RecordError(span trace.Span, err error) { RecordOutcome(context.Background(), span, err) }

// SetAttributesFunc sets the attributes fn returns on span, calling fn only
// if span is recording: use it for attributes that cost something to build
// (formatting, serialising, walking a slice) so that unsampled spans cost
// nothing.
func SetAttributesFunc(span trace.Span, fn func() []attribute.KeyValue) {
	if fn != nil && span.IsRecording() {
		span.SetAttributes(fn()...)
	}
}

// RecordPanic records the panic value r on span as [End] does: status Error
// with the panic message, `error.type` the value's type, and an exception
// event with the stack of the calling goroutine. Call it from the deferred
// function that recovered r, so that the stack names the function that
// panicked. It does not end the span nor re-raise r.
func RecordPanic(span trace.Span, r any) {
	if !span.IsRecording() {
		return
	}
	typ := fmt.Sprintf("%T", r)
	if err, ok := r.(error); ok {
		typ = ErrorType(context.Background(), err).Value.AsString()
	}
	msg := fmt.Sprint(r)
	span.SetStatus(codes.Error, "panic: "+msg)
	span.SetAttributes(semconv.ErrorTypeKey.String(typ))
	// The deferred call runs on top of the panicking goroutine's stack, so
	// the stack names the function that panicked.
	span.AddEvent(semconv.ExceptionEventName, trace.WithAttributes(
		semconv.ExceptionType(typ),
		semconv.ExceptionMessage(msg),
		semconv.ExceptionStacktrace(string(debug.Stack())),
	))
}

// ErrorClassifier reports whether err is an expected outcome (a cache miss,
// a not-found that the caller handles, a client going away) rather than a
// failure of the operation. Expected outcomes leave the span status unset.
type ErrorClassifier func(err error) (expected bool)

var classifier atomic.Pointer[ErrorClassifier]

// SetErrorClassifier sets the process-wide classifier that the helpers and
// every instrumentation package of this module consult (through [Failed])
// before recording an error; nil restores the default. By default only the
// caller's context.Canceled (the caller gave up, the operation did not fail)
// and sql.ErrNoRows (a caller handles it) are expected;
// context.DeadlineExceeded is a timeout and stays an error. The classifier
// is called in addition to that rule, on the goroutine that ends the span,
// and must be safe for concurrent use. A classifier set for the
// span's provider ([SetProviderErrorClassifier]) takes precedence.
func SetErrorClassifier(c ErrorClassifier) {
	if c == nil {
		classifier.Store(nil)
		return
	}
	classifier.Store(&c)
}

// providerClassifiers holds the classifiers set for one TracerProvider, by
// provider; providerClassifierCount spares spans the lookup while there is
// none.
var (
	providerClassifiers     sync.Map // trace.TracerProvider -> ErrorClassifier
	providerClassifierCount atomic.Int64
)

// SetProviderErrorClassifier sets the classifier for the spans of tp, in
// place of the process-wide one, and returns the function that removes it.
// otelsetup.Setup sets its WithErrorClassifier this way, so that providers
// set up without globals each keep their own. tp must be comparable, as
// the SDK's *TracerProvider is; c must not be nil.
func SetProviderErrorClassifier(tp trace.TracerProvider, c ErrorClassifier) (remove func()) {
	if _, loaded := providerClassifiers.Swap(tp, c); !loaded {
		providerClassifierCount.Add(1)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if _, ok := providerClassifiers.LoadAndDelete(tp); ok {
				providerClassifierCount.Add(-1)
			}
		})
	}
}

// ProviderClassifiers returns how many providers have a classifier of their
// own, for tests.
func ProviderClassifiers() int { return int(providerClassifierCount.Load()) }

// classified reports whether the classifier of tp, or else the process-wide
// one, calls err expected.
func classified(tp trace.TracerProvider, err error) bool {
	if providerClassifierCount.Load() > 0 {
		// A provider of a type that is not comparable cannot be a key.
		if tp != nil && reflect.TypeOf(tp).Comparable() {
			if c, ok := providerClassifiers.Load(tp); ok {
				return c.(ErrorClassifier)(err)
			}
		}
	}
	if c := classifier.Load(); c != nil {
		return (*c)(err)
	}
	return false
}

// providerFor picks the provider of a recording parent so that spans stay in
// the parent's pipeline (the test kit relies on it), and the global one
// otherwise: a remote parent's span reports a no-op provider.
func providerFor(ctx context.Context) trace.TracerProvider {
	if s := trace.SpanFromContext(ctx); s.IsRecording() {
		return s.TracerProvider()
	}
	return otel.GetTracerProvider()
}

type tracerEntry struct {
	tp     trace.TracerProvider
	tracer trace.Tracer
}

// lastTracer caches the tracer of the last provider seen: a process nearly
// always has one. A miss asks the provider, which keeps its own tracers;
// holding more here would keep test providers, and their spans, alive.
var lastTracer atomic.Pointer[tracerEntry]

func tracerOf(tp trace.TracerProvider) trace.Tracer {
	// Only comparable providers are cached, so the comparison below cannot
	// panic: a provider of another type compares unequal.
	if e := lastTracer.Load(); e != nil && e.tp == tp {
		return e.tracer
	}
	tr := tp.Tracer(helperScope)
	if isComparable(tp) {
		lastTracer.Store(&tracerEntry{tp: tp, tracer: tr})
	}
	return tr
}

func isComparable(v any) bool {
	return v != nil && reflect.TypeOf(v).Comparable()
}
